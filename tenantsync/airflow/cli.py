"""`tenantsync airflow install`: put the DAG file into Airflow's DAG folder (with this
project and this environment's `tenantsync` filled in), render the sync index it reads, and
write the pools its tasks run in, for `airflow pools import`."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import click

from tenantsync.controller import db, render, sync_index
from tenantsync.controller.cli import _fail_cleanly

DAG_FILE = Path(__file__).with_name("tenantsync_dags.py")
POOLS_FILE = "tenantsync.pools.json"


def pool(application: str, provider: str) -> str:
    """As the DAG file names it (tenantsync_dags.pool)."""
    return f"tenantsync.{application}.{provider}"


def pools(project: Path, slots: int) -> dict[str, dict]:
    """`airflow pools import`'s document: a pool per application and provider in the index."""
    index = json.loads((project / sync_index.INDEX_FILE).read_text())
    pairs = sorted({(row[0], row[2]) for row in index["syncs"]})
    return {pool(app, provider): {"slots": slots, "include_deferred": False,
                                  "description": f"tenantsync: {provider} syncs of {app} "
                                                 "running at once"}
            for app, provider in pairs}


def resolve_dags_folder(given: str | None) -> Path:
    home = os.environ.get("AIRFLOW_HOME") or Path.home() / "airflow"
    return Path(given or os.environ.get("AIRFLOW__CORE__DAGS_FOLDER") or Path(home) / "dags")


@click.group()
def airflow() -> None:
    """Run the syncs on Apache Airflow (one DAG per provider and schedule slot)."""


@airflow.command("install")
@click.option("--dags-folder", type=click.Path(file_okay=False),
              help="Airflow's DAG folder [default: $AIRFLOW__CORE__DAGS_FOLDER, else "
                   "$AIRFLOW_HOME/dags, else ~/airflow/dags].")
@click.option("--pool-slots", default=4, show_default=True,
              help="How many syncs of one provider and application run at once.")
@_fail_cleanly
def install(dags_folder: str | None, pool_slots: int) -> None:
    """Install the DAG file, render the sync index, write the pools."""
    project = db.project_dir()
    with db.session() as s:
        result = render.render(s, project)
    folder = resolve_dags_folder(dags_folder)
    folder.mkdir(parents=True, exist_ok=True)
    executable = Path(sys.executable).with_name("tenantsync")
    text = DAG_FILE.read_text().replace("@PROJECT@", str(project)) \
        .replace("@TENANTSYNC@", str(executable))
    render.write_atomic(folder / DAG_FILE.name, text)
    pools_path = project / POOLS_FILE
    render.write_atomic(pools_path, json.dumps(pools(project, pool_slots), indent=2) + "\n")
    click.echo(f"{folder / DAG_FILE.name}: the DAGs of {result.syncs} syncs "
               f"(index {project / sync_index.INDEX_FILE})\n"
               f"next: airflow pools import {pools_path}")
