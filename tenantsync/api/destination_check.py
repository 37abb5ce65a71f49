"""`POST /mgmt/v2/destinations/{id}/_test`: connect to a destination as the target would and
report what the server answered (the portal's "test connection" calls this route's function)."""

from __future__ import annotations

import psycopg2
from fastapi import APIRouter

from target_postgres.connection import resolve_dsn
from tenantsync.api.mgmt import _destination_row
from tenantsync.api.service import AppRegistry
from tenantsync.controller import crypto

router = APIRouter(prefix="/mgmt/v2", tags=["management"])
CONNECT_TIMEOUT_SECONDS = 5


@router.post("/destinations/{destination_id}/_test")
def check_destination(*, destination_id: str, reg: AppRegistry) -> dict:
    """`{success, message}`: the server's version and whether the schema exists, or the first
    line of the connection error (never the password)."""
    row = _destination_row(reg, destination_id)
    settings = {**row.settings, **(crypto.unseal(row.sealed_credentials)
                                   if row.sealed_credentials else {})}
    schema = settings.get("schema") or "public"
    try:
        conn = psycopg2.connect(resolve_dsn(settings), connect_timeout=CONNECT_TIMEOUT_SECONDS)
        try:
            with conn.cursor() as cur:
                cur.execute("SELECT version(), EXISTS (SELECT 1 FROM pg_namespace "
                            "WHERE nspname = %s)", (schema,))
                version, has_schema = cur.fetchone()
        finally:
            conn.close()
    except psycopg2.Error as exc:
        message = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        for secret in settings.get("password"), settings.get("sqlalchemy_url"):
            if secret:
                message = message.replace(str(secret), "[redacted]")
        return {"success": False, "message": message}
    return {"success": True, "message": f"connected: {version.split(',')[0]}; schema "
            f"{schema!r} " + ("exists" if has_schema else "will be created by the first sync")}
