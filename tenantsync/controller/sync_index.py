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


def row_line(row: list) -> str:
    return json.dumps(row, ensure_ascii=False)


HEAD = f'{{"columns": {json.dumps(COLUMNS)}, "syncs": [\n'
TAIL = "\n]}\n"


def text(doc: dict[str, Any]) -> str:
    return text_of(list(map(row_line, rows(doc))))


def text_of(lines: list[str]) -> str:
    """The index of these rows (each a `row_line`)."""
    return HEAD + ",\n".join(lines) + TAIL


def row_lines(text: str) -> list[str] | None:
    """The rows of an index's text, as `row_line`s; None if it is not one `text_of` wrote."""
    if not (text.startswith(HEAD) and text.endswith(TAIL)):
        return None
    body = text[len(HEAD):-len(TAIL)]
    return body.split(",\n") if body else []


def write(project: Path, doc: dict[str, Any]) -> bool:
    """Write the index of `doc` into `project`; True when it changed."""
    return write_text(project, text(doc))


def write_text(project: Path, new: str) -> bool:
    path = project / INDEX_FILE
    if path.exists() and path.read_text() == new:
        return False
    render.write_atomic(path, new)
    return True
