"""How a batch is written: COPYed straight into the table while the tenant has no rows of the
object (a first full sync), merged otherwise; both keep the guarantees of "How it writes"."""

from __future__ import annotations

import logging

from .helpers import config, rec, rows, run_target, schema_msg

ACC = "Account"


def _paths(caplog) -> list[str]:
    return [m.split()[2] for m in caplog.messages if " records into " in m]


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


def test_batches_copy_could_misread_are_merged(pg_server_uri, pg_schema, pg_conn, caplog):
    """A non-UTC offset (TIMESTAMP input would drop it), no last-modified time, or one id twice
    in a batch: merged, even into a fresh tenant."""
    caplog.set_level(logging.INFO)
    run_target(config(pg_server_uri, pg_schema), [
        schema_msg(ACC), rec(ACC, "001", "2024-01-01T05:30:00+05:30")])
    run_target(config(pg_server_uri, pg_schema, customer_id="c2"), [
        schema_msg(ACC), rec(ACC, "001", "2024-01-01T00:00:00Z", Name="a"),
        rec(ACC, "001", "2024-01-01T00:00:00Z", Name="b")])
    run_target(config(pg_server_uri, pg_schema, customer_id="c3"), [
        schema_msg(ACC, bookmark=None), rec(ACC, "001", "2024-01-01T00:00:00Z")])
    assert _paths(caplog) == ["merged"] * 3
    got = {r["_supaglue_customer_id"]: (str(r["_supaglue_last_modified_at"]),
                                        r["_supaglue_raw_data"].get("Name"))
           for r in rows(pg_conn, pg_schema, "salesforce_account")}
    assert got["cust1"] == ("2024-01-01 00:00:00", None)
    assert got["c2"] == ("2024-01-01 00:00:00", "b")
