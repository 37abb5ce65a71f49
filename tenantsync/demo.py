"""`tenantsync demo`: load the bundled Singer sample of two customers through target-postgres
into the embedded Postgres, then show what landed and how to look at it."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tempfile
from importlib import resources
from pathlib import Path

import psycopg2

from tenantsync import embedded_pg

SCHEMA = "supaglue"
APPLICATION = "demo-app"
CUSTOMERS = ("acme", "globex")


def _target_executable() -> str:
    beside = Path(sys.executable).with_name("target-postgres")
    return str(beside) if beside.exists() else shutil.which("target-postgres") or "target-postgres"


def load_customer(uri: str, customer: str) -> None:
    """Pipe one customer's Singer sample into target-postgres, as any Singer runner would."""
    config = {"application_id": APPLICATION, "customer_id": customer,
              "provider_name": "salesforce", "sqlalchemy_url": uri, "schema": SCHEMA}
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
        json.dump(config, f)
    sample = resources.files("tenantsync.demo_data").joinpath(f"{customer}.singer")
    try:
        with resources.as_file(sample) as path, path.open("rb") as stdin:
            result = subprocess.run([_target_executable(), "--config", f.name], stdin=stdin,
                                    capture_output=True, check=False)
    finally:
        Path(f.name).unlink()
    if result.returncode != 0:
        raise SystemExit(f"target-postgres failed for customer {customer}:\n"
                         f"{result.stderr.decode(errors='replace')[-2000:]}")


def summary(uri: str) -> list[tuple[str, str, int, int]]:
    """(table, customer, rows, deleted rows) for every Supaglue table of the demo schema."""
    out = []
    with psycopg2.connect(uri) as conn, conn.cursor() as cur:
        cur.execute("SELECT table_name, table_type FROM information_schema.tables "
                    "WHERE table_schema = %s ORDER BY table_name", (SCHEMA,))
        for table, kind in cur.fetchall():
            common = table.startswith(("crm_", "engagement_"))
            deleted = "is_deleted" if common else "_supaglue_is_deleted"
            cur.execute(f"SELECT _supaglue_customer_id, count(*), count(*) FILTER (WHERE {deleted})"
                        f' FROM "{SCHEMA}"."{table}" GROUP BY 1 ORDER BY 1')
            for customer, rows, gone in cur.fetchall():
                label = f"{table} (view)" if kind == "VIEW" else table
                out.append((label, customer, rows, gone))
    return out


def run_demo(data_dir: str | None = None) -> None:
    data_path = Path(data_dir) if data_dir else embedded_pg.default_data_dir()
    print(f"Starting the embedded PostgreSQL in {data_path} ...")
    uri = embedded_pg.start(data_path)
    for customer in CUSTOMERS:
        print(f"Syncing the bundled Salesforce sample of customer {customer!r} ...")
        load_customer(uri, customer)
    rows = summary(uri)
    width = max(len(r[0]) for r in rows)
    print(f"\n{'table':{width}}  {'customer':10} {'rows':>5} {'deleted':>8}")
    for table, customer, count, gone in rows:
        print(f"{table:{width}}  {customer:10} {count:5} {gone:8}")
    psql = shutil.which("psql") or "psql"
    query = (f"SELECT _supaglue_customer_id, _supaglue_raw_data->>'Name' AS name, "
             f"_supaglue_is_deleted FROM {SCHEMA}.salesforce_account ORDER BY 1, 2")
    print(f"\nLook at the data:\n  {psql} '{uri}' -c \"{query}\"")
    print(f"Stop the embedded server when done:  tenantsync db stop"
          f"{'' if data_dir is None else f' --data-dir {data_dir}'}")
