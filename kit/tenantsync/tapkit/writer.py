"""A Singer message writer tuned for taps that emit millions of records.

singer-sdk's msgspec writer flushes stdout after every message, and under PYTHONUNBUFFERED
(common in containers and orchestrators) stdout has no buffer at all: one syscall per record.
This writer gathers RECORD lines in its own buffer, writes it out in large chunks, and drains it
before every other message. A STATE message therefore always reaches the pipe after the records
it covers: killing the tap loses only records the last STATE does not cover, and the next run
reads those again.

With `batch_config` set (`use_batches`), records go to batch files instead (tapkit.batches) and
a BATCH message takes their place in the same order.
"""

from __future__ import annotations

import sys
from typing import Any

import msgspec
from singer_sdk.contrib.msgspec import MsgSpecWriter
from singer_sdk.singerlib.encoding.simple import Message, RecordMessage

from tenantsync.tapkit.batches import BatchFiles

FLUSH_AT_BYTES = 1 << 17

_encoder = msgspec.json.Encoder(
    enc_hook=lambda obj: obj.isoformat() if hasattr(obj, "isoformat") else str(obj),
    decimal_format="number")


class BufferedMsgSpecWriter(MsgSpecWriter):
    def __init__(self) -> None:
        super().__init__()
        self._pending = bytearray()
        self.batches: BatchFiles | None = None

    def use_batches(self, batches: BatchFiles) -> None:
        self.batches = batches

    def write_message(self, message: Message) -> None:
        if self.batches is not None:
            if isinstance(message, RecordMessage):
                self._batch_record(message.stream, message.record)
                return
            self._announce_batch()
        self._pending += self.format_message(message)
        if not isinstance(message, RecordMessage) or len(self._pending) >= FLUSH_AT_BYTES:
            self.flush()

    def write_record(self, stream: str, record: dict[str, Any], time_extracted: str) -> None:
        """The fast path: one RECORD line appended to the buffer, no message object."""
        if self.batches is not None:
            self._batch_record(stream, record)
            return
        pending = self._pending
        _encoder.encode_into({"type": "RECORD", "stream": stream, "record": record,
                              "time_extracted": time_extracted}, pending, -1)
        pending += b"\n"
        if len(pending) >= FLUSH_AT_BYTES:
            self.flush()

    def _batch_record(self, stream: str, record: dict[str, Any]) -> None:
        batches = self.batches
        if batches.stream != stream:
            self._announce_batch()
            batches.start(stream)
        buffer = batches.buffer
        _encoder.encode_into(record, buffer, -1)
        buffer += b"\n"
        batches.count += 1
        if batches.count >= batches.batch_size:
            self._announce_batch()
        elif len(buffer) >= FLUSH_AT_BYTES:
            batches.spill()

    def _announce_batch(self) -> None:
        """Close the open batch file, if any, and send its BATCH message at once."""
        message = self.batches.close()
        if message is not None:
            _encoder.encode_into(message, self._pending, -1)
            self._pending += b"\n"
            self.flush()

    def flush(self) -> None:
        if self._pending:
            out = sys.stdout.buffer
            view = memoryview(self._pending)
            while view:  # an unbuffered stdout may accept part of a large write
                written = out.write(view)
                view = view[written if written is not None else len(view):]
            view.release()
            self._pending.clear()
        sys.stdout.flush()

    def finish(self) -> None:
        """End of output: the last batch file is announced and everything is written."""
        if self.batches is not None:
            self._announce_batch()
        self.flush()
