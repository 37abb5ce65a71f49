"""tap-hubspot: a Singer tap for HubSpot CRM built on tenantsync.tapkit (see tap.py)."""
