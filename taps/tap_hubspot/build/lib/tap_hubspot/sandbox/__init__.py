"""The HubSpot twin: CRM v3/v4 objects, search, properties, schemas, owners, associations,
OAuth and private-app auth, and HubSpot's rate limits. See `sandbox.py`."""

from tap_hubspot.sandbox.sandbox import HubSpotSandbox

__all__ = ["HubSpotSandbox"]
