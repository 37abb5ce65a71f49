"""`tenantsync demo`: the whole flow on one machine, offline.

Starts a Salesforce org and a HubSpot portal twin per customer (acme, globex) and the embedded
Postgres; registers an application, the two customers, the providers' OAuth apps, the
destination, a sync config per provider and each customer's connections (imported tokens);
renders the Meltano project; runs `meltano run` for every sync (full); changes data in the
twins (renames, a new record, deletes); runs every sync again (incremental); and prints what
landed, the runs, and a psql command to look at the data.
"""

from __future__ import annotations

import os
import shutil
import time
from contextlib import ExitStack
from pathlib import Path

import platformdirs
import psycopg2

from tenantsync import embedded_pg
from tenantsync.controller import crypto, db, render
from tenantsync.controller.cli import table
from tenantsync.controller.registry import Registry
from tenantsync.controller.runner import run_sync
from tenantsync.sandbox.hubspot import HubSpotSandbox
from tenantsync.sandbox.salesforce import SalesforceSandbox

SCHEMA = "supaglue"
APPLICATION = "demo-app"
CUSTOMERS = {"acme": 11, "globex": 22}  # customer -> seed of its twins' data
PROVIDERS = ("salesforce", "hubspot")
SYNC_CONFIGS = {
    "salesforce": {"common_objects": [{"object": o} for o in ("account", "contact",
                                                              "opportunity")],
                   "standard_objects": [{"object": o} for o in ("Account", "Contact",
                                                                "Opportunity")],
                   "custom_objects": [{"object": "Invoice__c"}]},
    "hubspot": {"common_objects": [{"object": o} for o in ("account", "contact")],
                "standard_objects": [{"object": o} for o in ("company", "contact", "deal")]},
}


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
    path = project / ".tenantsync" / "demo-secret-key"
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists():
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(crypto.generate_secret())
    return path.read_text().strip()


def _register(reg: Registry, uri: str, orgs: dict, portals: dict) -> None:
    sf, hs = orgs["acme"], portals["acme"]
    for other in CUSTOMERS:  # one OAuth app per provider: every org and portal knows it
        orgs[other].oauth.register_client(sf.client_id, sf.client_secret)
        portals[other].oauth.register_client(hs.client_id, hs.client_secret)
    apps = {"salesforce": (sf.client_id, sf.client_secret, ["api", "refresh_token"]),
            "hubspot": (hs.client_id, hs.client_secret, ["crm.objects.companies.read",
                                                         "crm.objects.contacts.read",
                                                         "crm.objects.deals.read"])}
    reg.application("tenantsync demo")
    reg.apply({
        "providers": [{"provider_name": p, "auth_type": "oauth2", "category": "crm",
                       "config": {"oauth": {"oauth_scopes": scopes, "credentials": {
                           "client_id": cid, "client_secret": secret}}}}
                      for p, (cid, secret, scopes) in apps.items()],
        "destinations": [{"name": "demo-postgres", "type": "postgres",
                          "credentials": {"sqlalchemy_url": uri, "schema": SCHEMA}}],
        "sync_configs": [{"provider_name": p, "destination_name": "demo-postgres",
                          "default_config": {"period_ms": 3_600_000,
                                             "strategy": "full then incremental",
                                             "full_sync_every_n_incrementals": 6},
                          **objects} for p, objects in SYNC_CONFIGS.items()],
        "customers": [{"customer_id": c, "name": c.title(), "email": f"it@{c}.example"}
                      for c in CUSTOMERS],
        # Imported tokens, as the management API's "create connection" takes them.
        "connections": [
            *({"customer_id": c, "provider_name": "salesforce", "type": "oauth2",
               "refresh_token": orgs[c].oauth.mint_refresh_token(sf.client_id),
               "login_url": orgs[c].base_url} for c in CUSTOMERS),
            *({"customer_id": c, "provider_name": "hubspot", "type": "oauth2",
               "refresh_token": portals[c].oauth.mint_refresh_token(hs.client_id),
               "base_url": portals[c].base_url} for c in CUSTOMERS)]})
    reg.s.commit()


def _mutate(uri: str, orgs: dict, portals: dict) -> list[str]:
    """Change data in the twins the way users do; returns what was done."""
    done = []

    def first_ids(table: str, customer: str, n: int) -> list[str]:
        with psycopg2.connect(uri) as conn, conn.cursor() as cur:
            cur.execute(f'SELECT _supaglue_id FROM "{SCHEMA}"."{table}" WHERE '
                        "_supaglue_application_id = %s AND _supaglue_customer_id = %s AND NOT "
                        "_supaglue_is_deleted ORDER BY _supaglue_id LIMIT %s",
                        (APPLICATION, customer, n))
            return [r[0] for r in cur.fetchall()]

    for twin in [*orgs.values(), *portals.values()]:
        twin.advance_clock(600)  # the changes happen after the first sync
    acme = orgs["acme"]
    renamed, deleted = first_ids("salesforce_account", "acme", 2)
    acme.update("Account", renamed, {"Name": "Acme Renamed Holdings"})
    acme.create("Account", {"Name": "Acme New Venture"})
    acme.delete("Account", deleted)
    done.append("acme/salesforce: renamed 1 account, created 1, deleted 1")
    globex = portals["globex"]
    renamed, archived = first_ids("hubspot_company", "globex", 2)
    globex.update("companies", renamed, {"name": "Globex Renamed Corp"})
    globex.delete("companies", archived)
    done.append("globex/hubspot: renamed 1 company, archived 1")
    for twin in [*orgs.values(), *portals.values()]:
        twin.advance_clock(600)
    return done


def run_demo(data_dir: str | None = None) -> None:
    data_path = Path(data_dir) if data_dir else embedded_pg.default_data_dir()
    project = Path(data_dir).parent / "demo-project" if data_dir else \
        platformdirs.user_data_path("tenantsync") / "demo-project"
    print(f"Starting the embedded PostgreSQL in {data_path} ...")
    uri = embedded_pg.start(data_path)
    _clear_previous_demo(uri)
    shutil.rmtree(project, ignore_errors=True)  # a fresh registry and Meltano project
    project.mkdir(parents=True)
    os.environ.update({db.PROJECT_ENV: str(project), crypto.KEY_ENV: _secret_key(project),
                       db.URL_ENV: f"sqlite:///{project}/.tenantsync/registry.db",
                       "TENANTSYNC_APPLICATION_ID": APPLICATION})
    with ExitStack() as stack:
        print("Starting the provider twins: a Salesforce org and a HubSpot portal per customer")
        orgs = {c: stack.enter_context(SalesforceSandbox(records=400, seed=seed))
                for c, seed in CUSTOMERS.items()}
        portals = {c: stack.enter_context(HubSpotSandbox(records=300, seed=seed,
                                                         portal_id=1000 + seed))
                   for c, seed in CUSTOMERS.items()}
        reg = Registry(db.session(), APPLICATION)
        _register(reg, uri, orgs, portals)
        result = render.render(reg.s, project)
        print(f"Registered 2 customers x {len(PROVIDERS)} providers; rendered {result.syncs} "
              f"syncs into {result.path}")
        timings = []
        for phase in ("first sync (full)", "second sync (incremental)"):
            if timings:
                for line in _mutate(uri, orgs, portals):
                    print(f"Changed in the twins: {line}")
            print(f"\n== {phase} ==")
            for customer in CUSTOMERS:
                for provider in PROVIDERS:
                    started = time.monotonic()
                    run = run_sync(reg, customer, provider, project, echo=print)
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
    query = (f"SELECT _supaglue_customer_id, _supaglue_raw_data->>'Name' AS name, "
             f"_supaglue_is_deleted FROM {SCHEMA}.salesforce_account ORDER BY 1, 2 LIMIT 20")
    print(f"\nLook at the data:\n  {psql} '{uri}' -c \"{query}\"")
    print(f"The registry and the Meltano project are in {project}:\n"
          f"  cd {project} && TENANTSYNC_APPLICATION_ID={APPLICATION} tenantsync runs")
    print(f"Stop the embedded server when done:  tenantsync db stop"
          f"{'' if data_dir is None else f' --data-dir {data_dir}'}")
