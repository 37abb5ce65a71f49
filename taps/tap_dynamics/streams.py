"""tap-dynamics' streams: an entity read by tapkit's REST engine (the record as Dataverse
sends it, `@odata.etag` dropped), or a common object mapped from it (raw_data = the record).

An entity with change tracking enabled (`ChangeTrackedStream`) also keeps a delta link: a full
sync first takes a baseline (`Prefer: odata.track-changes`, `$select` of the key alone, pages
of 5,000) and then reads as any entity does; an incremental sync reads the delta link instead
of `$filter=modifiedon gt`: changed rows whole (emitted in `modifiedon` order) and deleted
ones (`$deletedEntity`) flagged deleted; the new delta link is kept once the delta is emitted,
so an interrupted run reads the same delta again.
Documentation: learn.microsoft.com/power-apps/developer/data-platform/use-change-tracking-
synchronize-data-external-systems."""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from singer_sdk import Tap

from tap_dynamics.common import COMMON_BY_TABLE, MAPPINGS
from tap_dynamics.objects import EXPANDED, OPPORTUNITY_EXPAND, Entity, rest_object
from tenantsync.tapkit.common import common_stream_schema, parse_timestamp
from tenantsync.tapkit.rest import RestStream
from tenantsync.tapkit.strategy import SyncPlan

DELTA = "dataverse_delta"  # stream state: {"version": full sync it began with, "link": ...}
BASELINE_PAGE = 5000


class EntityStream(RestStream):
    def __init__(self, tap: Tap, *, entity: Entity, name: str, schema: dict,
                 common: bool = False):
        raw = schema["properties"].get("raw_data", schema) if common else schema
        fields = [f for f in raw.get("properties", {}) if f in entity.fields]
        expand = OPPORTUNITY_EXPAND if common and entity.set == "opportunities" else None
        super().__init__(tap, obj=rest_object(entity, fields, expand), name=name,
                         schema=schema, common=common)


class ChangeTrackedStream(EntityStream):
    delete_detection = "change tracking"

    def _track(self, url: str, params: dict | None = None) -> Iterator[dict]:
        """The pages of a change-tracking read (or a delta link); the last one has the next
        delta link."""
        headers = {"Prefer": self.client.prefer("odata.track-changes",
                                                f"odata.maxpagesize={BASELINE_PAGE}")}
        while url:
            body = self.client.http.request("GET", self.client.url(url), params=params,
                                            headers=headers)
            yield body
            url, params = body.get("@odata.nextLink"), None

    def _delta_link(self, pages: Iterator[dict]) -> str:
        link = None
        for body in pages:
            link = body.get("@odata.deltaLink") or link
        if not link:
            raise RuntimeError(f"{self.name}: the change-tracking read ended without a delta "
                               "link")
        return link

    def _selecting(self, link: str) -> str:
        """The delta link with the stream's `$select` (the baseline selected the key alone;
        the token, not the query options, marks the point in time)."""
        parts = urlsplit(link)
        query = {k: v for k, v in parse_qsl(parts.query) if k != "$select"}
        query = {"$select": self.obj.params["$select"], **query}
        return urlunsplit(parts._replace(query=urlencode(query)))

    def fetch_pages(self, plan: SyncPlan) -> Iterator[list[dict]]:
        state = self._bookmark
        delta = state.get(DELTA) or {}
        if plan.full:
            if delta.get("version") != plan.version or not delta.get("link"):
                state[DELTA] = {"version": plan.version, "link": self._delta_link(
                    self._track(self.obj.path, {"$select": self.obj.key}))}
            yield from super().fetch_pages(plan)
            return
        if not delta.get("link"):  # tracking enabled since the last full sync
            yield from super().fetch_pages(plan)
            return
        changed, removed, link = [], [], None
        for body in self._track(self._selecting(delta["link"])):
            for row in body.get("value") or []:
                if row.get("reason") == "deleted" or "$deletedEntity" in str(
                        row.get("@odata.context", "")):
                    removed.append({self.obj.key: row.get("id")})
                else:
                    changed.append(row)
            link = body.get("@odata.deltaLink") or link
        changed.sort(key=lambda r: parse_timestamp(r["modifiedon"]))
        for start in range(0, len(changed), BASELINE_PAGE):
            yield self._records(self.obj, changed[start:start + BASELINE_PAGE])
        if removed:
            yield self._records(self.obj, removed, deleted=True)
        state[DELTA] = {"version": delta.get("version"), "link": link or delta["link"]}
        yield []  # a checkpoint with the new delta link


class CommonStream(EntityStream):
    """crm_accounts, crm_contacts, crm_leads, crm_opportunities, crm_users."""

    def __init__(self, tap: Tap, *, entity: Entity, table: str, schema: dict):
        super().__init__(tap, entity=entity, name=table, schema=schema, common=True)
        self.primary_keys = ["id"]  # the common record's id (the entity's key, as a string)
        self.mapping = MAPPINGS[table]

    def to_record(self, record: dict) -> dict:
        return self.mapping.to_common(self.strip_meta(record))


def common_schema(table: str, entity: Entity, formatted: bool = True) -> dict:
    schema = common_stream_schema(table)
    props = entity.schema(formatted=formatted)["properties"]
    if entity.set == "opportunities":
        props.update(EXPANDED)
    schema["properties"]["raw_data"]["properties"] = props
    return schema


def stream_for(tap: Tap, name: str, entity: Entity, schema: dict) -> RestStream:
    if name in COMMON_BY_TABLE:
        return CommonStream(tap, entity=entity, table=name, schema=schema)
    if entity.change_tracking and "modifiedon" in entity.fields:
        return ChangeTrackedStream(tap, entity=entity, name=name, schema=schema)
    return EntityStream(tap, entity=entity, name=name, schema=schema)
