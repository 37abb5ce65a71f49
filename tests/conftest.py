"""Fixtures every test layer shares: one real embedded PostgreSQL per test session."""

from __future__ import annotations

import uuid

import psycopg2
import pytest

from tenantsync import embedded_pg


@pytest.fixture(scope="session")
def pg_server_uri(tmp_path_factory) -> str:
    """libpq URI of a real PostgreSQL started for this session (embedded, Unix socket only)."""
    data_dir = tmp_path_factory.mktemp("pgdata")
    uri = embedded_pg.start(data_dir)
    yield uri
    embedded_pg.stop(data_dir)


@pytest.fixture
def pg_schema(pg_server_uri) -> str:
    """A fresh, empty schema name for one test; dropped afterwards."""
    schema = f"t_{uuid.uuid4().hex[:12]}"
    yield schema
    with psycopg2.connect(pg_server_uri) as conn, conn.cursor() as cur:
        cur.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


@pytest.fixture
def pg_conn(pg_server_uri):
    conn = psycopg2.connect(pg_server_uri)
    conn.autocommit = True
    yield conn
    conn.close()
