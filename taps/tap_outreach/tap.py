"""tap-outreach: Outreach's standard objects and Supaglue's engagement common objects.

Every object is incremental on `updatedAt` (objects.py); deletes come from a full sync's
sweep (Outreach lists no deleted records). Rate limit: 10,000 requests per hour per user,
paced from the `x-ratelimit-*` headers; a spent hour stops the run cleanly (client.py).
"""

from __future__ import annotations

from functools import cached_property

from singer_sdk import typing as th

from tap_outreach.client import DEFAULT_BASE_URL, OutreachClient
from tap_outreach.common import COMMON_OBJECTS
from tap_outreach.objects import MAX_PAGE_SIZE, OBJECTS, PAGE_SIZE
from tap_outreach.streams import stream_for
from tenantsync.tapkit.catalog import object_streams
from tenantsync.tapkit.settings import COMMON_SETTINGS, object_settings
from tenantsync.tapkit.stream import TapkitTap

PROVIDER = "outreach"


class TapOutreach(TapkitTap):
    name = "tap-outreach"
    dynamic_catalog = True
    config_jsonschema = th.PropertiesList(
        th.Property("client_id", th.StringType, secret=True, description="OAuth app client id."),
        th.Property("client_secret", th.StringType, secret=True,
                    description="OAuth app client secret."),
        th.Property("refresh_token", th.StringType, secret=True,
                    description="OAuth refresh token of the connection (Outreach rotates it: "
                                "keep a token store or sink)."),
        th.Property("base_url", th.StringType, default=DEFAULT_BASE_URL,
                    description="Outreach's host: the API (/api/v2) and the token endpoint "
                                "(/oauth/token)."),
        th.Property("page_size", th.IntegerType(minimum=1, maximum=MAX_PAGE_SIZE),
                    default=PAGE_SIZE, description="Records per page (page[size], at most "
                                                   f"{MAX_PAGE_SIZE})."),
        *object_settings(COMMON_OBJECTS, OBJECTS, "Engagement"),
        *COMMON_SETTINGS,
    ).to_dict()

    @cached_property
    def client(self) -> OutreachClient:
        return OutreachClient(self.config, self.logger)

    def discover_streams(self) -> list:
        return object_streams(self, PROVIDER, "Outreach", COMMON_OBJECTS, OBJECTS,
                              lambda name, schema: stream_for(self, name, schema))


if __name__ == "__main__":
    TapOutreach.cli()
