"""Pipedrive's tests share the suite's embedded PostgreSQL (and its clean-up at the end of a
session that runs only these tests)."""

from tests.conftest import (  # noqa: F401
    pg_conn,
    pg_schema,
    pg_server_uri,
    pytest_sessionfinish,
)
