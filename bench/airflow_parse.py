"""How long Airflow takes to parse tenantsync's DAG file, at N syncs.

Writes a sync index of N syncs (N/2 customers x salesforce and hubspot, crons and offsets as
render computes them: hourly and every 15 minutes), installs the DAG file, and measures in
Airflow's own interpreter (.venv-airflow, `bash scripts/airflow-setup`) what the DAG
processor does with a file: load it into a DagBag and serialize every DAG it defines. Beside
it, the same syncs as one DAG per sync (`--per-sync N`: that many, extrapolated to N).
Airflow gives a file 30 s by default (`[dag_processor] dag_file_processor_timeout`).

    .venv/bin/python bench/airflow_parse.py --syncs 100000 --per-sync 5000
"""

from __future__ import annotations

import argparse
import json
import subprocess
import tempfile
from pathlib import Path

from tenantsync.airflow.cli import DAG_FILE
from tenantsync.controller import render, sync_index

REPO = Path(__file__).resolve().parents[1]
AIRFLOW_PYTHON = REPO / ".venv-airflow" / "bin" / "python"
PERIODS = {"salesforce": 3_600_000, "hubspot": 900_000}

MEASURE = """
import json, sys, time
t0 = time.perf_counter()
from airflow.dag_processing.dagbag import DagBag
from airflow.serialization.serialized_objects import DagSerialization
t1 = time.perf_counter()
bag = DagBag(sys.argv[1])
t2 = time.perf_counter()
for dag in bag.dags.values():
    DagSerialization.to_dict(dag)
t3 = time.perf_counter()
assert not bag.import_errors, bag.import_errors
print(json.dumps({"dags": len(bag.dags), "tasks": sum(len(d.tasks) for d in bag.dags.values()),
                  "import_airflow_s": t1 - t0, "parse_s": t2 - t1, "serialize_s": t3 - t2}))
"""

PER_SYNC = '''
import json
from datetime import datetime, timezone
from airflow.sdk import DAG, task
from pathlib import Path

@task
def sync(application, customer, provider):
    pass

for app, customer, provider, cron in json.loads(Path({index!r}).read_text())["syncs"]:
    with DAG(f"tenantsync.{{app}}.{{customer}}.{{provider}}", schedule=cron,
             start_date=datetime(2024, 1, 1, tzinfo=timezone.utc), catchup=False,
             tags=["tenantsync", f"customer:{{customer}}", f"provider:{{provider}}"]):
        sync(app, customer, provider)
'''


def write_index(project: Path, syncs: int) -> None:
    schedules = []
    for i in range(syncs):
        customer, provider = f"customer-{i // 2:06d}", ("salesforce", "hubspot")[i % 2]
        env = {render.TENANT_ENV["application_id"]: "app",
               render.TENANT_ENV["customer_id"]: customer,
               render.TENANT_ENV["provider_name"]: provider}
        cron = render.cron_interval(PERIODS[provider], f"app/{customer}/{provider}")
        schedules.append({"env": env, "interval": cron})
    sync_index.write(project, {"schedules": schedules})


def measure(folder: Path) -> dict:
    done = subprocess.run([str(AIRFLOW_PYTHON), "-c", MEASURE, str(folder)],
                          capture_output=True, text=True, check=True,
                          env={"AIRFLOW_HOME": str(folder.parent / "home"),
                               "AIRFLOW__CORE__LOAD_EXAMPLES": "False", "PATH": "/usr/bin"})
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--syncs", type=int, default=100_000)
    parser.add_argument("--per-sync", type=int, default=5_000,
                        help="syncs for the DAG-per-sync comparison (0: skip)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        rows = []
        for label, n, text in [("tenantsync_dags.py (DAG per slot)", args.syncs, None),
                               ("one DAG per sync", args.per_sync, PER_SYNC)]:
            if not n:
                continue
            project, dags = root / f"project-{n}-{bool(text)}", root / f"dags-{n}-{bool(text)}"
            project.mkdir()
            dags.mkdir()
            write_index(project, n)
            body = (text.format(index=str(project / sync_index.INDEX_FILE)) if text else
                    DAG_FILE.read_text().replace("@PROJECT@", str(project))
                    .replace("@TENANTSYNC@", "tenantsync"))
            (dags / "dags.py").write_text(body)
            got = measure(dags)
            scale = args.syncs / n
            rows.append((label, n, got["dags"], got["tasks"], got["parse_s"],
                         got["serialize_s"], (got["parse_s"] + got["serialize_s"]) * scale))
    print(f"{'layout':36} {'syncs':>7} {'DAGs':>6} {'tasks':>6} {'parse s':>8} "
          f"{'serialize s':>11} {f'total at {args.syncs:,} s':>18}")
    for label, n, dags_n, tasks, parse, ser, total in rows:
        print(f"{label:36} {n:>7,} {dags_n:>6,} {tasks:>6,} {parse:>8.2f} {ser:>11.2f} "
              f"{total:>18.1f}")


if __name__ == "__main__":
    main()
