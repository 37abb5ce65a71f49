"""Registry rows -> Supaglue's JSON shapes. Nothing secret is ever part of a shape."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from tenantsync import providers
from tenantsync.api import hosted
from tenantsync.api.errors import bad_request
from tenantsync.api.models import MagicLink
from tenantsync.controller import crypto
from tenantsync.controller.models import (
    Connection,
    Customer,
    Destination,
    Provider,
    Sync,
    SyncConfig,
    SyncRun,
)
from tenantsync.controller.registry import INSTANCE_URL


def parse_timestamp(value: str | None, name: str) -> datetime | None:
    """An ISO-8601 query parameter as the naive UTC datetime the tables hold."""
    if value is None:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise bad_request(f"{name} must be an ISO-8601 timestamp; got {value!r}") from None
    if parsed.tzinfo is not None:
        parsed = parsed.astimezone(timezone.utc).replace(tzinfo=None)
    return parsed


def iso(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat(timespec="milliseconds") + "Z"


def customer(row: Customer, *, with_connections: bool = False) -> dict[str, Any]:
    out = {"application_id": row.application_id, "customer_id": row.customer_id,
           "name": row.name, "email": row.email}
    if with_connections:
        out["connections"] = [connection(c) for c in row.connections]
    return out


def connection_settings(row: Connection) -> dict[str, Any]:
    """Supaglue's `instance_url`, then the other settings the provider's spec declares."""
    spec = providers.find(row.provider.name)
    settings = row.settings or {}
    return {INSTANCE_URL: settings.get(INSTANCE_URL, ""),
            **{k: settings[k] for k in (spec.connection_settings if spec else ())
               if k in settings and k != INSTANCE_URL}}


def connection(row: Connection) -> dict[str, Any]:
    return {"id": str(row.id), "application_id": row.customer.application_id,
            "customer_id": row.customer.customer_id, "provider_id": str(row.provider_id),
            "provider_name": row.provider.name, "category": row.provider.category,
            "status": "added", **connection_settings(row),
            "created_at": iso(row.created_at),
            "credentials_updated_at": iso(row.credentials_updated_at)}


def provider(row: Provider) -> dict[str, Any]:
    client_id = None
    if row.sealed_credentials:
        client_id = crypto.unseal(row.sealed_credentials).get("client_id")
    config: dict[str, Any] = {"settings": dict(row.settings or {})}
    if row.auth_type == "oauth2":
        # The client secret is write-only: it is never returned.
        config["oauth"] = {"oauth_scopes": list(row.scopes or []),
                           "credentials": {"oauth_client_id": client_id}}
    return {"id": str(row.id), "application_id": row.application_id, "name": row.name,
            "category": row.category, "auth_type": row.auth_type, "config": config}


def destination(row: Destination) -> dict[str, Any]:
    out = {"id": str(row.id), "application_id": row.application_id, "name": row.name,
           "type": row.type}
    if row.type != hosted.TYPE:  # the hosted one has no config to show (Supaglue's shape)
        out["config"] = dict(row.settings or {})
    return out


def sync_config(row: SyncConfig) -> dict[str, Any]:
    return {"id": str(row.id), "application_id": row.application_id, "name": row.name,
            "provider_name": row.provider.name, "destination_name": row.destination.name,
            "config": {"default_config": row.default_config,
                       "common_objects": row.common_objects,
                       "standard_objects": row.standard_objects,
                       "custom_objects": row.custom_objects}}


def sync(row: Sync) -> dict[str, Any]:
    conn, config = row.connection, row.sync_config
    return {"id": str(row.id), "type": "connection", "connection_id": str(conn.id),
            "sync_config_id": str(config.id), "customer_id": conn.customer.customer_id,
            "provider_name": conn.provider.name, "paused": row.paused,
            "objects": {k: [o["object"] for o in getattr(config, f"{k}_objects")]
                        for k in ("common", "standard", "custom")},
            "args_for_next_run": row.args_for_next_run or {}}


def sync_run(row: SyncRun) -> dict[str, Any]:
    conn = row.sync.connection
    return {"id": str(row.id), "sync_id": str(row.sync_id), "connection_id": str(conn.id),
            "application_id": conn.customer.application_id,
            "customer_id": conn.customer.customer_id, "provider_name": conn.provider.name,
            "category": conn.provider.category, "status": row.status,
            "strategy": row.strategy, "error_message": row.error,
            "start_timestamp": iso(row.started_at), "end_timestamp": iso(row.ended_at),
            "num_records_synced": row.num_records, "records": row.records or {}}


def magic_link(row: MagicLink, url: str) -> dict[str, Any]:
    return {"id": row.id, "application_id": row.application_id,
            "customer_id": row.customer_id, "provider_name": row.provider_name,
            "status": row.status, "url": url, "return_url": row.return_url,
            "expires_at": iso(row.expires_at)}


# --- keyset pages with opaque cursors ----------------------------------------------------------

@dataclass(frozen=True)
class Position:
    """Where a page starts: beyond the key `after` (None: the first page), walking forwards,
    or backwards for a `previous` cursor."""

    after: Any = None
    reverse: bool = False


_BAD_CURSOR = "cursor is not valid: pass back a `next` or `previous` value unchanged"


def encode_cursor(key: Any, reverse: bool) -> str:
    raw = json.dumps({"id": key, "reverse": reverse}, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def read_cursor(cursor: str | None, key_type: type) -> Position:
    if not cursor:
        return Position()
    try:
        doc = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except (ValueError, UnicodeDecodeError):
        raise bad_request(_BAD_CURSOR) from None
    if not isinstance(doc, dict) or set(doc) != {"id", "reverse"} \
            or type(doc["id"]) is not key_type or not isinstance(doc["reverse"], bool) \
            or (isinstance(doc["id"], str) and "\x00" in doc["id"]):
        raise bad_request(_BAD_CURSOR)
    return Position(doc["id"], doc["reverse"])


def paginate(rows: list[Any], page_size: int, position: Position,
             key: Callable[[Any], Any]) -> tuple[list[Any], str | None, str | None]:
    """A page from rows fetched (at most page_size + 1, in walking order) beyond `position`:
    the page in list order, its `next` and `previous` cursors."""
    more = len(rows) > page_size
    rows = rows[:page_size]
    if position.reverse:
        rows.reverse()
        before, after = more, True  # we came back from the position, which lies ahead
    else:
        before, after = position.after is not None, more
    next_cursor = encode_cursor(key(rows[-1]), False) if rows and after else None
    previous = encode_cursor(key(rows[0]), True) if rows and before else None
    return rows, next_cursor, previous


def page(records: list[dict[str, Any]], next_cursor: str | None, previous: str | None,
         total: int | None = None) -> dict[str, Any]:
    pagination: dict[str, Any] = {"next": next_cursor, "previous": previous}
    if total is not None:
        pagination["total_count"] = total
    return {"pagination": pagination, "records": records}
