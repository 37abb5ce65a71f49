"""One in-process tap run writing its Singer output to a file, timed (the tap benchmarks)."""

from __future__ import annotations

import io
import json
import tempfile
import time
from contextlib import redirect_stdout


def run_to_file(tap) -> dict:
    """`tap.sync_all()` into a temp file: seconds, RECORD count and the last STATE."""
    with tempfile.NamedTemporaryFile(suffix=".singer") as out, \
            open(out.name, "wb") as raw, io.TextIOWrapper(raw, encoding="utf-8") as stream:
        started = time.perf_counter()
        with redirect_stdout(stream):
            tap.sync_all()
        stream.flush()
        seconds = time.perf_counter() - started
        records, last_state = 0, {}
        with open(out.name, "rb") as fh:
            for line in fh:
                if line.startswith(b'{"type":"RECORD"'):
                    records += 1
                elif line.startswith(b'{"type":"STATE"'):
                    last_state = json.loads(line)["value"]
    return {"seconds": seconds, "records": records, "state": last_state}
