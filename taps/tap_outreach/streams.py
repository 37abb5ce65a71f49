"""tap-outreach's streams: a standard object is its `RestObject` read by tapkit's REST engine
(emitted as a flat record); a common object maps the resource to Supaglue's engagement schema,
raw_data = the JSON:API resource as Outreach sent it (as in Supaglue)."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from singer_sdk import Tap

from tap_outreach.common import COMMON_BY_TABLE, MAPPINGS
from tap_outreach.jsonapi import flatten
from tap_outreach.objects import FIELDS, OBJECTS, PAGE_SIZE
from tenantsync.tapkit.common import common_stream_schema
from tenantsync.tapkit.rest import RestObject, RestStream, jsonapi_paging

_OBJ = {"type": ["object", "null"]}
RESOURCE_SCHEMA = {"type": ["object", "null"], "properties": {
    "type": {"type": ["string", "null"]}, "id": {"type": ["integer", "null"]},
    "attributes": _OBJ, "relationships": _OBJ, "links": _OBJ}}


class OutreachStream(RestStream):
    keeps_resource = False


class CommonStream(OutreachStream):
    """engagement_accounts, _contacts, _users, _sequences, _mailboxes, _sequence_states."""

    keeps_resource = True

    def __init__(self, tap: Tap, *, table: str, schema: dict):
        super().__init__(tap, obj=_sized(tap, OBJECTS[COMMON_BY_TABLE[table][1]]),
                         name=table, schema=schema, common=True)
        self.mapping = MAPPINGS[table]

    def to_record(self, record: dict) -> dict:
        resource = self.strip_meta(record)
        common = self.mapping.to_common(flatten(resource))
        common["raw_data"] = resource
        return common


def common_schema(table: str) -> dict:
    schema = common_stream_schema(table)
    schema["properties"]["raw_data"] = RESOURCE_SCHEMA
    return schema


def _sized(tap: Tap, obj: RestObject) -> RestObject:
    """The object's listing with the tap's `page_size` (Outreach's gateway may answer 502 to
    big pages of wide records; a smaller size is the remedy)."""
    size = int(tap.config.get("page_size") or PAGE_SIZE)
    return obj if size == PAGE_SIZE else replace(obj, paging=jsonapi_paging(size))


def stream_for(tap: Tap, name: str, schema: dict | None = None) -> Any:
    if name in COMMON_BY_TABLE:
        return CommonStream(tap, table=name, schema=schema or common_schema(name))
    return OutreachStream(tap, obj=_sized(tap, OBJECTS[name]), name=name,
                          schema=schema or FIELDS[name])
