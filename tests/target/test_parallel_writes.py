"""Two batches of one stream are written at once, each on its own connection, when no id is in
both; a batch sharing an id with one in flight waits for it; a STATE is written only once every
batch before it has committed. A row lock held by the test stands in for a slow write, so what
the target may and may not do while it waits is seen without timing anything."""

from __future__ import annotations

import io
import json
import logging
import os
import threading
import time
from contextlib import redirect_stdout

import psycopg2
import pytest

from target_postgres import TargetPostgres
from target_postgres.target import ConfigValidationError

from .helpers import config, rec, rows, run_target, schema_msg, state

ACC = "Account"
OLD, NEW = "2024-01-01T00:00:00Z", "2024-02-01T00:00:00Z"


class PipedTarget:
    """target-postgres listening on a pipe in a thread: the test writes lines when it chooses
    and sees how far the target has read and what STATEs it has written."""

    def __init__(self, cfg: dict) -> None:
        self.target = TargetPostgres(config=cfg)
        read_fd, write_fd = os.pipe()
        self._in = os.fdopen(write_fd, "w", buffering=1)
        self._out = io.StringIO()
        self.lines = 0
        self.error: BaseException | None = None

        def listen() -> None:
            try:
                with os.fdopen(read_fd) as stdin, redirect_stdout(self._out):
                    self.target.listen(stdin)
            except BaseException as exc:  # re-raised by close()
                self.error = exc

        self._thread = threading.Thread(target=listen, daemon=True)
        self._thread.start()

    def send(self, *messages: dict) -> None:
        for message in messages:
            self._in.write(json.dumps(message) + "\n")
            self.lines += 1

    def read_all(self) -> None:
        """Wait until the target has taken in every line sent so far."""
        until(lambda: self.target.message_reader.line_number >= self.lines, "lines read")

    def states(self) -> list[dict]:
        return [json.loads(line) for line in self._out.getvalue().splitlines() if line]

    def close(self) -> list[dict]:
        self._in.close()
        self._thread.join(timeout=120)
        assert not self._thread.is_alive(), "the target did not finish"
        if self.error is not None:
            raise self.error
        return self.states()


def until(condition, what: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.02)


def _ids(conn, schema: str) -> set[str]:
    return {r["_supaglue_id"] for r in rows(conn, schema, "salesforce_account")}


def _lock_waits(conn, schema: str) -> int:
    """Statements on this test's schema waiting for a lock."""
    with conn.cursor() as cur:
        cur.execute("SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
                    "AND position(%s in query) > 0", (schema,))
        return cur.fetchone()[0]


def test_disjoint_batches_are_written_at_once_and_states_wait_for_every_one(
        pg_server_uri, pg_schema, pg_conn):
    run_target(config(pg_server_uri, pg_schema), [schema_msg(ACC), rec(ACC, "001", OLD)])
    holder = psycopg2.connect(pg_server_uri)  # holds row 001 as a slow write would
    with holder.cursor() as cur:
        cur.execute(f'SELECT 1 FROM "{pg_schema}".salesforce_account '
                    "WHERE _supaglue_id = '001' FOR UPDATE")
    piped = PipedTarget(config(pg_server_uri, pg_schema, batch_size_rows=2))
    try:
        # batch A (001 waits for the lock), then batch B with other ids and a STATE inside it
        piped.send(schema_msg(ACC), rec(ACC, "001", NEW, Name="A"), rec(ACC, "002", NEW),
                   rec(ACC, "003", NEW), state(1), rec(ACC, "004", NEW))
        until(lambda: {"003", "004"} <= _ids(pg_conn, pg_schema), "batch B committed")
        assert "002" not in _ids(pg_conn, pg_schema)  # batch A is still waiting
        piped.send(rec(ACC, "006", NEW))  # the target handles a message after B's commit
        piped.read_all()
        assert piped.states() == []  # state 1 also covers 001 and 002, not yet committed
        # batch C (006 and 001 again) shares 001 with A: it waits for A instead of queueing
        # on the row lock
        piped.send(rec(ACC, "001", NEW, Name="C"))
        piped.read_all()
        time.sleep(0.3)
        assert _lock_waits(pg_conn, pg_schema) == 1  # A's, alone
        assert "006" not in _ids(pg_conn, pg_schema)
    finally:
        holder.rollback()
        holder.close()
    piped.send(rec(ACC, "005", NEW))
    states = piped.close()
    assert states and states[0]["bookmarks"] == {"n": 1}
    got = {r["_supaglue_id"]: r["_supaglue_raw_data"].get("Name")
           for r in rows(pg_conn, pg_schema, "salesforce_account")}
    # the same last-modified time twice: the later arrival (C) wins
    assert got == {"001": "C", "002": None, "003": None, "004": None, "005": None, "006": None}


def test_one_writer_when_told(pg_server_uri, pg_schema, pg_conn):
    run_target(config(pg_server_uri, pg_schema), [schema_msg(ACC), rec(ACC, "001", OLD)])
    holder = psycopg2.connect(pg_server_uri)
    with holder.cursor() as cur:
        cur.execute(f'SELECT 1 FROM "{pg_schema}".salesforce_account '
                    "WHERE _supaglue_id = '001' FOR UPDATE")
    piped = PipedTarget(config(pg_server_uri, pg_schema, batch_size_rows=2, parallel_writes=1))
    try:
        piped.send(schema_msg(ACC), rec(ACC, "001", NEW), rec(ACC, "002", NEW),
                   rec(ACC, "003", NEW), rec(ACC, "004", NEW))
        piped.read_all()
        time.sleep(0.3)
        assert _ids(pg_conn, pg_schema) == {"001"}  # B waits for A
    finally:
        holder.rollback()
        holder.close()
    piped.close()
    assert _ids(pg_conn, pg_schema) == {"001", "002", "003", "004"}


@pytest.mark.parametrize("value", [0, -1, "2"])
def test_parallel_writes_must_be_a_positive_whole_number(pg_server_uri, pg_schema, value):
    with pytest.raises(ConfigValidationError) as caught:
        TargetPostgres(config=config(pg_server_uri, pg_schema, parallel_writes=value))
    # a wrong type is refused by the SDK's schema check, which lists its findings in .errors
    assert "parallel_writes" in " ".join([str(caught.value), *caught.value.errors])


def test_a_refused_second_connection_means_one_writer_not_a_failed_run(
        pg_server_uri, pg_schema, pg_conn, caplog):
    """A role limited to one connection (a server near its limit): the stream's second lane
    cannot connect, so its batches are written one at a time, and all of them are."""
    role = f"lim_{pg_schema}"
    with pg_conn.cursor() as cur:  # not a superuser (they ignore limits), with postgres' rights
        cur.execute(f'CREATE ROLE "{role}" LOGIN CONNECTION LIMIT 1')
        cur.execute(f'GRANT postgres TO "{role}"')
    try:
        uri = pg_server_uri.replace("postgresql://postgres:", f"postgresql://{role}:", 1)
        caplog.set_level(logging.WARNING)
        run_target(config(uri, pg_schema, batch_size_rows=2),
                   [schema_msg(ACC), *(rec(ACC, f"{i:03}", NEW) for i in range(7))])
        assert _ids(pg_conn, pg_schema) == {f"{i:03}" for i in range(7)}
        assert any("no further writer connection" in m and "too many connections" in m
                   for m in caplog.messages)
    finally:
        with pg_conn.cursor() as cur:
            def sessions() -> int:  # a closed session's backend drops its temp table as it exits
                cur.execute("SELECT count(*) FROM pg_stat_activity WHERE usename = %s", (role,))
                return cur.fetchone()[0]

            until(lambda: sessions() == 0, "the role's sessions to end")
            cur.execute(f'DROP SCHEMA IF EXISTS "{pg_schema}" CASCADE')
            cur.execute(f'DROP OWNED BY "{role}"')
            cur.execute(f'DROP ROLE "{role}"')
