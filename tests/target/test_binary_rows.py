"""Rows go to PostgreSQL in binary COPY format, converted here: the values stored are the ones
PostgreSQL itself reads from the same text, on both write paths (straight in, merged)."""

from __future__ import annotations

import datetime as dt

import pytest

from target_postgres.rows import RecordError

from .helpers import config, rec, rows, run_target, schema_msg

ACC = "Account"
# Spellings of a time a tap may send, each read by PostgreSQL as a timestamptz in UTC.
SPELLINGS = [
    "2024-01-01T00:00:00Z",
    "2024-01-01T00:00:00.000+0000",  # Salesforce's REST form
    "2024-01-01 05:30:00+05:30",
    "2024-01-01T00:00:00.1235Z",  # rounded to the column's milliseconds
    "2024-06-30T23:59:59.9996-07:00",  # rounded into the next second, and day in UTC
    "2024-01-01",
    " 2024-01-01t10:00:00z ",
    "2024-01-01T10:00",
    "2024-01-01T10:00:00+02",
    "1999-12-31T23:59:59.9995Z",  # before PostgreSQL's epoch (negative microseconds)
    "1969-07-20T20:17:40.123456Z",
]
# Epoch numbers: seconds, or milliseconds above 1e11.
EPOCHS = {1704067200: dt.datetime(2024, 1, 1), 1704067200123: dt.datetime(2024, 1, 1, 0, 0, 0,
                                                                           123000)}


def _stored(conn, schema, customer) -> dict[str, dt.datetime]:
    return {r["_supaglue_id"]: r["_supaglue_last_modified_at"]
            for r in rows(conn, schema, "salesforce_account")
            if r["_supaglue_customer_id"] == customer}


@pytest.mark.parametrize("existing", [False, True], ids=["straight in", "merged"])
def test_timestamps_are_stored_as_postgresql_reads_them(pg_server_uri, pg_schema, pg_conn,
                                                         existing):
    if existing:  # the tenant has a row: every batch goes through the temp table and merge
        run_target(config(pg_server_uri, pg_schema), [schema_msg(ACC),
                                                      rec(ACC, "x", "2020-01-01T00:00:00Z")])
    run_target(config(pg_server_uri, pg_schema), [
        schema_msg(ACC), *(rec(ACC, f"s{i}", s) for i, s in enumerate(SPELLINGS)),
        *(rec(ACC, f"e{n}", n) for n in EPOCHS)])
    stored = _stored(pg_conn, pg_schema, "cust1")
    with pg_conn.cursor() as cur:
        cur.execute("SET TIME ZONE 'UTC'")
        for i, spelling in enumerate(SPELLINGS):
            cur.execute("SELECT CAST(%s::timestamptz AT TIME ZONE 'UTC' AS TIMESTAMP(3))",
                        (spelling,))
            assert stored[f"s{i}"] == cur.fetchone()[0], spelling
    assert {n: stored[f"e{n}"] for n in EPOCHS} == EPOCHS
    assert stored["s4"] == dt.datetime(2024, 7, 1, 7, 0, 0)


def test_common_object_values_are_converted_or_refused_by_name(pg_server_uri, pg_schema,
                                                               pg_conn):
    opp = {"id": "op1", "last_modified_at": "2024-01-02T03:04:05+01:00", "name": "Deal",
           "amount": "1000.5", "close_date": "2024-03-01", "is_deleted": False}
    schema = schema_msg("crm_opportunities", key="id", bookmark="last_modified_at",
                        properties={"id": {"type": "string"}})
    run_target(config(pg_server_uri, pg_schema), [
        schema, {"type": "RECORD", "stream": "crm_opportunities", "record": opp}])
    (row,) = rows(pg_conn, pg_schema, "crm_opportunities", order="id")
    assert (row["amount"], row["close_date"], row["last_modified_at"]) == (
        1000.5, dt.datetime(2024, 3, 1), dt.datetime(2024, 1, 2, 2, 4, 5))
    accounts = schema_msg("crm_accounts", key="id", bookmark="last_modified_at",
                          properties={"id": {"type": "string"}})
    for employees, problem in [("12", None), (12.5, "expected an integer"),
                               (2**40, "expected an integer"), (True, "expected an integer")]:
        account = {"id": "a1", "last_modified_at": "2024-01-01T00:00:00Z",
                   "number_of_employees": employees}
        msgs = [accounts, {"type": "RECORD", "stream": "crm_accounts", "record": account}]
        if problem is None:
            run_target(config(pg_server_uri, pg_schema), msgs)
            assert rows(pg_conn, pg_schema, "crm_accounts", order="id")[0][
                "number_of_employees"] == 12
            continue
        with pytest.raises(RecordError, match=f"input line 2, stream 'crm_accounts': common "
                                              f"field 'number_of_employees': {problem}"):
            run_target(config(pg_server_uri, pg_schema), msgs)
