"""target-postgres against a real PostgreSQL: schema, upserts, deletes, state, bad input."""

from __future__ import annotations

import io
import json
import threading
import time
from concurrent.futures import Future
from contextlib import redirect_stdout

import psycopg2
import pytest
from singer_sdk.exceptions import (
    ConfigValidationError,
    InvalidInputLine,
    MissingKeyPropertiesError,
    RecordsWithoutSchemaException,
)

from target_postgres import TargetPostgres
from target_postgres import target as target_module
from target_postgres.rows import RecordError
from tenantsync.contract import ContractError

from .helpers import config, rec, rows, run_target, schema_msg, state

ACC = "Account"
# Well-formed JSON, and a number PostgreSQL refuses in JSONB ("value overflows numeric format"):
# a row the server itself refuses.
HUGE_NUMBER = ('{"type": "RECORD", "stream": "Account", "record": {"Id": "002", '
               '"SystemModstamp": "2024-05-01T00:00:00Z", "Huge": 1e1000000}}')


def columns(conn, schema, table):
    with conn.cursor() as cur:
        cur.execute("SELECT column_name, data_type, is_nullable FROM information_schema.columns "
                    "WHERE table_schema=%s AND table_name=%s ORDER BY ordinal_position",
                    (schema, table))
        return cur.fetchall()


def primary_key(conn, schema, table):
    with conn.cursor() as cur:
        cur.execute("""SELECT a.attname FROM pg_index i
            JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey)
            WHERE i.indrelid = %s::regclass AND i.indisprimary ORDER BY a.attnum""",
                    (f'"{schema}"."{table}"',))
        return [r[0] for r in cur.fetchall()]


def test_standard_object_table_has_supaglue_columns_types_and_key(pg_server_uri, pg_schema,
                                                                  pg_conn):
    run_target(config(pg_server_uri, pg_schema),
               [schema_msg(ACC), rec(ACC, "001", "2024-01-01T00:00:00.000+0000", Name="Acme")])
    assert columns(pg_conn, pg_schema, "salesforce_account") == [
        ("_supaglue_application_id", "text", "NO"),
        ("_supaglue_provider_name", "text", "NO"),
        ("_supaglue_customer_id", "text", "NO"),
        ("_supaglue_id", "text", "NO"),
        ("_supaglue_emitted_at", "timestamp without time zone", "NO"),
        ("_supaglue_last_modified_at", "timestamp without time zone", "NO"),
        ("_supaglue_is_deleted", "boolean", "NO"),
        ("_supaglue_raw_data", "jsonb", "NO"),
        ("_supaglue_mapped_data", "jsonb", "NO"),
    ]
    assert primary_key(pg_conn, pg_schema, "salesforce_account") == [
        "_supaglue_application_id", "_supaglue_provider_name", "_supaglue_customer_id",
        "_supaglue_id"]
    with pg_conn.cursor() as cur:
        cur.execute("SELECT indexdef FROM pg_indexes WHERE schemaname=%s AND indexname=%s",
                    (pg_schema, "salesforce_account_last_modified_idx"))
        assert "_supaglue_last_modified_at" in cur.fetchone()[0]
    (row,) = rows(pg_conn, pg_schema, "salesforce_account")
    assert row["_supaglue_raw_data"] == {"Id": "001", "Name": "Acme",
                                         "SystemModstamp": "2024-01-01T00:00:00.000+0000"}
    assert row["_supaglue_mapped_data"] == {}
    assert str(row["_supaglue_last_modified_at"]) == "2024-01-01 00:00:00"
    assert (row["_supaglue_application_id"], row["_supaglue_provider_name"],
            row["_supaglue_customer_id"]) == ("app1", "salesforce", "cust1")


def test_custom_objects_share_one_table_with_a_view_per_object(pg_server_uri, pg_schema, pg_conn):
    inv, proj = "custom__Invoice__c", "custom__Project__c"
    run_target(config(pg_server_uri, pg_schema), [
        schema_msg(inv), schema_msg(proj),
        rec(inv, "a01", "2024-01-01T00:00:00Z", Name="INV-1"),
        rec(proj, "a02", "2024-01-01T00:00:00Z", Name="P-1"),
    ])
    assert primary_key(pg_conn, pg_schema, "custom_objects")[-1] == "_supaglue_object_name"
    all_rows = rows(pg_conn, pg_schema, "custom_objects")
    assert {r["_supaglue_object_name"] for r in all_rows} == {"salesforce_invoice_c",
                                                             "salesforce_project_c"}
    (inv_row,) = rows(pg_conn, pg_schema, "salesforce_invoice_c")
    assert inv_row["_supaglue_raw_data"]["Name"] == "INV-1"


def test_common_object_lands_in_typed_columns_with_unified_data(pg_server_uri, pg_schema, pg_conn):
    contact = {"id": "003A", "created_at": "2024-01-01T00:00:00Z",
               "updated_at": "2024-01-02T00:00:00Z", "is_deleted": False,
               "last_modified_at": "2024-01-02T00:00:00Z", "first_name": "Ada",
               "last_name": "Lovelace", "addresses": [], "phone_numbers": [],
               "email_addresses": [{"email_address": "ada@example.com",
                                    "email_address_type": "primary"}],
               "account_id": "001A", "owner_id": "005A", "lifecycle_stage": None,
               "last_activity_at": None, "raw_data": {"Id": "003A", "FirstName": "Ada"}}
    run_target(config(pg_server_uri, pg_schema), [
        {"type": "SCHEMA", "stream": "crm_contacts", "key_properties": ["id"],
         "schema": {"type": "object", "properties": {"id": {"type": "string"}}}},
        {"type": "RECORD", "stream": "crm_contacts", "record": contact}])
    names = [c[0] for c in columns(pg_conn, pg_schema, "crm_contacts")]
    assert names[:5] == ["_supaglue_application_id", "_supaglue_provider_name",
                         "_supaglue_customer_id", "_supaglue_emitted_at", "_supaglue_unified_data"]
    assert names[5:10] == ["id", "created_at", "updated_at", "is_deleted", "last_modified_at"]
    assert names[-1] == "raw_data"
    assert primary_key(pg_conn, pg_schema, "crm_contacts") == [
        "_supaglue_application_id", "_supaglue_provider_name", "_supaglue_customer_id", "id"]
    (row,) = rows(pg_conn, pg_schema, "crm_contacts", order="id")
    assert row["first_name"] == "Ada" and row["account_id"] == "001A"
    assert row["email_addresses"][0]["email_address"] == "ada@example.com"
    assert row["raw_data"] == {"Id": "003A", "FirstName": "Ada"}
    assert "raw_data" not in row["_supaglue_unified_data"]
    assert row["_supaglue_unified_data"]["last_name"] == "Lovelace"


def test_replaying_the_same_messages_is_idempotent(pg_server_uri, pg_schema, pg_conn):
    msgs = [schema_msg(ACC)] + [rec(ACC, f"{i:03}", "2024-01-01T00:00:00Z", Name=f"n{i}")
                                for i in range(50)]
    cfg = config(pg_server_uri, pg_schema, batch_size_rows=7)
    run_target(cfg, msgs)
    first = rows(pg_conn, pg_schema, "salesforce_account")
    run_target(cfg, msgs)
    second = rows(pg_conn, pg_schema, "salesforce_account")
    strip = [{k: v for k, v in r.items() if k != "_supaglue_emitted_at"} for r in first]
    assert strip == [{k: v for k, v in r.items() if k != "_supaglue_emitted_at"} for r in second]
    assert len(second) == 50


@pytest.mark.parametrize("batch_size_rows", [1, 2, 100])
def test_newest_version_wins_whatever_the_arrival_order(pg_server_uri, pg_schema, pg_conn,
                                                        batch_size_rows):
    run_target(config(pg_server_uri, pg_schema, batch_size_rows=batch_size_rows), [
        schema_msg(ACC),
        rec(ACC, "001", "2024-03-01T00:00:00Z", Name="v3"),
        rec(ACC, "001", "2024-01-01T00:00:00Z", Name="v1"),
        rec(ACC, "002", "2024-01-01T00:00:00Z", Name="a"),
        rec(ACC, "002", "2024-01-01T00:00:00Z", Name="b"),  # same time: later arrival wins
        rec(ACC, "001", "2024-02-01T00:00:00Z", Name="v2"),
    ])
    got = {r["_supaglue_id"]: r["_supaglue_raw_data"]["Name"]
           for r in rows(pg_conn, pg_schema, "salesforce_account")}
    assert got == {"001": "v3", "002": "b"}


def test_deleted_records_are_kept_and_flagged(pg_server_uri, pg_schema, pg_conn):
    run_target(config(pg_server_uri, pg_schema), [
        schema_msg(ACC),
        rec(ACC, "001", "2024-01-01T00:00:00Z"),
        rec(ACC, "002", "2024-01-01T00:00:00Z"),
        rec(ACC, "001", "2024-01-02T00:00:00Z", _sdc_deleted_at="2024-01-02T00:00:00Z"),
        rec(ACC, "002", "2024-01-02T00:00:00Z", _supaglue_is_deleted=True, IsDeleted=True),
    ])
    got = rows(pg_conn, pg_schema, "salesforce_account")
    assert [(r["_supaglue_id"], r["_supaglue_is_deleted"]) for r in got] == [
        ("001", True), ("002", True)]
    assert all(not any(k.startswith(("_sdc_", "_supaglue_")) for k in r["_supaglue_raw_data"])
               for r in got)
    assert got[1]["_supaglue_raw_data"]["IsDeleted"] is True


def test_full_sync_sweep_touches_only_its_own_tenant_and_object(pg_server_uri, pg_schema,
                                                                 pg_conn):
    inv, proj = "custom__Invoice__c", "custom__Project__c"
    for customer in ("cust1", "cust2"):
        run_target(config(pg_server_uri, pg_schema, customer_id=customer), [
            schema_msg(ACC), schema_msg(inv), schema_msg(proj),
            *[rec(s, i, "2024-01-01T00:00:00Z") for s in (ACC, inv, proj) for i in ("1", "2")]])
    version = int(time.time() * 1000)
    time.sleep(0.01)
    # cust1's full sync of Account and Invoice sees only record "1" of each.
    run_target(config(pg_server_uri, pg_schema, customer_id="cust1"), [
        schema_msg(ACC), schema_msg(inv),
        rec(ACC, "1", "2024-01-01T00:00:00Z"), rec(inv, "1", "2024-01-01T00:00:00Z"),
        {"type": "ACTIVATE_VERSION", "stream": ACC, "version": version},
        {"type": "ACTIVATE_VERSION", "stream": inv, "version": version}])
    deleted = {(r["_supaglue_customer_id"], r["_supaglue_id"])
               for r in rows(pg_conn, pg_schema, "salesforce_account") if r["_supaglue_is_deleted"]}
    assert deleted == {("cust1", "2")}
    custom = {(r["_supaglue_customer_id"], r["_supaglue_object_name"], r["_supaglue_id"])
              for r in rows(pg_conn, pg_schema, "custom_objects") if r["_supaglue_is_deleted"]}
    assert custom == {("cust1", "salesforce_invoice_c", "2")}
    # A row seen again (a restored record) is alive again.
    run_target(config(pg_server_uri, pg_schema, customer_id="cust1"), [
        schema_msg(ACC), rec(ACC, "2", "2024-01-05T00:00:00Z")])
    assert not any(r["_supaglue_is_deleted"] for r in rows(pg_conn, pg_schema, "salesforce_account")
                   if r["_supaglue_customer_id"] == "cust1")


def test_a_state_after_a_full_sync_waits_for_its_sweep_and_a_failed_sweep_fails_the_run(
        pg_server_uri, pg_schema, monkeypatch):
    inv = "custom__Invoice__c"
    cfg = config(pg_server_uri, pg_schema, batch_size_rows=2)
    run_target(cfg, [schema_msg(ACC), *[rec(ACC, i, "2024-01-01T00:00:00Z") for i in "123"]])
    version = int(time.time() * 1000)
    time.sleep(0.01)
    full_sync = [schema_msg(ACC), rec(ACC, "1", "2024-01-01T00:00:00Z"), state(1),
                 {"type": "ACTIVATE_VERSION", "stream": ACC, "version": version},
                 schema_msg(inv), *[rec(inv, i, "2024-01-01T00:00:00Z") for i in "12345"],
                 state(2)]
    probe = _StateProbe(pg_server_uri, pg_schema, "SELECT _supaglue_id FROM {}.salesforce_account "
                                                  "WHERE _supaglue_is_deleted ORDER BY 1")
    run_target(cfg, full_sync, stdout=probe)
    assert probe.seen[-1] == (2, ["2", "3"])
    assert all(deleted == ["2", "3"] for n, deleted in probe.seen if n == 2)
    # A sweep that fails fails the run, and no STATE after it is written.
    monkeypatch.setattr("target_postgres.tables.sweep_sql", lambda schema, spec: (
        "SELECT 1", "UPDATE no_such_table SET x = 1", "SELECT 1"))
    out = io.StringIO()
    with pytest.raises(Exception, match=r"'Account': full-sync delete sweep failed: .*no_such"):
        run_target(cfg, full_sync, stdout=out)
    assert all(json.loads(line)["bookmarks"]["n"] == 1 for line in out.getvalue().splitlines())


class _Holder(threading.Thread):
    """Holds `blocker`'s open transaction (and its locks) until `query` counts `rows` or 20 s
    have passed, then rolls it back either way, so a run that waits for it still ends."""

    def __init__(self, uri, blocker, query, rows):
        super().__init__()
        self.uri, self.blocker, self.query, self.rows = uri, blocker, query, rows
        self.seen = threading.Event()  # the rows were there while the lock was held

    def run(self):
        deadline = time.monotonic() + 20
        with psycopg2.connect(self.uri) as conn, conn.cursor() as cur:
            while time.monotonic() < deadline and not self.seen.is_set():
                cur.execute(self.query)
                if cur.fetchone()[0] >= self.rows:
                    self.seen.set()
                conn.rollback()
                time.sleep(0.05)
        self.blocker.rollback()


def test_the_next_stream_is_written_while_a_full_sync_sweep_waits(pg_server_uri, pg_schema,
                                                                   pg_conn):
    """A full sync's sweep runs behind its stream while the target reads on: another stream's
    batches are written meanwhile (the target once waited for the sweep as it handed every
    stream's buffer over). Here the sweep waits on a lock the test holds."""
    cfg = config(pg_server_uri, pg_schema, batch_size_rows=2)
    run_target(cfg, [schema_msg(ACC), rec(ACC, "1", "2024-01-01T00:00:00Z")])
    run_target(cfg, [schema_msg("Contact")])  # its table, for the holder's query
    blocker = psycopg2.connect(pg_server_uri)
    with blocker.cursor() as cur:  # the sweep's UPDATE waits for this transaction
        cur.execute(f'LOCK TABLE "{pg_schema}".salesforce_account IN SHARE ROW EXCLUSIVE MODE')
    holder = _Holder(pg_server_uri, blocker,
                     f'SELECT count(*) FROM "{pg_schema}".salesforce_contact', 2)
    holder.start()
    try:
        run_target(cfg, [schema_msg(ACC), {"type": "ACTIVATE_VERSION", "stream": ACC,
                                           "version": int(time.time() * 1000) + 1000},
                         schema_msg("Contact"),
                         *[rec("Contact", i, "2024-01-01T00:00:00Z") for i in "123"]])
    finally:
        holder.join()
        blocker.close()
    assert holder.seen.is_set()
    (account,) = rows(pg_conn, pg_schema, "salesforce_account")
    assert account["_supaglue_is_deleted"]  # the sweep ran once the lock went
    assert len(rows(pg_conn, pg_schema, "salesforce_contact")) == 3


def test_a_tenant_starts_writing_while_another_writes_the_same_table(pg_server_uri, pg_schema):
    """A stream's set-up creates only missing indexes: CREATE INDEX IF NOT EXISTS would wait
    for every write in flight on the shared table, and hold up the writes queued after it."""
    run_target(config(pg_server_uri, pg_schema), [schema_msg(ACC),
                                                  rec(ACC, "1", "2024-01-01T00:00:00Z")])
    blocker = psycopg2.connect(pg_server_uri)
    with blocker.cursor() as cur:  # another tenant's write in flight
        cur.execute(f'UPDATE "{pg_schema}".salesforce_account SET _supaglue_is_deleted = false')
    holder = _Holder(pg_server_uri, blocker, f'SELECT count(*) FROM "{pg_schema}".'
                     f"salesforce_account WHERE _supaglue_customer_id = 'other'", 1)
    holder.start()
    try:
        run_target(config(pg_server_uri, pg_schema, customer_id="other"),
                   [schema_msg(ACC), rec(ACC, "1", "2024-01-01T00:00:00Z")])
    finally:
        holder.join()
        blocker.close()
    assert holder.seen.is_set()


_DONE: Future = Future()
_DONE.set_result(None)


class _StateProbe(io.StringIO):
    """stdout that, whenever the target writes a STATE, records its bookmark and what `sql`
    ({} the schema) finds committed by then (the first column of each row)."""

    def __init__(self, uri, schema, sql="SELECT count(*) FROM {}.salesforce_account"):
        super().__init__()
        self.uri, self.sql, self.seen = uri, sql.format(f'"{schema}"'), []

    def write(self, s):
        if s.strip():
            with psycopg2.connect(self.uri) as conn, conn.cursor() as cur:
                cur.execute(self.sql)
                self.seen.append((json.loads(s)["bookmarks"]["n"], [r[0] for r in cur]))
        return super().write(s)


def test_state_is_emitted_only_after_the_records_before_it_are_committed(pg_server_uri,
                                                                         pg_schema):
    msgs = [schema_msg(ACC)]
    for i in range(1, 11):
        msgs += [rec(ACC, f"{i:03}", "2024-01-01T00:00:00Z"), state(i)]
    probe = _StateProbe(pg_server_uri, pg_schema)
    run_target(config(pg_server_uri, pg_schema, batch_size_rows=3, state_interval_seconds=0),
               msgs, stdout=probe)
    # Never ahead of the data: STATE n is written only once records 1..n are committed.
    assert all(n <= committed for n, (committed,) in probe.seen)
    assert [n for n, _ in probe.seen] == sorted({n for n, _ in probe.seen})
    # At least one STATE per committed batch (three full batches of 3, then the last record).
    assert len(probe.seen) >= 4
    assert probe.seen[-1] == (10, [10])


class _Clock:
    """Stands in for the target module's `time`: monotonic() is what the test sets."""

    def __init__(self) -> None:
        self.now = 1000.0

    def monotonic(self) -> float:
        return self.now


def test_states_are_written_at_most_once_per_interval(pg_server_uri, pg_schema, monkeypatch,
                                                     tmp_path):
    """A relay persists every STATE it gets (meltano writes each to its system database):
    within state_interval_seconds only the newest committed STATE is held, and it goes out
    once the interval has passed; the last is written at the end whatever the clock says."""
    clock = _Clock()
    monkeypatch.setattr(target_module, "time", clock)
    target = TargetPostgres(config=config(pg_server_uri, pg_schema, state_interval_seconds=5))
    out = io.StringIO()

    def commit(*values):  # STATEs whose batches have committed
        target._pending_states.extend(({"bookmarks": {"n": v}}, [_DONE]) for v in values)

    with redirect_stdout(out):
        commit(1, 2)
        target._emit_committed_states()  # nothing written yet: 1 goes out, 2 is held
        commit(3)
        target._emit_committed_states()  # 3 is held instead of 2
        clock.now += 4.9
        target._after_record(False)  # a record arrives: not due yet
        commit(4)
        target._emit_committed_states()
        clock.now += 0.1
        target._after_record(False)  # due: the newest committed one
        clock.now += 10
        target._after_record(False)  # nothing held: nothing written
    assert [json.loads(line)["bookmarks"]["n"] for line in out.getvalue().splitlines()] == [1, 4]

    # Through a whole run with the clock standing still, configured by a file as meltano
    # does it (its decimals are read as Decimal): the first committed STATE, then the last
    # one at the end, never ahead of the data.
    msgs = [schema_msg(ACC)]
    for i in range(1, 11):
        msgs += [rec(ACC, f"{i:03}", "2024-01-01T00:00:00Z"), state(i)]
    probe = _StateProbe(pg_server_uri, pg_schema)
    config_file = tmp_path / "config.json"
    config_file.write_text(json.dumps(config(pg_server_uri, pg_schema, batch_size_rows=3,
                                             state_interval_seconds=1.5)))
    run_target([str(config_file)], msgs, stdout=probe)
    assert all(n <= committed for n, (committed,) in probe.seen)
    assert 1 <= len(probe.seen) <= 2
    assert probe.seen[-1] == (10, [10])


@pytest.mark.parametrize("bad", [-1, "1", True])
def test_a_bad_state_interval_is_refused_by_name(pg_server_uri, pg_schema, bad):
    with pytest.raises(ConfigValidationError) as caught:
        TargetPostgres(config=config(pg_server_uri, pg_schema, state_interval_seconds=bad))
    assert "state_interval_seconds" in " ".join([str(caught.value), *caught.value.errors])


def test_state_passes_through_at_once_when_nothing_is_pending(pg_server_uri, pg_schema):
    states = run_target(config(pg_server_uri, pg_schema, state_interval_seconds=0),
                        [schema_msg(ACC), state(1), state(2)])
    assert states == [{"bookmarks": {"n": 1}}, {"bookmarks": {"n": 2}}]


@pytest.mark.parametrize(("bad", "error", "message"), [
    # the server refuses the row: the whole batch is rolled back
    (HUGE_NUMBER, Exception, r"'Account', input line 3: .*salesforce_account.*nothing of this "
                             r"batch was written.*overflows numeric"),
    # the target refuses the record before anything is written
    (rec(ACC, "002", "yesterday"), RecordError,
     r"^input line 3, stream 'Account': field 'SystemModstamp': 'yesterday' is not an ISO 8601"),
], ids=["refused by the server", "refused by the target"])
def test_a_refused_record_leaves_the_table_as_it_was_and_emits_no_state(
        pg_server_uri, pg_schema, pg_conn, bad, error, message):
    cfg = config(pg_server_uri, pg_schema, batch_size_rows=2)
    run_target(cfg, [schema_msg(ACC), rec(ACC, "001", "2024-01-01T00:00:00Z", Name="kept")])
    before = rows(pg_conn, pg_schema, "salesforce_account")
    out = io.StringIO()
    with pytest.raises(error, match=message):
        run_target(cfg, [schema_msg(ACC),
                         rec(ACC, "001", "2024-05-01T00:00:00Z", Name="changed"),
                         bad, state(1)], stdout=out)
    assert out.getvalue() == ""
    assert rows(pg_conn, pg_schema, "salesforce_account") == before


def test_nul_characters_are_removed_and_other_text_kept(pg_server_uri, pg_schema, pg_conn):
    weird = "tab\there\nnewline back\\slash literal-\\u0000 nul\x00gone 😀 ü"
    run_target(config(pg_server_uri, pg_schema), [
        schema_msg(ACC), rec(ACC, "id\x00with\tnul", "2024-01-01T00:00:00Z", Name=weird,
                             Nested={"k\x00": ["a\x00b"]})])
    (row,) = rows(pg_conn, pg_schema, "salesforce_account")
    assert row["_supaglue_id"] == "idwith\tnul"
    assert row["_supaglue_raw_data"]["Name"] == weird.replace("\x00", "")
    assert row["_supaglue_raw_data"]["Nested"] == {"k": ["ab"]}


def test_malformed_json_names_the_line_and_stream(pg_server_uri, pg_schema):
    bad = '{"type": "RECORD", "stream": "Account", "record": {"Id": '
    with pytest.raises(InvalidInputLine, match=r"input line 2 \(stream 'Account'\)"):
        run_target(config(pg_server_uri, pg_schema), [schema_msg(ACC), bad])


def test_record_before_schema_is_refused(pg_server_uri, pg_schema):
    with pytest.raises(RecordsWithoutSchemaException, match=r"input line 1.*'Account'"):
        run_target(config(pg_server_uri, pg_schema), [rec(ACC, "1", "2024-01-01T00:00:00Z")])


def test_record_without_its_key_is_refused(pg_server_uri, pg_schema, pg_conn):
    with pytest.raises(MissingKeyPropertiesError, match=r"input line 3, stream 'Account'.*'Id'"):
        run_target(config(pg_server_uri, pg_schema), [
            schema_msg(ACC), rec(ACC, "1", "2024-01-01T00:00:00Z"),
            {"type": "RECORD", "stream": ACC, "record": {"Name": "no id"}}])


@pytest.mark.parametrize(("stream", "provider", "message"), [
    ("Account", None, "no provider"),
    ("hubspot-Account", "salesforce", "names provider 'hubspot'"),
    ("Bad Provider-Account", None, "provider prefix"),
    ("crm_acounts", "salesforce", "not a common object table"),
    ("custom__", "salesforce", "custom object name is empty"),
])
def test_streams_breaking_the_contract_are_refused(pg_server_uri, pg_schema, stream, provider,
                                                    message):
    cfg = config(pg_server_uri, pg_schema, provider_name=provider)
    if provider is None:
        del cfg["provider_name"]
    with pytest.raises(ContractError, match=message):
        run_target(cfg, [schema_msg(stream)])


def test_provider_can_come_from_the_stream_name(pg_server_uri, pg_schema, pg_conn):
    cfg = config(pg_server_uri, pg_schema)
    del cfg["provider_name"]
    run_target(cfg, [schema_msg("hubspot-line_items"),
                     rec("hubspot-line_items", "9", "2024-01-01T00:00:00Z")])
    # the provider's spec declares `line_items` (its peer taps' name) an alias of `line_item`
    (row,) = rows(pg_conn, pg_schema, "hubspot_line_item")
    assert row["_supaglue_provider_name"] == "hubspot"


def test_streams_without_key_or_bookmark_are_stored(pg_server_uri, pg_schema, pg_conn):
    msgs = [schema_msg("events", key=None, bookmark=None),
            {"type": "RECORD", "stream": "events", "record": {"a": 1}},
            {"type": "RECORD", "stream": "events", "record": {"a": 1}},
            {"type": "RECORD", "stream": "events", "record": {"a": 2}}]
    run_target(config(pg_server_uri, pg_schema), msgs)
    got = rows(pg_conn, pg_schema, "salesforce_events")
    assert sorted(r["_supaglue_raw_data"]["a"] for r in got) == [1, 2]


def test_existing_older_table_gets_missing_columns_added_and_keeps_its_rows(pg_server_uri,
                                                                            pg_schema, pg_conn):
    with pg_conn.cursor() as cur:  # a Supaglue table from before _supaglue_last_modified_at
        cur.execute(f'CREATE SCHEMA "{pg_schema}"')
        cur.execute(f'''CREATE TABLE "{pg_schema}".salesforce_account (
            _supaglue_application_id TEXT NOT NULL, _supaglue_provider_name TEXT NOT NULL,
            _supaglue_customer_id TEXT NOT NULL, _supaglue_id TEXT NOT NULL,
            _supaglue_emitted_at TIMESTAMP(3) NOT NULL, _supaglue_is_deleted BOOLEAN NOT NULL,
            _supaglue_raw_data JSONB NOT NULL, _supaglue_mapped_data JSONB NOT NULL,
            PRIMARY KEY (_supaglue_application_id, _supaglue_provider_name,
                         _supaglue_customer_id, _supaglue_id))''')
        cur.execute(f'''INSERT INTO "{pg_schema}".salesforce_account VALUES
            ('app1','salesforce','old','x', now(), false, '{{}}', '{{}}')''')
    run_target(config(pg_server_uri, pg_schema),
               [schema_msg(ACC), rec(ACC, "001", "2024-01-01T00:00:00Z")])
    got = rows(pg_conn, pg_schema, "salesforce_account")
    assert [r["_supaglue_id"] for r in got] == ["001", "x"]
    assert "_supaglue_last_modified_at" in got[0]


def test_a_failed_batch_fails_the_run_even_without_a_following_state(pg_server_uri, pg_schema):
    with pytest.raises(Exception, match="nothing of this batch was written"):
        run_target(config(pg_server_uri, pg_schema, batch_size_rows=1), [
            schema_msg(ACC), HUGE_NUMBER, rec(ACC, "003", "2024-01-01")])


def test_records_before_a_schema_change_are_committed_before_the_next_state(pg_server_uri,
                                                                            pg_schema):
    changed = schema_msg(ACC, properties={"Id": {"type": "string"}, "Extra": {"type": "integer"},
                                          "SystemModstamp": {"type": "string"}})
    msgs = [schema_msg(ACC), rec(ACC, "001", "2024-01-01"), rec(ACC, "002", "2024-01-01"),
            changed, *[rec(ACC, f"00{i}", "2024-01-01", Extra=i) for i in (3, 4, 5)], state(5),
            "pause", rec(ACC, "006", "2024-01-01"), state(6)]

    def lines():  # pause after STATE 5 so the batch in flight surely commits before record 6
        for m in msgs:
            if m == "pause":
                time.sleep(1)
            else:
                yield json.dumps(m) + "\n"

    probe = _StateProbe(pg_server_uri, pg_schema)
    target = TargetPostgres(config=config(pg_server_uri, pg_schema, batch_size_rows=3))
    with redirect_stdout(probe):
        target.listen(lines())
    # Records 1 and 2 went to the sink the SCHEMA change replaced: STATE 5 must wait for them.
    assert probe.seen == [(5, [5]), (6, [6])]


def test_odd_input_is_stored_safely(pg_server_uri, pg_schema, pg_conn):
    sqlish = 'x"; DROP TABLE salesforce_account; --'
    lines = [json.dumps(schema_msg("Robert'); DROP TABLE x;")),
             # A lone UTF-16 surrogate: valid JSON, not valid UTF-8; kept as U+FFFD.
             '{"type": "RECORD", "stream": "Robert\'); DROP TABLE x;", "record": '
             '{"Id": "1", "SystemModstamp": "2024-01-01", "Name": "a\\ud800b"}}',
             json.dumps(rec("Robert'); DROP TABLE x;", "2", "2024-01-01",
                            **{sqlish: sqlish, "Big": "é" * 1_000_000, "Emoji": "👩‍💻\u200b"}))]
    run_target(config(pg_server_uri, pg_schema), lines)
    got = rows(pg_conn, pg_schema, "salesforce_robert_drop_table_x")
    assert got[0]["_supaglue_raw_data"]["Name"] == "a\ufffdb"
    assert got[1]["_supaglue_raw_data"][sqlish] == sqlish
    assert got[1]["_supaglue_raw_data"]["Big"] == "é" * 1_000_000
    assert got[1]["_supaglue_raw_data"]["Emoji"] == "👩‍💻\u200b"
