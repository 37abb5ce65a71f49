"""singer-sdk's standard target test suite, run against the session's real PostgreSQL."""

from __future__ import annotations

import uuid

from singer_sdk.testing import get_target_test_class

from target_postgres import TargetPostgres
from tests.conftest import session_pg_uri

TestTargetPostgresStandard = get_target_test_class(
    TargetPostgres,
    config={
        "application_id": "sdk-suite",
        "customer_id": "sdk-customer",
        "provider_name": "singer",
        "sqlalchemy_url": session_pg_uri(),
        "schema": f"sdk_{uuid.uuid4().hex[:8]}",
    },
)
