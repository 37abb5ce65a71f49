"""Object names longer than PostgreSQL's 63-byte identifiers (issue 12): two streams whose
table names share their first 63 bytes used to land in one table (PostgreSQL cut both names
to the same 63 bytes), overwriting each other, and a full sync of one swept the other's rows.
Each now gets its own table, named by `contract.identifier` (a prefix + a hash), which the
Data Listing API reads too, and the table's comment holds the full name."""

from __future__ import annotations

import time
from types import SimpleNamespace

from tenantsync import contract
from tenantsync.api import data

from .helpers import config, rec, rows, run_target, schema_msg

STEM = "Very_Long_Object_Name_For_A_Managed_Package_Reporting_Snapshot_"
FIRST, SECOND = STEM + "Quarterly__c", STEM + "Monthly__c"
CUSTOM_STEM = "Another_Long_Custom_Object_Name_Of_A_Managed_Package_For_Forecasts_"
CUSTOM = (CUSTOM_STEM + "Weekly__c", CUSTOM_STEM + "Daily__c")
CUSTOM_FIRST, CUSTOM_SECOND = (f"custom__{n}" for n in CUSTOM)


def _tables(conn, schema: str) -> dict[str, str | None]:
    with conn.cursor() as cur:
        cur.execute("SELECT c.relname, obj_description(c.oid, 'pg_class') FROM pg_class c "
                    "JOIN pg_namespace n ON n.oid = c.relnamespace "
                    "WHERE n.nspname = %s AND c.relkind IN ('r', 'v')", (schema,))
        return dict(cur.fetchall())


def test_long_names_stay_distinct_within_the_identifier_limit(pg_server_uri, pg_schema,
                                                                pg_conn):
    full = [f"salesforce_{contract.slug(n)}" for n in (FIRST, SECOND)]
    assert full[0][:63] == full[1][:63]  # the collision PostgreSQL would make
    tables = [contract.resolve(n, "salesforce").table for n in (FIRST, SECOND)]
    assert tables[0] != tables[1] and all(len(t.encode()) <= 63 for t in tables)

    run_target(config(pg_server_uri, pg_schema), [
        schema_msg(FIRST), schema_msg(SECOND), schema_msg(CUSTOM_FIRST),
        schema_msg(CUSTOM_SECOND),
        *[rec(s, i, "2024-01-01T00:00:00Z", Name=f"{s[-12:]}-{i}")
          for s in (FIRST, SECOND, CUSTOM_FIRST, CUSTOM_SECOND) for i in ("1", "2")]])
    for stream, table in zip((FIRST, SECOND), tables, strict=True):
        assert [r["_supaglue_raw_data"]["Name"] for r in rows(pg_conn, pg_schema, table)] == \
            [f"{stream[-12:]}-1", f"{stream[-12:]}-2"]

    # a full sync of the first sees only record 1: the second's rows stay alive
    version = int(time.time() * 1000)
    time.sleep(0.01)
    run_target(config(pg_server_uri, pg_schema), [
        schema_msg(FIRST), rec(FIRST, "1", "2024-01-01T00:00:00Z"),
        {"type": "ACTIVATE_VERSION", "stream": FIRST, "version": version}])
    assert [r["_supaglue_is_deleted"] for r in rows(pg_conn, pg_schema, tables[0])] == \
        [False, True]
    assert [r["_supaglue_is_deleted"] for r in rows(pg_conn, pg_schema, tables[1])] == \
        [False, False]

    # the mapping is recorded: each shortened table and custom-object view says its full name
    listed = _tables(pg_conn, pg_schema)
    custom_full = [f"salesforce_{contract.slug(n)}" for n in CUSTOM]
    views = [contract.identifier(n) for n in custom_full]
    for name, short in (*zip(full, tables, strict=True), *zip(custom_full, views, strict=True)):
        assert listed[short] == f"tenantsync: shortened name of {name}"
    for view, stream in zip(views, (CUSTOM_FIRST, CUSTOM_SECOND), strict=True):
        assert [r["_supaglue_raw_data"]["Name"] for r in rows(pg_conn, pg_schema, view)] == \
            [f"{stream[-12:]}-1", f"{stream[-12:]}-2"]

    # the Data Listing API reads the very table the target wrote
    config_row = SimpleNamespace(standard_objects=[{"object": FIRST}, {"object": SECOND}],
                                 custom_objects=[])
    assert [data._object_target(config_row, "salesforce", n)[0] for n in (FIRST, SECOND)] == \
        tables
