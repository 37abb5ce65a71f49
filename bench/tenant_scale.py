"""What one sync run and a scheduler pay as the registry grows (issue #21).

For registries of 1, 1,000 and 10,000 customers x every provider with a twin (one sync per
customer and provider; only acme's connections point at running twins, the others are never
run) it prints, side by side:
- render: `tenantsync render`'s work in-process (first, then with nothing changed), and a
  change to one customer rendered alone (`one customer`: spliced into the file, as the
  Management API and CLI do);
- listing: every sync with its schedule as an orchestrator reads it (the sync index that
  Airflow's DAG file loads and groups at every parse);
- the fixed cost of a sync run: `tenantsync run acme salesforce` as a process, a `full then
  incremental` sync with nothing to read (median of the no-change runs after a full one),
  discovering the catalog as every run does by default, and with TENANTSYNC_CATALOG_MAX_AGE
  set (`kept catalog`: the runs reuse the catalog the first of them discovered);
- Meltano's start-up (`meltano run --dry-run <job>`) in the sync's own project, which is
  where runs start, and in the whole rendered project, where they started before.

    .venv/bin/python bench/tenant_scale.py --customers 1 1000 10000
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import insert, select

from tenantsync import embedded_pg, providers
from tenantsync.controller import catalog_cache, render, sync_index, sync_project
from tenantsync.controller.models import Connection, Customer, Sync, SyncConfig
from tests.proof.harness import Deployment, Tenant

MELTANO = str(Path(sys.executable).with_name("meltano"))


def add_customers(d: Deployment, count: int) -> None:
    """`count` more customers, each with a connection to every provider (never run), inserted
    in bulk: rows like acme's (its settings and sealed tokens), a sync per sync config."""
    with d.registry() as reg:
        s = reg.s
        like = {c.provider_id: c for c in reg.connections()}
        configs = s.execute(select(SyncConfig.id, SyncConfig.provider_id)
                            .where(SyncConfig.application_id == reg.app_id)).all()
        names = [f"customer-{i:05d}" for i in range(count)]
        for start in range(0, count, 5000):
            chunk = names[start:start + 5000]
            s.execute(insert(Customer), [{"application_id": reg.app_id, "customer_id": name}
                                         for name in chunk])
            customers = s.scalars(select(Customer.id).where(
                Customer.application_id == reg.app_id, Customer.customer_id.in_(chunk))).all()
            s.execute(insert(Connection), [
                {"customer_pk": pk, "provider_id": provider, "settings": c.settings,
                 "sealed_credentials": c.sealed_credentials}
                for pk in customers for provider, c in like.items()])
            connections = s.execute(select(Connection.id, Connection.provider_id).where(
                Connection.customer_pk.in_(customers))).all()
            s.execute(insert(Sync), [
                {"connection_id": conn, "sync_config_id": config, "paused": False,
                 "args_for_next_run": {}}
                for conn, provider in connections
                for config, of in configs if of == provider])


def render_one_customer(reg, project: Path) -> float:
    """Seconds to render a change to one customer (acme's Salesforce sync paused, then
    resumed: the median of the two renders, each of acme's syncs alone), as the Management
    API and the CLI do; checked against a whole render."""
    seconds = []
    for paused in (True, False):
        reg.sync("acme", "salesforce").paused = paused
        reg.s.commit()
        took, _ = timed(lambda: render.render(reg.s, project, [(reg.app_id, "acme")]))
        seconds.append(took)
    spliced = (project / render.INCLUDE_FILE).read_text()
    render.render(reg.s, project)
    assert (project / render.INCLUDE_FILE).read_text() == spliced
    return statistics.median(seconds)


def timed(fn) -> tuple[float, object]:
    started = time.perf_counter()
    result = fn()
    return time.perf_counter() - started, result


def listing(project: Path) -> int:
    """What Airflow's DAG file does with the index: load it, group it by schedule slot."""
    slots: dict[tuple, list] = {}
    for app, customer, provider, cron in json.loads(
            (project / sync_index.INDEX_FILE).read_text())["syncs"]:
        if cron is not None:
            slots.setdefault((app, provider, cron), []).append(customer)
    return sum(map(len, slots.values()))


def dry_run(cwd: Path, job: str, env: dict) -> float:
    started = time.perf_counter()
    subprocess.run([MELTANO, "run", "--dry-run", job], cwd=cwd, env=env, check=True,
                   capture_output=True)
    return time.perf_counter() - started


def no_change_runs(d: Deployment, tenant: Tenant, runs: int) -> list[float]:
    """Seconds of `runs` + 1 runs; after the first, a sync with nothing to read (the first
    is full on a new registry)."""
    seconds = []
    for _ in range(runs + 1):
        outcome = d.run(tenant)
        assert outcome.code == 0, outcome.output[-2000:]
        assert not seconds or not sum(outcome.records.values()), outcome.records
        seconds.append(outcome.seconds)
    return seconds


def measure(root: Path, uri: str, customers: int, twins: dict, runs: int,
            whole_up_to: int) -> dict:
    tenants = [Tenant("acme", name, sb) for name, sb in twins.items()]
    d = Deployment(root, uri, f"scale_{uuid.uuid4().hex[:8]}", tenants)
    if customers > 1:
        add_customers(d, customers - 1)
    with d.registry() as reg:
        first, result = timed(lambda: render.render(reg.s, d.root))
        again, _ = timed(lambda: render.render(reg.s, d.root))
        one = render_one_customer(reg, d.root)
    list_s, listed = timed(lambda: listing(d.root))
    acme = next(t for t in tenants if t.provider == "salesforce")
    seconds = no_change_runs(d, acme, runs)
    d.env[catalog_cache.MAX_AGE_ENV] = "3600"  # runs reuse the catalog the first discovered
    kept = no_change_runs(d, acme, runs)[1:]
    del d.env[catalog_cache.MAX_AGE_ENV]
    with d.registry() as reg:
        (view,) = [v for v in reg.sync_views() if v.customer_id == "acme"
                   and v.provider == "salesforce"]
    job, own = render.sync_name(view), sync_project.folder(d.root, view)
    env = {**d.env, **render.tenant_env(view)}
    own_s = dry_run(own, job, env)
    whole_s = dry_run(d.root, job, env) if customers <= whole_up_to else None
    d.drop()
    return {"customers": customers, "syncs": result.syncs, "listed": listed,
            "render": first, "render again": again, "one customer": one,
            "include MB": result.path.stat().st_size / 1e6, "listing": list_s,
            "full run": seconds[0],
            "no-change run": statistics.median(seconds[1:]),
            "kept catalog": statistics.median(kept), "own start-up": own_s,
            "whole start-up": whole_s}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--customers", type=int, nargs="+", default=[1, 1000, 10000])
    parser.add_argument("--runs", type=int, default=3, help="no-change runs per registry")
    parser.add_argument("--whole-up-to", type=int, default=10000,
                        help="time Meltano's start-up in the whole project up to this many "
                             "customers")
    args = parser.parse_args()
    specs = providers.with_twins()
    with embedded_pg.scratch("tenant-scale-") as (tmp, uri):
        twins = {s.name: s.twin.start(records=20, seed=3) for s in specs}
        try:
            rows = [measure(tmp / f"n{n}", uri, n, twins, args.runs, args.whole_up_to)
                    for n in args.customers]
        finally:
            for sb in twins.values():
                sb.stop()
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    print(f"providers: {', '.join(twins)}; seconds unless said; load average {load}")
    head = ["customers", "syncs", "render", "render again", "one customer", "include MB",
            "listing",
            "full run", "no-change run", "kept catalog", "own start-up", "whole start-up"]
    print(" | ".join(head))
    for row in rows:
        print(" | ".join("-" if row[k] is None else f"{row[k]:,}" if isinstance(row[k], int)
                         else f"{row[k]:.2f}" for k in head))


if __name__ == "__main__":
    main()
