"""The management API, `/mgmt/v2`, in Supaglue's shapes, on the controller's Registry.

Every route is scoped to the caller's application (its API key). Secrets (connection
credentials, OAuth client secrets, destination passwords) are write-only. Every change is
committed, then the Meltano config is re-rendered.
"""

from __future__ import annotations

import secrets
from datetime import timedelta
from typing import Any, Literal

from fastapi import APIRouter, Header, Query, Response
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select

from tenantsync.api import hosted, shapes, webhooks
from tenantsync.api.errors import ApiError, bad_request, not_found
from tenantsync.api.models import MagicLink, WebhookDelivery, WebhookEndpoint
from tenantsync.api.service import AppRegistry, Config, ServiceConfig, rerender
from tenantsync.controller import crypto
from tenantsync.controller.models import (
    Connection,
    Customer,
    Destination,
    Provider,
    Sync,
    SyncConfig,
    SyncRun,
    utcnow,
)
from tenantsync.controller.registry import DESTINATION_SECRETS, Registry, RegistryError

router = APIRouter(prefix="/mgmt/v2", tags=["management"])
Name = Field(min_length=1, max_length=256, pattern=r"^[^\x00]+$")
Text = Field(default=None, max_length=2048, pattern=r"^[^\x00]*$")
PageSize = Query(1000, ge=1, le=1000)


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


def _doc(model: BaseModel) -> dict[str, Any]:
    return model.model_dump(exclude_none=True)


def _missing(fn, *args: Any) -> Any:
    """A registry lookup whose failure means the thing asked for does not exist."""
    try:
        return fn(*args)
    except RegistryError as exc:
        raise not_found(str(exc)) from None


def _get(s, model: type, text_id: str) -> Any:
    """A row by its numeric id given as path text (anything else finds nothing)."""
    if not (text_id.isascii() and text_id.isdigit()) or len(text_id) > 18:
        return None
    return s.get(model, int(text_id))


def _keyset(reg: Registry, query, column, cursor: str | None, page_size: int, *,
            descending: bool) -> tuple[list, str | None, str | None]:
    """One page of `query` in `column` order (ids: ascending, or newest first)."""
    position = shapes.read_cursor(cursor, int)
    forward = position.reverse == descending  # walking towards larger ids
    if position.after is not None:
        query = query.where(column > position.after if forward else column < position.after)
    query = query.order_by(column if forward else column.desc()).limit(page_size + 1)
    return shapes.paginate(list(reg.s.scalars(query)), page_size, position, lambda r: r.id)


def _commit(reg: Registry, cfg: ServiceConfig) -> None:
    reg.s.commit()
    rerender(reg.s, cfg)


# --- customers ------------------------------------------------------------------------------

class CustomerIn(Strict):
    customer_id: str = Name
    name: str | None = Text
    email: str | None = Text


@router.get("/customers")
def list_customers(*, reg: AppRegistry) -> list[dict]:
    return [shapes.customer(c) for c in reg.customers()]


@router.put("/customers")
def upsert_customer(*, body: CustomerIn, reg: AppRegistry,
                    cfg: Config) -> dict:
    row = reg.upsert_customer(_doc(body))
    _commit(reg, cfg)
    return shapes.customer(row, with_connections=True)


@router.get("/customers/{customer_id}")
def get_customer(*, customer_id: str, reg: AppRegistry) -> dict:
    return shapes.customer(_missing(reg._customer, customer_id), with_connections=True)


@router.delete("/customers/{customer_id}", status_code=204)
def delete_customer(*, customer_id: str, reg: AppRegistry,
                    cfg: Config) -> Response:
    row = _missing(reg._customer, customer_id)
    if row.connections:
        raise ApiError(409, "Customer has connections",
                       f"customer {customer_id!r} still has connections: delete them first")
    reg.delete_customer(customer_id)
    _commit(reg, cfg)
    return Response(status_code=204)


# --- connections ----------------------------------------------------------------------------

class ConnectionIn(Strict):
    provider_name: str = Name
    type: Literal["oauth2", "api_key", "access_key_secret"]
    refresh_token: str | None = Text
    access_token: str | None = Text
    instance_url: str | None = Text
    login_url: str | None = Text
    api_key: str | None = Text
    access_key: str | None = Text
    access_key_secret: str | None = Text
    base_url: str | None = Text  # non-secret: where this connection's API is (sandboxes)


def connection_created(reg: Registry, conn: Connection) -> None:
    webhooks.emit(reg.s, reg.app_id, "connection.created", {
        "customer_id": conn.customer.customer_id, "provider_id": str(conn.provider_id),
        "provider_name": conn.provider.name, "category": conn.provider.category,
        "connection_id": str(conn.id), "result": "SUCCESS"})


@router.get("/customers/{customer_id}/connections")
def list_connections(*, customer_id: str, reg: AppRegistry) -> list[dict]:
    return [shapes.connection(c) for c in _missing(reg._customer, customer_id).connections]


@router.post("/customers/{customer_id}/connections", status_code=201)
def create_connection(*, customer_id: str, body: ConnectionIn, reg: AppRegistry,
                      cfg: Config) -> dict:
    _missing(reg._customer, customer_id)
    _missing(reg._provider, body.provider_name)
    if body.instance_url is not None and not body.instance_url.startswith("https://") \
            and not body.instance_url.startswith("http://127.0.0.1"):
        raise bad_request("instance_url must be an https:// URL")
    conn = reg.upsert_connection({**_doc(body), "customer_id": customer_id})
    connection_created(reg, conn)
    _commit(reg, cfg)
    return shapes.connection(conn)


@router.get("/customers/{customer_id}/connections/{provider_name}")
def get_connection(*, customer_id: str, provider_name: str,
                   reg: AppRegistry) -> dict:
    return shapes.connection(_missing(reg.connection, customer_id, provider_name))


@router.delete("/customers/{customer_id}/connections/{provider_name}", status_code=204)
def delete_connection(*, customer_id: str, provider_name: str, reg: AppRegistry,
                      cfg: Config) -> Response:
    conn = _missing(reg.connection, customer_id, provider_name)
    payload = {"customer_id": customer_id, "provider_id": str(conn.provider_id),
               "provider_name": provider_name, "category": conn.provider.category,
               "connection_id": str(conn.id)}
    reg.delete_connection(customer_id, provider_name)
    webhooks.emit(reg.s, reg.app_id, "connection.deleted", payload)
    _commit(reg, cfg)
    return Response(status_code=204)


# --- providers ------------------------------------------------------------------------------

class OAuthCredentials(Strict):
    oauth_client_id: str | None = Text
    oauth_client_secret: str | None = Text


class OAuthConfig(Strict):
    oauth_scopes: list[str] = Field(default_factory=list, max_length=50)
    credentials: OAuthCredentials | None = None


class ProviderConfig(Strict):
    provider_app_id: str | None = Text
    use_managed_oauth: bool | None = None
    oauth: OAuthConfig | None = None
    # Non-secret settings of every connection's tap (login_url, base_url, authorize_url).
    settings: dict[str, str | int | bool] | None = None


class ProviderIn(Strict):
    name: str = Field(min_length=1, max_length=64, pattern=r"^[a-z][a-z0-9_]*$")
    category: Literal["crm", "engagement"] = "crm"
    auth_type: Literal["oauth2", "api_key", "access_key_secret"] = "oauth2"
    config: ProviderConfig | None = None


def _provider_row(reg: Registry, provider_id: str) -> Provider:
    row = _get(reg.s, Provider, provider_id)
    if row is None or row.application_id != reg.app_id:
        raise not_found(f"no provider with id {provider_id!r}")
    return row


def _upsert_provider(reg: Registry, body: ProviderIn, existing: Provider | None) -> Provider:
    doc = _doc(body)
    creds = doc.setdefault("config", {}).setdefault("oauth", {}).setdefault("credentials", {})
    if existing is not None and existing.sealed_credentials:
        # Write-only secrets: an update that leaves them out keeps the stored ones.
        stored = crypto.unseal(existing.sealed_credentials)
        creds.setdefault("oauth_client_id", stored.get("client_id"))
        creds.setdefault("oauth_client_secret", stored.get("client_secret"))
    return reg.upsert_provider(doc)


@router.get("/providers")
def list_providers(*, reg: AppRegistry) -> list[dict]:
    return [shapes.provider(p) for p in reg.providers()]


@router.post("/providers", status_code=201)
def create_provider(*, body: ProviderIn, reg: AppRegistry,
                    cfg: Config) -> dict:
    if reg._provider(body.name, missing_ok=True) is not None:
        raise ApiError(409, "Provider exists", f"provider {body.name!r} already exists: "
                       "update it with PUT /providers/{id}")
    row = _upsert_provider(reg, body, None)
    _commit(reg, cfg)
    return shapes.provider(row)


@router.get("/providers/{provider_id}")
def get_provider(*, provider_id: str, reg: AppRegistry) -> dict:
    return shapes.provider(_provider_row(reg, provider_id))


@router.put("/providers/{provider_id}")
def update_provider(*, provider_id: str, body: ProviderIn, reg: AppRegistry,
                    cfg: Config) -> dict:
    row = _provider_row(reg, provider_id)
    if body.name != row.name:
        raise bad_request(f"a provider's name cannot change ({row.name!r} -> {body.name!r})")
    row = _upsert_provider(reg, body, row)
    _commit(reg, cfg)
    return shapes.provider(row)


@router.delete("/providers/{provider_id}", status_code=204)
def delete_provider(*, provider_id: str, reg: AppRegistry,
                    cfg: Config) -> Response:
    row = _provider_row(reg, provider_id)
    try:
        reg.delete_provider(row.name)
    except RegistryError as exc:
        raise ApiError(409, "Provider in use", str(exc)) from None
    _commit(reg, cfg)
    return Response(status_code=204)


# --- destinations ---------------------------------------------------------------------------

class PostgresConfig(Strict):
    host: str | None = Text
    port: int | None = Field(default=None, ge=1, le=65535)
    database: str | None = Text
    schema_: str | None = Field(default=None, alias="schema", max_length=63,
                                pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")
    user: str | None = Text
    password: str | None = Text
    ssl_mode: Literal["disable", "allow", "prefer", "require", "verify-ca",
                      "verify-full"] | None = None


class DestinationIn(Strict):
    name: str = Name
    type: Literal["postgres", "supaglue"]
    config: PostgresConfig | None = None


def _destination_row(reg: Registry, destination_id: str) -> Destination:
    row = _get(reg.s, Destination, destination_id)
    if row is None or row.application_id != reg.app_id:
        raise not_found(f"no destination with id {destination_id!r}")
    return row


def _upsert_destination(reg: Registry, body: DestinationIn,
                        existing: Destination | None) -> Destination:
    if body.type == hosted.TYPE:
        if body.config is not None:
            raise bad_request("a destination of type 'supaglue' takes no config: tenantsync "
                              "hosts it (one schema per application)")
        row = reg.upsert_destination({"name": body.name, "type": "postgres",
                                      "credentials": hosted.target_settings(reg.app_id)})
        row.type = hosted.TYPE  # rendered like any Postgres; shown as the hosted one
        reg.s.flush()
        return row
    if body.config is None or not body.config.host:
        raise bad_request("a postgres destination needs config.host (and port, database, "
                          "schema, user, password)")
    creds = body.config.model_dump(exclude_none=True, by_alias=True)
    if existing is not None and existing.sealed_credentials:
        stored = crypto.unseal(existing.sealed_credentials)  # write-only secrets are kept
        creds.update({k: v for k, v in stored.items()
                      if k in DESTINATION_SECRETS and k not in creds})
    return reg.upsert_destination({"name": body.name, "type": "postgres",
                                   "credentials": creds})


@router.get("/destinations")
def list_destinations(*, reg: AppRegistry) -> list[dict]:
    return [shapes.destination(d) for d in reg.destinations()]


@router.post("/destinations", status_code=201)
def create_destination(*, body: DestinationIn, reg: AppRegistry,
                       cfg: Config) -> dict:
    if reg._destination(body.name, missing_ok=True) is not None:
        raise ApiError(409, "Destination exists", f"destination {body.name!r} already exists")
    row = _upsert_destination(reg, body, None)
    _commit(reg, cfg)
    return shapes.destination(row)


@router.get("/destinations/{destination_id}")
def get_destination(*, destination_id: str, reg: AppRegistry) -> dict:
    return shapes.destination(_destination_row(reg, destination_id))


@router.put("/destinations/{destination_id}")
def update_destination(*, destination_id: str, body: DestinationIn,
                       reg: AppRegistry,
                       cfg: Config) -> dict:
    row = _destination_row(reg, destination_id)
    if body.name != row.name:
        raise bad_request(f"a destination's name cannot change ({row.name!r} -> "
                          f"{body.name!r})")
    if (row.type == hosted.TYPE) != (body.type == hosted.TYPE):
        raise bad_request("a destination cannot change between 'supaglue' and 'postgres'")
    row = _upsert_destination(reg, body, row)
    _commit(reg, cfg)
    return shapes.destination(row)


# --- sync configs ---------------------------------------------------------------------------

class StrategyIn(Strict):
    period_ms: int | None = Field(default=None, ge=1, le=2**31 - 1)
    strategy: Literal["full then incremental", "full only", "full refresh"] | None = None
    full_sync_every_n_incrementals: int | None = Field(default=None, ge=1, le=10_000)
    auto_start_on_connection: bool | None = None


class ObjectIn(Strict):
    object: str = Name
    sync_strategy_override: StrategyIn | None = None
    associations_to_fetch: list[str] | None = Field(default=None, max_length=50)


class SyncConfigData(Strict):
    default_config: StrategyIn
    common_objects: list[ObjectIn] = Field(default_factory=list, max_length=200)
    standard_objects: list[ObjectIn] = Field(default_factory=list, max_length=200)
    custom_objects: list[ObjectIn] = Field(default_factory=list, max_length=200)


class SyncConfigIn(Strict):
    name: str | None = Text
    provider_name: str = Name
    destination_name: str = Name
    config: SyncConfigData


def _sync_config_row(reg: Registry, sync_config_id: str) -> SyncConfig:
    row = _get(reg.s, SyncConfig, sync_config_id)
    if row is None or row.application_id != reg.app_id:
        raise not_found(f"no sync config with id {sync_config_id!r}")
    return row


def _syncs_of(reg: Registry, row: SyncConfig) -> list[Sync]:
    return list(reg.s.scalars(select(Sync).where(Sync.sync_config_id == row.id)))


@router.get("/sync_configs")
def list_sync_configs(*, reg: AppRegistry) -> list[dict]:
    return [shapes.sync_config(c) for c in reg.sync_configs()]


@router.post("/sync_configs", status_code=201)
def create_sync_config(*, body: SyncConfigIn, reg: AppRegistry,
                       cfg: Config) -> dict:
    provider = _missing(reg._provider, body.provider_name)
    _missing(reg._destination, body.destination_name)
    if reg.s.scalar(select(SyncConfig.id).where(SyncConfig.provider_id == provider.id)):
        raise ApiError(409, "Sync config exists", f"provider {body.provider_name!r} already "
                       "has a sync config (one per provider): update it with PUT")
    row = reg.upsert_sync_config(_doc(body))
    _commit(reg, cfg)
    return shapes.sync_config(row)


@router.get("/sync_configs/{sync_config_id}")
def get_sync_config(*, sync_config_id: str, reg: AppRegistry) -> dict:
    return shapes.sync_config(_sync_config_row(reg, sync_config_id))


@router.put("/sync_configs/{sync_config_id}")
def update_sync_config(*, sync_config_id: str, body: SyncConfigIn,
                       force_delete_syncs: bool = False, reg: AppRegistry,
                       cfg: Config) -> dict:
    row = _sync_config_row(reg, sync_config_id)
    _missing(reg._destination, body.destination_name)
    new_provider = _missing(reg._provider, body.provider_name)
    if new_provider.id != row.provider_id:
        # Moving the config to another provider removes the old provider's syncs.
        syncs = _syncs_of(reg, row)
        if syncs and not force_delete_syncs:
            raise bad_request(f"this change would delete {len(syncs)} sync(s) of provider "
                              f"{row.provider.name!r}: pass force_delete_syncs=true")
        if reg.s.scalar(select(SyncConfig.id).where(SyncConfig.provider_id == new_provider.id)):
            raise ApiError(409, "Sync config exists", f"provider {body.provider_name!r} "
                           "already has a sync config")
        reg.delete_sync_config(row.provider.name, force_delete_syncs=True)
        reg.s.flush()
    row = reg.upsert_sync_config(_doc(body))
    _commit(reg, cfg)
    return shapes.sync_config(row)


@router.delete("/sync_configs/{sync_config_id}", status_code=204)
def delete_sync_config(*, sync_config_id: str, force_delete_syncs: bool = False,
                       reg: AppRegistry,
                       cfg: Config) -> Response:
    row = _sync_config_row(reg, sync_config_id)
    syncs = _syncs_of(reg, row)
    if syncs and not force_delete_syncs:
        raise bad_request(f"sync config has {len(syncs)} sync(s): pass "
                          "force_delete_syncs=true to delete them too")
    reg.delete_sync_config(row.provider.name, force_delete_syncs=True)
    _commit(reg, cfg)
    return Response(status_code=204)


# --- syncs ----------------------------------------------------------------------------------

class SyncActionIn(Strict):
    # Accepted for Supaglue compatibility; a tenantsync sync covers all of a connection's
    # objects, so the action applies to the connection's sync as a whole.
    object_type: Literal["common", "standard", "custom"] | None = None
    object: str | None = Text
    entity_id: str | None = Text
    perform_full_refresh: bool = False


def _tenant_sync(reg: Registry, customer_id: str, provider_name: str) -> Sync:
    return _missing(reg.sync, customer_id, provider_name)


@router.get("/syncs")
def list_syncs(*, cursor: str | None = None, page_size: int = PageSize,
               customer_id: str | None = None, provider_name: str | None = None,
               reg: AppRegistry) -> dict:
    query = (select(Sync).join(Connection, Sync.connection_id == Connection.id)
             .join(Customer, Connection.customer_pk == Customer.id)
             .join(Provider, Connection.provider_id == Provider.id)
             .where(Customer.application_id == reg.app_id))
    if customer_id:
        query = query.where(Customer.customer_id == customer_id)
    if provider_name:
        query = query.where(Provider.name == provider_name)
    rows, next_cursor, previous = _keyset(reg, query, Sync.id, cursor, page_size,
                                          descending=False)
    return shapes.page([shapes.sync(r) for r in rows], next_cursor, previous)


def _sync_action(reg: Registry, cfg: ServiceConfig, customer_id: str, provider_name: str,
                 paused: bool) -> dict:
    row = _tenant_sync(reg, customer_id, provider_name)
    row.paused = paused
    _commit(reg, cfg)
    return shapes.sync(row)


CustomerHeader = Header(..., alias="x-customer-id", min_length=1)
ProviderHeader = Header(..., alias="x-provider-name", min_length=1)


@router.post("/syncs/_pause")
def pause_sync(*, body: SyncActionIn | None = None, customer_id: str = CustomerHeader,
               provider_name: str = ProviderHeader, reg: AppRegistry,
               cfg: Config) -> dict:
    return _sync_action(reg, cfg, customer_id, provider_name, True)


@router.post("/syncs/_resume")
def resume_sync(*, body: SyncActionIn | None = None, customer_id: str = CustomerHeader,
                provider_name: str = ProviderHeader, reg: AppRegistry,
                cfg: Config) -> dict:
    return _sync_action(reg, cfg, customer_id, provider_name, False)


@router.post("/syncs/_trigger")
def trigger_sync(*, body: SyncActionIn | None = None, customer_id: str = CustomerHeader,
                 provider_name: str = ProviderHeader, reg: AppRegistry,
                 cfg: Config) -> dict:
    from tenantsync.api import runs  # the runner pulls in subprocess machinery

    row = _tenant_sync(reg, customer_id, provider_name)
    if row.paused:
        raise ApiError(409, "Sync is paused", f"sync {customer_id} x {provider_name} is "
                       "paused: resume it first")
    if body is not None and body.perform_full_refresh:
        row.args_for_next_run = {**(row.args_for_next_run or {}), "perform_full_refresh": True}
    reg.s.commit()
    if cfg.run_on_trigger:
        runs.start_in_background(cfg, reg.app_id, customer_id, provider_name)
    return shapes.sync(row)


# --- sync runs ------------------------------------------------------------------------------

@router.get("/sync-runs")
def list_sync_runs(*, cursor: str | None = None, page_size: int = PageSize,
                   customer_id: str | None = None, provider_name: str | None = None,
                   object: str | None = None,
                   status: Literal["SUCCESS", "FAILURE", "IN_PROGRESS"] | None = None,
                   start_timestamp: str | None = None, end_timestamp: str | None = None,
                   reg: AppRegistry) -> dict:
    query = (select(SyncRun).join(Sync, SyncRun.sync_id == Sync.id)
             .join(Connection, Sync.connection_id == Connection.id)
             .join(Customer, Connection.customer_pk == Customer.id)
             .join(Provider, Connection.provider_id == Provider.id)
             .join(SyncConfig, Sync.sync_config_id == SyncConfig.id)
             .where(Customer.application_id == reg.app_id))
    if customer_id:
        query = query.where(Customer.customer_id == customer_id)
    if provider_name:
        query = query.where(Provider.name == provider_name)
    if status:
        query = query.where(SyncRun.status == status)
    if object:  # runs of the sync configs that list the object (object lists are JSON)
        configs = [c.id for c in reg.sync_configs()
                   if any(o["object"] == object for k in ("common", "standard", "custom")
                          for o in getattr(c, f"{k}_objects"))]
        query = query.where(Sync.sync_config_id.in_(configs))
    if (start := shapes.parse_timestamp(start_timestamp, "start_timestamp")) is not None:
        query = query.where(SyncRun.started_at >= start)
    if (end := shapes.parse_timestamp(end_timestamp, "end_timestamp")) is not None:
        query = query.where(SyncRun.started_at <= end)
    rows, next_cursor, previous = _keyset(reg, query, SyncRun.id, cursor, page_size,
                                          descending=True)
    return shapes.page([shapes.sync_run(r) for r in rows], next_cursor, previous)


# --- magic links ----------------------------------------------------------------------------

class MagicLinkIn(Strict):
    customer_id: str = Name
    provider_name: str = Name
    return_url: str = Field(min_length=1, max_length=2048, pattern=r"^https?://[^\x00]+$")
    expiration_secs: int = Field(default=7 * 24 * 3600, ge=60, le=30 * 24 * 3600)


def magic_link_url(cfg: ServiceConfig, link_id: str) -> str:
    return f"{cfg.public_url}/links/{link_id}"


@router.post("/magic_links", status_code=201)
def create_magic_link(*, body: MagicLinkIn, reg: AppRegistry,
                      cfg: Config) -> dict:
    _missing(reg._customer, body.customer_id)
    provider = _missing(reg._provider, body.provider_name)
    if provider.auth_type != "oauth2":
        raise bad_request(f"provider {provider.name!r} uses {provider.auth_type}: import its "
                          "credentials with POST /customers/{customer_id}/connections")
    row = MagicLink(id=secrets.token_urlsafe(24), application_id=reg.app_id,
                    customer_id=body.customer_id, provider_name=body.provider_name,
                    return_url=body.return_url, status="new",
                    expires_at=utcnow() + timedelta(seconds=body.expiration_secs))
    reg.s.add(row)
    reg.s.commit()
    return shapes.magic_link(row, magic_link_url(cfg, row.id))


@router.get("/magic_links")
def list_magic_links(*, reg: AppRegistry,
                     cfg: Config) -> list[dict]:
    rows = reg.s.scalars(select(MagicLink).where(MagicLink.application_id == reg.app_id)
                         .order_by(MagicLink.created_at))
    return [shapes.magic_link(r, magic_link_url(cfg, r.id)) for r in rows]


@router.delete("/magic_links/{link_id}", status_code=204)
def delete_magic_link(*, link_id: str, reg: AppRegistry) -> Response:
    row = reg.s.get(MagicLink, link_id)
    if row is None or row.application_id != reg.app_id:
        raise not_found(f"no magic link with id {link_id!r}")
    reg.s.delete(row)
    reg.s.commit()
    return Response(status_code=204)


# --- webhooks -------------------------------------------------------------------------------

class WebhookIn(Strict):
    url: str = Field(min_length=1, max_length=2048, pattern=r"^https?://[^\x00\s]+$")
    event_types: list[Literal[webhooks.EVENT_TYPES]] = Field(default_factory=list)  # type: ignore[valid-type]


def _webhook(row: WebhookEndpoint) -> dict:
    return {"id": str(row.id), "url": row.url, "event_types": row.event_types,
            "created_at": shapes.iso(row.created_at)}


@router.post("/webhooks", status_code=201)
def create_webhook(*, body: WebhookIn, reg: AppRegistry) -> dict:
    secret = webhooks.new_secret()
    reg.application()
    row = WebhookEndpoint(application_id=reg.app_id, url=body.url,
                          event_types=sorted(set(body.event_types)),
                          sealed_secret=crypto.seal({"secret": secret}))
    reg.s.add(row)
    reg.s.commit()
    return {**_webhook(row), "secret": secret}  # shown once: verify signatures with it


@router.get("/webhooks")
def list_webhooks(*, reg: AppRegistry) -> list[dict]:
    return [_webhook(r) for r in reg.s.scalars(
        select(WebhookEndpoint).where(WebhookEndpoint.application_id == reg.app_id)
        .order_by(WebhookEndpoint.id))]


@router.delete("/webhooks/{webhook_id}", status_code=204)
def delete_webhook(*, webhook_id: str, reg: AppRegistry) -> Response:
    row = _get(reg.s, WebhookEndpoint, webhook_id)
    if row is None or row.application_id != reg.app_id:
        raise not_found(f"no webhook with id {webhook_id!r}")
    for delivery in reg.s.scalars(select(WebhookDelivery).where(
            WebhookDelivery.endpoint_id == row.id)):
        reg.s.delete(delivery)
    reg.s.delete(row)
    reg.s.commit()
    return Response(status_code=204)
