"""The hosted destination (`type: supaglue`): a PostgreSQL that tenantsync manages, one schema
per application, written by target-postgres like any other destination.

Where it is: `TENANTSYNC_HOSTED_DB_URL` (a server you run), else an embedded PostgreSQL in
`TENANTSYNC_HOSTED_DB_DIR` (default `<project>/.tenantsync/hosted-pg`). Customers are kept
apart by the tables' primary key, which leads with the tenant columns (application, provider,
customer): every customer's rows are one contiguous range of that index, which both the Data
Listing API's keyset reads and the target's upserts use.
"""

from __future__ import annotations

import hashlib
import os
import re

from tenantsync.controller import db

URL_ENV = "TENANTSYNC_HOSTED_DB_URL"
DIR_ENV = "TENANTSYNC_HOSTED_DB_DIR"
TYPE = "supaglue"


def schema_for(application_id: str) -> str:
    """Supaglue's sanitizeForPostgres(applicationId): a safe, distinct schema name."""
    name = re.sub(r"[^a-z0-9_]", "_", application_id.lower())
    if name != application_id or not name[:1].isalpha() or len(name) > 50:
        # Distinct ids must never share a schema: anything rewritten carries a hash.
        name = f"app_{name[:40]}_{hashlib.sha256(application_id.encode()).hexdigest()[:8]}"
    return name


def data_dir() -> str:
    return os.environ.get(DIR_ENV) or str(db.project_dir() / ".tenantsync" / "hosted-pg")


def target_settings(application_id: str) -> dict[str, str]:
    """The target-postgres settings of an application's hosted destination (the URL, if any,
    is a secret: the registry seals it)."""
    url = os.environ.get(URL_ENV)
    location = {"sqlalchemy_url": url} if url else {"embedded_data_dir": data_dir()}
    return {"schema": schema_for(application_id), **location}


def dsn() -> str:
    """The libpq DSN the Data Listing API reads from (starts the embedded server if needed)."""
    url = os.environ.get(URL_ENV)
    if url:
        return re.sub(r"^postgres(ql)?\+\w+://", "postgresql://", url)
    from tenantsync import embedded_pg

    return embedded_pg.start(data_dir())
