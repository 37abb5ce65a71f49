"""tap-pipedrive's streams: a standard object is its `RestObject` read by tapkit's REST engine
(the record as Pipedrive sends it, plus `_custom_fields` by name); a common object maps that
record to Supaglue's common schema (raw_data = the record)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from functools import cached_property
from typing import Any

from singer_sdk import Tap

from tap_pipedrive.common import COMMON_BY_TABLE, MAPPINGS, opportunity
from tap_pipedrive.objects import CUSTOM, FIELDS, FIELDS_ENDPOINT, OBJECTS
from tenantsync.tapkit.common import CommonMapping, common_stream_schema
from tenantsync.tapkit.rest import RestStream
from tenantsync.tapkit.strategy import SyncPlan


def object_schema(obj: str, custom: dict[str, str]) -> dict:
    """The object's fields and its custom fields by name (key -> name)."""
    schema = {**FIELDS[obj], "properties": dict(FIELDS[obj]["properties"])}
    if obj in FIELDS_ENDPOINT:
        schema["properties"][CUSTOM] = {"type": ["object", "null"], "properties": {
            name: {} for name in custom.values()}}
    return schema


class PipedriveStream(RestStream):
    def __init__(self, tap: Tap, *, obj: str, name: str, schema: dict,
                 custom: dict[str, str] | None = None, common: bool = False):
        super().__init__(tap, obj=OBJECTS[obj], name=name, schema=schema, common=common)
        self.custom_field_names = custom or {}


class CommonStream(PipedriveStream):
    """crm_accounts, crm_contacts, crm_leads, crm_opportunities, crm_users."""

    def __init__(self, tap: Tap, *, table: str, schema: dict,
                 custom: dict[str, str] | None = None):
        obj = COMMON_BY_TABLE[table][1]
        super().__init__(tap, obj=obj, name=table, schema=schema, custom=custom, common=True)
        self.table = table

    @cached_property
    def mapping(self) -> CommonMapping:
        found = MAPPINGS[self.table]
        if found is not None:
            return found
        names = {}
        for obj in ("stages", "pipelines"):
            spec = OBJECTS[obj]
            names[obj] = {r["id"]: r["name"] for page in
                          self.client.pages(spec, spec.paging.first(spec.call()))
                          for r in page.records}
        return opportunity(names["stages"], names["pipelines"])

    def fetch_pages(self, plan: SyncPlan) -> Iterator[Iterable[dict]]:
        self.mapping  # noqa: B018  its requests, before the engine's page-ahead worker starts
        yield from super().fetch_pages(plan)

    def to_record(self, record: dict) -> dict:
        return self.mapping.to_common(self.strip_meta(record))


def common_schema(table: str, custom: dict[str, str]) -> dict:
    schema = common_stream_schema(table)
    schema["properties"]["raw_data"]["properties"] = object_schema(
        COMMON_BY_TABLE[table][1], custom)["properties"]
    return schema


def custom_names(schema: dict) -> dict[str, str] | None:
    """Custom field names a catalog's schema lists (None: none listed; discovery knows)."""
    props = schema.get("properties") or {}
    raw = (props.get("raw_data") or {}).get("properties") or props
    names = (raw.get(CUSTOM) or {}).get("properties")
    return None if names is None else {name: name for name in names}


def stream_for(tap: Tap, name: str, schema: dict, custom: dict[str, str]) -> Any:
    if name in COMMON_BY_TABLE:
        return CommonStream(tap, table=name, schema=schema, custom=custom)
    return PipedriveStream(tap, obj=name, name=name, schema=schema, custom=custom)
