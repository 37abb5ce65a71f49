"""Registry rows -> Supaglue's JSON shapes. Nothing secret is ever part of a shape."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from tenantsync import contract, providers
from tenantsync.api import hosted
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
from tenantsync.controller.registry import INSTANCE_URL, paused_objects, sync_objects


def bad_request(message: str) -> Exception:
    """The API's 400 answer, its module imported when needed: the shapes also serve every
    `tenantsync run`'s finish hook (tenantsync.api.runs), which need not import FastAPI."""
    from tenantsync.api.errors import bad_request as answer

    return answer(message)

DEFAULT_PORT = 5432


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
            **({"connection_sync_config": row.sync_config} if row.sync_config else {}),
            "created_at": iso(row.created_at),
            "credentials_updated_at": iso(row.credentials_updated_at)}


def provider(row: Provider) -> dict[str, Any]:
    client_id = None
    if row.sealed_credentials:
        client_id = crypto.unseal(row.sealed_credentials).get("client_id")
    # The client secret is write-only: it is never returned (a deliberate difference).
    config: dict[str, Any] = {
        "provider_app_id": row.app_id or "",
        "oauth": {"oauth_scopes": list(row.scopes or []),
                  "credentials": {"oauth_client_id": client_id or ""}},
        "settings": dict(row.settings or {})}
    return {"id": str(row.id), "application_id": row.application_id, "name": row.name,
            "category": row.category, "auth_type": row.auth_type, "config": config,
            **({"objects": row.objects} if row.objects is not None else {})}


def destination(row: Destination) -> dict[str, Any]:
    out = {"id": str(row.id), "application_id": row.application_id, "name": row.name,
           "type": row.type, "version": row.version}
    if row.type != hosted.TYPE:  # the hosted one has no config to show (Supaglue's shape)
        settings = dict(row.settings or {})
        out["config"] = {**settings, "port": settings.get("port", DEFAULT_PORT),
                         "schema": settings.get("schema", contract.DEFAULT_SCHEMA),
                         **{k: settings.get(k, "") for k in ("database", "user")}}
    return out


def sync_config(row: SyncConfig) -> dict[str, Any]:
    return {"id": str(row.id), "application_id": row.application_id, "name": row.name,
            "provider_name": row.provider.name, "destination_name": row.destination.name,
            "config": {"default_config": row.default_config,
                       "common_objects": row.common_objects,
                       "standard_objects": row.standard_objects,
                       "custom_objects": row.custom_objects}}


# --- syncs: one per object of a connection, as Supaglue had them -----------------------------

def object_sync_id(sync_id: int, object_type: str, name: str) -> str:
    """A per-object sync's id: the connection's sync, the object type and the object."""
    return f"{sync_id}:{object_type}:{name}"


def sync_items(row: Sync) -> list[tuple[str, str]]:
    """(object type, object) of every per-object sync of a connection's sync, in order."""
    return [(kind, name) for kind, names in sync_objects(row).items() for name in names]


def object_sync(row: Sync, object_type: str, name: str) -> dict[str, Any]:
    """Supaglue's sync of one object; paused when the connection's sync is (refused
    credentials pause it) or the object is."""
    conn = row.connection
    return {"id": object_sync_id(row.id, object_type, name), "type": "object",
            "object_type": object_type, "object": name, "connection_id": str(conn.id),
            "sync_config_id": str(row.sync_config_id),
            "customer_id": conn.customer.customer_id, "provider_name": conn.provider.name,
            "paused": row.paused or name in paused_objects(row).get(object_type, ())}


def run_items(row: SyncRun) -> list[dict[str, Any]]:
    """What a connection's run did per object, as the runner recorded it. A run recorded
    before runs kept their objects is shown per object of its sync (its count only when it
    read a single object)."""
    if row.objects is not None:
        return row.objects
    items = sync_items(row.sync)
    return [{"object_type": kind, "object": name,
             "num_records": row.num_records if len(items) == 1 else None}
            for kind, name in items]


def object_sync_run(row: SyncRun, index: int, item: dict[str, Any]) -> dict[str, Any]:
    """Supaglue's run of one object: the connection run's status, times and error (one
    Meltano run reads every object), this object's strategy and records written."""
    conn = row.sync.connection
    done = row.status != "IN_PROGRESS"
    return {"id": f"{row.id}:{index}",
            "sync_id": object_sync_id(row.sync_id, item["object_type"], item["object"]),
            "run_id": str(row.id), "object_type": item["object_type"], "object": item["object"],
            "connection_id": str(conn.id), "application_id": conn.customer.application_id,
            "customer_id": conn.customer.customer_id, "provider_name": conn.provider.name,
            "category": conn.provider.category, "status": row.status,
            "strategy": item.get("strategy", row.strategy), "error_message": row.error,
            "start_timestamp": iso(row.started_at), "end_timestamp": iso(row.ended_at),
            "num_records_synced": item.get("num_records") if done else None}


def magic_link(row: MagicLink, url: str, provider_id: int | None) -> dict[str, Any]:
    return {"id": row.id, "application_id": row.application_id,
            "customer_id": row.customer_id, "provider_name": row.provider_name,
            "provider_id": "" if provider_id is None else str(provider_id),
            "status": row.status, "url": url, "return_url": row.return_url,
            "replace": row.replace,
            "expires_at": iso(row.expires_at)}


# --- keyset pages with opaque cursors ----------------------------------------------------------

@dataclass(frozen=True)
class Position:
    """Where a page starts: beyond the key `after` (None: the first page), walking forwards,
    or backwards for a `previous` cursor."""

    after: Any = None
    reverse: bool = False


MAX_ROW_ID = 2**63 - 1  # BIGINT
MAX_RECORD_ID_BYTES = 4096
MAX_CURSOR_CHARS = 65536
_BAD_CURSOR = "cursor is not valid: pass back a `next` or `previous` value unchanged"


def encode_cursor(key: Any, reverse: bool) -> str:
    raw = json.dumps({"id": key, "reverse": reverse}, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def read_cursor(cursor: str | None, key_type: type) -> Position:
    if not cursor:
        return Position()
    if len(cursor) > MAX_CURSOR_CHARS:
        raise bad_request(_BAD_CURSOR)
    try:
        doc = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except (ValueError, UnicodeDecodeError, RecursionError):
        raise bad_request(_BAD_CURSOR) from None
    if not isinstance(doc, dict) or set(doc) != {"id", "reverse"} \
            or type(doc["id"]) is not key_type or not isinstance(doc["reverse"], bool) \
            or not _storable(doc["id"]):
        raise bad_request(_BAD_CURSOR)
    return Position(doc["id"], doc["reverse"])


def _storable(key: Any) -> bool:
    """A key the databases can compare: a row id (non-negative 64-bit integer) or a record
    id (text PostgreSQL accepts: valid UTF-8, no NUL, bounded), or a short list of them."""
    if isinstance(key, list):
        return len(key) <= 4 and all(type(v) in (int, str) and _storable(v) for v in key)
    if isinstance(key, int):
        return 0 <= key <= MAX_ROW_ID
    try:
        encoded = key.encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate from a \ud800 escape
        return False
    return b"\x00" not in encoded and len(encoded) <= MAX_RECORD_ID_BYTES


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


def flat_page(results: list[dict[str, Any]], next_cursor: str | None,
              previous: str | None) -> dict[str, Any]:
    """The management API's pages (syncs, sync runs): Supaglue's flat envelope (its optional
    `total_count` is left out: counting per-object items would read every row)."""
    return {"next": next_cursor, "previous": previous, "results": results}


def page(records: list[dict[str, Any]], next_cursor: str | None, previous: str | None,
         total: int | None = None) -> dict[str, Any]:
    """The Data Listing's pages: `{pagination, records}`."""
    pagination: dict[str, Any] = {"next": next_cursor, "previous": previous}
    if total is not None:
        pagination["total_count"] = total
    return {"pagination": pagination, "records": records}
