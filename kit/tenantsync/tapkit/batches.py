"""Singer BATCH output: records in local JSON Lines files, each file announced in-band.

With singer-sdk's standard `batch_config` set, the writer puts records in files (one record
per line, as singer-sdk's JSONL batches hold them) and writes one BATCH message per file where
the records' lines would have been. Every other message (SCHEMA, STATE, ACTIVATE_VERSION) keeps
its place: a file is closed and announced before the next such message, so a STATE still
follows the records it covers. A relay such as `meltano run` then passes one line per file
instead of one per record, and the target reads the records from disk.

Unlike singer-sdk's own batch mode (which replaces a stream's sync loop), nothing about
checkpoints changes: STATE per page, bookmarks and full-sync versions are the same as with
RECORD lines. `batch_pending_files` bounds how far the tap runs ahead of a consumer that deletes
the files it has read (tenantsync's target-postgres with `delete_batch_files`): before opening a
file the tap waits while that many of its announced files are still on disk.
"""

from __future__ import annotations

import gzip
import logging
import os
import time
import uuid
from collections.abc import Mapping
from pathlib import Path
from typing import IO, Any

from singer_sdk.exceptions import ConfigValidationError

from tenantsync.batch_files import gzipped, local_path

DEFAULT_BATCH_SIZE = 50_000  # records per file at most
_PENDING_POLL_SECONDS = 0.01
WAIT_WARNING_SECONDS = 60.0  # a target that never deletes what it read stalls the tap


def batch_settings(config: Mapping[str, Any]) -> tuple[Path, str, bool, int] | None:
    """(directory, file prefix, gzip?, records per file) from `batch_config`, or None."""
    raw = config.get("batch_config")
    if not raw:
        return None
    try:
        gzip_files = gzipped({"format": "jsonl", **(raw.get("encoding") or {})})
    except ValueError as exc:
        raise ConfigValidationError(f"batch_config.encoding: {exc}") from None
    storage = raw.get("storage") or {}
    if not storage.get("root"):
        raise ConfigValidationError("batch_config: storage.root (a file:// URL) is required")
    size = int(raw.get("batch_size") or DEFAULT_BATCH_SIZE)
    if size < 1:
        raise ConfigValidationError(f"batch_config: batch_size must be positive, got {size}")
    try:
        directory = local_path(storage["root"])
    except ValueError as exc:
        raise ConfigValidationError(f"batch_config.storage.root: {exc}") from None
    return directory, str(storage.get("prefix") or ""), gzip_files, size


class BatchFiles:
    """The batch file being written, and the files announced and not yet consumed."""

    def __init__(self, directory: Path, prefix: str, gzipped: bool, batch_size: int,
                 pending_limit: int = 0, logger: logging.Logger | None = None) -> None:
        self.directory, self.prefix, self.gzipped = directory, prefix, gzipped
        self.batch_size, self.pending_limit = batch_size, pending_limit
        self.logger = logger or logging.getLogger(__name__)
        self.encoding = {"format": "jsonl", "compression": "gzip" if gzipped else "none"}
        directory.mkdir(mode=0o700, parents=True, exist_ok=True)  # customers' records
        self.stream: str | None = None
        self.buffer = bytearray()  # encoded records not yet written to the file
        self.count = 0
        self._file: IO[bytes] | None = None  # the gzip writer over _raw, or _raw itself
        self._raw: IO[bytes] | None = None
        self._path: Path | None = None
        self._announced: list[Path] = []

    def start(self, stream: str) -> None:
        """Open a file for the stream's next records (the caller closed the previous one)."""
        self._wait_for_room()
        name = f"{self.prefix}{stream}-{uuid.uuid4().hex}.jsonl" + (".gz" if self.gzipped else "")
        self._path = self.directory / name.replace(os.sep, "_")
        # Readable by this user only: the files hold customers' records.
        self._raw = os.fdopen(os.open(self._path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600),
                              "wb")
        # Level 1: most of gzip's saving at a fraction of its default level's CPU.
        self._file = (gzip.GzipFile(fileobj=self._raw, mode="wb", compresslevel=1)
                      if self.gzipped else self._raw)
        self.stream, self.count = stream, 0

    def spill(self) -> None:
        """Write the buffered records to the open file."""
        if self.buffer:
            self._file.write(self.buffer)
            self.buffer.clear()

    def close(self) -> dict | None:
        """Close the open file; the BATCH message that announces it (None: no file open)."""
        if self._file is None:
            return None
        self.spill()
        self._file.close()
        self._raw.close()  # GzipFile leaves the file it wrote to open
        path, stream = self._path, self.stream
        self._file = self._raw = self._path = self.stream = None
        self._announced.append(path)
        return {"type": "BATCH", "stream": stream, "encoding": self.encoding,
                "manifest": [path.as_uri()]}

    def _wait_for_room(self) -> None:
        if not self.pending_limit:
            return
        began, warned = time.monotonic(), False
        while True:
            self._announced = [p for p in self._announced if p.exists()]
            if len(self._announced) < self.pending_limit:
                return
            if not warned and time.monotonic() - began >= WAIT_WARNING_SECONDS:
                warned = True
                self.logger.warning(
                    "Waiting %.0f s so far for the target to read %d batch files in %s "
                    "(batch_pending_files=%d needs a target that deletes the files it has "
                    "read, such as target-postgres with delete_batch_files)",
                    WAIT_WARNING_SECONDS, len(self._announced), self.directory,
                    self.pending_limit)
            time.sleep(_PENDING_POLL_SECONDS)
