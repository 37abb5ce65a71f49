"""One sink per Singer stream: buffer binary COPY rows, then per batch COPY into a temp table and
merge into the Supaglue table in one transaction; the full-sync delete sweep on ACTIVATE_VERSION."""

from __future__ import annotations

import datetime as dt
import decimal
import re
import typing as t
from concurrent.futures import Future, ThreadPoolExecutor
from itertools import chain, repeat

import msgspec
import psycopg2
import psycopg2.errors
from singer_sdk.exceptions import ConfigValidationError
from singer_sdk.sinks import Sink

from tenantsync.contract import DEFAULT_SCHEMA, ContractError, Destination, resolve
from tenantsync.mapping import mapped_data

from . import rows, tables
from .connection import connect

if t.TYPE_CHECKING:
    from .target import TargetPostgres


# Keys that are metadata, never raw data: singer-sdk's record metadata and the explicit overrides
# of the stream contract.
META_KEYS = frozenset((
    "_sdc_extracted_at", "_sdc_received_at", "_sdc_batched_at", "_sdc_deleted_at",
    "_sdc_sequence", "_sdc_table_version", "_sdc_sync_started_at",
    "_supaglue_is_deleted", "_supaglue_last_modified_at",
))


class _Batch:
    """The buffered records of one stream: their rows (record columns only, rows.py) and
    input line numbers, and what decides how they may be written."""

    def __init__(self) -> None:
        self.rows: list[bytes] = []
        self.seqs: list[int] = []
        self.bytes = 0
        self.ids: set[str] = set()
        self.repeats = False  # an id appears twice: the merge must pick one version
        self.dated = True  # every record has its last-modified time (see _write)


class _EveryId(frozenset):
    """The ids a lane's delete sweep touches: any, so a later batch of its stream waits."""

    def isdisjoint(self, other) -> bool:
        return False


_EVERY_ID = _EveryId()


class _Lane:
    """A writer thread with its own connection (and so its own temp table): one batch at a
    time. A sink's lanes write batches with no id in common at the same time."""

    def __init__(self, name: str) -> None:
        self.executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix=name)
        self.conn = None
        self.future: Future | None = None
        self.ids: set[str] = set()  # the ids of the batch in flight
        self.seq = 0  # the sink's count of batches when this lane's was handed over

    def busy(self) -> bool:
        return self.future is not None and not self.future.done()

    def finish(self) -> None:
        """Block until this lane's batch is committed; raise its error if it failed."""
        if self.future is not None:
            future, self.future = self.future, None
            self.ids = set()
            future.result()

    def close(self) -> None:
        self.executor.shutdown(wait=True)
        if self.conn is not None:
            self.conn.close()
            self.conn = None


class _RawFields:
    """What a standard or custom object's row needs from a record still in its JSON text: the
    key's values, the last-modified time and the delete flags, decoded without the rest; and
    whether a metadata key is there (then the record is decoded whole, see SupaglueSink.add)."""

    def __init__(self, own: list[str], keys: t.Sequence[str], last_modified: str | None,
                 delete_flags: t.Sequence[str]) -> None:
        names = [*own, *sorted(META_KEYS)]  # the metadata keys last: one slice to check
        attrs = [f"f{i}" for i in range(len(names))]
        struct = msgspec.defstruct("RawFields", [(a, t.Any, msgspec.UNSET) for a in attrs],
                                   rename=dict(zip(attrs, names, strict=True)))
        self._decode = msgspec.json.Decoder(struct, float_hook=decimal.Decimal).decode
        self._keys = [(k, own.index(k)) for k in keys]
        self._last_modified = own.index(last_modified) if last_modified else None
        self._flags = [own.index(f) for f in delete_flags]
        self._own = len(own)

    @classmethod
    def of(cls, keys: t.Sequence[str], last_modified: str | None,
           delete_flags: t.Sequence[str]) -> _RawFields | None:
        """None where a field the row needs is itself a metadata key (`add` sorts it out)."""
        own = list(dict.fromkeys([*keys, *([last_modified] if last_modified else []),
                                  *delete_flags]))
        return None if META_KEYS.intersection(own) else cls(own, keys, last_modified,
                                                            delete_flags)

    def read(self, raw) -> tuple[str, t.Any, bool] | None:
        """(`_supaglue_id`, last modified, deleted by its flags), or None: decode the record
        whole (`add` takes it, and reports a missing key or a malformed text)."""
        try:
            values = msgspec.structs.astuple(self._decode(raw))
        except msgspec.MsgspecError:  # malformed, or not an object: the whole decode reports it
            return None
        unset = msgspec.UNSET
        if values[self._own:].count(unset) != len(META_KEYS):  # a metadata key is there
            return None
        if len(self._keys) == 1:  # most streams: no dict of key values to build
            rid = values[self._keys[0][1]]
            if rid is None or rid is unset:
                return None
            rid = rows.id_text(rid)
        else:
            keys = {k: None if values[i] is unset else values[i] for k, i in self._keys}
            try:
                rid = rows.record_id(keys, tuple(keys))
            except rows.RecordError:
                return None
        at = self._last_modified
        return (rid, None if at is None or values[at] is unset else values[at],
                any(values[i] is True for i in self._flags))


class _PiecesReader:
    """A read()-able view over an iterator of byte strings, so a batch is never joined into
    one."""

    def __init__(self, pieces: t.Iterator[bytes]) -> None:
        self._pieces = pieces

    def read(self, size: int = -1) -> bytes:
        out, total = [], 0
        for piece in self._pieces:
            out.append(piece)
            total += len(piece)
            if 0 <= size <= total:
                break
        return b"".join(out)


def _copy_data(prefixes: t.Iterable[bytes], batch_rows: list[bytes]) -> _PiecesReader:
    """A binary COPY's data: the header, each row behind its prefix (`prefixes` may be
    endless: one per row is taken), the trailer."""
    pairs = zip(prefixes, batch_rows, strict=False)
    return _PiecesReader(chain((rows.HEADER,), chain.from_iterable(pairs), (rows.TRAILER,)))


# A record's sequence (`_seq`): its input line, shifted, plus its place in the batch file that
# line announced (0 for a RECORD line), so records of a BATCH keep their order among the rest.
SEQ_SHIFT = 24
MAX_BATCH_RECORDS = (1 << SEQ_SHIFT) - 1


def sequence(line_number: int, batch_record: int = 0) -> int:
    return (line_number << SEQ_SHIFT) | batch_record


def where(seq: int) -> str:
    """'input line N', or 'input line N (record K of its batch file)'."""
    line, record = seq >> SEQ_SHIFT, seq & MAX_BATCH_RECORDS
    return f"input line {line}" + (f" (record {record} of its batch file)" if record else "")


def _input_line(exc: psycopg2.Error, seqs: list[int]) -> str:
    """', input line N' for a row COPY refused (its CONTEXT names the COPY row), else ''."""
    match = re.search(r"COPY \S+, line (\d+)", getattr(exc.diag, "context", None) or "")
    if not match or not 0 < int(match.group(1)) <= len(seqs):
        return ""
    return f", {where(seqs[int(match.group(1)) - 1])}"


class SinkError(RuntimeError):
    """A batch or sweep failed; the message names the stream and what went wrong."""


class SupaglueSink(Sink):
    """Writes one stream into its Supaglue table for one tenant (application, provider,
    customer)."""

    def __init__(self, target: TargetPostgres, stream_name: str, schema: dict,
                 key_properties: t.Sequence[str] | None) -> None:
        super().__init__(target, stream_name, schema, key_properties)
        self.target = target
        try:
            self.destination: Destination = resolve(stream_name, target.config.get("provider_name"))
        except ContractError as exc:
            raise ContractError(f"target-postgres: {exc}") from None
        self.spec = tables.spec_for(self.destination)
        self.schema_name: str = target.config.get("schema") or DEFAULT_SCHEMA
        self.params = {
            "app": target.config["application_id"],
            "provider": self.destination.provider,
            "customer": target.config["customer_id"],
            "object_name": self.spec.object_name,
        }
        bookmarks = target.bookmark_properties.get(stream_name) or []
        self._last_modified_field = bookmarks[0] if bookmarks else None
        declared = (schema.get("properties") or {}).get(self._last_modified_field) or {}
        if "object" in (declared.get("type") or ()):
            # a bookmark that is no timestamp (e.g. a legacy API's property value objects, as
            # some peer taps emit them): the time of the write stands in for it
            self._last_modified_field = None
        self._keys = tuple(key_properties or ())
        self._is_common = self.destination.kind == "common"
        self._flags_deletes = bool(self.destination.delete_flags)  # a peer tap's delete flags
        # The customer's mapping of this object into `_supaglue_mapped_data` (none: `{}`);
        # common objects keep their fixed schema.
        self._mapping = None if self._is_common else target.field_mappings.get(
            self.destination.object)
        # Records this stream may buffer from their JSON text (add_raw): not where every field
        # is needed (common objects, a customer's mapping) or the whole record's hash is its
        # id (no key).
        self._raw_fields = None if (self._is_common or self._mapping or not self._keys) \
            else _RawFields.of(self._keys, self._last_modified_field,
                               self.destination.delete_flags)
        self._max_rows = int(target.config.get("batch_size_rows") or 10_000)
        self._max_bytes = int(target.config.get("batch_size_bytes") or 16 * 1024 * 1024)
        self._batch = _Batch()
        # Whether this tenant had no rows of this object when the run began: then a batch that
        # names each id once is COPYed straight into the table (no temp table, no merge) until
        # one collides with a row (a concurrent run's, or a repeat across batches).
        self._fresh = False
        # Writer lanes: Postgres writes batch N (and N+1 on a second lane, when no id is in
        # both) while this thread formats the next. Memory stays bounded to lanes + 1 batches;
        # the first lane's connection also prepares the table and runs the delete sweep.
        self._max_lanes = target.parallel_writes
        self._lanes = [_Lane(f"sink-{stream_name}")]
        self._submitted = 0  # batches handed to lanes: which lane's batch started first
        self._merge = {dedupe: tables.merge_sql(self.schema_name, self.spec, dedupe=dedupe)
                       for dedupe in (True, False)}
        self._upsert = {dedupe: tables.upsert_sql(self.schema_name, self.spec, dedupe=dedupe)
                        for dedupe in (True, False)}
        self._copy = tables.copy_sql(self.spec)
        self._unchanged = tables.unchanged_sql(self.schema_name, self.spec)
        self._load = tables.load_sql(self.schema_name, self.spec)

    # Lifecycle

    @property
    def _conn(self):
        """The first lane's connection: table set-up and the delete sweep."""
        return self._lanes[0].conn

    def setup(self) -> None:
        lane = self._lanes[0]
        lane.conn = connect(self.target.dsn)
        try:
            with lane.conn.cursor() as cur:
                tables.ensure_table(cur, self.schema_name, self.spec)
                tables.ensure_seen_ids(cur)
                tables.create_temp_table(cur, self.spec)
                cur.execute(tables.has_rows_sql(self.schema_name, self.spec), self.params)
                self._fresh = not cur.fetchone()[0]
            lane.conn.commit()
        except psycopg2.Error as exc:
            lane.conn.rollback()
            raise SinkError(f"stream {self.stream_name!r}: preparing table "
                            f"{self.schema_name}.{self.spec.table} failed: {exc}".strip()) from exc

    def _add_lane(self) -> _Lane | None:
        """A further lane with its connection and temp table; None, and one lane from now on,
        if the server will not give another connection (a connection limit near)."""
        lane = _Lane(f"sink-{self.stream_name}-{len(self._lanes)}")
        try:
            lane.conn = connect(self.target.dsn)
            with lane.conn.cursor() as cur:
                tables.create_temp_table(cur, self.spec)
            lane.conn.commit()
        except (psycopg2.Error, ConfigValidationError) as exc:
            lane.close()
            self._max_lanes = len(self._lanes)
            self.logger.warning("stream %s: no further writer connection, so its batches are "
                                "written one at a time: %s", self.stream_name,
                                str(exc).strip().splitlines()[0])
            return None
        self._lanes.append(lane)
        return lane

    def clean_up(self) -> None:
        super().clean_up()
        for lane in self._lanes:
            lane.close()

    # Buffering (the per-record hot path)

    def add(self, record: dict, seq: int) -> None:
        """Buffer one record as a COPY row; raises rows.RecordError on a record that can't be
        stored as it is. `seq` (`sequence`: from the input line) orders versions of one id by
        arrival and lets a refused row be traced to its input line."""
        if self._is_common:  # last_modified_at is required
            self._buffer(record.get("id"), rows.common_fields(self.spec, record), True, seq)
            return
        rid = rows.record_id(record, self._keys)
        lm_field = self._last_modified_field or "_supaglue_last_modified_at"
        last_modified = record.get(lm_field) if self._last_modified_field else None
        deleted = self._flags_deletes and self.destination.is_deleted(record)
        if not META_KEYS.isdisjoint(record):  # Singer or _supaglue_ metadata (rare)
            record = dict(record)
            deleted = deleted or record.get("_sdc_deleted_at") is not None
            for key in META_KEYS.intersection(record):
                value = record.pop(key)
                if key == "_supaglue_is_deleted":
                    deleted = bool(value)
                elif key == "_supaglue_last_modified_at":
                    last_modified, lm_field = value, key
        mapped = rows.json_field(mapped_data(record, self._mapping)) if self._mapping \
            else rows.EMPTY_JSON
        row = rows.object_fields(rid, last_modified, deleted, rows.json_text(record), mapped,
                                 lm_field)
        self._buffer_object(rid, row, last_modified, seq)

    @property
    def takes_raw(self) -> bool:
        """Whether `add_raw` may be offered this stream's records (see there)."""
        return self._raw_fields is not None

    def add_raw(self, raw, seq: int) -> bool:
        """`add` for a record still in its JSON text (a msgspec.Raw, or a batch file's line,
        which `_RawFields.read` checks well-formed as it decodes), stored as it came instead
        of decoded and encoded again (that was most of a record's cost here): only the fields
        `_RawFields` names are decoded. False, with nothing buffered, for a record that needs
        `add` (metadata keys, or an error `add` reports with its input line): the caller
        decodes it whole and calls that."""
        fields = self._raw_fields.read(raw)
        if fields is None:
            return False
        rid, last_modified, deleted = fields
        try:
            row = rows.object_fields(rid, last_modified, deleted, bytes(raw))
        except rows.RecordError:  # `add` reports it, naming the input line
            return False
        self._buffer_object(rid, row, last_modified, seq)
        return True

    def _buffer_object(self, rid: str, row: bytes, last_modified, seq: int) -> None:
        """`_buffer` for a standard or custom object's row."""
        self._buffer(rid, row, last_modified not in (None, ""), seq)

    def _buffer(self, rid: str, row: bytes, dated: bool, seq: int) -> None:
        """Add a record's row to the batch. `dated`: it has its last-modified time (else the
        write time stands in, set by the merge)."""
        batch = self._batch
        batch.dated = batch.dated and dated
        if rid in batch.ids:
            batch.repeats = True
        else:
            batch.ids.add(rid)
        batch.rows.append(row)
        batch.seqs.append(seq)
        batch.bytes += len(row)
        self._batch_records_read += 1

    def process_record(self, record: dict, context: dict) -> None:
        self.add(record, self.target.sequence)

    @property
    def current_size(self) -> int:
        return len(self._batch.rows)

    @property
    def is_full(self) -> bool:
        return len(self._batch.rows) >= self._max_rows or self._batch.bytes >= self._max_bytes

    # Writing

    def submit(self) -> Future | None:
        """Hand the buffered batch to a writer lane and return its future (None if empty:
        then nothing waits, not even for this stream's delete sweep, while the target hands
        over another stream's batch). A batch sharing an id with one in flight waits for it
        (versions of one id commit in arrival order); a finished batch's error, if any,
        surfaces here."""
        if not self._batch.rows:
            return None
        for lane in self._lanes:
            if not lane.busy() or not lane.ids.isdisjoint(self._batch.ids):
                lane.finish()
        lane = next((lane for lane in self._lanes if lane.future is None), None)
        if lane is None and len(self._lanes) < self._max_lanes:
            lane = self._add_lane()
        if lane is None:  # every lane busy: wait for the one that started first
            lane = min(self._lanes, key=lambda lane: lane.seq)
            lane.finish()
        batch, self._batch = self._batch, _Batch()
        self._batch_records_read = 0
        self._submitted += 1
        lane.seq, lane.ids = self._submitted, batch.ids
        lane.future = lane.executor.submit(self._write, lane, batch)
        return lane.future

    @property
    def inflight(self) -> list[Future]:
        return [lane.future for lane in self._lanes if lane.future is not None]

    def wait(self) -> None:
        """Block until every batch in flight is committed; raise the first error."""
        for lane in self._lanes:
            lane.finish()

    def process_batch(self, context: dict) -> None:
        """The SDK's synchronous drain: commit everything buffered before returning."""
        self.submit()
        self.wait()

    def _write(self, lane: _Lane, batch: _Batch) -> None:
        conn = lane.conn
        count = len(batch.rows)
        how = " (copied straight in)"
        try:
            if not (self._fresh and batch.dated and not batch.repeats
                    and self._try_load(conn, batch)):
                how = ""
                with conn.cursor() as cur:
                    fields = rows.row_header(1 + len(self.spec.record_cols))
                    prefixes = (fields + rows.bigint(seq) for seq in batch.seqs)
                    cur.copy_expert(self._copy, _copy_data(prefixes, batch.rows), size=1 << 20)
                    if batch.dated:  # one statement: upsert, and log what it left as it was
                        cur.execute(self._upsert[batch.repeats], self.params)
                    else:  # the write time stands in for a missing one: compare content first
                        cur.execute(self._unchanged, self.params)
                        cur.execute(self._merge[batch.repeats], self.params)
                conn.commit()
        except psycopg2.Error as exc:
            conn.rollback()
            raise SinkError(
                f"stream {self.stream_name!r}{_input_line(exc, batch.seqs)}: writing a batch of "
                f"{count} records to {self.schema_name}.{self.spec.table} failed; nothing of this "
                f"batch was written and no STATE was emitted for it: {str(exc).strip()}") from exc
        self.record_counter_metric.increment(count)
        # the runner counts committed records from this line (tenantsync.controller.runner)
        self.logger.info("stream %s: merged %d records into %s.%s%s", self.stream_name, count,
                         self.schema_name, self.spec.table, how)

    def _try_load(self, conn, batch: _Batch) -> bool:
        """COPY the batch straight into the table, committed; False (nothing written, and
        merges from now on) if one of its ids is there already."""
        with conn.cursor() as cur:
            cur.execute("SELECT now()")  # emitted-at: the transaction's time, as the merge's
            stamp = [rows.text_field(self.params[p]) for p in ("app", "provider", "customer")]
            stamp.append(rows.timestamp_field(cur.fetchone()[0], tables.EMITTED_AT))
            if self.spec.object_name:
                stamp.append(rows.text_field(self.spec.object_name))
            prefix = rows.row_header(len(stamp) + len(self.spec.record_cols)) + b"".join(stamp)
            try:
                cur.copy_expert(self._load, _copy_data(repeat(prefix), batch.rows),
                                size=1 << 20)
            except psycopg2.errors.UniqueViolation:
                conn.rollback()
                self._fresh = False
                return False
        conn.commit()
        return True

    def activate_version(self, new_version: int) -> Future:
        """A full sync that began at `new_version` (epoch ms, or s) has completed: mark deleted
        this tenant's rows of this object that were neither written nor seen unchanged since
        then. The caller has handed over every buffered record first (submit). The sweep runs
        on the first lane once every batch handed over has committed, while the main thread
        reads on (the next stream's records); a later batch of this stream waits for it, and
        so does every STATE after it (it is in `inflight`). Returns its future."""
        seconds = new_version / 1000 if new_version > 1e11 else new_version
        since = dt.datetime.fromtimestamp(seconds, tz=dt.timezone.utc).replace(tzinfo=None)
        first = self._lanes[0]
        before = [lane.future for lane in self._lanes if lane.future is not None]
        first.future = first.executor.submit(self._sweep, since, before)
        first.ids = _EVERY_ID
        return first.future

    def _sweep(self, since: dt.datetime, before: list[Future]) -> None:
        for batch in before:
            batch.result()  # a batch of the full sync failed: no sweep, and its error is this one
        try:
            params = {**self.params, "since": since}
            gather, mark, forget = tables.sweep_sql(self.schema_name, self.spec)
            with self._conn.cursor() as cur:
                cur.execute(gather, params)
                cur.execute(mark, params)
                swept = cur.rowcount
                cur.execute(forget, params)
            self._conn.commit()
        except psycopg2.Error as exc:
            self._conn.rollback()
            raise SinkError(f"stream {self.stream_name!r}: full-sync delete sweep failed: "
                            f"{str(exc).strip()}") from exc
        self.logger.info("stream %s: full sync since %s complete; %d unseen rows marked deleted",
                         self.stream_name, since.isoformat(), swept)
