"""tap-outreach: Outreach's standard objects and Supaglue's engagement common objects.

Every object is incremental on `updatedAt` (objects.py); deletes come from a full sync's
sweep (Outreach lists no deleted records). Rate limit: 10,000 requests per hour per user,
paced from the `x-ratelimit-*` headers; a spent hour stops the run cleanly (client.py).
"""

from __future__ import annotations

from functools import cached_property

from singer_sdk import typing as th
from singer_sdk.exceptions import DiscoveryError

from tap_outreach.client import DEFAULT_BASE_URL, OutreachClient
from tap_outreach.common import COMMON_BY_TABLE, COMMON_OBJECTS
from tap_outreach.objects import MAX_PAGE_SIZE, OBJECTS, PAGE_SIZE
from tap_outreach.streams import stream_for
from tenantsync.tapkit.catalog import catalog_streams
from tenantsync.tapkit.settings import COMMON_SETTINGS, object_settings, wanted_objects
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
        if self.input_catalog is not None:
            streams = []
            for item in catalog_streams(self.input_catalog, PROVIDER, "Outreach",
                                        COMMON_BY_TABLE):
                name = item.dest.table if item.dest.kind == "common" else item.dest.object
                if item.dest.kind == "custom" or name not in {*OBJECTS, *COMMON_BY_TABLE}:
                    raise DiscoveryError(f"catalog stream {item.name!r}: not an Outreach "
                                         "object")
                streams.append(stream_for(self, name, item.schema))
            return streams
        common, standard = wanted_objects(self.config, COMMON_OBJECTS, OBJECTS, "Outreach")
        return [*(stream_for(self, o) for o in standard),
                *(stream_for(self, COMMON_OBJECTS[c][1]) for c in common)]


if __name__ == "__main__":
    TapOutreach.cli()
