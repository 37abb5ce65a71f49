"""Runs that Meltano started without tenantsync (`meltano schedule run <sync>`), recorded as
sync runs: Meltano keeps every job run in its system database (`runs`: the state ID, state,
start and end), so `tenantsync runs` and `status` import the ones of a sync that no recorded
run covers. Meltano counts no records: such a run says so in its error column."""

from __future__ import annotations

import os
from datetime import datetime
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.exc import SQLAlchemyError

from tenantsync.controller import render
from tenantsync.controller.models import SyncRun
from tenantsync.controller.registry import Registry

_STATUS = {"SUCCESS": "SUCCESS", "FAIL": "FAILURE", "DEAD": "FAILURE"}  # RUNNING: not yet
NOT_COUNTED = "run by Meltano outside tenantsync (meltano schedule run): records not counted"


def system_db_url(project: Path) -> str | None:
    """Where Meltano keeps its runs: MELTANO_DATABASE_URI, else the project's SQLite file."""
    if os.environ.get("MELTANO_DATABASE_URI"):
        return os.environ["MELTANO_DATABASE_URI"]
    path = project / ".meltano" / "meltano.db"
    return f"sqlite:///{path}" if path.exists() else None


def _jobs(url: str) -> list[tuple[str, str, datetime, datetime | None]]:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            rows = conn.execute(text(
                "SELECT job_name, state, started_at, ended_at FROM runs "
                "WHERE job_name LIKE 'tenantsync:%' AND state <> 'RUNNING'")).all()
    except SQLAlchemyError:  # no system database yet (no run), or not Meltano's
        return []
    finally:
        engine.dispose()
    return [(name, state, _naive(started), _naive(ended)) for name, state, started, ended in rows]


def _naive(value: datetime | str | None) -> datetime | None:
    """Meltano's timestamps are UTC (SQLite hands them back as text)."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value.replace(tzinfo=None) if value is not None else None


def import_runs(reg: Registry, project: Path) -> int:
    """Record the Meltano job runs of the registry's syncs that no sync run covers (a run
    tenantsync started has its Meltano job inside its own start and end); returns how many."""
    url = system_db_url(project)
    if url is None:
        return 0
    syncs = {render.state_suffix(view): view.sync_id for view in reg.sync_views()}
    added = 0
    for name, state, started, ended in _jobs(url):
        sync_id = syncs.get(name.rsplit(":", 1)[-1])
        if sync_id is None or state not in _STATUS:
            continue
        covered = reg.s.query(SyncRun).filter(
            SyncRun.sync_id == sync_id, SyncRun.started_at <= started,
            (SyncRun.ended_at.is_(None)) | (SyncRun.ended_at >= started)).first()
        if covered is None:
            reg.s.add(SyncRun(sync_id=sync_id, status=_STATUS[state], strategy="unknown",
                              started_at=started, ended_at=ended, records={}, num_records=0,
                              error=NOT_COUNTED if state == "SUCCESS" else
                              f"{NOT_COUNTED}; Meltano recorded it {state} (see its log)"))
            added += 1
    if added:
        reg.s.commit()
    return added
