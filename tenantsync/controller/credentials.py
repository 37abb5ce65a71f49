"""The tap side of the registry: a tap configured with
`credential_source: tenantsync.controller.credentials:load` and a `connection_id` gets its
credentials here at startup (decrypted with `TENANTSYNC_SECRET_KEY`), and hands rotated
refresh tokens back through `store_rotated` (its token sink). Nothing secret is ever written
to the tap's configuration file, Meltano's files or its logs.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from singer_sdk.exceptions import ConfigValidationError

from tenantsync.controller import crypto, db
from tenantsync.controller.models import Connection, utcnow
from tenantsync.tapkit.errors import TokenSinkError
from tenantsync.tapkit.tokens import TokenUpdate

SINK = "tenantsync.controller.credentials:store_rotated"
_current: dict[str, int] = {}  # the connection this tap process runs for (set by `load`)


def tap_settings(conn: Connection) -> dict[str, Any]:
    """The settings a tap needs to log in as `conn`: app credentials, tokens, URLs."""
    provider = conn.provider
    settings: dict[str, Any] = dict(provider.settings or {})
    if provider.sealed_credentials:
        settings.update(crypto.unseal(provider.sealed_credentials))
    secrets = crypto.unseal(conn.sealed_credentials)
    secrets.pop("type", None)
    secrets.pop("expires_at", None)
    settings.update(secrets)
    for key in ("instance_url", "login_url"):
        if getattr(conn, key):
            settings[key] = getattr(conn, key)
    settings["token_sink"] = SINK
    return settings


def _connection_id(config: Mapping[str, Any]) -> int:
    raw = str(config.get("connection_id") or "").strip()
    if not raw.isdigit():
        raise ConfigValidationError(
            f"connection_id {raw!r} is not a registry connection id: run this sync through "
            "`tenantsync run` or `meltano schedule run` (they set TENANTSYNC_CONNECTION_ID)")
    return int(raw)


def load(config: Mapping[str, Any]) -> dict[str, Any]:
    """credential_source: the connection's settings from the registry."""
    conn_id = _connection_id(config)
    try:
        with db.session(upgrade=False) as s:
            conn = s.get(Connection, conn_id)
            if conn is None:
                raise ConfigValidationError(f"connection {conn_id} is not in the registry "
                                            f"({db.URL_ENV} may point elsewhere)")
            settings = tap_settings(conn)
    except crypto.CryptoError as exc:
        raise ConfigValidationError(str(exc)) from None
    _current["connection_id"] = conn_id
    return settings


def store_rotated(update: TokenUpdate) -> None:
    """Token sink: seal a rotated refresh token into the connection it belongs to."""
    conn_id = _current.get("connection_id")
    if conn_id is None:
        raise TokenSinkError("tenantsync token sink used without credential_source: no "
                             "connection to store the rotated token in")
    with db.session(upgrade=False) as s:
        conn = s.get(Connection, conn_id)
        if conn is None:
            raise TokenSinkError(f"connection {conn_id} vanished from the registry")
        secrets = crypto.unseal(conn.sealed_credentials)
        secrets["refresh_token"] = update.refresh_token
        secrets.pop("access_token", None)
        conn.sealed_credentials = crypto.seal(secrets)
        if update.extra.get("instance_url"):
            conn.instance_url = update.extra["instance_url"]
        conn.credentials_updated_at = utcnow()
        s.commit()
