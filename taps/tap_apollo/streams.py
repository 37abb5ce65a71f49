"""tap-apollo's streams: a standard object is its `RestObject` read by tapkit's REST engine (the
record as Apollo sends it); a common object maps it to Supaglue's engagement schema (raw_data
= the record); sequence states are the memberships inside each contact."""

from __future__ import annotations

from collections.abc import Iterator

from singer_sdk import Tap

from tap_apollo.common import COMMON_BY_TABLE, MAPPINGS, sequence_states
from tap_apollo.objects import FIELDS, MAX_PAGES, OBJECTS
from tenantsync.tapkit.common import common_stream_schema
from tenantsync.tapkit.rest import RestStream
from tenantsync.tapkit.strategy import SyncPlan


class ApolloStream(RestStream):
    def __init__(self, tap: Tap, *, obj: str, name: str, schema: dict, common: bool = False):
        super().__init__(tap, obj=OBJECTS[obj], name=name, schema=schema, common=common)

    def fetch_pages(self, plan: SyncPlan) -> Iterator[list[dict]]:
        yield from super().fetch_pages(plan)
        info = self.client.last_pagination.get(self.obj.name) or {}
        try:
            total, pages = int(info["total_entries"]), int(info["total_pages"])
        except (KeyError, TypeError, ValueError):
            return
        if pages > MAX_PAGES:
            self.partial_pass = (f"Apollo displays {MAX_PAGES} pages of a search and "
                                 f"{self.obj.name} has {total} records ({pages} pages)")


class CommonStream(ApolloStream):
    """engagement_accounts, _contacts, _users, _sequences, _mailboxes, _sequence_states."""

    def __init__(self, tap: Tap, *, table: str, schema: dict):
        super().__init__(tap, obj=COMMON_BY_TABLE[table][1], name=table, schema=schema,
                         common=True)
        self.mapping = MAPPINGS[table]

    def to_record(self, record: dict) -> dict:
        return self.mapping.to_common(self.strip_meta(record))


class SequenceStateStream(ApolloStream):
    """engagement_sequence_states: each contact's `contact_campaign_statuses`, one record
    each (Apollo has no listing of memberships of its own)."""

    def __init__(self, tap: Tap, *, schema: dict):
        super().__init__(tap, obj="contacts", name="engagement_sequence_states", schema=schema,
                         common=True)
        self.mapping = MAPPINGS["engagement_sequence_states"]

    def fetch_pages(self, plan: SyncPlan) -> Iterator[list[dict]]:
        for contacts in super().fetch_pages(plan):
            yield [self.mapping.to_common(state) for contact in contacts
                   for state in sequence_states(self.strip_meta(contact))]


def object_schema(obj: str) -> dict:
    return FIELDS[obj]


def common_schema(table: str) -> dict:
    schema = common_stream_schema(table)
    obj = COMMON_BY_TABLE[table][1]
    if table != "engagement_sequence_states":
        schema["properties"]["raw_data"]["properties"] = FIELDS[obj]["properties"]
    return schema


def stream_for(tap: Tap, name: str, schema: dict) -> ApolloStream:
    if name == "engagement_sequence_states":
        return SequenceStateStream(tap, schema=schema)
    if name in COMMON_BY_TABLE:
        return CommonStream(tap, table=name, schema=schema)
    return ApolloStream(tap, obj=name, name=name, schema=schema)
