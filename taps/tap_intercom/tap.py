"""tap-intercom: Intercom's admins, articles, companies, contacts and conversations (standard
objects; Intercom has no Supaglue common objects). Which object is incremental and how:
objects.py (and README.md)."""

from __future__ import annotations

from collections.abc import Iterator
from functools import cached_property

from singer_sdk import typing as th

from tap_intercom.client import DEFAULT_API_URL, DEFAULT_VERSION, IntercomClient
from tap_intercom.objects import OBJECTS, schema
from tenantsync.tapkit.catalog import standard_only_streams
from tenantsync.tapkit.errors import FatalHttpError
from tenantsync.tapkit.rest import RestStream
from tenantsync.tapkit.rest.stream import PROGRESS
from tenantsync.tapkit.settings import COMMON_SETTINGS
from tenantsync.tapkit.strategy import SyncPlan
from tenantsync.tapkit.stream import TapkitTap

PROVIDER = "intercom"


class ScrollStream(RestStream):
    """Companies through the scroll API. A pass resumes at its saved `scroll_param` while that
    scroll is still open (a retried param serves its page again); once it has expired
    (Intercom: 404 after a minute idle) the pass starts over with a new scroll, once."""

    def _full_only(self, plan: SyncPlan) -> Iterator[list[dict]]:
        try:
            yield from super()._full_only(plan)
        except FatalHttpError as exc:
            if exc.status != 404:
                raise
            self.logger.warning("the scroll expired (%s); reading the companies again", exc)
            self._bookmark.pop(PROGRESS, None)
            yield from super()._full_only(plan)


def stream_for(tap: TapkitTap, name: str, obj: str, schema_: dict) -> RestStream:
    kind = ScrollStream if obj == "company" else RestStream
    return kind(tap, obj=OBJECTS[obj], name=name, schema=schema_)


class TapIntercom(TapkitTap):
    name = "tap-intercom"
    config_jsonschema = th.PropertiesList(
        th.Property("access_token", th.StringType, secret=True,
                    description="The workspace's access token (OAuth install or private "
                                "app); it never expires."),
        th.Property("client_id", th.StringType, secret=True,
                    description="OAuth app client id (not needed to read)."),
        th.Property("client_secret", th.StringType, secret=True,
                    description="OAuth app client secret (not needed to read)."),
        th.Property("api_url", th.StringType, default=DEFAULT_API_URL,
                    description="The workspace's region: https://api.intercom.io, "
                                "https://api.eu.intercom.io or https://api.au.intercom.io."),
        th.Property("intercom_version", th.StringType, default=DEFAULT_VERSION,
                    description="The Intercom-Version header (the API version read)."),
        th.Property("standard_objects", th.ArrayType(th.StringType),
                    description=f"Standard objects: {', '.join(OBJECTS)} (empty: all)."),
        th.Property("common_objects", th.ArrayType(th.StringType),
                    description="Must stay empty: Intercom has no common objects."),
        th.Property("custom_objects", th.ArrayType(th.StringType),
                    description="Must stay empty: Intercom has no custom objects."),
        *COMMON_SETTINGS,
    ).to_dict()

    @cached_property
    def client(self) -> IntercomClient:
        return IntercomClient(self.config, self.logger)

    def discover_streams(self) -> list[RestStream]:
        return standard_only_streams(
            self, PROVIDER, "Intercom", OBJECTS,
            lambda name, obj, schema_: stream_for(self, name, obj, schema_ or schema(obj)))

if __name__ == "__main__":
    TapIntercom.cli()
