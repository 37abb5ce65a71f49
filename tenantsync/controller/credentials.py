"""The tap side of the registry: a tap configured with
`credential_source: tenantsync.controller.credentials:load` and a `connection_id` gets its
credentials here at startup (decrypted with `TENANTSYNC_SECRET_KEY`), and hands rotated
refresh tokens back through `store_rotated` (its token sink). Nothing secret is ever written
to the tap's configuration file, Meltano's files or its logs.
"""

from __future__ import annotations

import atexit
import json
import logging
from collections.abc import Mapping
from typing import Any

from singer_sdk.exceptions import ConfigValidationError
from sqlalchemy import select
from sqlalchemy.orm import object_session

from tenantsync import providers
from tenantsync.controller import crypto, db
from tenantsync.controller.models import Connection, Sync, utcnow
from tenantsync.controller.registry import (
    OBJECT_KINDS,
    Registry,
    RegistryError,
    chosen_objects,
    narrow,
    paused_objects,
)
from tenantsync.tapkit import observed
from tenantsync.tapkit.errors import TokenSinkError
from tenantsync.tapkit.tokens import TokenUpdate

SINK = "tenantsync.controller.credentials:store_rotated"
_current: dict[str, int] = {}  # the connection this tap process runs for (set by `load`)
log = logging.getLogger(__name__)


def tap_settings(conn: Connection) -> dict[str, Any]:
    """The settings a tap needs to log in as `conn`: app credentials, tokens, URLs."""
    provider = conn.provider
    settings: dict[str, Any] = {**(provider.settings or {}), **(conn.settings or {})}
    if provider.sealed_credentials:
        settings.update(crypto.unseal(provider.sealed_credentials))
    secrets = crypto.unseal(conn.sealed_credentials)
    secrets.pop("type", None)
    secrets.pop("expires_at", None)
    settings.update(secrets)
    settings["token_sink"] = SINK
    return settings


def chosen_settings(config: Mapping[str, Any], conn: Connection) -> dict[str, Any]:
    """This extractor's object lists narrowed to what the connection sync config chose, less
    the objects paused on this connection. Narrowed to nothing, a tap would read everything
    (empty lists mean all): render leaves such an extractor out of the tenant's job, and a
    stale job is refused here."""
    chosen = chosen_objects(conn.sync_config)
    sync = object_session(conn).scalar(select(Sync).where(Sync.connection_id == conn.id))
    paused = paused_objects(sync) if sync is not None else {}
    if chosen is None and not paused:
        return {}
    lists = {kind: [o if isinstance(o, str) else o["object"]
                    for o in config.get(f"{kind}_objects") or ()] for kind in OBJECT_KINDS}
    narrowed = narrow(lists, chosen, paused)
    if not any(narrowed.values()):
        raise ConfigValidationError(
            f"the connection {conn.customer.customer_id!r} x {conn.provider.name!r} reads "
            "none of this extractor's objects (connection sync config or paused objects): "
            "render again (`tenantsync render`) so that its job leaves this extractor out")
    return {f"{kind}_objects": names for kind, names in narrowed.items()
            if (kind in (chosen or {}) or kind in paused) and lists[kind]}


def _connection_key(config: Mapping[str, Any]) -> tuple[str, str, str]:
    """`connection_id` is `["<application>", "<customer>", "<provider>"]` (JSON)."""
    raw = str(config.get("connection_id") or "").strip()
    try:
        key = json.loads(raw)
    except ValueError:
        key = None
    if not (isinstance(key, list) and len(key) == 3 and all(isinstance(k, str) for k in key)):
        raise ConfigValidationError(
            f"connection_id {raw!r} is not a tenantsync connection key: the tenant's "
            "environment (TENANTSYNC_CONNECTION_ID and the rest of a schedule's env) is "
            "missing, as under a plain `meltano run <job>`; run the sync with `tenantsync run "
            "<customer> <provider>` or `meltano schedule run <job>`")
    return key[0], key[1], key[2]


def load(config: Mapping[str, Any]) -> dict[str, Any]:
    """credential_source: the connection's settings from the registry."""
    app, customer, provider = _connection_key(config)
    try:
        with db.session(upgrade=False) as s:
            conn = Registry(s, app).connection(customer, provider)
            settings = {**tap_settings(conn), **chosen_settings(config, conn)}
            conn_id = conn.id
    except (crypto.CryptoError, RegistryError) as exc:
        raise ConfigValidationError(f"{exc} ({db.URL_ENV} may point elsewhere)"
                                    if isinstance(exc, RegistryError) else str(exc)) from None
    if "connection_id" not in _current:
        atexit.register(store_observed)
    _current["connection_id"] = conn_id
    return settings


def keep_observed(conn: Connection, headers: Mapping[str, str] | None = None,
                  tokens: Mapping[str, Any] | None = None) -> None:
    """Keep on the connection what was seen of its provider, read by the provider spec's
    hooks: rate limits from response headers, the provider's user id from a token response
    (`connection.observed`, served as Supaglue's `_rate_limit_info` / `_provider_user_id`)."""
    spec = providers.find(conn.provider.name)
    if spec is None:
        return
    kept = dict(conn.observed or {})
    if headers and (limits := spec.rate_limits(headers)):
        kept["rate_limits"] = limits
    if tokens and (user := spec.user_id(tokens)):
        kept["provider_user_id"] = user
    if kept != (conn.observed or {}):
        conn.observed = {**kept, "observed_at": utcnow().isoformat(timespec="seconds") + "Z"}


def store_observed() -> None:
    """At the tap's exit: what it saw of the provider this run (tapkit.observed) kept on its
    connection. A failure here is logged, never the tap's."""
    conn_id = _current.get("connection_id")
    if conn_id is None or not (observed.headers or observed.token):
        return
    try:
        with db.session(upgrade=False) as s:
            conn = s.get(Connection, conn_id)
            if conn is not None:
                keep_observed(conn, observed.headers, observed.token)
                s.commit()
    except Exception as exc:
        log.warning("could not keep what the tap saw of the provider: %s",
                    str(exc).splitlines()[0][:300])


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
        spec = providers.find(conn.provider.name)
        if spec is not None and spec.oauth is not None:  # e.g. a moved instance URL
            conn.settings = {**(conn.settings or {}), **spec.oauth.token_settings(update.extra)}
        conn.credentials_updated_at = utcnow()
        s.commit()
