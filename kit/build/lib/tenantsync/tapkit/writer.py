"""A Singer message writer tuned for taps that emit millions of records.

singer-sdk's msgspec writer flushes stdout after every message, and under PYTHONUNBUFFERED
(common in containers and orchestrators) stdout has no buffer at all: one syscall per record.
This writer gathers RECORD lines in its own buffer, writes it out in large chunks, and drains it
before every other message. A STATE message therefore always reaches the pipe after the records
it covers: killing the tap loses only records the last STATE does not cover, and the next run
reads those again.
"""

from __future__ import annotations

import sys
from typing import Any

import msgspec
from singer_sdk.contrib.msgspec import MsgSpecWriter
from singer_sdk.singerlib.encoding.simple import Message, RecordMessage

FLUSH_AT_BYTES = 1 << 17

_encoder = msgspec.json.Encoder(
    enc_hook=lambda obj: obj.isoformat() if hasattr(obj, "isoformat") else str(obj),
    decimal_format="number")


class BufferedMsgSpecWriter(MsgSpecWriter):
    def __init__(self) -> None:
        super().__init__()
        self._pending = bytearray()

    def write_message(self, message: Message) -> None:
        self._pending += self.format_message(message)
        if not isinstance(message, RecordMessage) or len(self._pending) >= FLUSH_AT_BYTES:
            self.flush()

    def write_record(self, stream: str, record: dict[str, Any], time_extracted: str) -> None:
        """The fast path: one RECORD line appended to the buffer, no message object."""
        pending = self._pending
        _encoder.encode_into({"type": "RECORD", "stream": stream, "record": record,
                              "time_extracted": time_extracted}, pending, -1)
        pending += b"\n"
        if len(pending) >= FLUSH_AT_BYTES:
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
