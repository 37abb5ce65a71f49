"""tap-linear: Linear's issues, comments, users, projects and teams (standard objects; Linear
has no Supaglue common objects) through its GraphQL API. How each object is read: objects.py;
auth and rate limits: client.py."""

from __future__ import annotations

from functools import cached_property

from singer_sdk import typing as th
from singer_sdk.exceptions import DiscoveryError

from tap_linear.client import DEFAULT_BASE_URL, LinearClient
from tap_linear.objects import OBJECTS, schema
from tenantsync.tapkit.catalog import catalog_streams
from tenantsync.tapkit.rest import RestStream
from tenantsync.tapkit.settings import COMMON_SETTINGS, object_settings, wanted_objects
from tenantsync.tapkit.stream import TapkitTap

PROVIDER = "linear"


class TapLinear(TapkitTap):
    name = "tap-linear"
    dynamic_catalog = True
    config_jsonschema = th.PropertiesList(
        th.Property("client_id", th.StringType, secret=True,
                    description="OAuth app client id."),
        th.Property("client_secret", th.StringType, secret=True,
                    description="OAuth app client secret."),
        th.Property("refresh_token", th.StringType, secret=True,
                    description="OAuth refresh token of the connection (rotates on every "
                                "refresh: the new one goes to the token store)."),
        th.Property("api_key", th.StringType, secret=True,
                    description="A personal API key, instead of OAuth."),
        th.Property("base_url", th.StringType, default=DEFAULT_BASE_URL,
                    description="Linear's API host (GraphQL at /graphql, token endpoint at "
                                "/oauth/token)."),
        th.Property("max_rate_limit_wait", th.NumberType, default=900,
                    description="Wait at most this many seconds for Linear's rate-limit "
                                "buckets to refill; longer: stop cleanly, the next run "
                                "resumes."),
        *object_settings((), tuple(OBJECTS), "Linear has no"),
        *COMMON_SETTINGS,
    ).to_dict()

    @cached_property
    def client(self) -> LinearClient:
        return LinearClient(self.config, self.logger)

    def discover_streams(self) -> list:
        if self.input_catalog is not None:
            return self._from_catalog()
        _, standard = wanted_objects(self.config, (), tuple(OBJECTS), "Linear")
        return [self._stream(obj, schema(obj)) for obj in standard]

    def _stream(self, obj: str, stream_schema: dict) -> RestStream:
        return RestStream(self, obj=OBJECTS[obj], name=obj, schema=stream_schema)

    def _from_catalog(self) -> list:
        streams = []
        for item in catalog_streams(self.input_catalog, PROVIDER, "Linear", ()):
            if item.dest.kind != "standard" or item.dest.object not in OBJECTS:
                raise DiscoveryError(f"catalog stream {item.name!r}: not a Linear object")
            streams.append(self._stream(item.dest.object, item.schema))
        return streams


if __name__ == "__main__":
    TapLinear.cli()
