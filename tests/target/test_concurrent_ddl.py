"""Many targets preparing their tables at once in a schema that does not exist yet (many
tenants' first syncs): none fails on the DDL races PostgreSQL has for CREATE ... IF NOT EXISTS
(a unique violation in its catalogs when two sessions create the same schema at once)."""

from __future__ import annotations

import threading
import uuid

import psycopg2
import pytest

from targets.target_postgres import tables
from tenantsync import contract

STREAMS = ["salesforce-Account", "salesforce-Contact", "hubspot-company", "hubspot-deal",
           "salesforce-crm_accounts", "hubspot-crm_contacts", "salesforce-custom__Invoice__c",
           "hubspot-custom__pets"]


@pytest.mark.parametrize("attempt", range(5))
def test_tables_prepared_at_once_in_a_new_schema(pg_server_uri, attempt):
    schema = f"ddl_{uuid.uuid4().hex[:10]}"
    specs = [tables.spec_for(contract.resolve(s, None)) for s in STREAMS] * 2
    conns = [psycopg2.connect(pg_server_uri) for _ in specs]
    start = threading.Barrier(len(specs))
    errors: list[str] = []

    def prepare(conn, spec) -> None:
        try:
            with conn.cursor() as cur:
                start.wait()
                tables.ensure_table(cur, schema, spec)
            conn.commit()
        except psycopg2.Error as exc:
            conn.rollback()
            errors.append(f"{spec.table}: {exc}".strip())

    threads = [threading.Thread(target=prepare, args=(conn, spec))
               for conn, spec in zip(conns, specs, strict=True)]
    try:
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert errors == []
        with conns[0].cursor() as cur:
            cur.execute("SELECT count(*) FROM information_schema.tables WHERE table_schema = %s",
                        (schema,))
            # six object tables, custom_objects, and the views of its two objects
            assert cur.fetchone()[0] == 9
    finally:
        for conn in conns:
            conn.close()
        with psycopg2.connect(pg_server_uri) as conn, conn.cursor() as cur:
            cur.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
