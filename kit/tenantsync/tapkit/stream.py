"""The stream and tap base classes every tapkit tap builds on.

A provider stream only says how to read pages of records for a `SyncPlan` (`fetch_pages`), in
watermark order where the API can sort by it (`ascending`). The engine decides the plan from
the stream's state (tapkit.strategy), checkpoints a STATE after every page, ends a completed
full sync with ACTIVATE_VERSION (the version kept in state across interruptions), stops
cleanly on `StopSync`, and emits records through a fast path that skips the per-record work
singer-sdk does for features the stream does not use (field deselection, stream maps, type
conformance); where nothing needs singer-sdk's per-record loop, the engine writes each page's
records itself.
"""

from __future__ import annotations

import copy
import hashlib
import json
from collections.abc import Generator, Iterable, Iterator
from datetime import datetime, timezone
from typing import Any

from singer_sdk import Stream, Tap
from singer_sdk.exceptions import ConfigValidationError, InvalidStreamSortException
from singer_sdk.helpers.capabilities import PluginCapabilities, TapCapabilities
from singer_sdk.helpers.conform import TypeConformanceLevel
from singer_sdk.singerlib.catalog import REPLICATION_FULL_TABLE

from tenantsync.stream_maps import passes_unchanged
from tenantsync.tapkit import strategy as strategies
from tenantsync.tapkit.batches import BatchFiles, batch_settings
from tenantsync.tapkit.errors import StopSync
from tenantsync.tapkit.prefetch import prefetched
from tenantsync.tapkit.settings import add_credentials, strategy_from
from tenantsync.tapkit.writer import BufferedMsgSpecWriter


class _NewQuery:
    """Yielded by fetch_pages between pages: a new query starts (its order is checked afresh).
    Iterates as an empty page, so code unaware of it stays correct."""

    def __iter__(self) -> Iterator[dict]:
        return iter(())

    def __repr__(self) -> str:
        return "NEW_QUERY"


NEW_QUERY = _NewQuery()
# singer-sdk's per-record hooks: a stream overriding one keeps singer-sdk's per-record loop.
_RECORD_HOOKS = ("post_process", "_process_record", "_write_record_message",
                 "_increment_stream_state")
# The records already emitted at the bookmark's exact watermark (a fingerprint of each), so the
# next incremental run, which reads from that watermark inclusive, sends none of them again.
BOUNDARY = "boundary"
MAX_BOUNDARY = 1000


def fingerprint(record: dict) -> str:
    """One version of one record: a record changed since, even within the watermark's
    precision, has another fingerprint and is sent again."""
    return hashlib.sha256(json.dumps(record, sort_keys=True, default=str).encode()
                          ).hexdigest()[:24]


class TapkitTap(Tap):
    """Base tap: buffered msgspec output, and a clean stop shared by all of its streams."""

    message_writer_class = BufferedMsgSpecWriter
    # BATCH is the writer's (tapkit.batches), not singer-sdk's sync loop, which would bypass
    # per-page STATE and full-sync versions: TapkitStream.get_batch_config keeps it away.
    capabilities = [
        PluginCapabilities.ABOUT, TapCapabilities.CATALOG, TapCapabilities.STATE,
        TapCapabilities.DISCOVER, PluginCapabilities.ACTIVATE_VERSION,
        PluginCapabilities.STREAM_MAPS, PluginCapabilities.FLATTENING,
        PluginCapabilities.STRUCTURED_LOGGING, PluginCapabilities.BATCH,
    ]

    stop_reason: str | None = None

    def _validate_config(self, *, raise_errors: bool = True) -> list[str]:
        # The first hook after singer-sdk has read the configuration and before anything
        # (stream maps, discovery) uses it: credentials from `credential_source` join here.
        try:
            add_credentials(self._config)
        except ConfigValidationError as exc:  # singer-sdk logs `errors` only: name it there
            raise ConfigValidationError(str(exc), errors=exc.errors or [str(exc)]) from None
        return super()._validate_config(raise_errors=raise_errors)

    def load_state(self, state: dict[str, Any]) -> None:
        # A private copy: streams update their progress in place during the run.
        super().load_state(copy.deepcopy(state))

    def request_stop(self, reason: str) -> None:
        """Stop the run after the current page: no further API calls by any stream."""
        if self.stop_reason is None:
            self.stop_reason = reason
            self.logger.warning("Stopping the sync cleanly: %s", reason)

    def sync_all(self) -> None:  # type: ignore[misc]
        writer = self.message_writer
        settings = batch_settings(self.config)
        if settings is not None and isinstance(writer, BufferedMsgSpecWriter):
            writer.use_batches(BatchFiles(
                *settings, pending_limit=int(self.config.get("batch_pending_files") or 0),
                logger=self.logger))
        try:
            super().sync_all()
        finally:
            if isinstance(writer, BufferedMsgSpecWriter):
                writer.finish()
        if self.stop_reason:
            # Exit code 0 on purpose: the last STATE is valid, so every runner saves it and
            # the next run resumes; the warning says the data is not complete yet.
            self.logger.warning(
                "Sync stopped early (%s). Every stream's bookmark was saved in the last STATE; "
                "unfinished full syncs keep their version. Run again later to resume.",
                self.stop_reason)


# How often a stream logs its records read so far (singer-sdk's record_count METRIC, every
# 60 s by default): the runner's progress display reads them.
RECORD_COUNT_SECONDS = 1.0


class TapkitStream(Stream):
    TYPE_CONFORMANCE_LEVEL = TypeConformanceLevel.NONE  # records arrive typed per the schema
    # True when the provider query already returns only the catalog's selected properties.
    selects_at_source = False
    # Fetch the next page while the current one is emitted (see fetch_pages).
    prefetch_pages = False
    # False where the API cannot list by the watermark (Linear: newest first). Records are
    # then emitted as read; STATE during the pass keeps the previous bookmark, which moves to
    # the highest watermark read only once the pass is complete. An interrupted pass is read
    # again from the previous bookmark, as a sorted one would be after an interruption before
    # its sort finished; but nothing is held back, in memory or on disk, and the target
    # writes while the tap reads.
    ascending = True

    def __init__(self, tap: Tap, *, name: str, schema: dict, key: str,
                 replication_key: str | None):
        super().__init__(tap, schema=schema, name=name)
        self.primary_keys = [key]
        self.replication_key = replication_key
        self._fast_emit = False
        self._time_extracted = ""
        self._bookmark: dict = {}
        self._last_emitted: Any = None
        self._record_counter: Any = None
        self._direct = False  # this sync writes records itself (see _sync_records)
        self._emitted = 0  # records written directly this sync
        self.plan: strategies.SyncPlan | None = None
        # Why the full pass just read cannot be the whole object (a provider's display limit
        # cut it): then it ends without ACTIVATE_VERSION, so nothing unread is swept as deleted.
        self.partial_pass: str | None = None

    def get_record_counter(self, *, endpoint: str | None = None,
                           log_interval: float = RECORD_COUNT_SECONDS) -> Any:
        # Kept: records written directly (_emit_directly) are counted on it too.
        self._record_counter = super().get_record_counter(endpoint=endpoint,
                                                          log_interval=log_interval)
        return self._record_counter

    # --- what a provider stream implements -------------------------------------------------

    def fetch_pages(self, plan: strategies.SyncPlan) -> Iterator[Iterable[dict]]:
        """Pages of records in ascending watermark order (in any order when not `ascending`),
        from `plan.resume_from` (inclusive) or from the beginning (`start_date` if set).
        Raise StopSync to stop the run.

        A provider may start reading a little before the bookmark (e.g. its query language
        only takes whole seconds); such records are emitted again, harmlessly, and never move
        the bookmark back. Yield `NEW_QUERY` before each query that starts over from such a
        lower point (a fallback from one API to another): the order check starts over there.

        With `prefetch_pages`, this generator runs in a worker thread one page ahead of the
        emission: it must not touch the stream's state (use what it fetched itself)."""
        raise NotImplementedError

    @property
    def in_watermark_order(self) -> bool:
        """Whether the records now emitted come in watermark order, so the bookmark moves
        with each: `ascending`, unless a stream reads some pages in another order (a listing
        by id before a search by watermark) and says so here, page by page."""
        return self.ascending

    def restart_order(self) -> None:
        """A new query begins: the order check starts over (the bookmark stays)."""
        self._last_emitted = None

    # --- singer-sdk hooks --------------------------------------------------------------------

    @property
    def is_sorted(self) -> bool:
        return True  # fetch_pages yields in watermark order: bookmarks advance per record

    @property
    def emit_activate_version_messages(self) -> bool:
        return False  # the engine emits ACTIVATE_VERSION itself, at the end of a full sync

    def get_replication_key_signpost(self, context: Any = None) -> None:
        return None  # sorted streams need no signpost

    @property
    def strategy(self) -> strategies.Strategy:
        configured = strategy_from(self.config)
        if self.replication_method == REPLICATION_FULL_TABLE:  # forced in the catalog
            return strategies.Strategy(strategies.FULL_ONLY)
        return configured

    def get_records(self, context: Any) -> Iterator[dict]:
        """The records, for singer-sdk's per-record loop; none within a sync that writes them
        directly (`_sync_records`)."""
        tap = self._tap
        if getattr(tap, "stop_reason", None):
            self.logger.warning("Skipping stream %s: the run is stopping.", self.name)
            return
        self._bookmark = state = self.stream_state
        plan = strategies.plan_sync(
            state, self.strategy, replication_key=self.replication_key,
            now_ms=int(datetime.now(timezone.utc).timestamp() * 1000))
        strategies.begin(state, plan)
        self.plan = plan
        self.partial_pass = None
        self.logger.info("Stream %s: %s sync (%s)%s%s", self.name,
                         "full" if plan.full else "incremental", plan.reason,
                         f", version {plan.version}" if plan.full else "",
                         f", from {plan.resume_from}" if plan.resume_from is not None else "")
        direct = self._direct
        self._emitted = 0
        self.restart_order()
        boundary = state.get(BOUNDARY) or {}
        seen = frozenset(boundary.get("records") or ()) if not plan.full \
            and plan.resume_from is not None and boundary.get("value") == plan.resume_from \
            else frozenset()
        key = self.replication_key
        top = None if self.ascending or not key else _Highest()
        pages = self.fetch_pages(plan)
        if self.prefetch_pages:
            pages = prefetched(pages)
        try:
            for page in pages:
                if page is NEW_QUERY:
                    self.restart_order()
                    continue
                self._time_extracted = datetime.now(timezone.utc).isoformat()
                if top is None:
                    records = self._page_records(page, key, plan.resume_from, seen)
                    marks = self._emit_directly(records) if direct else (yield from records)
                    self._note_boundary(state, marks)
                elif direct:
                    self._emit_directly(top.scan(page, key, plan.resume_from, seen))
                else:
                    yield from top.scan(page, key, plan.resume_from, seen)
                self._write_state_message()  # checkpoint: every record so far is emitted
        except StopSync as exc:
            stop = getattr(tap, "request_stop", None)
            if stop is None:
                raise
            stop(str(exc))
            return
        finally:
            close = getattr(pages, "close", None)
            if close is not None:
                close()  # stops a prefetching worker now, even when the sync is aborted
        if top is not None and top.value is not None:  # the pass is complete: settle it
            self._advance_bookmark(state, top.value)
            self._note_boundary(state, [(top.value, fp) for fp in top.fingerprints])
        if plan.full and self.partial_pass:
            self.logger.warning("Stream %s: no delete sweep after this full sync: %s",
                                self.name, self.partial_pass)
        elif plan.full:
            self._write_activate_version_message(plan.version)
        strategies.complete(state, plan)

    @staticmethod
    def _page_records(page: Iterable[dict], key: str | None, resume_from: Any,
                      seen: frozenset[str]) -> Generator[dict, None, list[tuple[Any, str]]]:
        """A page's records, passed on one at a time as the page yields them (a Bulk page is a
        generator of up to 50,000 rows: never all of them built at once), less those already
        sent at the bookmark (`seen`). Returns the fingerprints of the records at the page's
        last watermark: only those can be at the bookmark after it, so only those are
        fingerprinted (a JSON dump and a hash each, once the engine's largest cost per
        record), and before they are emitted (emission may drop deselected fields). Pages
        ascend, so they are the page's tail: the records since the watermark last changed
        (usually one) are held back until a later watermark, or the page's end, decides."""
        if not key:
            yield from page
            return []
        tail: list[dict] = []
        tail_mark: Any = None
        for record in page:
            mark = record.get(key)
            if seen and mark == resume_from and fingerprint(record) in seen:
                continue
            if mark is None and tail_mark is None:
                yield record  # no watermark yet in this page: nothing to hold back
                continue
            if mark is not None and mark != tail_mark:
                yield from tail  # a later watermark follows: not the page's last one
                tail = []
                tail_mark = mark
            tail.append(record)
        last = tail[-1].get(key) if tail else None
        marks = [] if last is None else [
            (last, fingerprint(r)) for r in tail if r.get(key) == last]
        yield from tail
        return marks

    # --- fast emission (private singer-sdk hooks; singer-sdk is pinned ~=0.54.9) ------------

    def get_batch_config(self, config):
        """None: singer-sdk's batch sync loop is not used; the writer batches (TapkitTap)."""
        return None

    def _sync_records(self, context: Any = None, *, write_messages: bool = True
                      ) -> Iterator[dict]:
        self._fast_emit = self._can_fast_emit()
        self._direct = write_messages and self._writes_directly(context)
        try:
            yield from super()._sync_records(context, write_messages=write_messages)
        finally:
            self._direct = False

    def _writes_directly(self, context: Any) -> bool:
        """True where singer-sdk's per-record loop would only write each record, count it and
        move the bookmark: the fast path's writer, no partitions or child streams, no
        dry-run record limit, and none of the loop's per-record hooks overridden."""
        cls = type(self)
        return (self._fast_emit and context is None and not self.child_streams
                and self.selected and self.ABORT_AT_RECORD_COUNT is None
                and all(getattr(cls, hook) is getattr(TapkitStream, hook)
                        for hook in _RECORD_HOOKS))

    def _emit_directly(self, records: Iterator[dict]) -> Any:
        """Write the records as singer-sdk's loop would (`_write_record_message`,
        `_increment_stream_state`, a STATE every STATE_MSG_FREQUENCY records, the record
        counter) in one loop, without its per-record calls: a tenth of a tap's CPU. Returns
        what `records` returns (the page's boundary marks)."""
        write, name, extracted = (self._tap.message_writer.write_record, self.name,
                                  self._time_extracted)
        key = self.replication_key if self.in_watermark_order else None
        last, emitted, every = self._last_emitted, self._emitted, self.STATE_MSG_FREQUENCY
        counted = emitted
        try:
            while True:  # a for loop would lose the generator's return value
                record = next(records)
                if key is not None and (value := record.get(key)) is not None:
                    if last is not None and value < last:
                        raise self._out_of_order(value, last)
                    last = value
                write(name, record, extracted)
                emitted += 1
                if not emitted % every:
                    self._settle(last, emitted - counted)
                    counted = emitted
                    self._write_state_message()
        except StopIteration as done:
            return done.value
        finally:
            self._settle(last, emitted - counted)
            self._emitted = emitted

    def _settle(self, last: Any, count: int) -> None:
        """The bookmark and counter after directly written records (`last`: the watermark of
        the last one)."""
        if count:
            self._last_emitted = last
            if last is not None:
                self._advance_bookmark(self._bookmark, last)
            self._record_counter.increment(count)
            self.state_manager.is_flushed = False

    def _can_fast_emit(self) -> bool:
        if not (isinstance(self._tap.message_writer, BufferedMsgSpecWriter)
                and passes_unchanged(self.stream_maps, self.name)):
            return False
        if self.selects_at_source:
            return True
        mask = self.mask
        return all(mask[("properties", prop)] for prop in self.schema["properties"])

    def _write_record_message(self, record: dict) -> None:
        if self._fast_emit:
            self._tap.message_writer.write_record(self.name, record, self._time_extracted)
            self.state_manager.is_flushed = False
        else:
            super()._write_record_message(record)

    def _process_record(self, record: dict, child_context: Any = None,
                        partition_context: Any = None) -> None:
        if self.child_streams or partition_context:
            super()._process_record(record, child_context, partition_context)

    def _note_boundary(self, state: dict, marks: list[tuple[Any, str]]) -> None:
        """Remember the records emitted at the bookmark's watermark (bounded: past the bound,
        the rest are simply read again)."""
        value = state.get("replication_key_value")
        if value is None or not self.replication_key:
            return
        boundary = state.get(BOUNDARY) or {}
        records = list(boundary.get("records") or ()) if boundary.get("value") == value else []
        for mark, fp in marks:
            if mark == value and fp not in records and len(records) < MAX_BOUNDARY:
                records.append(fp)
        state[BOUNDARY] = {"value": value, "records": records}

    def _increment_stream_state(self, latest_record: dict, *, context: Any = None) -> None:
        key = self.replication_key
        value = latest_record.get(key) if key and self.in_watermark_order else None
        if value is None:
            return
        if self._last_emitted is not None and value < self._last_emitted:
            raise self._out_of_order(value, self._last_emitted)
        self._last_emitted = value
        self._advance_bookmark(self._bookmark, value)

    def _out_of_order(self, value: Any, last: Any) -> InvalidStreamSortException:
        return InvalidStreamSortException(
            f"stream {self.name}: {self.replication_key} went backwards ({value!r} after "
            f"{last!r}); the provider did not return records in watermark order")

    def _advance_bookmark(self, state: dict, value: Any) -> None:
        """The bookmark moves forward only."""
        old = state.get("replication_key_value")
        if old is None or value > old:
            state["replication_key"] = self.replication_key
            state["replication_key_value"] = value


class _Highest:
    """The highest watermark of a pass in no particular order, and the fingerprints of the
    records emitted at it (the boundary it leaves, bounded like `_note_boundary`'s)."""

    def __init__(self) -> None:
        self.value: Any = None
        self.fingerprints: list[str] = []

    def scan(self, page: Iterable[dict], key: str, resume_from: Any, seen: frozenset[str]
             ) -> Iterator[dict]:
        """The page's records less those already sent at the bookmark; each at or above the
        highest watermark so far is fingerprinted before it is emitted (newest-first
        listings: the first few only)."""
        for record in page:
            mark = record.get(key)
            if mark is not None:
                if seen and mark == resume_from and fingerprint(record) in seen:
                    continue
                if self.value is None or mark > self.value:
                    self.value, self.fingerprints = mark, [fingerprint(record)]
                elif mark == self.value and len(self.fingerprints) < MAX_BOUNDARY:
                    self.fingerprints.append(fingerprint(record))
            yield record
