"""tap-hubspot: standard, custom and CRM common objects (and owners) of a HubSpot portal.

Rate limits: requests are paced from HubSpot's `X-HubSpot-RateLimit-*` headers (search calls
also by their own lower limit), so a normal run receives no 429; one that does waits as told.
The daily limit (429 DAILY, or usage past `quota_max_percent` where HubSpot reports it) stops
the run cleanly: the last STATE holds every bookmark, exit code 0, the next run resumes.
"""

from __future__ import annotations

from functools import cached_property

from singer_sdk import typing as th

from tap_hubspot.client import DEFAULT_BASE_URL, HubSpotClient
from tap_hubspot.discovery import discover, from_catalog
from tap_hubspot.objects import COMMON_OBJECTS, OWNER, STANDARD_OBJECTS, UNSUPPORTED_COMMON
from tap_hubspot.streams import DEFAULT_LOOKBACK_SECONDS
from tenantsync.tapkit.settings import COMMON_SETTINGS
from tenantsync.tapkit.stream import TapkitTap


class TapHubSpot(TapkitTap):
    name = "tap-hubspot"
    dynamic_catalog = True
    config_jsonschema = th.PropertiesList(
        th.Property("client_id", th.StringType, secret=True,
                    description="OAuth app client id."),
        th.Property("client_secret", th.StringType, secret=True,
                    description="OAuth app client secret."),
        th.Property("refresh_token", th.StringType, secret=True,
                    description="OAuth refresh token of the connection (portal)."),
        th.Property("access_token", th.StringType, secret=True,
                    description="A private app's access token, instead of OAuth."),
        th.Property("base_url", th.StringType, default=DEFAULT_BASE_URL,
                    description="HubSpot API base URL (the OAuth token endpoint too)."),
        th.Property("lookback_seconds", th.IntegerType(minimum=0), default=DEFAULT_LOOKBACK_SECONDS,
                    description="Incremental syncs read from this many seconds before the "
                                "bookmark: HubSpot's search index lags its writes."),
        th.Property("associations_to_fetch",
                    th.ObjectType(additional_properties=th.ArrayType(th.StringType)),
                    description="Associated ids to carry per object, e.g. {\"contact\": "
                                "[\"deal\"], \"deal\": [\"contact\"]} (in _associations). "
                                "Contacts and deals always carry their companies."),
        th.Property("quota_max_percent", th.NumberType(exclusive_minimum=0, maximum=100),
                    default=90,
                    description="Stop cleanly before the daily API usage passes this "
                                "percentage (where HubSpot reports it: private apps)."),
        th.Property("common_objects", th.ArrayType(th.StringType),
                    description=f"CRM common objects: {', '.join(COMMON_OBJECTS)} "
                                f"({', '.join(UNSUPPORTED_COMMON)}: not supported by "
                                "HubSpot)."),
        th.Property("standard_objects", th.ArrayType(th.StringType),
                    description="Standard objects by singular name: "
                                f"{', '.join([*STANDARD_OBJECTS, OWNER])}."),
        th.Property("custom_objects", th.ArrayType(th.StringType),
                    description="Custom objects by name (schemas API). When all three lists "
                                "are empty, everything the portal has is discovered."),
        *COMMON_SETTINGS,
    ).to_dict()

    @cached_property
    def client(self) -> HubSpotClient:
        return HubSpotClient(self.config, self.logger)

    def discover_streams(self) -> list:
        if self.input_catalog is not None:
            return from_catalog(self, self.input_catalog)
        return discover(self, self.client)


if __name__ == "__main__":
    TapHubSpot.cli()
