"""tap-gong: Gong's calls, extensive calls and call transcripts (standard objects; Gong has no
Supaglue common objects). Which object is incremental and how: objects.py (and README.md).
Limits: requests are paced to Gong's 3 calls a second; the daily limit's 429 (a Retry-After of
hours) stops the run cleanly: the last STATE holds every bookmark, the next run resumes."""

from __future__ import annotations

from functools import cached_property

from singer_sdk import typing as th

from tap_gong.client import DEFAULT_API_URL, DEFAULT_OAUTH_URL, GongClient
from tap_gong.objects import OBJECTS, schema
from tenantsync.tapkit.catalog import standard_only_streams
from tenantsync.tapkit.rest import RestStream
from tenantsync.tapkit.settings import COMMON_SETTINGS
from tenantsync.tapkit.stream import TapkitTap

PROVIDER = "gong"


class TapGong(TapkitTap):
    name = "tap-gong"
    config_jsonschema = th.PropertiesList(
        th.Property("access_key", th.StringType, secret=True,
                    description="Gong API access key (with access_key_secret)."),
        th.Property("access_key_secret", th.StringType, secret=True,
                    description="Gong API access key secret."),
        th.Property("client_id", th.StringType, secret=True,
                    description="OAuth app client id."),
        th.Property("client_secret", th.StringType, secret=True,
                    description="OAuth app client secret."),
        th.Property("refresh_token", th.StringType, secret=True,
                    description="OAuth refresh token of the connection."),
        th.Property("api_base_url", th.StringType,
                    description=f"The account's API host (OAuth: the token response's "
                                f"api_base_url_for_customer when unset; access key: default "
                                f"{DEFAULT_API_URL})."),
        th.Property("oauth_url", th.StringType, default=DEFAULT_OAUTH_URL,
                    description="Gong's OAuth server (token refresh)."),
        th.Property("requests_per_second", th.IntegerType(minimum=1), default=3,
                    description="Send at most this many requests a second (Gong's limit: 3)."),
        th.Property("standard_objects", th.ArrayType(th.StringType),
                    description=f"Standard objects: {', '.join(OBJECTS)} (empty: all)."),
        th.Property("common_objects", th.ArrayType(th.StringType),
                    description="Must stay empty: Gong has no common objects."),
        th.Property("custom_objects", th.ArrayType(th.StringType),
                    description="Must stay empty: Gong has no custom objects."),
        *COMMON_SETTINGS,
    ).to_dict()

    @cached_property
    def client(self) -> GongClient:
        return GongClient(self.config, self.logger)

    def discover_streams(self) -> list[RestStream]:
        return standard_only_streams(
            self, PROVIDER, "Gong", OBJECTS, lambda name, obj, schema_: RestStream(
                self, obj=OBJECTS[obj], name=name, schema=schema_ or schema(obj)))

if __name__ == "__main__":
    TapGong.cli()
