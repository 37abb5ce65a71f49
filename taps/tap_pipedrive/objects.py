"""Pipedrive's standard objects as data: one `RestObject` row each (which API, paging,
incremental filter, deletes), their fields (JSON types), and which `*Fields` endpoint defines
their custom fields. Documentation: developers.pipedrive.com/docs/api/v1 and /v2.

Incremental (API v2: `updated_since` (>=, RFC 3339) with `sort_by=update_time`, ascending):
deals, persons, organizations, activities, products. Full only (API v1 lists have no
modified-since filter): notes, leads, pipelines, stages, users. Deletes: deleted deals are
listed with `status=...,deleted` for 30 days (`is_deleted`); every other deleted record
leaves the lists and is removed by a full sync's sweep; archived leads likewise.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from tenantsync.tapkit.rest import (
    CursorPaging,
    Deletes,
    Incremental,
    OffsetPaging,
    RestObject,
)

PAGE_SIZE = 500  # the maximum of both APIs' `limit`
V2_PAGING = CursorPaging(("additional_data", "next_cursor"), PAGE_SIZE)
V1_PAGING = OffsetPaging(PAGE_SIZE, "start", "limit",
                         next_offset_path=("additional_data", "pagination", "next_start"))
V2_SINCE = Incremental("update_time", param="updated_since", format="iso",
                       sort={"sort_by": "update_time", "sort_direction": "asc"})
CUSTOM = "_custom_fields"  # custom field values by the field's name (the record keeps its keys)

_TYPES = {"i": ["integer", "null"], "s": ["string", "null"], "n": ["number", "null"],
          "b": ["boolean", "null"], "o": ["object", "null"], "a": ["array", "null"]}


def _schema(spec: str) -> dict:
    """`"id:i title:s update_time:t"` -> a JSON schema (t: date-time, d: date)."""
    props: dict[str, dict] = {}
    for item in spec.split():
        name, kind = item.split(":")
        if kind == "t":
            props[name] = {"type": ["string", "null"], "format": "date-time"}
        elif kind == "d":
            props[name] = {"type": ["string", "null"], "format": "date"}
        else:
            props[name] = {"type": _TYPES[kind]}
    return {"type": "object", "properties": props}


_V2_COMMON = "id:i owner_id:i add_time:t update_time:t is_deleted:b visible_to:i label_ids:a " \
             "custom_fields:o"
FIELDS = {
    "deals": _schema(f"{_V2_COMMON} title:s value:n currency:s status:s stage_id:i "
                     "pipeline_id:i probability:n org_id:i person_id:i expected_close_date:d "
                     "close_time:t won_time:t lost_time:t lost_reason:s"),
    "persons": _schema(f"{_V2_COMMON} name:s first_name:s last_name:s org_id:i emails:a "
                       "phones:a job_title:s"),
    "organizations": _schema(f"{_V2_COMMON} name:s address:o"),
    "activities": _schema(f"{_V2_COMMON} subject:s type:s done:b due_date:d deal_id:i "
                          "person_id:i org_id:i note:s"),
    "products": _schema(f"{_V2_COMMON} name:s code:s unit:s tax:n is_linkable:b prices:a"),
    "notes": _schema("id:i content:s user_id:i deal_id:i person_id:i org_id:i add_time:t "
                     "update_time:t active_flag:b pinned_to_deal_flag:b"),
    "leads": _schema("id:s title:s owner_id:i person_id:i organization_id:i source_name:s "
                     "is_archived:b was_seen:b label_ids:a value:o expected_close_date:d "
                     "add_time:t update_time:t"),
    "pipelines": _schema("id:i name:s order_nr:i active:b deal_probability:b add_time:t "
                         "update_time:t"),
    "stages": _schema("id:i name:s order_nr:i pipeline_id:i pipeline_name:s "
                      "deal_probability:n active_flag:b rotten_flag:b add_time:t update_time:t"),
    "users": _schema("id:i name:s email:s active_flag:b is_admin:b timezone_name:s phone:s "
                     "created:t modified:t"),
}
# objects whose custom fields a `/v1/{entity}Fields` endpoint defines
FIELDS_ENDPOINT = {"deals": "dealFields", "persons": "personFields",
                   "organizations": "organizationFields", "activities": "activityFields",
                   "products": "productFields", "notes": "noteFields"}


def resolve_custom_fields(stream: Any, record: dict) -> dict:
    """Add the record's custom fields by name (`_custom_fields`), from the `*Fields`
    definitions: v2 nests them under `custom_fields`, v1 keeps them at the root under their
    40-hex keys. The record's own fields stay as Pipedrive sent them."""
    names: Mapping[str, str] = stream.custom_field_names
    if names:
        nested = record.get("custom_fields")
        source = nested if isinstance(nested, dict) else record
        record[CUSTOM] = {name: source.get(key) for key, name in names.items()
                          if key in source}
    return record


def _v2(name: str, **kwargs: Any) -> RestObject:
    return RestObject(name, f"/api/v2/{name}", V2_PAGING, incremental=V2_SINCE,
                      modified="update_time", transform=resolve_custom_fields,
                      note="incremental: updated_since, sorted by update_time", **kwargs)


def _v1(name: str, modified: str | None = "update_time", **kwargs: Any) -> RestObject:
    return RestObject(name, f"/v1/{name}", V1_PAGING, modified=modified,
                      transform=resolve_custom_fields,
                      note="full only: the v1 list has no modified-since filter", **kwargs)


OBJECTS: dict[str, RestObject] = {o.name: o for o in (
    _v2("deals", deletes=Deletes(flag="is_deleted",
                                 include={"status": "open,won,lost,deleted"})),
    _v2("persons"), _v2("organizations"), _v2("activities"), _v2("products"),
    _v1("notes"), _v1("leads"), _v1("pipelines"), _v1("stages"),
    _v1("users", modified="modified"),
)}
