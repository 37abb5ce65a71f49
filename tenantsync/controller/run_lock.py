"""One run of a sync at a time, across processes: a lock held for as long as a run runs.

The registry records a run as IN_PROGRESS when it starts; only a lock tells whether the
process running it is still alive. A run whose process died (SIGKILL, OOM, a lost node) never
records its end, and its meltano leaves a job RUNNING that Meltano honours for 5 minutes. The
next run that gets the lock knows both are dead. With a PostgreSQL registry the lock is a
session-level advisory lock (any host; PostgreSQL releases it when the connection drops);
with SQLite (one host) an exclusive flock on a file in the sync's system directory (the
kernel releases it when the process dies).
"""

from __future__ import annotations

import fcntl
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.orm import Session

# First half of the advisory lock key: this lock's namespace among a database's users.
_NAMESPACE = zlib.crc32(b"tenantsync run") & 0x7FFFFFFF


class RunInProgress(Exception):
    pass


@contextmanager
def hold(session: Session, sync_id: int, lock_dir: Path) -> Iterator[None]:
    """Hold the sync's run lock, or raise RunInProgress when another process holds it."""
    engine = session.get_bind().engine
    if engine.dialect.name == "postgresql":
        # Its own connection: the session commits and rolls back without touching the lock.
        conn = engine.connect()
        try:
            got = conn.execute(text("SELECT pg_try_advisory_lock(:ns, :id)"),
                               {"ns": _NAMESPACE, "id": sync_id}).scalar()
            conn.commit()
            if not got:
                raise RunInProgress
            yield
        finally:
            conn.invalidate()  # closed, never pooled: the lock goes with the connection
            conn.close()
        return
    lock_dir.mkdir(parents=True, exist_ok=True)
    with open(lock_dir / "run.lock", "w") as fh:
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise RunInProgress from None
        yield  # released when the file closes, or when the process dies
