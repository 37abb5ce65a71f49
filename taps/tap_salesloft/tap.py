"""tap-salesloft: Salesloft's standard objects and Supaglue's engagement common objects.

Objects are incremental on `updated_at` (users full only; objects.py); deletes come from a
full sync's sweep (Salesloft has no deleted feed). Rate limit: the team's 600 per minute,
paced by a window of our own and the `x-ratelimit-remaining-minute` header (client.py).
"""

from __future__ import annotations

from functools import cached_property

from singer_sdk import typing as th

from tap_salesloft.client import (
    DEFAULT_BASE_URL,
    DEFAULT_OAUTH_URL,
    PER_MINUTE,
    SalesloftClient,
)
from tap_salesloft.common import COMMON_OBJECTS
from tap_salesloft.objects import OBJECTS
from tap_salesloft.streams import stream_for
from tenantsync.tapkit.catalog import object_streams
from tenantsync.tapkit.settings import COMMON_SETTINGS, object_settings
from tenantsync.tapkit.stream import TapkitTap

PROVIDER = "salesloft"


class TapSalesloft(TapkitTap):
    name = "tap-salesloft"
    dynamic_catalog = True
    config_jsonschema = th.PropertiesList(
        th.Property("client_id", th.StringType, secret=True, description="OAuth app client id."),
        th.Property("client_secret", th.StringType, secret=True,
                    description="OAuth app client secret."),
        th.Property("refresh_token", th.StringType, secret=True,
                    description="OAuth refresh token of the connection (Salesloft rotates it: "
                                "keep a token store or sink)."),
        th.Property("base_url", th.StringType, default=DEFAULT_BASE_URL,
                    description="Salesloft's API host (the API is under /v2)."),
        th.Property("oauth_url", th.StringType, default=DEFAULT_OAUTH_URL,
                    description="Salesloft's OAuth server (token endpoint /oauth/token)."),
        th.Property("requests_per_minute", th.IntegerType(minimum=1), default=PER_MINUTE,
                    description="Send at most this many requests per minute (the team's limit "
                                "is shared with its other integrations)."),
        *object_settings(COMMON_OBJECTS, OBJECTS, "Engagement"),
        *COMMON_SETTINGS,
    ).to_dict()

    @cached_property
    def client(self) -> SalesloftClient:
        return SalesloftClient(self.config, self.logger)

    def discover_streams(self) -> list:
        return object_streams(self, PROVIDER, "Salesloft", COMMON_OBJECTS, OBJECTS,
                              lambda name, schema: stream_for(self, name, schema))


if __name__ == "__main__":
    TapSalesloft.cli()
