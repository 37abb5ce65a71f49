"""tap-salesloft's streams: a standard object is its `RestObject` read by tapkit's REST engine
(the record as Salesloft sends it); a common object maps it to Supaglue's engagement schema
(raw_data = the record)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator
from functools import cached_property
from typing import Any

from singer_sdk import Tap

from tap_salesloft.common import COMMON_BY_TABLE, MAPPINGS, sequence_mapping
from tap_salesloft.objects import FIELDS, OBJECTS
from tenantsync.tapkit.common import CommonMapping, common_stream_schema
from tenantsync.tapkit.rest import RestStream
from tenantsync.tapkit.strategy import SyncPlan


class CommonStream(RestStream):
    """engagement_accounts, _contacts, _users, _sequences, _sequence_states."""

    def __init__(self, tap: Tap, *, table: str, schema: dict):
        super().__init__(tap, obj=OBJECTS[COMMON_BY_TABLE[table][1]], name=table,
                         schema=schema, common=True)
        self.table = table

    @cached_property
    def mapping(self) -> CommonMapping:
        found = MAPPINGS.get(self.table)
        if found is not None:
            return found
        steps = OBJECTS["steps"]  # every step, counted per cadence (as Supaglue did)
        counts = Counter(str((r.get("cadence") or {}).get("id"))
                         for page in self.client.pages(steps, steps.paging.first(steps.call()))
                         for r in page.records)
        return sequence_mapping(counts)

    def fetch_pages(self, plan: SyncPlan) -> Iterator[Iterable[dict]]:
        self.mapping  # noqa: B018  its requests, before the engine's page-ahead worker starts
        yield from super().fetch_pages(plan)

    def to_record(self, record: dict) -> dict:
        return self.mapping.to_common(self.strip_meta(record))


def common_schema(table: str) -> dict:
    schema = common_stream_schema(table)
    schema["properties"]["raw_data"]["properties"] = FIELDS[
        COMMON_BY_TABLE[table][1]]["properties"]
    return schema


def stream_for(tap: Tap, name: str, schema: dict | None = None) -> Any:
    if name in COMMON_BY_TABLE:
        return CommonStream(tap, table=name, schema=schema or common_schema(name))
    return RestStream(tap, obj=OBJECTS[name], name=name, schema=schema or FIELDS[name])
