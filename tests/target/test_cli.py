"""target-postgres as a Singer runner runs it: a process reading stdin, config from env vars."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import psycopg2

from tenantsync import embedded_pg

from .helpers import rec, schema_msg, state

EXE = str(Path(sys.executable).with_name("target-postgres"))


def pipe(messages, env=None, args=("--config", "ENV")):
    lines = "".join(json.dumps(m) + "\n" for m in messages)
    return subprocess.run([EXE, *args], input=lines.encode(), capture_output=True,
                          env={**os.environ, **(env or {})}, timeout=120, check=False)


def test_env_var_config_loads_and_emits_state(pg_server_uri, pg_schema, pg_conn):
    env = {"TARGET_POSTGRES_APPLICATION_ID": "app", "TARGET_POSTGRES_CUSTOMER_ID": "c'1/x",
           "TARGET_POSTGRES_PROVIDER_NAME": "salesforce",
           "TARGET_POSTGRES_SQLALCHEMY_URL": pg_server_uri, "TARGET_POSTGRES_SCHEMA": pg_schema,
           "TARGET_POSTGRES_BATCH_SIZE_ROWS": "2"}
    result = pipe([schema_msg("Account"), *[rec("Account", str(i), "2024-01-01") for i in range(5)],
                   state(5)], env)
    assert result.returncode == 0, result.stderr.decode()
    assert json.loads(result.stdout.decode().splitlines()[-1]) == {"bookmarks": {"n": 5}}
    with pg_conn.cursor() as cur:
        cur.execute(f'SELECT DISTINCT _supaglue_customer_id, count(*) OVER () '
                    f'FROM "{pg_schema}".salesforce_account')
        assert cur.fetchall() == [("c'1/x", 5)]
    assert pg_server_uri not in result.stderr.decode()  # the DSN may hold a password


def test_bad_input_exits_non_zero_naming_line_and_stream(pg_server_uri, pg_schema):
    env = {"TARGET_POSTGRES_APPLICATION_ID": "app", "TARGET_POSTGRES_CUSTOMER_ID": "c",
           "TARGET_POSTGRES_PROVIDER_NAME": "salesforce",
           "TARGET_POSTGRES_SQLALCHEMY_URL": pg_server_uri, "TARGET_POSTGRES_SCHEMA": pg_schema}
    result = pipe([schema_msg("Account"), {"type": "RECORD", "stream": "Account",
                                           "record": {"Name": "no key"}}], env)
    assert result.returncode != 0
    assert "input line 2, stream 'Account'" in result.stderr.decode()
    assert result.stdout == b""


def test_without_a_server_it_starts_the_embedded_postgres(tmp_path):
    # Not under pytest's tmp_path: pytest resets its root to mode 0700, which the unprivileged
    # user the embedded server runs as (when tests run as root) could not traverse.
    data_dir = Path(tempfile.mkdtemp(prefix="tenantsync-embedded-"))
    config = tmp_path / "config.json"
    config.write_text(json.dumps({"application_id": "app", "customer_id": "c",
                                  "provider_name": "salesforce",
                                  "embedded_data_dir": str(data_dir)}))
    try:
        result = pipe([schema_msg("Account"), rec("Account", "1", "2024-01-01")],
                      args=("--config", str(config)))
        assert result.returncode == 0, result.stderr.decode()
        with psycopg2.connect(embedded_pg.start(data_dir)) as conn, conn.cursor() as cur:
            cur.execute("SELECT _supaglue_id FROM supaglue.salesforce_account")
            assert cur.fetchall() == [("1",)]
    finally:
        embedded_pg.stop(data_dir)
        shutil.rmtree(data_dir, ignore_errors=True)
