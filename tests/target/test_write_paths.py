"""How a batch is written: COPYed straight into the table while the tenant has no rows of the
object (a first full sync), merged otherwise; both keep the guarantees of "How it writes"."""

from __future__ import annotations

import logging
import time

from .helpers import config, rec, rows, run_target, schema_msg

ACC = "Account"


def _paths(caplog) -> list[str]:
    return ["loaded" if m.endswith("(copied straight in)") else "merged"
            for m in caplog.messages if " records into " in m]


def test_a_first_sync_is_loaded_straight_and_matches_a_merged_one(pg_server_uri, pg_schema,
                                                                   pg_conn, caplog):
    msgs = [schema_msg(ACC), *[rec(ACC, f"{i:03}", f"2024-01-0{i % 9 + 1}T00:00:00.000+0000",
                                   Name=f"n{i}", Nested={"a": [i, None]}) for i in range(25)]]
    caplog.set_level(logging.INFO)
    run_target(config(pg_server_uri, pg_schema, batch_size_rows=10), msgs)
    assert _paths(caplog) == ["loaded"] * 3
    # cust2 already has a row: its batches are merged
    run_target(config(pg_server_uri, pg_schema, customer_id="cust2"), msgs[:2])
    caplog.clear()
    run_target(config(pg_server_uri, pg_schema, customer_id="cust2", batch_size_rows=10), msgs)
    assert _paths(caplog) == ["merged"] * 3
    by_customer = {}
    for row in rows(pg_conn, pg_schema, "salesforce_account"):
        by_customer.setdefault(row.pop("_supaglue_customer_id"), []).append(
            {k: v for k, v in row.items() if k != "_supaglue_emitted_at"})
    assert by_customer["cust1"] == by_customer["cust2"]
    assert len(by_customer["cust1"]) == 25


def test_an_id_seen_again_in_a_later_batch_falls_back_to_the_merge(pg_server_uri, pg_schema,
                                                                    pg_conn, caplog):
    caplog.set_level(logging.INFO)
    run_target(config(pg_server_uri, pg_schema, batch_size_rows=2), [
        schema_msg(ACC),
        rec(ACC, "001", "2024-03-01T00:00:00Z", Name="v3"), rec(ACC, "002", "2024-01-01"),
        rec(ACC, "001", "2024-01-01T00:00:00Z", Name="v1"), rec(ACC, "003", "2024-01-01 00:00:00"),
        rec(ACC, "004", "2024-01-01T00:00:00Z")])
    assert _paths(caplog) == ["loaded", "merged", "merged"]
    got = {r["_supaglue_id"]: r["_supaglue_raw_data"].get("Name")
           for r in rows(pg_conn, pg_schema, "salesforce_account")}
    assert got == {"001": "v3", "002": None, "003": None, "004": None}


def test_batches_without_times_or_with_an_id_twice_are_merged(pg_server_uri, pg_schema,
                                                               pg_conn, caplog):
    """No last-modified time or one id twice in a batch: merged, even into a fresh tenant. A
    time with an offset goes straight in, in UTC."""
    caplog.set_level(logging.INFO)
    run_target(config(pg_server_uri, pg_schema), [
        schema_msg(ACC), rec(ACC, "001", "2024-01-01T05:30:00+05:30")])
    run_target(config(pg_server_uri, pg_schema, customer_id="c2"), [
        schema_msg(ACC), rec(ACC, "001", "2024-01-01T00:00:00Z", Name="a"),
        rec(ACC, "001", "2024-01-01T00:00:00Z", Name="b")])
    run_target(config(pg_server_uri, pg_schema, customer_id="c3"), [
        schema_msg(ACC, bookmark=None), rec(ACC, "001", "2024-01-01T00:00:00Z")])
    assert _paths(caplog) == ["loaded", "merged", "merged"]
    got = {r["_supaglue_customer_id"]: (str(r["_supaglue_last_modified_at"]),
                                        r["_supaglue_raw_data"].get("Name"))
           for r in rows(pg_conn, pg_schema, "salesforce_account")}
    assert got["cust1"] == ("2024-01-01 00:00:00", None)
    assert got["c2"] == ("2024-01-01 00:00:00", "b")


def _versions(conn, schema) -> dict[str, tuple]:
    """id -> (row version (xmin), emitted-at, deleted) of every row."""
    with conn.cursor() as cur:
        cur.execute(f'SELECT _supaglue_id, xmin::text, _supaglue_emitted_at, _supaglue_is_deleted '
                    f'FROM "{schema}".salesforce_account')
        return {r[0]: r[1:] for r in cur.fetchall()}


def _seen_log(conn, schema) -> list[list[str]]:
    with conn.cursor() as cur:
        cur.execute("SELECT ids FROM _tenantsync.seen_ids WHERE schema_name = %s ORDER BY seen_at",
                    (schema,))
        return [sorted(r[0]) for r in cur.fetchall()]


def _activate(version: int) -> dict:
    return {"type": "ACTIVATE_VERSION", "stream": ACC, "version": version}


def test_a_resync_of_unchanged_records_rewrites_no_row_and_the_sweep_stays_exact(
        pg_server_uri, pg_schema, pg_conn):
    cfg = config(pg_server_uri, pg_schema, batch_size_rows=2)
    first = [rec(ACC, i, "2024-01-01T00:00:00Z", Name=i) for i in ("1", "2", "3", "4", "5")]
    run_target(cfg, [schema_msg(ACC), *first])
    before = _versions(pg_conn, pg_schema)
    time.sleep(0.01)
    version = int(time.time() * 1000)
    # A full sync that is interrupted after "1" and "2" and resumed by another run, which also
    # gets "3" in an older version and "4" changed; "5" is gone.
    run_target(cfg, [schema_msg(ACC), *first[:2]])
    assert _seen_log(pg_conn, pg_schema) == [["1", "2"]]
    run_target(cfg, [schema_msg(ACC), rec(ACC, "3", "2023-06-01T00:00:00Z", Name="old"),
                     rec(ACC, "4", "2024-01-01T00:00:00Z", Name="changed"), _activate(version)])
    after = _versions(pg_conn, pg_schema)
    assert {i: after[i] for i in ("1", "2", "3")} == {i: before[i] for i in ("1", "2", "3")}
    assert after["4"][0] != before["4"][0] and after["4"][1] > before["4"][1]  # rewritten
    assert not after["4"][2]
    assert after["5"][2] and after["5"][1] == before["5"][1]  # swept: flagged only
    assert _seen_log(pg_conn, pg_schema) == []  # read and cleared by the sweep
    names = {r["_supaglue_id"]: r["_supaglue_raw_data"]["Name"]
             for r in rows(pg_conn, pg_schema, "salesforce_account")}
    assert names == {"1": "1", "2": "2", "3": "3", "4": "changed", "5": "5"}
    # a swept record seen again as it was is alive again
    run_target(cfg, [schema_msg(ACC), first[4]])
    assert not _versions(pg_conn, pg_schema)["5"][2]


def test_unchanged_records_without_a_last_modified_time_are_not_rewritten(
        pg_server_uri, pg_schema, pg_conn):
    cfg = config(pg_server_uri, pg_schema)
    msgs = [schema_msg(ACC, bookmark=None), rec(ACC, "1", "x", Name="a"),
            rec(ACC, "2", "x", Name="b")]
    run_target(cfg, msgs)
    before = _versions(pg_conn, pg_schema)
    version = int(time.time() * 1000)
    time.sleep(0.01)
    run_target(cfg, [*msgs[:2], rec(ACC, "2", "x", Name="c"), _activate(version)])
    after = _versions(pg_conn, pg_schema)
    assert after["1"] == before["1"]
    assert after["2"][1] > before["2"][1] and not after["2"][2]


def test_one_statement_upserts_ties_to_the_later_arrival_and_logs_what_it_left(
        pg_server_uri, pg_schema, pg_conn):
    """A batch whose records all have their last-modified time is written by one statement
    (tables.upsert_sql): a tie goes to the later arrival even when that one is the stored row
    (then nothing is rewritten and the id is logged as seen), an older version changes nothing,
    a newer one is written."""
    cfg = config(pg_server_uri, pg_schema)
    t0 = "2024-01-01T00:00:00Z"
    run_target(cfg, [schema_msg(ACC), rec(ACC, "1", t0, Name="a"), rec(ACC, "2", t0, Name="a"),
                     rec(ACC, "3", t0, Name="a")])
    before = _versions(pg_conn, pg_schema)
    run_target(cfg, [schema_msg(ACC), rec(ACC, "1", t0, Name="b"), rec(ACC, "1", t0, Name="a"),
                     rec(ACC, "2", "2023-01-01T00:00:00Z", Name="older"),
                     rec(ACC, "3", "2024-02-01T00:00:00Z", Name="newer"),
                     rec(ACC, "4", t0, Name="new")])
    after = _versions(pg_conn, pg_schema)
    assert after["1"] == before["1"] and after["2"] == before["2"]
    assert after["3"][0] != before["3"][0]
    names = {r["_supaglue_id"]: r["_supaglue_raw_data"]["Name"]
             for r in rows(pg_conn, pg_schema, "salesforce_account")}
    assert names == {"1": "a", "2": "a", "3": "newer", "4": "new"}
    assert _seen_log(pg_conn, pg_schema) == [["1", "2"]]
