"""`tenantsync demo`: the whole flow on one machine, offline.

Starts a twin of every registered provider that has one (tenantsync.providers), per customer
of its category (acme and globex connect the CRM and uncategorised providers, initech the
engagement ones), and the embedded Postgres; registers an application, the customers, the
providers' OAuth apps, the destination, a sync config per provider (its spec's demo objects;
an engagement provider's every common object) and each customer's connections (imported
tokens or API keys);
renders the Meltano project; runs `meltano run` for every sync (full); changes data in the
twins (each provider's own `mutate`: new, renamed and deleted records); runs every sync again
(incremental); and prints what landed, the runs, and a psql command to look at the data.
"""

from __future__ import annotations

import os
import shutil
import sys
import time
from contextlib import ExitStack
from pathlib import Path

import psycopg2

from tenantsync import embedded_pg, providers
from tenantsync.contract import slug
from tenantsync.controller import crypto, db, render
from tenantsync.controller.display import table
from tenantsync.controller.registry import Registry
from tenantsync.controller.runner import run_sync

SCHEMA = "supaglue"
APPLICATION = "demo-app"
# customer -> (seed of its twins' data, the provider categories it connects)
CUSTOMERS = {"acme": (11, ("crm", "none")), "globex": (22, ("crm", "none")),
             "initech": (33, ("engagement",))}
def summary(uri: str) -> list[tuple[str, str, str, int, int]]:
    """(table, customer, provider, rows, deleted rows) of every table of the demo schema."""
    out = []
    with psycopg2.connect(uri) as conn, conn.cursor() as cur:
        cur.execute("SELECT table_name, table_type FROM information_schema.tables "
                    "WHERE table_schema = %s ORDER BY table_name", (SCHEMA,))
        for name, kind in cur.fetchall():
            if kind == "VIEW":
                continue
            common = name.startswith(("crm_", "engagement_"))
            deleted = "is_deleted" if common else "_supaglue_is_deleted"
            cur.execute(f"SELECT _supaglue_customer_id, _supaglue_provider_name, count(*), "
                        f'count(*) FILTER (WHERE {deleted}) FROM "{SCHEMA}"."{name}" '
                        "WHERE _supaglue_application_id = %s GROUP BY 1, 2 ORDER BY 1, 2",
                        (APPLICATION,))
            out += [(name, *row) for row in cur.fetchall()]
    return out


def demo_objects(spec: providers.ProviderSpec) -> dict[str, list]:
    """The provider's demo sync config objects: its spec's, and for an engagement provider
    every common object it offers (the demo's engagement customer lands all six tables)."""
    objects = dict(spec.twin.demo_objects)
    if spec.category == "engagement":
        objects["common_objects"] = [{"object": o} for o in spec.objects.common]
    return objects


def _clear_previous_demo(uri: str) -> None:
    """Remove rows an earlier demo left (your own tables, views and other tenants stay)."""
    with psycopg2.connect(uri) as conn, conn.cursor() as cur:
        cur.execute("SELECT table_name FROM information_schema.tables WHERE table_schema = %s "
                    "AND table_type = 'BASE TABLE'", (SCHEMA,))
        for (name,) in cur.fetchall():
            cur.execute(f'DELETE FROM "{SCHEMA}"."{name}" WHERE _supaglue_application_id = %s',
                        (APPLICATION,))


def _secret_key(project: Path) -> str:
    """The demo's registry key: yours if set, else one kept (0600) beside the demo registry."""
    if os.environ.get(crypto.KEY_ENV):
        return os.environ[crypto.KEY_ENV]
    path = db.private_dir(project / ".tenantsync") / "demo-secret-key"
    if not path.exists():
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(crypto.generate_secret())
    return path.read_text().strip()


def _register(reg: Registry, uri: str, twins: dict) -> None:
    """`twins`: provider spec -> customer -> its running twin."""
    apps = {spec: next(iter(boxes.values())) for spec, boxes in twins.items()}
    for spec, boxes in twins.items():  # one OAuth app per provider: every twin knows it
        app = apps[spec]
        for box in boxes.values():
            if box is not app:
                box.oauth.register_client(app.client_id, app.client_secret)
    reg.application("tenantsync demo")
    reg.apply({
        "providers": [providers.registry_provider(spec, app.client_id, app.client_secret)
                      for spec, app in apps.items()],
        "destinations": [{"name": "demo-postgres", "type": "postgres",
                          "credentials": {"sqlalchemy_url": uri, "schema": SCHEMA}}],
        "sync_configs": [{"provider_name": spec.name, "destination_name": "demo-postgres",
                          "default_config": {"period_ms": 3_600_000,
                                             "strategy": "full then incremental",
                                             "full_sync_every_n_incrementals": 6},
                          **demo_objects(spec)} for spec in twins],
        "customers": [{"customer_id": c, "name": c.title(), "email": f"it@{c}.example"}
                      for c in CUSTOMERS],
        # Imported tokens, as the management API's "create connection" takes them.
        "connections": [{"customer_id": c, "provider_name": spec.name,
                         **providers.twin_connection(spec, box, apps[spec].client_id)}
                        for spec, boxes in twins.items() for c, box in boxes.items()]})
    reg.s.commit()


def _mutate(twins: dict) -> list[str]:
    """Change data in the twins the way users do (each provider's own change; the second
    customer's includes a delete); returns what was done."""
    done = []
    boxes = [box for per_customer in twins.values() for box in per_customer.values()]
    for box in boxes:
        box.advance_clock(600)  # the changes happen after the first sync
    for spec, per_customer in twins.items():
        # steps 0, 1 for two customers, 1 for one: the last one's change includes a delete
        for step, (customer, box) in enumerate(per_customer.items(),
                                               start=len(per_customer) % 2):
            done.append(f"{customer}/{spec.name}: {spec.twin.mutate(box, step)}")
    for box in boxes:
        box.advance_clock(600)
    return done


# The demo's state (Postgres, registry, Meltano project) without --data-dir: in the working
# directory (scripts/demo runs in the checkout), so each checkout has its own and keeps it.
DEMO_DIR = ".demo"


def run_demo(data_dir: str | None = None) -> None:
    data_path = Path(data_dir) if data_dir else Path.cwd() / DEMO_DIR / "postgres"
    project = data_path.parent / "demo-project"
    print(f"The demo's state (PostgreSQL, registry, Meltano project): {data_path.parent}")
    print(f"Starting the embedded PostgreSQL in {data_path} ...")
    uri = embedded_pg.start(data_path)
    _clear_previous_demo(uri)
    shutil.rmtree(project, ignore_errors=True)  # a fresh registry and Meltano project
    project.mkdir(parents=True)
    os.environ.update({db.PROJECT_ENV: str(project), crypto.KEY_ENV: _secret_key(project),
                       db.URL_ENV: f"sqlite:///{project}/.tenantsync/registry.db",
                       "TENANTSYNC_APPLICATION_ID": APPLICATION})
    with ExitStack() as stack:
        specs = providers.with_twins()
        print("Starting the provider twins, one per customer: "
              + ", ".join(spec.label or spec.name for spec in specs))
        twins = {spec: {c: stack.enter_context(spec.twin.start("demo", seed=seed))
                        for c, (seed, categories) in CUSTOMERS.items()
                        if spec.category in categories} for spec in specs}
        twins = {spec: boxes for spec, boxes in twins.items() if boxes}
        reg = Registry(db.session(), APPLICATION)
        _register(reg, uri, twins)
        result = render.render(reg.s, project)
        print(f"Registered {len(CUSTOMERS)} customers and {len(twins)} providers; rendered "
              f"{result.syncs} syncs into {result.path}")
        timings = []
        for phase in ("first sync (full)", "second sync (incremental)"):
            if timings:
                for line in _mutate(twins):
                    print(f"Changed in the twins: {line}")
            print(f"\n== {phase} ==")
            for customer in CUSTOMERS:
                for provider in (spec.name for spec in twins if customer in twins[spec]):
                    started = time.monotonic()
                    run = run_sync(reg, customer, provider, project, echo=print,
                                   live=sys.stdout.isatty())
                    if run.status != "SUCCESS":
                        raise SystemExit(f"the sync of {customer} x {provider} failed: "
                                         f"{run.error}")
                    timings.append((customer, provider, run.strategy, run.num_records,
                                    sum(r.get("deleted", 0) for r in run.records.values()),
                                    f"{time.monotonic() - started:.1f}"))
    print("\nRuns (records written, rows marked deleted by full-sync sweeps, seconds with "
          "meltano's start-up):")
    print(table(["customer", "provider", "strategy", "records", "swept", "seconds"], timings))
    print(f"\nWhat landed in schema {SCHEMA!r} (application {APPLICATION!r}):")
    print(table(["table", "customer", "provider", "rows", "deleted"], summary(uri)))
    psql = shutil.which("psql") or "psql"
    spec = next(s for s in twins if s.twin.demo_objects.get("standard_objects"))
    first = spec.twin.demo_objects["standard_objects"][0]["object"]
    query = (f"SELECT _supaglue_customer_id, _supaglue_id, _supaglue_is_deleted, "
             f"left(_supaglue_raw_data::text, 60) FROM {SCHEMA}.{spec.name}_{slug(first)} "
             "ORDER BY 1, 2 LIMIT 20")
    print(f"\nLook at the data:\n  {psql} '{uri}' -c \"{query}\"")
    print(f"The registry and the Meltano project are in {project}:\n"
          f"  cd {project} && TENANTSYNC_APPLICATION_ID={APPLICATION} tenantsync runs")
    print("The twins stopped with the demo: a `tenantsync run` there now says so at once "
          "(connection refused); run the demo again to sync anew.")
    print(f"Stop the embedded server when done:  tenantsync db stop --data-dir {data_path}")
