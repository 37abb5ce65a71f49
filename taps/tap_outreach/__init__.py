"""tap-outreach: Outreach's standard objects and Supaglue's engagement common objects."""
