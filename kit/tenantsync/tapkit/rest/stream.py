"""`RestClient` and `RestStream`: a `RestObject` read by tapkit's engine.

- An incremental object is read in watermark order from the bookmark (full syncs: from
  `start_date`, or the beginning), so every page's STATE is a safe resume point; where the API
  cannot sort by the watermark, records are emitted as read and the bookmark moves only at the
  end of the pass (the engine's `ascending`).
- A full-only object keeps its next request in the state during the pass, so an interrupted
  full sync resumes at the page it stopped at (same ACTIVATE_VERSION).
- Deleted records (a flag, or a separate listing read after the main one) carry
  `_sdc_deleted_at` / `_supaglue_is_deleted` / `_supaglue_last_modified_at`.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, fields
from datetime import datetime, timezone

from singer_sdk import Tap
from singer_sdk.singerlib.catalog import REPLICATION_FULL_TABLE, MetadataMapping, StreamMetadata

from tenantsync.tapkit.common import iso_timestamp
from tenantsync.tapkit.http import HttpClient, parse_json
from tenantsync.tapkit.prefetch import prefetched
from tenantsync.tapkit.rest.objects import (
    DELETED_AT,
    IS_DELETED,
    LAST_MODIFIED,
    META_SCHEMA,
    RestObject,
)
from tenantsync.tapkit.rest.paging import Call, Page
from tenantsync.tapkit.strategy import SyncPlan
from tenantsync.tapkit.stream import NEW_QUERY, TapkitStream

PROGRESS = "rest_full_sync"  # state entry of a running full pass of a full-only object


class RestClient:
    """A base URL over one tapkit HttpClient (its retries, pacers and auth)."""

    # Read one page ahead (see pages). While a stream's pages are read, only that worker
    # uses the client: a transform or mapping must not make requests of its own.
    prefetch = True

    def __init__(self, http: HttpClient, base_url: str):
        self.http = http
        self.base_url = base_url.rstrip("/")

    def url(self, path: str) -> str:
        return path if "://" in path else self.base_url + path

    def fetch(self, obj: RestObject, call: Call) -> Page:
        body, headers = self.http.request(
            obj.method, self.url(call.url), params=call.params or None, json=call.json,
            parse=lambda r: (parse_json(r), r.headers))
        return Page(obj.records_of(body), body, headers)

    def pages(self, obj: RestObject, call: Call, progress: dict | None = None
              ) -> Iterator[Page]:
        """Pages from `call` (already the first request, or a resumed one) to the last. With
        `progress`, its "next" is set to the following request before each page is yielded.

        With `prefetch`, the next page is requested while the caller works on this one (a
        worker thread one page ahead: the same requests, in the same order, one at a time);
        `progress` is still set here, in the caller's thread, so a checkpoint never runs
        ahead of what the caller has been given."""
        fetched = self._fetched(obj, call)
        for page, following in prefetched(fetched) if self.prefetch else fetched:
            if progress is not None:
                progress["next"] = following.to_state() if following else None
            yield page

    def _fetched(self, obj: RestObject, call: Call) -> Iterator[tuple[Page, Call | None]]:
        while True:
            page = self.fetch(obj, call)
            following = obj.paging.next(call, page)
            yield page, following
            if following is None:
                return
            call = following


@dataclass(slots=True)
class RestStreamMetadata(StreamMetadata):
    """Breadcrumb [] metadata plus how the stream is read (`tenantsync-delete-detection`,
    `tenantsync-replication`, `tenantsync-note`), so a catalog says it per stream."""

    tenantsync_delete_detection: str | None = None
    tenantsync_replication: str | None = None
    tenantsync_note: str | None = None


def with_meta(schema: dict) -> dict:
    """A standard object's schema with the deletion metadata the engine may add."""
    return {**schema, "properties": {**schema.get("properties", {}), **META_SCHEMA}}


class RestStream(TapkitStream):
    """A standard object read through its `RestObject`; the tap's `client` is a RestClient."""

    def __init__(self, tap: Tap, *, obj: RestObject, name: str, schema: dict,
                 replication_key: str | None = None, common: bool = False):
        """`common`: the stream maps records to a common object (`to_record`): its schema is
        the common one, without the deletion metadata, and its replication key is the
        common `last_modified_at` where the object is incremental."""
        if common and obj.incremental is not None:
            replication_key = replication_key or "last_modified_at"
        super().__init__(tap, name=name, schema=schema if common else with_meta(schema),
                         key=obj.key, replication_key=replication_key or obj.replication_key)
        self.obj = obj
        if obj.incremental is None:
            self.forced_replication_method = REPLICATION_FULL_TABLE
        else:
            self.ascending = obj.incremental.sorted

    @property
    def client(self) -> RestClient:
        return self._tap.client

    @property
    def delete_detection(self) -> str:
        """How deletes are detected (a subclass reading them another way says so)."""
        return self.obj.deletes.detection

    @property
    def metadata(self) -> MetadataMapping:
        metadata = super().metadata
        root = metadata.root
        if not isinstance(root, RestStreamMetadata):
            metadata[()] = RestStreamMetadata(
                **{f.name: getattr(root, f.name) for f in fields(root)},
                tenantsync_delete_detection=self.delete_detection,
                tenantsync_replication=self.obj.mode, tenantsync_note=self.obj.note or None)
        return metadata

    def to_record(self, record: dict) -> dict:
        """The emitted record; subclasses (common objects) map it further."""
        return record

    def fetch_pages(self, plan: SyncPlan) -> Iterator[Iterable[dict]]:
        obj = self.obj
        inc = obj.incremental
        if inc is None:
            yield from self._full_only(plan)
            since = None
        else:
            since = plan.resume_from if plan.resume_from is not None \
                else self.config.get("start_date")
            call = inc.apply(obj.call().with_params(**obj.deletes.include), since)
            for page in self.client.pages(obj, obj.paging.first(call)):
                yield self._records(obj, page.records)
        gone = obj.deletes.listing
        if gone is not None:
            yield NEW_QUERY
            call = gone.call()
            if gone.incremental is not None:
                call = gone.incremental.apply(call, since)
            for page in self.client.pages(gone, gone.paging.first(call)):
                yield self._records(gone, page.records, deleted=True)

    def _full_only(self, plan: SyncPlan) -> Iterator[list[dict]]:
        state = self._bookmark
        progress = state.get(PROGRESS)
        if not progress or progress.get("version") != plan.version:
            progress = state[PROGRESS] = {"version": plan.version, "next": None,
                                          "started": False}
        if progress["started"] and progress["next"] is None:
            pages: Iterable[Page] = ()  # the pass had read its last page when it stopped
        else:
            call = (Call.from_state(progress["next"]) if progress["started"]
                    else self.obj.paging.first(self.obj.call()))
            progress["started"] = True
            pages = self.client.pages(self.obj, call, progress)
        for page in pages:
            yield self._records(self.obj, page.records)
        state.pop(PROGRESS, None)

    def _records(self, obj: RestObject, records: list, *, deleted: bool = False
                 ) -> list[dict]:
        out = []
        for record in records:
            if obj.transform is not None:
                record = obj.transform(self, record)
            stamp = record.get(obj.modified) if obj.modified else None
            if deleted or obj.deletes.is_deleted(record):
                when = iso_timestamp(stamp) or datetime.now(timezone.utc).isoformat()
                record[DELETED_AT] = record[LAST_MODIFIED] = when
                record[IS_DELETED] = True
            elif obj.incremental is None and stamp is not None:
                record[LAST_MODIFIED] = iso_timestamp(stamp)
            out.append(self.to_record(record))
        return out

    def strip_meta(self, record: dict) -> dict:
        """The record without the deletion metadata (a common object's raw_data)."""
        for key in (DELETED_AT, IS_DELETED, LAST_MODIFIED):
            record.pop(key, None)
        return record
