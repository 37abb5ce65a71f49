"""Fixtures every test layer shares: one real embedded PostgreSQL per test session."""

from __future__ import annotations

import os
import shutil
import tempfile
import uuid

import psycopg2
import pytest

from tenantsync import embedded_pg

# One data directory per test session, known at import time so that test classes built at
# collection (singer-sdk's standard suites) can join the same server through `session_pg_uri`.
os.environ.setdefault("TENANTSYNC_TEST_PGDATA", tempfile.mkdtemp(prefix="tenantsync-pg-"))


def session_pg_uri() -> str:
    """Start (or join) this session's embedded PostgreSQL and return its libpq URI."""
    return embedded_pg.start(os.environ["TENANTSYNC_TEST_PGDATA"])


def pytest_sessionfinish(session, exitstatus) -> None:
    """Stop the session's server (it outlives processes by design) and remove its data."""
    data_dir = os.environ["TENANTSYNC_TEST_PGDATA"]
    embedded_pg.stop(data_dir)
    shutil.rmtree(data_dir, ignore_errors=True)


@pytest.fixture(scope="session")
def pg_server_uri() -> str:
    """libpq URI of a real PostgreSQL started for this session (embedded, Unix socket only)."""
    return session_pg_uri()


@pytest.fixture
def pg_schema(pg_server_uri) -> str:
    """A fresh, empty schema name for one test; dropped afterwards."""
    schema = f"t_{uuid.uuid4().hex[:12]}"
    yield schema
    with psycopg2.connect(pg_server_uri) as conn, conn.cursor() as cur:
        cur.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


@pytest.fixture
def pg_schema_engine(pg_server_uri, pg_schema):
    """A SQLAlchemy engine on the session's PostgreSQL whose search_path is a fresh schema."""
    from sqlalchemy import create_engine

    with psycopg2.connect(pg_server_uri) as conn, conn.cursor() as cur:
        cur.execute(f'CREATE SCHEMA "{pg_schema}"')
    url = pg_server_uri.replace("postgresql://", "postgresql+psycopg2://", 1)
    sep = "&" if "?" in url else "?"
    engine = create_engine(f"{url}{sep}options=-csearch_path%3D{pg_schema}")
    yield engine
    engine.dispose()


@pytest.fixture
def pg_conn(pg_server_uri):
    conn = psycopg2.connect(pg_server_uri)
    conn.autocommit = True
    yield conn
    conn.close()
