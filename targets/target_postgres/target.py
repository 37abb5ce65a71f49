"""target-postgres: Singer records into Supaglue's destination schema in PostgreSQL."""

from __future__ import annotations

import decimal
import gzip
import json
import re
import sys
import time
import typing as t
from collections import deque
from pathlib import Path

import msgspec
from singer_sdk import Target
from singer_sdk import typing as th
from singer_sdk.contrib.msgspec import MsgSpecReader
from singer_sdk.exceptions import (
    ConfigValidationError,
    InvalidInputLine,
    MissingKeyPropertiesError,
    RecordsWithoutSchemaException,
)
from singer_sdk.helpers.capabilities import TargetCapabilities

from tenantsync.batch_files import gzipped, local_path
from tenantsync.contract import DEFAULT_SCHEMA
from tenantsync.mapping import MappingError, check
from tenantsync.providers import load_object
from tenantsync.stream_maps import passes_unchanged

from .connection import resolve_dsn
from .rows import MissingKeyError, RecordError
from .sink import MAX_BATCH_RECORDS, SupaglueSink, sequence

_decode = msgspec.json.Decoder(float_hook=decimal.Decimal).decode
# The key of a RECORD message's record left in its JSON text (see LineReader): no string,
# so no key a tap writes into a message can be taken for it.
RAW = ("record as JSON text",)


def _open_buffered(path: Path, mode: str) -> t.IO[bytes]:
    """A batch file, read through a 1 MiB buffer: with the default 8 KiB one, iterating over
    its lines of a few KB each costs a read call every few lines."""
    return open(path, mode, buffering=1 << 20)


class _Envelope(msgspec.Struct):
    type: str
    stream: t.Any = None
    record: msgspec.Raw = msgspec.Raw()  # empty: no record (msgspec.Raw takes no union)


_decode_envelope = msgspec.json.Decoder(_Envelope).decode
_STREAM_IN_LINE = re.compile(r'"stream"\s*:\s*"([^"]{1,200})"')


class LineReader(MsgSpecReader):
    """msgspec reader that knows the input line number, so every error can name it."""

    line_number = 0
    line = ""
    # Streams whose RECORD lines are not decoded whole: their record stays JSON text (`RAW`)
    # for SupaglueSink.add_raw. The message is still checked to be well-formed JSON.
    raw_streams: frozenset[str] = frozenset()

    def process_lines(self, file_input, callbacks):
        def numbered(lines):
            for self.line_number, self.line in enumerate(lines, start=1):
                yield self.line

        try:
            return super().process_lines(numbered(file_input or self.default_input), callbacks)
        except Exception as exc:
            exc.add_note(f"target-postgres: while processing input line {self.line_number}")
            raise

    def deserialize_json(self, line: str) -> dict:
        if self.raw_streams:
            try:
                envelope = _decode_envelope(line)
            except msgspec.MsgspecError:
                envelope = None  # the whole decode reports it, or reads it after all
            if envelope is not None and envelope.type == "RECORD" and len(envelope.record) \
                    and envelope.stream in self.raw_streams:
                return {"type": "RECORD", "stream": envelope.stream, RAW: envelope.record}
        return self.decode_whole(line)

    def decode_whole(self, line: str) -> dict:
        try:
            return _decode(line)
        except msgspec.DecodeError:
            pass
        try:  # the stdlib parser also accepts lone UTF-16 surrogates, which msgspec refuses
            return json.loads(line, parse_float=decimal.Decimal)
        except ValueError:
            stream = _STREAM_IN_LINE.search(line)
            where = f" (stream {stream.group(1)!r})" if stream else ""
            raise InvalidInputLine(
                f"input line {self.line_number}{where} is not valid JSON: {line[:120]!r}"
                f"{'...' if len(line) > 120 else ''}") from None


class TargetPostgres(Target):
    name = "target-postgres"
    default_sink_class = SupaglueSink
    message_reader_class = LineReader
    capabilities: t.ClassVar = [*Target.capabilities, TargetCapabilities.SOFT_DELETE]

    config_jsonschema = th.PropertiesList(
        th.Property("application_id", th.StringType, required=True,
                    description="Tenant stamp: `_supaglue_application_id` of every row."),
        th.Property("customer_id", th.StringType, required=True,
                    description="Tenant stamp: `_supaglue_customer_id` (your customer's id)."),
        th.Property("provider_name", th.StringType,
                    description="Tenant stamp: `_supaglue_provider_name`, unless streams are named "
                                "`<provider>-<object>` (see the stream contract)."),
        th.Property("host", th.StringType, description="Server host (or Unix socket directory). "
                    "With no host and no sqlalchemy_url, the embedded Postgres is used."),
        th.Property("port", th.IntegerType, default=5432),
        th.Property("user", th.StringType),
        th.Property("password", th.StringType, secret=True),
        th.Property("database", th.StringType),
        th.Property("schema", th.StringType, default=DEFAULT_SCHEMA,
                    description="Destination schema; created when missing."),
        th.Property("sqlalchemy_url", th.StringType, secret=True,
                    description="A URL or libpq DSN instead of host, port, user, ..."),
        th.Property("ssl_mode", th.StringType, allowed_values=[
            "disable", "allow", "prefer", "require", "verify-ca", "verify-full", "no-verify"]),
        th.Property("ssl_root_cert", th.StringType, description="Path of the server CA cert."),
        th.Property("ssl_cert", th.StringType, description="Path of the client certificate."),
        th.Property("ssl_key", th.StringType, secret=True, description="Path of the client key."),
        th.Property("embedded_data_dir", th.StringType,
                    description="Embedded Postgres data directory (default: user data dir)."),
        th.Property("batch_size_rows", th.IntegerType, default=10_000,
                    description="Rows per merged batch (a STATE is emitted after each)."),
        th.Property("batch_size_bytes", th.IntegerType, default=16 * 1024 * 1024,
                    description="Bytes of buffered COPY data per stream before a batch is merged."),
        th.Property("parallel_writes", th.IntegerType, default=2,
                    description="Batches of one stream written at once, each on its own "
                                "connection, when no id is in two of them (1: one at a time)."),
        th.Property("field_mappings", th.ObjectType(),
                    description="Per object, `_supaglue_mapped_data` from the raw record: "
                                "{object: {fields: {schema field: provider field}, "
                                "additional_fields: {name: provider field}}} (none: `{}`)."),
        th.Property("field_mapping_source", th.StringType,
                    description="'package.module:function' called at startup with the settings; "
                                "the field mappings it returns are added to field_mappings."),
        th.Property("validate_records", th.BooleanType, default=False,
                    description="Validate records against their stream schema (raw data is "
                                "stored as JSONB either way)."),
        th.Property("state_interval_seconds", th.NumberType, default=1.0,
                    description="At most one STATE in this many seconds, the newest one whose "
                                "records are committed; the last is always written at the end "
                                "(0: each STATE as soon as its records are committed)."),
        th.Property("delete_batch_files", th.BooleanType, default=False,
                    description="Delete each BATCH message's files once their records are "
                                "read (they are in the batches the next STATE waits for)."),
    ).to_dict()

    def __init__(self, *args, **kwargs) -> None:
        self.bookmark_properties: dict[str, list[str]] = {}
        self._dsn: str | None = None
        # STATEs waiting for the batches before them to commit, in arrival order, and every
        # batch handed to a writer thread and not yet known to be committed.
        self._pending_states: deque[tuple[dict, list]] = deque()
        self._outstanding: list = []
        # Set by a writer thread as a batch or sweep finishes: only then can a pending STATE
        # be released or an error surface, so records in between skip the check.
        self._settled = False
        self._last_written_state: dict | None = None
        # The newest STATE whose records are committed, held back until `_state_due` (a
        # monotonic time) so that a relay persists at most one STATE per state_interval_seconds.
        self._committed_state: dict | None = None
        self._state_due = 0.0
        # While a BATCH message's files are read: the record's place in its file, and its text.
        self._batch_record = 0
        self._batch_text = b""
        super().__init__(*args, **kwargs)
        self._validate = bool(self.config.get("validate_records"))  # read once, not per record
        self.parallel_writes = self.config.get("parallel_writes", 2)
        if not isinstance(self.parallel_writes, int) or self.parallel_writes < 1:
            raise ConfigValidationError(f"target-postgres: parallel_writes must be a whole "
                                        f"number of at least 1, got {self.parallel_writes!r}")
        # A config file's decimals are read as Decimal: one float for the clock arithmetic.
        self._state_interval = float(self.config.get("state_interval_seconds", 1.0))
        if self._state_interval < 0:  # the type is checked with the other settings
            raise ConfigValidationError(f"target-postgres: state_interval_seconds must be a "
                                        f"number of seconds, 0 or more, got "
                                        f"{self._state_interval!r}")
        self.field_mappings = self._field_mappings()

    def _field_mappings(self) -> dict[str, dict]:
        """The `field_mappings` setting, plus what `field_mapping_source` returns (it wins):
        read once, so a mapping changed during a run applies from the next run."""
        try:
            mappings = check(self.config.get("field_mappings") or {}, "field_mappings")
            source = self.config.get("field_mapping_source")
            if source:
                try:
                    hook = load_object(source)
                except (ImportError, AttributeError, ValueError) as exc:
                    raise MappingError(f"field_mapping_source {source!r}: {exc}") from None
                mappings.update(check(hook(dict(self.config)),
                                      f"field_mapping_source {source!r}"))
        except MappingError as exc:
            raise ConfigValidationError(f"target-postgres: {exc}") from None
        return mappings

    @property
    def dsn(self) -> str:
        if self._dsn is None:
            self._dsn = resolve_dsn(self.config)
        return self._dsn

    @property
    def _line(self) -> int:
        return self.message_reader.line_number

    @property
    def sequence(self) -> int:
        """The current record's `_seq` (sink.sequence): its input line and place in a batch."""
        return sequence(self.message_reader.line_number, self._batch_record)

    # Messages

    def _stream_of(self, message_dict: dict, payload: str, what: str) -> str:
        """The message's stream, which must have had its SCHEMA."""
        self._assert_line_requires(message_dict, requires={"stream", payload})
        stream = message_dict["stream"]
        if stream not in self.mapper.stream_maps:
            raise RecordsWithoutSchemaException(
                f"input line {self._line}: {what} for stream {stream!r} arrived before its "
                f"SCHEMA message")
        return stream

    def _process_schema_message(self, message_dict: dict) -> None:
        stream = message_dict.get("stream", "")
        self.bookmark_properties[stream] = list(message_dict.get("bookmark_properties") or [])
        super()._process_schema_message(message_dict)
        reader = self.message_reader
        if self._takes_raw(stream):
            reader.raw_streams = reader.raw_streams | {stream}
        else:
            reader.raw_streams = reader.raw_streams - {stream}

    def _takes_raw(self, stream: str) -> bool:
        """Whether the stream's records may reach its sink as JSON text: stored as they come,
        with no stream map or validation that needs them decoded."""
        if self._validate or not passes_unchanged(self.mapper.stream_maps.get(stream) or [],
                                                  stream):
            return False
        sink = self._sinks_active.get(stream)
        return isinstance(sink, SupaglueSink) and sink.takes_raw

    def _process_record_message(self, message_dict: dict) -> None:
        """The SDK's record path without per-record timestamp parsing (raw data is stored as
        received); a full sink hands every sink's batch to its writer thread, and the latest
        STATE follows once those batches are committed."""
        raw = message_dict.get(RAW)
        if raw is not None:
            sink = self.get_sink(message_dict["stream"])
            if sink.add_raw(raw, self.sequence):
                self._after_record(sink.is_full)
                return
            message_dict = self._decoded(message_dict["stream"])
        stream = self._stream_of(message_dict, "record", "a RECORD")
        if not isinstance(message_dict["record"], dict):
            raise InvalidInputLine(f"input line {self._line}, stream {stream!r}: the record is "
                                   f"{type(message_dict['record']).__name__}, not an object")
        full = False
        for stream_map in self.mapper.stream_maps[stream]:
            record = stream_map.transform(message_dict["record"])
            if record is None:  # filtered out by a stream map
                continue
            sink = self.get_sink(stream_map.stream_alias, record=record)
            if self._validate:
                sink._validate_and_parse(record)
            try:
                sink.add(record, self.sequence)
            except RecordError as exc:
                cls = MissingKeyPropertiesError if isinstance(exc, MissingKeyError) else RecordError
                raise cls(f"input line {self._line}, stream {stream!r}: {exc}") from None
            full = full or sink.is_full
        self._after_record(full)

    def _decoded(self, stream: str) -> dict:
        """The current record's message, decoded whole."""
        if not self._batch_record:
            return self.message_reader.decode_whole(self.message_reader.line)
        return {"type": "RECORD", "stream": stream,
                "record": self.message_reader.decode_whole(self._batch_text.decode())}

    def _process_batch_message(self, message_dict: dict) -> None:
        """Singer BATCH (singer-sdk's JSON Lines batch files, on this machine): each file's
        records take the RECORD path in order, as if their lines had come here; a STATE after
        the BATCH is released once they commit, as after RECORD lines."""
        stream = self._stream_of(message_dict, "manifest", "a BATCH")
        try:
            opener = gzip.open if gzipped(message_dict.get("encoding") or {}) else _open_buffered
            paths = [local_path(url) for url in message_dict["manifest"]]
        except ValueError as exc:
            raise InvalidInputLine(f"input line {self._line}: BATCH for stream {stream!r}: "
                                   f"{exc}") from None
        raw = stream in self.message_reader.raw_streams
        for path in paths:
            try:
                with opener(path, "rb") as lines:
                    if raw:
                        self._read_raw_batch(stream, lines, path)
                    else:
                        for self._batch_record, line in enumerate(lines, start=1):
                            self._check_batch_size(path)
                            self._batch_text = line
                            self._process_record_message(self._decoded(stream))
            except (OSError, EOFError) as exc:
                raise InvalidInputLine(f"input line {self._line}: BATCH for stream {stream!r}: "
                                       f"cannot read {path}: {exc}") from None
            except Exception as exc:
                exc.add_note(f"target-postgres: in batch file {path}, record "
                             f"{self._batch_record}")
                raise
            finally:
                self._batch_record, self._batch_text = 0, b""
            if self.config.get("delete_batch_files"):
                path.unlink(missing_ok=True)

    def _read_raw_batch(self, stream: str, lines: t.Iterable[bytes], path: Path) -> None:
        """A raw stream's batch file: each line is the record's JSON, offered to the sink as
        it is (its decode of the row's fields checks it), with no message built per record;
        a line the sink declines takes the RECORD path decoded whole."""
        sink = self.get_sink(stream)  # a sink changes only at a SCHEMA, never within a file
        add_raw, line_seq = sink.add_raw, sequence(self._line)
        for self._batch_record, line in enumerate(lines, start=1):
            self._check_batch_size(path)
            if add_raw(line, line_seq | self._batch_record):
                self._after_record(sink.is_full)
            else:
                self._batch_text = line
                self._process_record_message(self._decoded(stream))

    def _check_batch_size(self, path: Path) -> None:
        if self._batch_record > MAX_BATCH_RECORDS:
            raise InvalidInputLine(f"input line {self._line}: batch file {path} holds over "
                                   f"{MAX_BATCH_RECORDS:,} records")

    def _after_record(self, full: bool) -> None:
        """A sink is full: every sink's batch goes to its writer; and STATEs whose batches
        have committed are emitted."""
        if full:
            sinks = self._all_sinks()
            self._track([f for s in sinks if (f := s.submit())])
            if self._latest_state:  # it covers every batch in flight, not only these
                self._pending_states.append(
                    (self._latest_state, [f for s in sinks for f in s.inflight]))
        if self._settled:
            self._settled = False  # before the check: a batch finishing during it sets it again
            self._emit_committed_states()
        elif self._committed_state is not None:
            self._emit_held_state()
        self._handle_max_record_age()

    def _track(self, futures: list) -> None:
        """Batches and sweeps handed to writer threads, until known to be committed."""
        self._outstanding += futures
        for f in futures:
            f.add_done_callback(self._on_settled)

    def _on_settled(self, _future) -> None:
        self._settled = True

    def _process_state_message(self, message_dict: dict) -> None:
        super()._process_state_message(message_dict)
        sinks = self._all_sinks()
        if self._latest_state and not any(s.current_size for s in sinks):
            # Nothing buffered precedes this STATE: it waits only for batches in flight.
            inflight = [f for s in sinks for f in s.inflight]
            self._pending_states.append((self._latest_state, inflight))
            self._emit_committed_states()

    def process_endofpipe(self) -> None:
        super().process_endofpipe()
        self._reap(block=True)  # a failed batch fails the run even when no STATE followed it

    def _reap(self, *, block: bool = False) -> None:
        """Raise the error of any failed batch and forget committed ones; `block` waits for all."""
        still = []
        for f in self._outstanding:
            if block or f.done():
                f.result()
            else:
                still.append(f)
        self._outstanding = still

    def _all_sinks(self) -> list[SupaglueSink]:
        """Active sinks, and those a SCHEMA change replaced that may still hold records."""
        return [*self._sinks_to_clear, *self._sinks_active.values()]

    def _emit_committed_states(self) -> None:
        """Take, in order, every pending STATE whose preceding batches are all committed, and
        write each that comes state_interval_seconds or more after the last one written (the
        newest of the others is held until it is due)."""
        self._reap()
        while self._pending_states and all(f.done() for f in self._pending_states[0][1]):
            state, futures = self._pending_states.popleft()
            for f in futures:
                f.result()  # a failed batch raises here: its STATE is never written
            self._committed_state = state
            self._emit_held_state()
        self._emit_held_state()  # one held from before, due by now

    def _emit_held_state(self) -> None:
        """Write the newest committed STATE if one is held and it is due."""
        if self._committed_state is not None and time.monotonic() >= self._state_due:
            self._emit_state(self._committed_state)

    def _process_activate_version_message(self, message_dict: dict) -> None:
        stream = self._stream_of(message_dict, "version", "ACTIVATE_VERSION")
        version = int(message_dict["version"])
        for stream_map in self.mapper.stream_maps[stream]:
            sink = self.get_sink(stream_map.stream_alias)
            # the sweep runs once this stream's batches commit; this thread reads on meanwhile
            self._track([f for f in (sink.submit(), sink.activate_version(version)) if f])
        self._emit_committed_states()

    def _write_state_message(self, state: dict) -> None:
        """Called by the SDK's synchronous drain_all once every buffer is written: after the
        batches in flight commit too, the latest STATE supersedes any still pending."""
        self._reap(block=True)
        self._pending_states.clear()
        self._emit_state(state)

    def _emit_state(self, state: dict) -> None:
        self._committed_state = None
        if state == self._last_written_state:  # never repeat an identical STATE
            return
        self._last_written_state = state
        self._state_due = time.monotonic() + self._state_interval
        sys.stdout.write(json.dumps(state) + "\n")
        sys.stdout.flush()


if __name__ == "__main__":
    TargetPostgres.cli()
