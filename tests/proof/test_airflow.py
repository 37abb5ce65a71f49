"""tenantsync on real Apache Airflow (its own .venv-airflow, installed by
scripts/airflow-setup): Airflow parses the DAG file for a registry of several customers
(paused syncs left out, a new customer picked up at the next parse), and `airflow dags test`
runs sync tasks end to end through `tenantsync run` into Postgres: exact against the
sandbox, recorded in the registry, Meltano's log in the task log; a task whose credentials
the provider refuses fails at once, without retries, and its sync is paused."""

from __future__ import annotations

import json
import subprocess
import sys
from contextlib import ExitStack
from pathlib import Path

import pytest

from tap_hubspot.sandbox import HubSpotSandbox
from tap_salesforce.sandbox import SalesforceSandbox
from tenantsync.controller.cli import EXIT_PAUSED
from tests.proof.harness import APP, Tenant

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[2]
AIRFLOW_VENV = REPO / ".venv-airflow"
TENANTSYNC = str(Path(sys.executable).with_name("tenantsync"))

# What Airflow's parse found, from Airflow's own DagBag over the DAG folder.
PARSE = """
import json, sys
from airflow.dag_processing.dagbag import DagBag
bag = DagBag(sys.argv[1])
out = {"errors": {k: str(v)[-500:] for k, v in bag.import_errors.items()}, "dags": {}}
for dag_id, dag in bag.dags.items():
    tasks = {t.task_id: {"pool": t.pool, "retries": t.retries,
                         "customers": t.op_kwargs_expand_input.value["customer"]}
             for t in dag.tasks}
    out["dags"][dag_id] = {"schedule": dag.timetable.expression, "tags": sorted(dag.tags),
                           "tasks": tasks}
print(json.dumps(out))
"""


@pytest.fixture(scope="module")
def airflow_venv():
    subprocess.run(["bash", str(REPO / "scripts" / "airflow-setup")], check=True)
    return AIRFLOW_VENV / "bin"


def test_airflow_parses_the_registry_and_runs_syncs_exactly(deploy, tmp_path, airflow_venv):
    with ExitStack() as stack:
        sf = {c: Tenant(c, "salesforce", stack.enter_context(
            SalesforceSandbox(records=120, seed=i))) for i, c in
            enumerate(("acme", "globex", "initech", "umbrella"))}
        hs = Tenant("acme", "hubspot", stack.enter_context(HubSpotSandbox(records=80, seed=9)))
        d = deploy([*sf.values(), hs], objects={"salesforce": ("Account", "Contact"),
                                                "hubspot": ("company",)})
        home = tmp_path / "airflow"
        env = {**d.env, "AIRFLOW_HOME": str(home), "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
               "AIRFLOW__CORE__DAGS_FOLDER": str(home / "dags"),
               "AIRFLOW__LOGGING__LOGGING_LEVEL": "INFO"}

        def tenantsync(*args: str) -> subprocess.CompletedProcess:
            return subprocess.run([TENANTSYNC, *args], env=env, cwd=d.root,
                                  capture_output=True, text=True)

        def airflow(*args: str, check: bool = True) -> subprocess.CompletedProcess:
            done = subprocess.run([str(airflow_venv / "airflow"), *args], env=env, cwd=d.root,
                                  capture_output=True, text=True)
            assert not check or done.returncode == 0, (done.stdout + done.stderr)[-4000:]
            return done

        def parse() -> dict:
            done = subprocess.run([str(airflow_venv / "python"), "-c", PARSE,
                                   str(home / "dags")], env=env, capture_output=True,
                                  text=True, check=True)
            found = last_json(done)
            assert not found["errors"], found["errors"]
            return found["dags"]

        def slot_of(dags: dict, customer: str, provider: str) -> str:
            (dag_id,) = [i for i, dag in dags.items() if f".{provider}." in i and any(
                customer in t["customers"] for t in dag["tasks"].values())]
            return dag_id

        assert tenantsync("syncs", "pause", "umbrella", "salesforce").returncode == 0
        done = tenantsync("airflow", "install", "--pool-slots", "2")
        assert done.returncode == 0, done.stderr
        airflow("db", "migrate")
        airflow("pools", "import", str(d.root / "tenantsync.pools.json"))
        pools = last_json(airflow("pools", "list", "-o", "json"))
        assert {p["pool"]: int(p["slots"]) for p in pools if p["pool"] != "default_pool"} \
            == {f"tenantsync.{APP}.salesforce": 2, f"tenantsync.{APP}.hubspot": 2}

        dags = parse()
        customers = {(dag_id.split(".")[2], c) for dag_id, dag in dags.items()
                     for t in dag["tasks"].values() for c in t["customers"]}
        assert customers == {("salesforce", "acme"), ("salesforce", "globex"),
                             ("salesforce", "initech"), ("hubspot", "acme")}  # not umbrella
        index = json.loads((d.root / "tenantsync.syncs.json").read_text())["syncs"]
        crons = {(provider, customer): cron for _app, customer, provider, cron in index}
        for dag_id, dag in dags.items():
            provider = dag_id.split(".")[2]
            assert {crons[provider, c] for t in dag["tasks"].values()
                    for c in t["customers"]} == {dag["schedule"]}
            assert dag["tags"] == sorted(["tenantsync", f"application:{APP}",
                                          f"provider:{provider}"])
            assert all(t["pool"] == f"tenantsync.{APP}.{provider}" and t["retries"] == 3
                       for t in dag["tasks"].values())
        # a paused sync that Airflow still starts (paused after the parse) is skipped
        assert tenantsync("run", "umbrella", "salesforce").returncode == EXIT_PAUSED

        # acme's Salesforce sync, through Airflow
        dag_id = slot_of(dags, "acme", "salesforce")
        assert dags[dag_id]["tasks"]["sync"]["customers"] == ["acme"], "pick other customers"
        ran = airflow("dags", "test", dag_id)
        log = ran.stdout + ran.stderr
        assert "METRIC" in log and "record_count" in log  # the run's Meltano log
        assert not d.check_exact(sf["acme"])
        with d.registry() as reg:
            runs = reg.runs("acme", "salesforce", 50)  # one per object of the one run
            assert {r.status for r in runs} == {"SUCCESS"}
            assert sum(r.num_records for r in runs) > 0

        # a new customer shows up at the next parse, without a restart
        done = tenantsync("customers", "add", "hooli")
        assert done.returncode == 0, done.stderr
        sb_new = stack.enter_context(SalesforceSandbox(records=60, seed=42))
        sb_new.oauth.register_client(sf["acme"].sandbox.client_id,
                                     sf["acme"].sandbox.client_secret)
        token = sb_new.oauth.mint_refresh_token(sf["acme"].sandbox.client_id)
        connection = d.root / "hooli.json"
        connection.write_text(json.dumps({"customer_id": "hooli", "provider_name": "salesforce",
                                          "type": "oauth2", "refresh_token": token,
                                          "login_url": sb_new.base_url}))
        done = tenantsync("apply", "-f", str(connection))
        assert done.returncode == 0, done.stderr
        assert slot_of(parse(), "hooli", "salesforce")

        # refused credentials: the task fails without a retry, and the sync is paused
        sf["globex"].sandbox.oauth.revoke_refresh_tokens()
        dag_id = slot_of(dags, "globex", "salesforce")
        ran = airflow("dags", "test", dag_id, check=False)
        assert ran.returncode != 0 and "salesforce refused globex's credentials" in \
            ran.stdout + ran.stderr
        states = airflow("tasks", "states-for-dag-run", dag_id,
                         _last_run_id(airflow, dag_id), "-o", "json")
        (ti,) = [t for t in last_json(states) if t["task_id"] == "sync"]
        assert ti["state"] == "failed", ti  # not up_for_retry
        with d.registry() as reg:
            assert reg.sync("globex", "salesforce").paused
        assert "globex" not in {c for dag in parse().values()
                                for t in dag["tasks"].values() for c in t["customers"]}


def _last_run_id(airflow, dag_id: str) -> str:
    runs = last_json(airflow("dags", "list-runs", dag_id, "-o", "json"))
    return max(runs, key=lambda r: r["start_date"] or "")["run_id"]


def last_json(done: subprocess.CompletedProcess):
    """The JSON an Airflow command printed last (log lines come before it)."""
    return json.loads(done.stdout.strip().splitlines()[-1])
