"""Incremental render: the jobs and schedules of a few customers rendered afresh and put in
place of theirs in the include file and the sync index that the last render wrote.

The include file holds every sync's job and schedule as one line each, both sorted by sync
name (so the i-th job, schedule and index row are one sync's), and a schedule names its
tenant in its env. A change to one customer (a connection, a pause, its own sync config)
then costs one query of its syncs and a pass over the lines, not a render of every sync (a
whole render of 100,000 syncs takes seconds: `bench/tenant_scale.py`). What cannot be read
back as that shape (no earlier render, a hand edit) is rendered whole instead.
"""

from __future__ import annotations

import re
from pathlib import Path

from sqlalchemy.orm import Session

from tenantsync.controller import render, sync_index

_NAME = re.compile(r'- \{"name": "([a-z0-9_-]+)", ')  # sync names are slugs (render.slug)
_QUOTED = r'("(?:[^"\\]|\\.)*")'  # a YAML double-quoted scalar, as render._quoted writes it
_TENANT = re.compile(f'"env": {{"{render.TENANT_ENV["application_id"]}": {_QUOTED}, '
                     f'"{render.TENANT_ENV["customer_id"]}": {_QUOTED}, ')


def texts(session: Session, project: Path, customers: set[tuple[str, str]]
                 ) -> tuple[str, str, int] | None:
    """The include file's and the sync index's texts with `customers`' syncs rendered afresh,
    and the number of syncs; None when the last render cannot be read back."""
    try:
        entries = _read(project)
    except FileNotFoundError:
        return None
    if entries is None:
        return None
    touched = {(render._quoted(app), render._quoted(customer)) for app, customer in customers}
    kept = [e for e in entries if _tenant(e[2]) not in touched]
    doc = render.document(session, customers)
    fresh = [(job["name"], render.item_line(job), render.item_line(schedule),
              sync_index.row_line(row))
             for job, schedule, row in zip(doc["jobs"], doc["schedules"],
                                           sync_index.rows(doc), strict=True)]
    merged = sorted([*kept, *fresh], key=lambda e: e[0])
    text = render.head(doc["plugins"]) + render.section("jobs", [e[1] for e in merged]) \
        + render.section("schedules", [e[2] for e in merged])
    return text, sync_index.text_of([e[3] for e in merged]), len(merged)


def _tenant(schedule_line: str) -> tuple[str, str] | None:
    """The application and customer a schedule line names, as quoted in it."""
    found = _TENANT.search(schedule_line)
    return found.groups() if found else None


def _read(project: Path) -> list[tuple[str, str, str, str]] | None:
    """(sync name, job line, schedule line, index row) of every sync the last render wrote,
    in its order; None if its files are not in the shape render writes."""
    lines = (project / render.INCLUDE_FILE).read_text().splitlines(keepends=True)
    rows = sync_index.row_lines((project / sync_index.INDEX_FILE).read_text())
    starts = {line: i for i, line in enumerate(lines)
              if line in ("jobs:\n", "jobs: []\n", "schedules:\n", "schedules: []\n")}
    jobs = starts.get("jobs:\n", starts.get("jobs: []\n"))
    schedules = starts.get("schedules:\n", starts.get("schedules: []\n"))
    if rows is None or jobs is None or schedules is None or schedules < jobs:
        return None
    job_lines, schedule_lines = lines[jobs + 1:schedules], lines[schedules + 1:]
    if not len(job_lines) == len(schedule_lines) == len(rows):
        return None
    entries = []
    for job, schedule, row in zip(job_lines, schedule_lines, rows, strict=True):
        name = _NAME.match(job)
        if name is None or not schedule.startswith(name.group(0)) or _tenant(schedule) is None:
            return None
        entries.append((name.group(1), job, schedule, row))
    return entries
