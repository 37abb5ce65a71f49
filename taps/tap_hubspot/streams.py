"""HubSpot streams. A record is HubSpot's object flattened: its properties at the top level, next
to the envelope (`id`, `createdAt`, `updatedAt`, `archived`, `archivedAt`) and `_associations`
(`{"company": ["5000000001"], ...}`). Archived records also carry `_sdc_deleted_at`,
`_supaglue_is_deleted` and `_supaglue_last_modified_at` (= archivedAt).

How an object is read (tapkit decides full or incremental from the stream's state):
- full: the list endpoint in id order (every property; resumable by its `after` cursor kept in
  state), then the archived list. The bookmark it leaves is the newest modified time the search
  index held when the pass began, so changes made during the pass are read again next run.
- incremental: archived records with `archivedAt` in range, then the search API on the modified
  property, ascending, from bookmark - lookback_seconds. Each search query starts at the last
  modified time read (keyset paging), so no query pages towards the 10,000-result cap however
  many records changed, and records changing meanwhile cannot shift a page; a single instant
  holding more than a page is walked by `hs_object_id`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping
from datetime import datetime, timedelta
from typing import Any

from singer_sdk import Tap

from tap_hubspot.client import SEARCH_PAGE_SIZE, HubSpotClient
from tap_hubspot.objects import (
    ASSOCIATIONS,
    BY_API_NAME,
    USER_MAPPING,
    ObjectType,
    opportunity_mapping,
    stage_outcome,
)
from tenantsync.tapkit.common import CommonMapping, iso_timestamp, parse_timestamp
from tenantsync.tapkit.errors import FatalHttpError
from tenantsync.tapkit.strategy import SyncPlan
from tenantsync.tapkit.stream import TapkitStream

PROGRESS = "hubspot_full_sync"  # state entry of a running full pass
DELETED_AT = "_sdc_deleted_at"
IS_DELETED = "_supaglue_is_deleted"
LAST_MODIFIED = "_supaglue_last_modified_at"
DEFAULT_LOOKBACK_SECONDS = 300
_CANONICAL = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
_QUALIFIED = re.compile(r"^p\d+_(.+)$")

_NULLABLE = {"type": ["string", "null"]}
_DATETIME = {"type": ["string", "null"], "format": "date-time"}
META_SCHEMA: dict[str, dict] = {
    "id": {"type": "string"},
    "createdAt": _DATETIME, "updatedAt": _DATETIME,
    "archived": {"type": ["boolean", "null"]}, "archivedAt": _DATETIME,
    ASSOCIATIONS: {"type": ["object", "null"],
                   "additionalProperties": {"type": "array", "items": {"type": "string"}}},
    DELETED_AT: _DATETIME, IS_DELETED: {"type": ["boolean", "null"]}, LAST_MODIFIED: _DATETIME,
}


def hs_timestamp(value: Any) -> str | None:
    """HubSpot's datetime format (`2024-01-02T03:04:05.678Z`), which sorts as text."""
    if value is None or value == "":
        return None
    if isinstance(value, str) and _CANONICAL.match(value):
        return value
    return parse_timestamp(value).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def epoch_ms(value: Any) -> int:
    return int(parse_timestamp(value).timestamp() * 1000)


def looked_back(config: Mapping[str, Any], bookmark: Any) -> datetime:
    """Where an incremental sync starts: `lookback_seconds` before the bookmark, since
    HubSpot's search index (and owners' updatedAt) lag their writes."""
    lookback = float(config.get("lookback_seconds", DEFAULT_LOOKBACK_SECONDS))
    return parse_timestamp(bookmark) - timedelta(seconds=lookback)


def association_name(key: str) -> str:
    """The tap's name of an associated object from HubSpot's key (`companies`,
    `p123_pets`)."""
    obj = BY_API_NAME.get(key)
    if obj is not None:
        return obj.name
    match = _QUALIFIED.match(key)
    return match.group(1) if match else key


def object_schema(properties: Iterable[str], modified: str) -> dict:
    props = {name: dict(_NULLABLE) for name in properties}
    props[modified] = dict(_DATETIME)
    return {"type": "object", "properties": {**props, **META_SCHEMA}}


class HubSpotStream(TapkitStream):
    """One HubSpot object type; subclasses turn its flat records into this stream's records."""

    def __init__(self, tap: Tap, *, name: str, schema: dict, obj: ObjectType,
                 properties: list[str], associations: list[ObjectType],
                 replication_key: str):
        super().__init__(tap, name=name, schema=schema, key="id",
                         replication_key=replication_key)
        self.obj = obj
        self.properties = properties
        self.associations = associations
        self._ordered = False  # are the records now being emitted in watermark order?

    @property
    def client(self) -> HubSpotClient:
        return self._tap.client

    def to_record(self, flat: dict) -> dict:
        raise NotImplementedError

    def fetch_properties(self) -> list[str]:
        return self.properties

    # --- bookmarks ------------------------------------------------------------------------

    @property
    def in_watermark_order(self) -> bool:
        # Only search pages come in watermark order; list pages (id order) leave it alone.
        return self._ordered

    def _watermark(self, modified: str | None) -> str | None:
        """A modified time as this stream's replication-key value."""
        return hs_timestamp(modified)

    # --- reading ---------------------------------------------------------------------------

    def fetch_pages(self, plan: SyncPlan) -> Iterator[Iterable[dict]]:
        if plan.full:
            yield from self._full(plan)
        else:
            yield from self._incremental(plan)

    def _start_ms(self) -> int | None:
        start = self.config.get("start_date")
        return epoch_ms(start) if start else None

    def _full(self, plan: SyncPlan) -> Iterator[list[dict]]:
        state = self._bookmark
        progress = state.get(PROGRESS)
        if not progress or progress.get("version") != plan.version:
            progress = state[PROGRESS] = {"version": plan.version, "archived": False,
                                          "after": None, "high_water": self._high_water()}
        start = self._start_ms()
        self._ordered = False
        for archived in (False, True):
            if progress["archived"] and not archived:
                continue  # resuming in the archived pass
            progress["archived"] = archived
            for records in self._list(archived, progress):
                if progress["after"] is None:
                    progress["archived"] = True  # this page ends the live pass: resume after it
                if start is not None:
                    stamp = "archivedAt" if archived else self.obj.modified
                    records = [r for r in records if r.get(stamp) and epoch_ms(r[stamp]) >= start]
                yield [self.to_record(r) for r in records]
            progress["after"] = None
        state.pop(PROGRESS, None)
        high_water = self._watermark(progress["high_water"])
        if high_water is not None:
            state["replication_key"] = self.replication_key
            state["replication_key_value"] = high_water

    def _incremental(self, plan: SyncPlan) -> Iterator[list[dict]]:
        since_ms = epoch_ms(looked_back(self.config, plan.resume_from))
        start = self._start_ms()
        if start is not None:
            since_ms = max(since_ms, start)
        self._ordered = False
        for records in self._list(True, {"after": None}):
            kept = [r for r in records if r.get("archivedAt")
                    and epoch_ms(r["archivedAt"]) >= since_ms]
            if kept:
                yield [self.to_record(r) for r in kept]
        self._ordered = True
        self.restart_order()
        for records in self._search_from(since_ms):
            yield [self.to_record(r) for r in records]

    def _list(self, archived: bool, progress: dict) -> Iterator[list[dict]]:
        """Pages of the list endpoint (flat records), advancing `progress["after"]` (before
        each page is yielded, so the STATE written after the page resumes after it)."""
        while True:
            try:
                docs, after = self.client.list_page(
                    self.obj.api, after=progress["after"], properties=self.fetch_properties(),
                    associations=[a.api for a in self.associations], archived=archived)
            except FatalHttpError as exc:
                if archived and exc.status == 400:
                    self.logger.warning(
                        "%s: HubSpot does not list archived %s (%s); deletions are detected "
                        "by full syncs only.", self.name, self.obj.api, exc)
                    return
                raise
            progress["after"] = after
            records = [self._flatten(doc, inline=True) for doc in docs]
            self._complete_associations(docs, records)
            yield records
            if not after:
                return

    def _search_from(self, since_ms: int) -> Iterator[list[dict]]:
        """Records with modified >= since_ms in ascending modified order, by keyset paging.
        A query starting at the previous page's last instant skips the records of that
        instant already emitted (unless they changed again since)."""
        modified = self.obj.modified
        lower, strict, tie_after = since_ms, False, None
        seen: set[str] = set()  # ids already emitted at instant `lower`
        properties = list(dict.fromkeys([*self.fetch_properties(), modified]))
        while True:
            if tie_after is None:
                filters = [{"propertyName": modified, "operator": "GT" if strict else "GTE",
                            "value": str(lower)}]
                sort = modified
            else:  # more than a page at one instant: walk it by id
                filters = [{"propertyName": modified, "operator": "EQ", "value": str(lower)},
                           {"propertyName": "hs_object_id", "operator": "GT",
                            "value": tie_after}]
                sort = "hs_object_id"
            body = self.client.search(self.obj.api, {
                "filterGroups": [{"filters": filters}],
                "sorts": [{"propertyName": sort, "direction": "ASCENDING"}],
                "properties": properties, "limit": SEARCH_PAGE_SIZE, "after": "0"})
            docs = body.get("results") or []
            stamps = [epoch_ms(d["properties"][modified]) for d in docs]
            records = [self._flatten(doc, inline=False) for doc, stamp in zip(docs, stamps,
                                                                             strict=True)
                       if not (stamp == lower and doc["id"] in seen)]
            self._attach_associations(records)
            yield records
            if len(docs) < SEARCH_PAGE_SIZE:
                if tie_after is None:
                    return
                strict, tie_after, seen = True, None, set()  # that instant is done
                continue
            if tie_after is not None:
                tie_after = docs[-1]["id"]
                continue
            last = stamps[-1]
            if last == lower:
                tie_after = "0"  # a whole page at one instant
                seen |= {d["id"] for d in docs}
            else:
                lower, strict = last, False
                seen = {d["id"] for d, stamp in zip(docs, stamps, strict=True) if stamp == last}

    def _high_water(self) -> str | None:
        """The newest modified time the search index holds now (None: no records)."""
        modified = self.obj.modified
        body = self.client.search(self.obj.api, {
            "sorts": [{"propertyName": modified, "direction": "DESCENDING"}],
            "properties": [modified], "limit": 1})
        results = body.get("results") or []
        return results[0]["properties"].get(modified) if results else None

    # --- record shape ----------------------------------------------------------------------

    def _flatten(self, doc: dict, *, inline: bool) -> dict:
        record = doc.get("properties") or {}
        modified = record.get(self.obj.modified)
        if modified is not None:
            record[self.obj.modified] = hs_timestamp(modified)
        record["id"] = doc["id"]
        record["createdAt"] = doc.get("createdAt")
        record["updatedAt"] = doc.get("updatedAt")
        record["archived"] = bool(doc.get("archived"))
        if doc.get("archivedAt"):
            record["archivedAt"] = doc["archivedAt"]
        if self.associations:
            found = {a.name: [] for a in self.associations}
            if inline:
                for key, value in (doc.get("associations") or {}).items():
                    # v3 lists an associated record once per association type (label)
                    found[association_name(key)] = list(dict.fromkeys(
                        str(r["id"]) for r in value.get("results") or []))
            record[ASSOCIATIONS] = found
        return record

    def _complete_associations(self, docs: list[dict], records: list[dict]) -> None:
        """The list endpoint returns a first page of each record's associations; where one
        says there is more, read all of that record's associations of that kind."""
        more: dict[str, list[str]] = {}
        for doc in docs:
            for key, value in (doc.get("associations") or {}).items():
                if (value.get("paging") or {}).get("next"):
                    more.setdefault(association_name(key), []).append(doc["id"])
        by_id = {r["id"]: r for r in records}
        for to in self.associations:
            if to.name in more:
                found = self.client.associations(self.obj.api, to.api, more[to.name])
                for rid in more[to.name]:
                    by_id[rid][ASSOCIATIONS][to.name] = found.get(rid, [])

    def _attach_associations(self, records: list[dict]) -> None:
        if not records or not self.associations:
            return
        ids = [r["id"] for r in records]
        for to in self.associations:
            found = self.client.associations(self.obj.api, to.api, ids)
            for record in records:
                record[ASSOCIATIONS][to.name] = found.get(record["id"], [])


class ObjectStream(HubSpotStream):
    """A standard or custom object: the flat HubSpot record."""

    selects_at_source = True

    def fetch_properties(self) -> list[str]:
        mask = self.mask
        keep = {self.obj.modified}
        return [p for p in self.properties if p in keep or mask[("properties", p)]]

    def to_record(self, flat: dict) -> dict:
        if flat.get("archived"):
            archived_at = hs_timestamp(flat.get("archivedAt")) or flat.get(self.obj.modified)
            flat[DELETED_AT] = flat[LAST_MODIFIED] = archived_at
            flat[IS_DELETED] = True
        return flat


class CommonObjectStream(HubSpotStream):
    """crm_accounts, crm_contacts, crm_opportunities: the common record, raw_data = flat."""

    def __init__(self, tap: Tap, *, mapping: CommonMapping | None, **kwargs: Any):
        """`mapping` None: deals, whose mapping needs the portal's stage and pipeline labels
        (read when the stream first maps a record)."""
        super().__init__(tap, replication_key="last_modified_at", **kwargs)
        self._mapping = mapping

    @property
    def mapping(self) -> CommonMapping:
        if self._mapping is None:
            self._mapping = opportunity_mapping(*self._deal_labels())
        return self._mapping

    def _deal_labels(self) -> tuple[dict[str, str], dict[str, str], dict[str, str]]:
        """(stage id -> label, pipeline id -> label, stage id -> OPEN/WON/LOST): from the
        pipelines API, else labels from the options of the dealstage and pipeline properties
        (and the status from hs_is_closed / hs_is_closed_won alone)."""
        pipelines = self.client.pipelines(self.obj.api)
        if pipelines is not None:
            stages = [s for p in pipelines for s in p.get("stages") or []]
            return ({s["id"]: s["label"] for s in stages},
                    {p["id"]: p["label"] for p in pipelines},
                    {s["id"]: stage_outcome(s.get("metadata") or {}) for s in stages})
        props = {p["name"]: p for p in self.client.properties(self.obj.api)}

        def options(name: str) -> dict[str, str]:
            return {o["value"]: o["label"] for o in (props.get(name) or {}).get("options") or []}
        return options("dealstage"), options("pipeline"), {}

    def _watermark(self, modified: str | None) -> str | None:
        return iso_timestamp(modified)

    def to_record(self, flat: dict) -> dict:
        out = self.mapping.to_common(flat)
        if flat.get("archived") and flat.get("archivedAt"):
            out["last_modified_at"] = iso_timestamp(flat["archivedAt"])
        return out


class OwnerStream(TapkitStream):
    """HubSpot owners (the CRM's users): `owner` (raw) or `crm_users` (common). The owners API
    has no modified filter, so every run lists them all (active and archived) and keeps those
    modified since the bookmark, in updatedAt order (Supaglue's "incremental in memory")."""

    PAGE = 500

    def __init__(self, tap: Tap, *, name: str, schema: dict, common: bool):
        super().__init__(tap, name=name, schema=schema, key="id",
                         replication_key="last_modified_at" if common else "updatedAt")
        self.common = common

    def fetch_pages(self, plan: SyncPlan) -> Iterator[Iterable[dict]]:
        client: HubSpotClient = self._tap.client
        owners = [o for archived in (False, True) for page in client.owners(archived)
                  for o in page]
        for owner in owners:
            owner["updatedAt"] = hs_timestamp(owner.get("updatedAt") or owner.get("createdAt"))
        if not plan.full:
            since = looked_back(self.config, plan.resume_from)
            owners = [o for o in owners if parse_timestamp(o["updatedAt"]) >= since]
        owners.sort(key=lambda o: o["updatedAt"])
        records = [USER_MAPPING.to_common(o) if self.common else o for o in owners]
        for start in range(0, len(records), self.PAGE):
            yield records[start:start + self.PAGE]


OWNER_SCHEMA = {"type": "object", "properties": {
    "id": {"type": "string"}, "email": _NULLABLE, "firstName": _NULLABLE,
    "lastName": _NULLABLE, "userId": {"type": ["integer", "null"]},
    "userIdIncludingInactive": {"type": ["integer", "null"]},
    "createdAt": _DATETIME, "updatedAt": _DATETIME, "archived": {"type": ["boolean", "null"]},
    "teams": {"type": ["array", "null"], "items": {"type": "object"}},
    "type": _NULLABLE}}
