"""tap-salesloft: Salesloft's standard objects and Supaglue's engagement common objects."""
