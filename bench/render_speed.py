"""How the rendered Meltano project scales with the number of customers.

For N customers x 2 providers (salesforce, hubspot) it builds a registry, renders it, and
times what Meltano does with the result: `meltano schedule list --format=json` (what the
Airflow DAG generator calls at every parse) and the start-up of one `meltano run --dry-run`
(paid by every sync run). With `--compare` it renders the alternative layout, one inherited
tap and target per (customer, provider) carrying the tenant's config, and times the same.

    .venv/bin/python bench/render_speed.py --customers 1000 --compare
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

from tenantsync.controller import db, render
from tenantsync.controller.registry import Registry

PROVIDERS = ("salesforce", "hubspot")
MELTANO = str(Path(sys.executable).with_name("meltano"))


def seed(reg: Registry, customers: int) -> None:
    reg.apply({
        "providers": [{"provider_name": p, "auth_type": "oauth2", "category": "crm",
                       "config": {"oauth": {"oauth_scopes": ["api"], "credentials": {
                           "client_id": f"{p}-client", "client_secret": f"{p}-secret"}}}}
                      for p in PROVIDERS],
        "destinations": [{"name": "warehouse", "type": "postgres",
                          "credentials": {"host": "db.internal", "port": 5432,
                                          "database": "app", "schema": "supaglue",
                                          "user": "sync", "password": "pw"}}],
        "sync_configs": [{"provider_name": p, "destination_name": "warehouse",
                          "default_config": {"period_ms": 3_600_000},
                          "common_objects": [{"object": "account"}, {"object": "contact"}],
                          "standard_objects": [{"object": "Account"}]} for p in PROVIDERS],
        "customers": [{"customer_id": f"customer-{i:05d}"} for i in range(customers)],
        "connections": [{"customer_id": f"customer-{i:05d}", "provider_name": p,
                         "refresh_token": f"token-{i}-{p}"}
                        for i in range(customers) for p in PROVIDERS]})
    reg.s.commit()


def inherited_layout(doc: dict) -> dict:
    """The same syncs as one inherited tap and target per (customer, provider)."""
    taps = {t["inherit_from"]: t for t in doc["plugins"]["extractors"]}
    loader = doc["plugins"]["loaders"][0]
    extractors, loaders, jobs, schedules = [], [], [], []
    for schedule in doc["schedules"]:
        env, name = schedule["env"], schedule["name"]
        provider = env["TENANTSYNC_PROVIDER_NAME"]
        tap = {"name": f"tap-{provider}--{name}", "inherit_from": f"tap-{provider}",
               "config": {**taps[f"tap-{provider}"]["config"],
                          "connection_id": env["TENANTSYNC_CONNECTION_ID"]}}
        target = {"name": f"target-postgres--{name}", "inherit_from": "target-postgres",
                  "config": {**loader["config"],
                             "customer_id": env["TENANTSYNC_CUSTOMER_ID"],
                             "application_id": env["TENANTSYNC_APPLICATION_ID"],
                             "provider_name": provider}}
        extractors.append(tap)
        loaders.append(target)
        jobs.append({"name": name, "tasks": [f"{tap['name']} {target['name']}"]})
        schedules.append({"name": name, "job": name, "interval": schedule["interval"]})
    return {"plugins": {"extractors": extractors, "loaders": loaders}, "jobs": jobs,
            "schedules": schedules}


def timed(cmd: list[str], cwd: Path) -> float:
    env = {**os.environ, "MELTANO_SEND_ANONYMOUS_USAGE_STATS": "false",
           "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"}
    started = time.perf_counter()
    subprocess.run(cmd, cwd=cwd, env=env, check=True, capture_output=True)
    return time.perf_counter() - started


def meltano_figures(project: Path, job: str) -> tuple[float, float]:
    timed([MELTANO, "schedule", "list", "--format=json"], project)  # warm caches, .meltano/
    schedules = timed([MELTANO, "schedule", "list", "--format=json"], project)
    dry_run = timed([MELTANO, "run", "--dry-run", job], project)
    return schedules, dry_run


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--customers", type=int, default=1000)
    parser.add_argument("--compare", action="store_true",
                        help="also time the inherited-plugin-per-tenant layout")
    args = parser.parse_args()
    os.environ.setdefault("TENANTSYNC_SECRET_KEY", "bench-secret-key-0123456789abcdef")
    with tempfile.TemporaryDirectory(prefix="render-bench-") as tmp:
        root = Path(tmp)
        reg = Registry(db.session(f"sqlite:///{root}/registry.db"), "bench")
        started = time.perf_counter()
        seed(reg, args.customers)
        seeded = time.perf_counter() - started
        project = root / "project"
        started = time.perf_counter()
        result = render.render(reg.s, project)
        first = time.perf_counter() - started
        started = time.perf_counter()
        again = render.render(reg.s, project)
        second = time.perf_counter() - started
        assert not again.changed
        job = sorted(yaml.safe_load(result.path.read_text())["jobs"],
                     key=lambda j: j["name"])[len(PROVIDERS) * args.customers // 2]["name"]
        size = result.path.stat().st_size
        schedules, dry_run = meltano_figures(project, job)
        print(f"{args.customers} customers x {len(PROVIDERS)} providers = {result.syncs} syncs")
        print(f"registry seed (apply, sealing every token): {seeded:.2f} s")
        print(f"render: {first:.3f} s first, {second:.3f} s unchanged; include file "
              f"{size / 1e6:.2f} MB")
        print(f"shared plugins + tenant env per schedule: schedule list {schedules:.2f} s, "
              f"meltano run start-up {dry_run:.2f} s")
        if args.compare:
            alt = root / "inherited"
            alt.mkdir()
            (alt / "meltano.yml").write_text(render.TEMPLATE.read_text())
            doc = inherited_layout(yaml.safe_load(result.path.read_text()))
            text = render.dump(doc)
            (alt / render.INCLUDE_FILE).write_text(text)
            schedules, dry_run = meltano_figures(alt, job)
            print(f"inherited plugins per tenant ({len(text) / 1e6:.2f} MB): schedule list "
                  f"{schedules:.2f} s, meltano run start-up {dry_run:.2f} s")
        reg.s.close()


if __name__ == "__main__":
    main()
