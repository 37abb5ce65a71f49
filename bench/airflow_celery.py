"""tenantsync on Airflow's CeleryExecutor, on one machine: one worker, then two.

For each worker count, a fresh deployment: sandbox orgs and portals (tenants), a registry
and Meltano project, tenantsync's DAG file installed (`tenantsync airflow install`), a
PostgreSQL metadata database (the embedded server, over its Unix socket), Redis from
Debian's packages (`bash scripts/redis`) as the Celery broker, and Airflow 3's api-server,
scheduler, dag-processor and N `airflow celery worker`s (each `--concurrency C`). The sync
configs run every minute, so every tenant of a provider is in one DAG; the DAGs are
unpaused and the scheduler starts them at the next minute. Reported, side by side: tenants
per minute (first DAG run start to last task end), each task's wait (DAG run start to task
start) and duration, and that every tenant's destination equals its sandbox exactly.

    bash scripts/airflow-setup && bash scripts/redis
    .venv/bin/python bench/airflow_celery.py --tenants 16 --records 300 --concurrency 2
"""

from __future__ import annotations

import argparse
import contextlib
import json
import secrets
import socket
import statistics
import subprocess
import sys
import time
from contextlib import ExitStack
from pathlib import Path
from urllib.parse import urlsplit

import psutil
import psycopg2

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tap_hubspot.sandbox import HubSpotSandbox
from tap_hubspot.sandbox.ratelimit import RateLimits
from tap_salesforce.sandbox import SalesforceSandbox
from tenantsync import embedded_pg
from tests.proof.harness import Deployment, Tenant

REPO = Path(__file__).resolve().parents[1]
AIRFLOW_BIN = REPO / ".venv-airflow" / "bin"
TENANTSYNC = str(Path(sys.executable).with_name("tenantsync"))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def every_minute(d: Deployment) -> None:
    """Every sync config runs every minute: one DAG per provider holds all its tenants."""
    with d.registry() as reg:
        for config in reg.sync_configs():
            config.default_config = {**config.default_config, "period_ms": 60_000}


class Airflow:
    """An Airflow deployment with the CeleryExecutor and `workers` Celery workers."""

    def __init__(self, root: Path, pg_uri: str, d: Deployment, workers: int,
                 concurrency: int, stack: ExitStack):
        self.root, self.d, self.stack = root, d, stack
        parts = urlsplit(pg_uri)
        socket_dir = dict(p.split("=", 1) for p in parts.query.split("&"))["host"]
        name = f"airflow_{root.name}"
        conn = psycopg2.connect(pg_uri)
        conn.autocommit = True
        conn.cursor().execute(f'CREATE DATABASE "{name}"')
        conn.close()
        self.db = f"postgresql://{parts.username}@/{name}?host={socket_dir}"
        api_port, redis_port = free_port(), free_port()
        self.env = {
            **d.env, "AIRFLOW_HOME": str(root), "AIRFLOW__CORE__DAGS_FOLDER": str(root / "dags"),
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "AIRFLOW__CORE__EXECUTOR": "CeleryExecutor",
            "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": self.db.replace(
                "postgresql://", "postgresql+psycopg2://", 1),
            "AIRFLOW__CELERY__BROKER_URL": f"redis://127.0.0.1:{redis_port}/0",
            "AIRFLOW__CELERY__RESULT_BACKEND": f"db+{self.db}",
            "AIRFLOW__API__PORT": str(api_port),
            "AIRFLOW__CORE__EXECUTION_API_SERVER_URL":
                f"http://127.0.0.1:{api_port}/execution/",
            "AIRFLOW__API_AUTH__JWT_SECRET": secrets.token_hex(32),
            "AIRFLOW__DAG_PROCESSOR__MIN_FILE_PROCESS_INTERVAL": "10",
            "AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL": "5"}
        self.redis_port, self.workers, self.concurrency = redis_port, workers, concurrency
        self.procs: dict[str, subprocess.Popen] = {}

    def cli(self, *args: str) -> str:
        done = subprocess.run([str(AIRFLOW_BIN / "airflow"), *args], env=self.env,
                              capture_output=True, text=True, cwd=self.root)
        if done.returncode:
            raise RuntimeError(f"airflow {' '.join(args)}: {(done.stdout + done.stderr)[-3000:]}")
        return done.stdout

    def spawn(self, name: str, *cmd: str) -> None:
        log = open(self.root / f"{name}.log", "w")  # noqa: SIM115 (closed with the process)
        proc = subprocess.Popen(list(cmd), env=self.env, cwd=self.root, stdout=log,
                                stderr=subprocess.STDOUT, start_new_session=True)
        self.procs[name] = proc

        def stop() -> None:
            """Stop the process and everything it started (task runs of later DAG runs)."""
            with contextlib.suppress(psutil.Error):
                family = [psutil.Process(proc.pid),
                          *psutil.Process(proc.pid).children(recursive=True)]
                for member in family:
                    with contextlib.suppress(psutil.Error):
                        member.terminate()
                _gone, alive = psutil.wait_procs(family, timeout=15)
                for member in alive:
                    with contextlib.suppress(psutil.Error):
                        member.kill()
            proc.wait()
            log.close()
        self.stack.callback(stop)

    def start(self) -> None:
        (self.root / "dags").mkdir(parents=True, exist_ok=True)
        done = subprocess.run([TENANTSYNC, "airflow", "install", "--pool-slots",
                               str(self.workers * self.concurrency)], env=self.env,
                              cwd=self.d.root, capture_output=True, text=True)
        assert done.returncode == 0, done.stderr
        self.cli("db", "migrate")
        self.cli("pools", "import", str(self.d.root / "tenantsync.pools.json"))
        self.spawn("redis", "redis-server", "--port", str(self.redis_port), "--bind",
                   "127.0.0.1", "--save", "", "--appendonly", "no")
        airflow = str(AIRFLOW_BIN / "airflow")
        self.spawn("api-server", airflow, "api-server", "--host", "127.0.0.1", "--workers", "1")
        self.spawn("scheduler", airflow, "scheduler")
        self.spawn("dag-processor", airflow, "dag-processor")
        for i in range(self.workers):
            self.spawn(f"worker{i}", airflow, "celery", "worker", "--concurrency",
                       str(self.concurrency), "--celery-hostname", f"w{i}@%h",
                       "--skip-serve-logs", "--without-gossip", "--without-mingle")

    def check_alive(self) -> None:
        for name, proc in self.procs.items():
            if proc.poll() is not None:
                tail = (self.root / f"{name}.log").read_text()[-3000:]
                raise RuntimeError(f"{name} exited with {proc.returncode}:\n{tail}")

    def query(self, sql: str, *args) -> list[tuple]:
        with psycopg2.connect(self.db) as conn, conn.cursor() as cur:
            cur.execute(sql, args)
            return cur.fetchall()

    def wait_for_dags(self, count: int, timeout: float = 300) -> list[str]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                ids = [r[0] for r in self.query(
                    "SELECT dag_id FROM dag WHERE dag_id LIKE 'tenantsync.%%' "
                    "AND NOT is_stale")]
            except psycopg2.Error:
                ids = []
            if len(ids) == count:
                return ids
            self.check_alive()
            time.sleep(2)
        raise TimeoutError(f"the dag-processor parsed {len(ids)} of {count} DAGs")

    def first_runs(self, dag_ids: list[str], tenants: int, timeout: float = 1800) -> list:
        """(dag run start, task start, task end, state) of every task instance of each
        DAG's first run, once all have ended."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            rows = self.query(
                "SELECT r.start_date, t.start_date, t.end_date, t.state, t.rendered_map_index "
                "FROM dag_run r JOIN task_instance t ON t.dag_id = r.dag_id "
                "AND t.run_id = r.run_id WHERE r.id IN (SELECT min(id) FROM dag_run "
                "WHERE dag_id = ANY(%s) GROUP BY dag_id)", dag_ids)
            done = [r for r in rows if r[3] in ("success", "failed", "skipped",
                                                 "upstream_failed")]
            if len(done) == tenants and len(rows) == tenants:
                return rows
            self.check_alive()
            time.sleep(2)
        raise TimeoutError("the first DAG runs did not finish")


def run(workers: int, args, pg_uri: str, work: Path, sandboxes: list) -> dict:
    tenants = [Tenant(f"customer-{i:03d}", provider, sb)
               for i, (provider, sb) in enumerate(sandboxes)]
    d = Deployment(work / f"project-w{workers}", pg_uri, f"celery_w{workers}", tenants,
                   objects={"salesforce": ("Account", "Contact"),
                            "hubspot": ("company", "contact")})
    every_minute(d)
    with ExitStack() as stack:
        af = Airflow(work / f"w{workers}", pg_uri, d, workers, args.concurrency, stack)
        af.start()
        dag_ids = af.wait_for_dags(len({t.provider for t in tenants}))
        af.cli("dags", "unpause", "--treat-dag-id-as-regex", "-y", r"^tenantsync\.")
        rows = af.first_runs(dag_ids, len(tenants))
        # The next minute's runs may be under way: they read the same data incrementally.
        problems = [f"{t.customer} x {t.provider}: {p}" for t in tenants
                    for p in d.check_exact(t)]
    failed = [r[4] for r in rows if r[3] != "success"]
    first, last = min(r[0] for r in rows), max(r[2] for r in rows)
    waits = sorted((r[1] - r[0]).total_seconds() for r in rows)
    durations = sorted((r[2] - r[1]).total_seconds() for r in rows)
    d.drop()
    return {"workers": workers, "tenants": len(tenants), "failed": failed,
            "exact": not problems and not failed, "problems": problems[:5],
            "seconds": (last - first).total_seconds(),
            "per_minute": len(tenants) / (last - first).total_seconds() * 60,
            "wait_p50": statistics.median(waits), "wait_max": waits[-1],
            "task_p50": statistics.median(durations), "task_max": durations[-1]}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--tenants", type=int, default=16)
    parser.add_argument("--records", type=int, default=300)
    parser.add_argument("--concurrency", type=int, default=2, help="task slots per worker")
    parser.add_argument("--workers", default="1,2")
    args = parser.parse_args()
    with ExitStack() as stack:
        work, pg_uri = stack.enter_context(embedded_pg.scratch("tenantsync-celery-"))
        sandboxes = []
        for i in range(args.tenants):
            if i % 2 == 0:
                sb = SalesforceSandbox(records=args.records, seed=1000 + i)
                sandboxes.append(("salesforce", stack.enter_context(sb)))
            else:
                sb = HubSpotSandbox(records=args.records, seed=2000 + i,
                                    rate_limits=RateLimits(burst=1_000_000))
                sandboxes.append(("hubspot", stack.enter_context(sb)))
        results = [run(int(w), args, pg_uri, work, sandboxes) for w in args.workers.split(",")]
    print(f"{args.tenants} tenants ({args.records} records per object), "
          f"{args.concurrency} task slots per worker")
    print(f"{'workers':>7} {'seconds':>8} {'tenants/min':>11} {'wait p50 s':>10} "
          f"{'wait max s':>10} {'task p50 s':>10} {'task max s':>10}  exact")
    for r in results:
        print(f"{r['workers']:>7} {r['seconds']:>8.1f} {r['per_minute']:>11.1f} "
              f"{r['wait_p50']:>10.1f} {r['wait_max']:>10.1f} {r['task_p50']:>10.1f} "
              f"{r['task_max']:>10.1f}  {'yes' if r['exact'] else 'NO'}")
        for problem in [*r["failed"], *r["problems"]]:
            print(f"        {problem}")
    print(json.dumps(results, default=str))


if __name__ == "__main__":
    main()
