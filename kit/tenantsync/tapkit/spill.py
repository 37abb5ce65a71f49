"""Sorting a result too large to hold: sorted runs spilled to temporary files, then merged.

An API that cannot return records in watermark order (Linear lists newest first) must be read
whole and sorted before its records are emitted in order. Held in memory, a workspace of a
million issues would cost gigabytes; here memory holds one run (`RUN_RECORDS`) and, while
merging, one record per run. The order is stable: records with equal keys keep their arrival
order, as `sorted` would.
"""

from __future__ import annotations

import heapq
import tempfile
from collections.abc import Callable, Iterable, Iterator
from contextlib import ExitStack
from typing import IO, Any

import msgspec

RUN_RECORDS = 20_000

_encoder = msgspec.json.Encoder()
_decode = msgspec.json.Decoder().decode


def sorted_records(records: Iterable[Any], key: Callable[[Any], Any],
                   run_records: int = RUN_RECORDS) -> Iterator[Any]:
    """`records` sorted by `key`; past `run_records`, runs go to temporary files (deleted
    when the iteration ends, however it ends). Spilled items come back as msgspec decodes
    their JSON: a tuple as a list."""
    with ExitStack() as files:
        runs: list[IO[bytes]] = []
        run: list[Any] = []
        for record in records:
            if len(run) >= run_records:  # a full run is spilled once another record comes
                runs.append(_spill(sorted(run, key=key), files.enter_context(_temp())))
                run = []
            run.append(record)
        run.sort(key=key)  # the last run stays in memory: it is merged from there
        yield from heapq.merge(*map(_read, runs), run, key=key) if runs else run


def _temp() -> IO[bytes]:
    return tempfile.TemporaryFile(prefix="tenantsync-sort-")


def _spill(run: list[Any], file: IO[bytes]) -> IO[bytes]:
    for record in run:
        file.write(_encoder.encode(record) + b"\n")
    file.seek(0)
    return file


def _read(file: IO[bytes]) -> Iterator[Any]:
    for line in file:
        yield _decode(line)
