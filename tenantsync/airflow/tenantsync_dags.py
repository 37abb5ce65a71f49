"""tenantsync's syncs as Airflow DAGs (Airflow 3). Installed into Airflow's DAG folder by
`tenantsync airflow install`, which fills in PROJECT and TENANTSYNC below.

It runs in Airflow's own interpreter and imports nothing of tenantsync: it reads the sync
index that `tenantsync render` writes next to the Meltano project (one row per sync:
application, customer, provider, cron; no cron when paused), so a parse costs a
JSON load and one DAG per schedule slot, never a `meltano schedule list`. Every registry
change re-renders the index, and the DAG processor re-reads it at each parse
(`[dag_processor] min_file_process_interval`): new customers and syncs appear, paused ones
drop out, without a restart.

Shape: one DAG per (application, provider, cron) -- syncs of one provider whose schedule
offsets put them on the same minutes share a DAG -- with one mapped task instance per sync,
named after its customer. (A DAG per sync costs Airflow ~0.7 ms to build: 70 s a parse at
100,000 syncs; bench/airflow_parse.py.) Each task instance runs `tenantsync run <customer>
<provider>` from tenantsync's own environment, which injects the tenant's environment, holds
the sync's run lock, records the run, sends webhooks and pauses the sync when the provider
refuses the credentials. Its exit code decides what Airflow does: see EXIT_* below.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
from datetime import datetime, timedelta, timezone
from pathlib import Path

from airflow.sdk import DAG, get_current_context, task
from airflow.sdk.exceptions import AirflowFailException, AirflowSkipException

# Filled in by `tenantsync airflow install`; the environment may say otherwise (e.g. a pod).
PROJECT = Path(os.environ.get("TENANTSYNC_PROJECT_DIR") or "@PROJECT@")
TENANTSYNC = os.environ.get("TENANTSYNC_BIN") or "@TENANTSYNC@"
INDEX = "tenantsync.syncs.json"  # tenantsync.controller.sync_index.INDEX_FILE

# `tenantsync run`'s exit codes (tenantsync.controller.cli): anything else non-zero is a
# failure worth retrying (a provider outage, a run of the same sync in progress, ...).
EXIT_CREDENTIALS_REFUSED = 3  # the run failed on refused credentials and paused its sync
EXIT_PAUSED = 4  # the sync is paused: nothing ran

RETRIES = int(os.environ.get("TENANTSYNC_AIRFLOW_RETRIES", "3"))
MAP_CHUNK = 1000  # under Airflow's [core] max_map_length (1024): bigger slots get more tasks
START = datetime(2024, 1, 1, tzinfo=timezone.utc)


def pool(application: str, provider: str) -> str:
    """The Airflow pool of a provider's syncs in one application (`tenantsync airflow
    pools` writes them): its slots cap how many of them run at once."""
    return f"tenantsync.{application}.{provider}"


def _id_part(value: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]", "_", value)


def dag_id(application: str, provider: str, cron: str) -> str:
    """e.g. `tenantsync.app.salesforce.7-22-37-52_x_x_x_x` for `7,22,37,52 * * * *`."""
    slot = cron.replace(",", "-").replace("*", "x").replace("/", "every").replace(" ", "_")
    return f"tenantsync.{_id_part(application)}.{provider}.{_id_part(slot)}"


@task(map_index_template="{{ customer }}")
def sync(application: str, customer: str, provider: str) -> None:
    """One sync, through `tenantsync run`; every line of its Meltano log goes to the task
    log."""
    get_current_context()["customer"] = customer  # names the mapped instance in the UI
    env = {**os.environ, "TENANTSYNC_APPLICATION_ID": application,
           "TENANTSYNC_PROJECT_DIR": str(PROJECT)}
    cmd = [TENANTSYNC, "run", customer, provider, "--log"]
    with subprocess.Popen(cmd, cwd=PROJECT, env=env, stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, text=True, errors="replace") as proc:
        assert proc.stdout is not None
        for line in proc.stdout:
            print(line, end="", flush=True)
        code = proc.wait()
    if code == EXIT_PAUSED:
        raise AirflowSkipException(f"{customer} x {provider} is paused")
    if code == EXIT_CREDENTIALS_REFUSED:  # retrying a revoked grant only burns quota
        raise AirflowFailException(f"{provider} refused {customer}'s credentials: the sync is "
                                   "paused until the customer reconnects and it is resumed")
    if code:
        raise RuntimeError(f"tenantsync run {customer} {provider} exited with {code}")


def slots(rows: list[list]) -> dict[tuple[str, str, str], list[str]]:
    """(application, provider, cron) -> the customers whose sync runs then (not paused)."""
    grouped: dict[tuple[str, str, str], list[str]] = {}
    for application, customer, provider, cron in rows:
        if cron is not None:
            grouped.setdefault((application, provider, cron), []).append(customer)
    return grouped


def build() -> dict[str, DAG]:
    path = PROJECT / INDEX
    if not path.exists():
        return {}  # not rendered yet: `tenantsync render`
    dags = {}
    for (application, provider, cron), members in sorted(slots(json.loads(
            path.read_text())["syncs"]).items()):
        with DAG(dag_id(application, provider, cron), schedule=cron, start_date=START,
                 catchup=False, max_active_runs=1,
                 dag_display_name=f"{provider} syncs of {application} at {cron}",
                 description=f"tenantsync: {len(members)} {provider} syncs of {application}",
                 tags=["tenantsync", f"application:{application}", f"provider:{provider}"],
                 default_args={"retries": RETRIES, "retry_delay": timedelta(minutes=1),
                               "retry_exponential_backoff": 2.0,
                               "max_retry_delay": timedelta(minutes=30),
                               "pool": pool(application, provider)}) as dag:
            for start in range(0, len(members), MAP_CHUNK):
                chunk = members[start:start + MAP_CHUNK]
                sync.override(task_id=f"sync_{start // MAP_CHUNK}" if start else "sync") \
                    .partial(application=application, provider=provider) \
                    .expand(customer=chunk)
        dags[dag.dag_id] = dag
    return dags


globals().update(build())
