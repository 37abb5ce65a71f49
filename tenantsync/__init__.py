"""tenantsync: self-hosted, Supaglue-compatible managed syncs built on Singer and Meltano."""

__version__ = "0.1.0"
