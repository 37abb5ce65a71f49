"""The sync index: one compact row per sync (application, customer, provider, cron; no cron
while paused), written by `render` next to the Meltano project for schedulers that must not
parse the project (Airflow's DAG file reads it at every parse: tenantsync/airflow/). Written
only when it changes, atomically."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tenantsync.controller import render

INDEX_FILE = "tenantsync.syncs.json"
COLUMNS = ["application", "customer", "provider", "cron"]
PAUSED = "@manual"  # render's interval of a paused sync


def rows(doc: dict[str, Any]) -> list[list]:
    """The index rows of a rendered document (its schedules carry the tenant's env)."""
    keys = [render.TENANT_ENV[k] for k in ("application_id", "customer_id", "provider_name")]
    return [[*(s["env"][k] for k in keys), None if s["interval"] == PAUSED else s["interval"]]
            for s in doc["schedules"]]


def text(doc: dict[str, Any]) -> str:
    body = ",\n".join(json.dumps(row, ensure_ascii=False) for row in rows(doc))
    return f'{{"columns": {json.dumps(COLUMNS)}, "syncs": [\n{body}\n]}}\n'


def write(project: Path, doc: dict[str, Any]) -> bool:
    """Write the index of `doc` into `project`; True when it changed."""
    path, new = project / INDEX_FILE, text(doc)
    if path.exists() and path.read_text() == new:
        return False
    render.write_atomic(path, new)
    return True
