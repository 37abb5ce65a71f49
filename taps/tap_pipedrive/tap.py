"""tap-pipedrive: Pipedrive's standard objects and Supaglue's CRM common objects.

Which objects are incremental and which full only, and how deletes appear: objects.py (and
README.md). Rate limits: requests are paced from Pipedrive's `x-ratelimit-*` headers (and,
with `requests_per_2_seconds`, by a window of our own); the daily token budget's 429 stops the
run cleanly: the last STATE holds every bookmark, exit code 0, the next run resumes.
"""

from __future__ import annotations

from functools import cached_property

from singer_sdk import typing as th
from singer_sdk.exceptions import DiscoveryError

from tap_pipedrive.client import DEFAULT_API_DOMAIN, DEFAULT_OAUTH_URL, PipedriveClient
from tap_pipedrive.common import COMMON_BY_TABLE, COMMON_OBJECTS
from tap_pipedrive.objects import FIELDS_ENDPOINT, OBJECTS
from tap_pipedrive.streams import common_schema, custom_names, object_schema, stream_for
from tenantsync.tapkit.catalog import catalog_streams
from tenantsync.tapkit.settings import COMMON_SETTINGS, object_settings, wanted_objects
from tenantsync.tapkit.stream import TapkitTap

PROVIDER = "pipedrive"


class TapPipedrive(TapkitTap):
    name = "tap-pipedrive"
    dynamic_catalog = True
    config_jsonschema = th.PropertiesList(
        th.Property("client_id", th.StringType, secret=True,
                    description="OAuth app client id."),
        th.Property("client_secret", th.StringType, secret=True,
                    description="OAuth app client secret."),
        th.Property("refresh_token", th.StringType, secret=True,
                    description="OAuth refresh token of the connection."),
        th.Property("api_token", th.StringType, secret=True,
                    description="A user's API token, instead of OAuth."),
        th.Property("api_domain", th.StringType,
                    description=f"The company's API host (OAuth: the token response's "
                                f"api_domain, read at the first refresh when unset; API token: "
                                f"default {DEFAULT_API_DOMAIN})."),
        th.Property("oauth_url", th.StringType, default=DEFAULT_OAUTH_URL,
                    description="Pipedrive's OAuth server (token refresh)."),
        th.Property("requests_per_2_seconds", th.IntegerType(minimum=0), default=0,
                    description="Send at most this many requests per 2 s (0: pace by the "
                                "x-ratelimit headers alone)."),
        *object_settings(COMMON_OBJECTS, OBJECTS, "CRM"),
        *COMMON_SETTINGS,
    ).to_dict()

    @cached_property
    def client(self) -> PipedriveClient:
        return PipedriveClient(self.config, self.logger)

    def custom_fields(self, obj: str) -> dict[str, str]:
        """key -> name of the object's custom fields (its `/v1/{entity}Fields` listing)."""
        endpoint = FIELDS_ENDPOINT.get(obj)
        if endpoint is None:
            return {}
        body = self.client.get(f"/v1/{endpoint}", {"start": 0, "limit": 500})
        return {f["key"]: f["name"] for f in body.get("data") or [] if f.get("edit_flag")}

    def discover_streams(self) -> list:
        if self.input_catalog is not None:
            return self._from_catalog()
        common, standard = wanted_objects(self.config, COMMON_OBJECTS, OBJECTS,
                                          "Pipedrive")
        custom = {o: self.custom_fields(o) for o in
                  dict.fromkeys([*standard, *(COMMON_OBJECTS[c][0] for c in common)])}
        streams = [stream_for(self, o, object_schema(o, custom[o]), custom[o])
                   for o in standard]
        for name in common:
            obj, table = COMMON_OBJECTS[name]
            streams.append(stream_for(self, table, common_schema(table, custom[obj]),
                                      custom[obj]))
        return streams

    def _from_catalog(self) -> list:
        """Streams rebuilt from a catalog this tap discovered; custom field keys are read
        again (one call per object) since a catalog names fields, not their keys."""
        streams, known = [], {}
        for item in catalog_streams(self.input_catalog, PROVIDER, "Pipedrive",
                                    COMMON_BY_TABLE):
            name = item.dest.table if item.dest.kind == "common" else item.dest.object
            obj = COMMON_BY_TABLE[name][1] if item.dest.kind == "common" else name
            if item.dest.kind == "custom" or obj not in OBJECTS:
                raise DiscoveryError(f"catalog stream {item.name!r}: not a Pipedrive object")
            listed = custom_names(item.schema)
            if obj not in known:
                known[obj] = self.custom_fields(obj) if listed else {}
            keep = {k: n for k, n in known[obj].items() if listed and n in listed}
            streams.append(stream_for(self, name, item.schema, keep))
        return streams


if __name__ == "__main__":
    TapPipedrive.cli()
