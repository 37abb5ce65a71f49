"""tap-salesforce -> target-postgres into a real PostgreSQL, checked row by row in Supaglue's
tables: standard, custom and common objects; updates, soft deletes, and the full-sync sweep of
records that vanished from the org."""

from __future__ import annotations

import datetime as dt
import io
import json
from contextlib import redirect_stdout

from target_postgres import TargetPostgres
from tenantsync.tapkit.common import parse_timestamp
from tests.taps.conftest import run_tap, tap_config

OBJECTS = {"standard_objects": ["Account"], "custom_objects": ["Invoice__c"],
           "common_objects": ["account", "opportunity"]}


def load(run, uri: str, schema: str) -> None:
    lines = "".join(json.dumps(m) + "\n" for m in run.messages)
    target = TargetPostgres(config={"application_id": "app1", "customer_id": "cust1",
                                    "provider_name": "salesforce", "sqlalchemy_url": uri,
                                    "schema": schema})
    with redirect_stdout(io.StringIO()):
        target.listen(io.StringIO(lines))


def table(conn, schema: str, name: str, key: str, where: str = "") -> dict[str, dict]:
    with conn.cursor() as cur:
        cur.execute(f'SELECT * FROM "{schema}"."{name}" {where}')
        names = [d[0] for d in cur.description]
        return {row[names.index(key)]: dict(zip(names, row, strict=True))
                for row in cur.fetchall()}


def utc(value: str) -> dt.datetime:
    return parse_timestamp(value).replace(tzinfo=None)


def check_raw_rows(rows: dict, records: list[dict]) -> None:
    assert set(rows) == {r["Id"] for r in records}
    for r in records:
        row = rows[r["Id"]]
        assert row["_supaglue_raw_data"] == {k: v for k, v in r.items()
                                             if not k.startswith("_sdc_")}
        assert row["_supaglue_is_deleted"] is r["IsDeleted"]
        assert row["_supaglue_last_modified_at"] == utc(r["SystemModstamp"])
        assert (row["_supaglue_application_id"], row["_supaglue_customer_id"],
                row["_supaglue_provider_name"]) == ("app1", "cust1", "salesforce")


def check_common_rows(rows: dict, records: list[dict]) -> None:
    assert set(rows) == {r["id"] for r in records}
    for r in records:
        row = rows[r["id"]]
        for name, value in r.items():
            if name in ("created_at", "updated_at", "last_modified_at", "last_activity_at",
                        "close_date") and value is not None:
                assert row[name] == utc(value), name
            else:
                assert row[name] == value, name


def test_tap_to_target_row_by_row_with_updates_deletes_and_the_full_sync_sweep(
        sf, pg_server_uri, pg_schema, pg_conn):
    config = tap_config(sf, **OBJECTS)
    first = run_tap(config)
    load(first, pg_server_uri, pg_schema)
    check_raw_rows(table(pg_conn, pg_schema, "salesforce_account", "_supaglue_id"),
                   first.records["Account"])
    check_raw_rows(table(pg_conn, pg_schema, "custom_objects", "_supaglue_id",
                         "WHERE _supaglue_object_name = 'salesforce_invoice_c'"),
                   first.records["custom__Invoice__c"])
    check_common_rows(table(pg_conn, pg_schema, "crm_accounts", "id"),
                      first.records["crm_accounts"])
    check_common_rows(table(pg_conn, pg_schema, "crm_opportunities", "id"),
                      first.records["crm_opportunities"])

    # An update and a soft delete arrive with the next incremental sync.
    live = [r["Id"] for r in first.records["Account"] if not r["IsDeleted"]]
    sf.advance_clock(60)
    sf.update("Account", live[0], {"Name": "Updated Name LLC"})
    sf.delete("Account", live[1])
    second = run_tap(config, state=first.state)
    load(second, pg_server_uri, pg_schema)
    accounts = table(pg_conn, pg_schema, "salesforce_account", "_supaglue_id")
    assert accounts[live[0]]["_supaglue_raw_data"]["Name"] == "Updated Name LLC"
    assert accounts[live[1]]["_supaglue_is_deleted"] is True
    common = table(pg_conn, pg_schema, "crm_accounts", "id")
    assert common[live[0]]["name"] == "Updated Name LLC" and common[live[1]]["is_deleted"]
    assert sum(not r["_supaglue_is_deleted"] for r in accounts.values()) == \
        sf.count("Account")

    # A record deleted and purged from the recycle bin between two syncs never reaches an
    # incremental sync; the next full sync's ACTIVATE_VERSION sweep marks it deleted.
    sf.delete("Account", live[2])
    sf.advance_clock(16 * 86400)
    third = run_tap(config, state=second.state)
    assert live[2] not in third.ids("Account")
    load(third, pg_server_uri, pg_schema)
    assert table(pg_conn, pg_schema, "salesforce_account", "_supaglue_id")[live[2]][
        "_supaglue_is_deleted"] is False  # still stale after the incremental
    full = run_tap({**config, "sync_strategy": "full only"}, state=third.state)
    assert full.versions["Account"] and live[2] not in full.ids("Account")
    load(full, pg_server_uri, pg_schema)
    accounts = table(pg_conn, pg_schema, "salesforce_account", "_supaglue_id")
    assert accounts[live[2]]["_supaglue_is_deleted"] is True
    assert table(pg_conn, pg_schema, "crm_accounts", "id")[live[2]]["is_deleted"] is True
    assert {rid for rid, row in accounts.items() if not row["_supaglue_is_deleted"]} == \
        {r["Id"] for r in full.records["Account"] if not r["IsDeleted"]}
