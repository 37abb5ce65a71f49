"""The per-sync run lock: held by one process at a time, released when its holder dies, with
a SQLite registry (flock) and with a PostgreSQL one (advisory lock)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time

import pytest
from sqlalchemy import create_engine
from sqlalchemy.orm import Session

from tenantsync.controller import run_lock

HOLDER = textwrap.dedent("""
    import sys, time
    from pathlib import Path
    from sqlalchemy import create_engine
    from sqlalchemy.orm import Session
    from tenantsync.controller import run_lock
    with Session(create_engine(sys.argv[1])) as s, run_lock.hold(s, 7, Path(sys.argv[2])):
        print("held", flush=True)
        time.sleep(600)
""")


@pytest.fixture(params=["sqlite", "postgresql"])
def registry_url(request, tmp_path, pg_server_uri):
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path}/registry.db"
    return pg_server_uri.replace("postgresql://", "postgresql+psycopg2://", 1)


def test_one_holder_at_a_time_and_freed_when_the_holder_dies(registry_url, tmp_path):
    lock_dir = tmp_path / "syncs" / "app--acme--salesforce"
    holder = subprocess.Popen([sys.executable, "-c", HOLDER, registry_url, str(lock_dir)],
                              stdout=subprocess.PIPE, text=True)
    engine = create_engine(registry_url)
    try:
        assert holder.stdout.readline().strip() == "held"
        with Session(engine) as s:
            with pytest.raises(run_lock.RunInProgress), run_lock.hold(s, 7, lock_dir):
                pass
            with run_lock.hold(s, 8, tmp_path / "other"):  # another sync's lock is free
                pass
        os.kill(holder.pid, signal.SIGKILL)  # no cleanup runs: the OS / PostgreSQL frees it
        holder.wait()
        with Session(engine) as s:
            for _ in range(100):  # PostgreSQL ends the dead client's backend asynchronously
                try:
                    with run_lock.hold(s, 7, lock_dir):
                        break
                except run_lock.RunInProgress:
                    time.sleep(0.1)
            else:
                pytest.fail("the lock outlived its holder")
            with run_lock.hold(s, 7, lock_dir), pytest.raises(run_lock.RunInProgress), \
                    run_lock.hold(s, 7, lock_dir):
                pass  # held by this process now, and still exclusive
            with run_lock.hold(s, 7, lock_dir):  # released on leaving
                pass
    finally:
        holder.kill()
        holder.wait()
        engine.dispose()
