"""tap-apollo: Apollo.io's standard objects and Supaglue's engagement common objects.

Every object is full only (Apollo's searches take no updated-since filter); deletes are swept
by each full pass read to its end (README.md: "Deletes"). Rate limits: Apollo's minute, hour
and day windows per endpoint are paced from its headers; a spent hour or day stops the run
cleanly (exit 0, the last STATE resumes the pass)."""

from __future__ import annotations

from functools import cached_property

from singer_sdk import typing as th

from tap_apollo.client import DEFAULT_BASE_URL, ApolloClient
from tap_apollo.common import COMMON_BY_TABLE, COMMON_OBJECTS
from tap_apollo.objects import OBJECTS
from tap_apollo.streams import common_schema, object_schema, stream_for
from tenantsync.tapkit.catalog import object_streams
from tenantsync.tapkit.settings import COMMON_SETTINGS, object_settings
from tenantsync.tapkit.stream import TapkitTap

PROVIDER = "apollo"


class TapApollo(TapkitTap):
    name = "tap-apollo"
    dynamic_catalog = True
    config_jsonschema = th.PropertiesList(
        th.Property("api_key", th.StringType, secret=True,
                    description="An Apollo API key (Settings > Integrations > API; a master "
                                "key for the users and sequences searches)."),
        th.Property("base_url", th.StringType, default=DEFAULT_BASE_URL,
                    description="Apollo's API host."),
        *object_settings(COMMON_OBJECTS, OBJECTS, "Engagement"),
        *COMMON_SETTINGS,
    ).to_dict()

    @cached_property
    def client(self) -> ApolloClient:
        return ApolloClient(self.config, self.logger)

    def discover_streams(self) -> list:
        return object_streams(self, PROVIDER, "Apollo", COMMON_OBJECTS, OBJECTS, self._stream)

    def _stream(self, name: str, schema: dict | None):
        if schema is None:
            schema = common_schema(name) if name in COMMON_BY_TABLE else object_schema(name)
        return stream_for(self, name, schema)


if __name__ == "__main__":
    TapApollo.cli()
