"""The HTTP service: Supaglue's management API (`/mgmt/v2`), managed authentication
(`/oauth/connect`, `/oauth/callback`, magic links), the Data Listing API over the hosted
destination (`/data/v2`, `/crm/v2`, `/engagement/v2`) and webhooks. Built on the controller's
Registry; its own tables are in `tenantsync.api.models`."""
