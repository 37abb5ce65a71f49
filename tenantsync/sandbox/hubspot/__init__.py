"""The HubSpot twin: CRM v3/v4 objects, search, properties, schemas, owners, associations,
OAuth and private-app auth, and HubSpot's rate limits. See `sandbox.py`."""

from tenantsync.sandbox.hubspot.sandbox import HubSpotSandbox

__all__ = ["HubSpotSandbox"]
