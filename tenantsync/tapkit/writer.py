"""A Singer message writer tuned for taps that emit millions of records.

singer-sdk's msgspec writer flushes stdout after every message, one syscall per record. This one
buffers RECORD messages and flushes on every other message. A STATE message therefore always
reaches the pipe after the records it covers, so killing the tap loses only records that the
last STATE does not cover: the next run reads them again.
"""

from __future__ import annotations

import sys
from typing import Any

import msgspec
from singer_sdk.contrib.msgspec import MsgSpecWriter
from singer_sdk.singerlib.encoding.simple import Message, RecordMessage

_encoder = msgspec.json.Encoder(
    enc_hook=lambda obj: obj.isoformat() if hasattr(obj, "isoformat") else str(obj),
    decimal_format="number")


class BufferedMsgSpecWriter(MsgSpecWriter):
    def __init__(self) -> None:
        self._line = bytearray(256)

    def write_message(self, message: Message) -> None:
        out = sys.stdout.buffer
        out.write(self.format_message(message))
        if not isinstance(message, RecordMessage):
            sys.stdout.flush()

    def write_record(self, stream: str, record: dict[str, Any], time_extracted: str) -> None:
        """The fast path: one RECORD line, no message object, no flush."""
        _encoder.encode_into(
            {"type": "RECORD", "stream": stream, "record": record,
             "time_extracted": time_extracted}, self._line)
        self._line.extend(b"\n")
        sys.stdout.buffer.write(self._line)

    def flush(self) -> None:
        sys.stdout.flush()
