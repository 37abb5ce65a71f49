"""target-postgres: Supaglue's destination schema in PostgreSQL, as a Singer target."""

from .target import TargetPostgres

__all__ = ["TargetPostgres"]
