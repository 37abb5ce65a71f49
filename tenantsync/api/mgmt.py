"""The management API, `/mgmt/v2`, in Supaglue's shapes, on the controller's Registry:
customers, connections, providers, destinations, and the conventions every management route
follows (sync routes: tenantsync.api.sync_routes; magic links and webhooks:
tenantsync.api.link_routes).

Every route is scoped to the caller's application (its API key). Secrets (connection
credentials, OAuth client secrets, destination passwords) are write-only. Every change is
committed, then the Meltano config is re-rendered.
"""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, Response
from pydantic import BaseModel, ConfigDict, Field

from tenantsync.api import destination_policy, hosted, shapes, webhooks
from tenantsync.api.errors import ApiError, bad_request, not_found
from tenantsync.api.service import AppRegistry, Config, ServiceConfig, rerender
from tenantsync.controller import crypto
from tenantsync.controller.models import Connection, Destination, Provider
from tenantsync.controller.registry import DESTINATION_SECRETS, Registry, RegistryError

router = APIRouter(prefix="/mgmt/v2", tags=["management"])
Name = Field(min_length=1, max_length=256, pattern=r"^[^\x00]+$")
Text = Field(default=None, max_length=2048, pattern=r"^[^\x00]*$")


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


def as_doc(model: BaseModel) -> dict[str, Any]:
    return model.model_dump(exclude_none=True)


def missing(fn, *args: Any) -> Any:
    """A registry lookup whose failure means the thing asked for does not exist."""
    try:
        return fn(*args)
    except RegistryError as exc:
        raise not_found(str(exc)) from None


def row_by_id(s, model: type, text_id: str) -> Any:
    """A row by its numeric id given as path text (anything else finds nothing)."""
    if not (text_id.isascii() and text_id.isdigit()) or len(text_id) > 18:
        return None
    return s.get(model, int(text_id))


def commit(reg: Registry, cfg: ServiceConfig, customer: str | None = None) -> None:
    """Commit a change and re-render; a change to one customer alone, only its syncs."""
    reg.s.commit()
    rerender(reg.s, cfg, None if customer is None else [(reg.app_id, customer)])


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
    row = reg.upsert_customer(as_doc(body))
    commit(reg, cfg, body.customer_id)
    return shapes.customer(row, with_connections=True)


@router.get("/customers/{customer_id}")
def get_customer(*, customer_id: str, reg: AppRegistry) -> dict:
    return shapes.customer(missing(reg.customer, customer_id), with_connections=True)


@router.delete("/customers/{customer_id}", status_code=204)
def delete_customer(*, customer_id: str, reg: AppRegistry,
                    cfg: Config) -> Response:
    row = missing(reg.customer, customer_id)
    if row.connections:
        raise ApiError(409, "Customer has connections",
                       f"customer {customer_id!r} still has connections: delete them first")
    reg.delete_customer(customer_id)
    commit(reg, cfg, customer_id)
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
    # non-secret settings of this connection (those its provider's spec declares)
    settings: dict[str, str] | None = None


def connection_created(reg: Registry, conn: Connection) -> None:
    webhooks.emit(reg.s, reg.app_id, "connection.created", {
        "customer_id": conn.customer.customer_id, "provider_id": str(conn.provider_id),
        "provider_name": conn.provider.name, "category": conn.provider.category,
        "connection_id": str(conn.id), "result": "SUCCESS"})


@router.get("/customers/{customer_id}/connections")
def list_connections(*, customer_id: str, reg: AppRegistry) -> list[dict]:
    return [shapes.connection(c) for c in missing(reg.customer, customer_id).connections]


@router.post("/customers/{customer_id}/connections")  # 200, as Supaglue answers
def create_connection(*, customer_id: str, body: ConnectionIn, reg: AppRegistry,
                      cfg: Config) -> dict:
    missing(reg.customer, customer_id)
    missing(reg.provider, body.provider_name)
    if body.instance_url is not None and not body.instance_url.startswith("https://") \
            and not body.instance_url.startswith("http://127.0.0.1"):
        raise bad_request("instance_url must be an https:// URL")
    conn = reg.upsert_connection({**as_doc(body), "customer_id": customer_id})
    connection_created(reg, conn)
    commit(reg, cfg, customer_id)
    return shapes.connection(conn)


@router.get("/customers/{customer_id}/connections/_provider_user_id")
def provider_user_id(*, customer_id: str, provider_name: str, reg: AppRegistry) -> dict:
    """The provider's id of the user who connected: what the OAuth callback or the taps'
    token refreshes saw (the provider spec's `user_id` hook)."""
    conn = missing(reg.connection, customer_id, provider_name)
    user = (conn.observed or {}).get("provider_user_id")
    if user is None:
        raise not_found(f"the {provider_name} user of {customer_id!r} is not known yet: it is "
                        "learned when the customer connects through the OAuth flow or when a "
                        "sync refreshes the connection's token")
    return {"user_id": user}


@router.get("/customers/{customer_id}/connections/{provider_name}/_rate_limit_info")
def rate_limit_info(*, customer_id: str, provider_name: str, reg: AppRegistry) -> dict:
    """The provider's rate limits as the connection's last run saw them in the provider's
    response headers ({} before any run)."""
    conn = missing(reg.connection, customer_id, provider_name)
    return dict((conn.observed or {}).get("rate_limits") or {})


@router.get("/customers/{customer_id}/connections/{provider_name}")
def get_connection(*, customer_id: str, provider_name: str,
                   reg: AppRegistry) -> dict:
    return shapes.connection(missing(reg.connection, customer_id, provider_name))


@router.delete("/customers/{customer_id}/connections/{provider_name}", status_code=204)
def delete_connection(*, customer_id: str, provider_name: str, reg: AppRegistry,
                      cfg: Config) -> Response:
    conn = missing(reg.connection, customer_id, provider_name)
    payload = {"customer_id": customer_id, "provider_id": str(conn.provider_id),
               "provider_name": provider_name, "category": conn.provider.category,
               "connection_id": str(conn.id)}
    reg.delete_connection(customer_id, provider_name)
    webhooks.emit(reg.s, reg.app_id, "connection.deleted", payload)
    commit(reg, cfg, customer_id)
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


class ProviderObject(Strict):
    name: str = Name
    schema_id: str | None = Text


class ProviderObjects(Strict):
    common: list[ProviderObject] | None = Field(default=None, max_length=200)
    standard: list[ProviderObject] | None = Field(default=None, max_length=200)


class ProviderIn(Strict):
    name: str = Field(min_length=1, max_length=64, pattern=r"^[a-z][a-z0-9_]*$")
    category: Literal["crm", "engagement", "no_category"] = "crm"
    auth_type: Literal["oauth2", "api_key", "access_key_secret"] = "oauth2"
    config: ProviderConfig | None = None
    objects: ProviderObjects | None = None
    # Supaglue's deprecated entity mappings: accepted, not kept (entities are not served)
    entity_mappings: list[dict[str, Any]] | None = Field(default=None, max_length=200)


def _provider_row(reg: Registry, provider_id: str) -> Provider:
    row = row_by_id(reg.s, Provider, provider_id)
    if row is None or row.application_id != reg.app_id:
        raise not_found(f"no provider with id {provider_id!r}")
    return row


def _upsert_provider(reg: Registry, body: ProviderIn, existing: Provider | None) -> Provider:
    doc = as_doc(body)
    doc.pop("entity_mappings", None)
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
    if reg.provider(body.name, missing_ok=True) is not None:
        raise ApiError(409, "Provider exists", f"provider {body.name!r} already exists: "
                       "update it with PUT /providers/{id}")
    row = _upsert_provider(reg, body, None)
    commit(reg, cfg)
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
    commit(reg, cfg)
    return shapes.provider(row)


@router.delete("/providers/{provider_id}")
def delete_provider(*, provider_id: str, reg: AppRegistry,
                    cfg: Config) -> dict:
    """Answers the deleted provider (200), as Supaglue does."""
    row = _provider_row(reg, provider_id)
    shown = shapes.provider(row)
    try:
        reg.delete_provider(row.name)
    except RegistryError as exc:
        raise ApiError(409, "Provider in use", str(exc)) from None
    commit(reg, cfg)
    return shown


# --- destinations ---------------------------------------------------------------------------

class PostgresConfig(Strict):
    host: str | None = Text
    port: int | None = Field(default=None, ge=1, le=65535)
    database: str | None = Text
    schema_: str | None = Field(default=None, alias="schema", max_length=63,
                                pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")
    user: str | None = Text
    password: str | None = Text
    # Supaglue's "no-verify" is libpq's "require" (encrypted, the certificate not checked)
    ssl_mode: Literal["disable", "allow", "prefer", "require", "verify-ca", "verify-full",
                      "no-verify"] | None = None
    # Supaglue's inline TLS material (PEM): accepted by the schema, refused below (422)
    server_ca_cert: str | None = Field(default=None, max_length=65536)
    client_cert: str | None = Field(default=None, max_length=65536)
    client_key: str | None = Field(default=None, max_length=65536)
    server_name: str | None = Text


INLINE_TLS = ("server_ca_cert", "client_cert", "client_key", "server_name")


class DestinationIn(Strict):
    # Supaglue's hosted destination ({"type": "supaglue"}) needs none
    name: str | None = Field(default=None, min_length=1, max_length=256, pattern=r"^[^\x00]+$")
    type: Literal["postgres", "supaglue"]
    config: PostgresConfig | None = None
    version: int | None = Field(default=None, ge=1)  # Supaglue's update flow carries it


def _destination_row(reg: Registry, destination_id: str) -> Destination:
    row = row_by_id(reg.s, Destination, destination_id)
    if row is None or row.application_id != reg.app_id:
        raise not_found(f"no destination with id {destination_id!r}")
    return row


def _upsert_destination(reg: Registry, body: DestinationIn, existing: Destination | None,
                        cfg: ServiceConfig) -> Destination:
    if body.name is None:
        body.name = existing.name if existing else hosted.TYPE if body.type == hosted.TYPE \
            else None
        if body.name is None:
            raise bad_request("a postgres destination needs a name")
    if body.type == hosted.TYPE:  # the registry's checks and settings, as for `apply`
        return reg.upsert_destination({"name": body.name, "type": hosted.TYPE,
                                       **({"config": body.config.model_dump(exclude_none=True)}
                                          if body.config is not None else {})})
    if body.config is None or not body.config.host:
        raise bad_request("a postgres destination needs config.host (and port, database, "
                          "schema, user, password)")
    inline = [k for k in INLINE_TLS if getattr(body.config, k) is not None]
    if inline:
        raise ApiError(422, "Inline TLS material is not supported",
                       f"config.{inline[0]}: tenantsync's target-postgres takes certificates as "
                       "files (ssl_root_cert, ssl_cert, ssl_key settings), not inline PEM",
                       )
    destination_policy.check(body.config.host, body.config.port, cfg.destination_allowed_hosts)
    creds = body.config.model_dump(exclude_none=True, by_alias=True, exclude=set(INLINE_TLS))
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
    name = body.name or (hosted.TYPE if body.type == hosted.TYPE else None)
    if name is not None and reg.destination(name, missing_ok=True) is not None:
        raise ApiError(409, "Destination exists", f"destination {body.name!r} already exists")
    row = _upsert_destination(reg, body, None, cfg)
    commit(reg, cfg)
    return shapes.destination(row)


@router.get("/destinations/{destination_id}")
def get_destination(*, destination_id: str, reg: AppRegistry) -> dict:
    return shapes.destination(_destination_row(reg, destination_id))


@router.put("/destinations/{destination_id}")
def update_destination(*, destination_id: str, body: DestinationIn,
                       reg: AppRegistry,
                       cfg: Config) -> dict:
    row = _destination_row(reg, destination_id)
    if body.version is not None and body.version != row.version:
        raise ApiError(409, "Destination changed", f"destination {row.name!r} is at version "
                       f"{row.version}, not {body.version}: read it again")
    if body.name is not None and body.name != row.name:
        raise bad_request(f"a destination's name cannot change ({row.name!r} -> "
                          f"{body.name!r})")
    if (row.type == hosted.TYPE) != (body.type == hosted.TYPE):
        raise bad_request("a destination cannot change between 'supaglue' and 'postgres'")
    row = _upsert_destination(reg, body, row, cfg)
    row.version += 1
    commit(reg, cfg)
    return shapes.destination(row)
