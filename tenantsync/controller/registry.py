"""Registry operations: create, update, list and delete what the controller manages, accepting
Supaglue's JSON shapes as they are (the managed-syncs docs and the management API).

Every secret is sealed on the way in (tenantsync.controller.crypto); reads return plain rows
whose visible columns hold no secret.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select, tuple_
from sqlalchemy.orm import Session

from tenantsync import providers
from tenantsync.common_schema import COMMON_OBJECTS
from tenantsync.contract import DEFAULT_SCHEMA, MAX_IDENTIFIER_BYTES, slug
from tenantsync.controller import crypto, schemas
from tenantsync.controller.models import (
    Application,
    Connection,
    Customer,
    Destination,
    Provider,
    Schema,
    Sync,
    SyncConfig,
    SyncRun,
    utcnow,
)

APPLICATION_ENV = "TENANTSYNC_APPLICATION_ID"
DEFAULT_PERIOD_MS = 15 * 60 * 1000  # Supaglue's default when period_ms is absent
STRATEGY_ALIASES = {"full then incremental": "full then incremental", "full only": "full only",
                    "full refresh": "full only"}  # the docs' seed says "full refresh"
OBJECT_KINDS = ("common", "standard", "custom")
CHOOSABLE = ("standard", "custom")  # the kinds a connection sync config may narrow
CONNECTION_SYNC_KEYS = ("destination_config", *(f"{k}_objects" for k in CHOOSABLE))
CATEGORIES = ("crm", "engagement", "no_category")
AUTH_TYPES = ("oauth2", "api_key", "access_key_secret")
# target-postgres settings a destination may carry; the secret ones are sealed.
DESTINATION_SETTINGS = ("host", "port", "database", "schema", "user", "ssl_mode",
                        "ssl_root_cert", "ssl_cert", "embedded_data_dir")
DESTINATION_SECRETS = ("password", "sqlalchemy_url", "ssl_key")
CONNECTION_SECRETS = ("access_token", "refresh_token", "expires_at", "api_key", "access_key",
                      "access_key_secret")
NEEDED_SECRETS = {"oauth2": ("refresh_token",), "api_key": ("api_key",),
                  "access_key_secret": ("access_key", "access_key_secret")}
INSTANCE_URL = "instance_url"  # Supaglue's connection field, every provider's setting


class RegistryError(ValueError):
    """Bad input or a missing reference, said in one line."""


def default_application() -> str:
    return os.environ.get(APPLICATION_ENV) or "default"


@dataclass(frozen=True)
class SyncView:
    """What the renderer and the runner need of one sync, without any secret."""

    sync_id: int
    application_id: str
    customer_id: str
    provider: str
    connection_id: int
    destination: str
    period_ms: int
    paused: bool
    destination_schema: str = DEFAULT_SCHEMA
    own_schema: str | None = None  # the customer's own (a connection sync config's)
    # the standard/custom objects the customer chose (per kind), None: the sync config's
    objects: Mapping[str, tuple[str, ...]] | None = None
    paused_objects: Mapping[str, tuple[str, ...]] | None = None  # left out of its runs

    @property
    def schema(self) -> str:
        """Where this tenant's tables go."""
        return self.own_schema or self.destination_schema

    @property
    def connection_key(self) -> str:
        """The connection by natural key (not a row id), so that rendered files depend only
        on what the user named: the same registry contents give the same files anywhere."""
        return json.dumps([self.application_id, self.customer_id, self.provider])


def normalize_strategy(value: Any, where: str) -> dict[str, Any]:
    """Validate a `default_config` / `sync_strategy_override` block; return it normalized."""
    if not isinstance(value, Mapping):
        raise RegistryError(f"{where} must be an object")
    unknown = set(value) - {"period_ms", "strategy", "full_sync_every_n_incrementals",
                            "auto_start_on_connection"}
    if unknown:
        raise RegistryError(f"{where} has unknown keys: {', '.join(sorted(unknown))}")
    strategy = value.get("strategy", "full then incremental")
    if strategy not in STRATEGY_ALIASES:
        raise RegistryError(f"{where}.strategy {strategy!r} must be one of "
                            f"{', '.join(map(repr, STRATEGY_ALIASES))}")
    out: dict[str, Any] = {"strategy": STRATEGY_ALIASES[strategy]}
    period = value.get("period_ms", DEFAULT_PERIOD_MS)
    if not isinstance(period, int) or isinstance(period, bool) or period <= 0:
        raise RegistryError(f"{where}.period_ms must be a positive integer; got {period!r}")
    out["period_ms"] = period
    n = value.get("full_sync_every_n_incrementals")
    if n is not None:
        if not isinstance(n, int) or isinstance(n, bool) or n <= 0:
            raise RegistryError(
                f"{where}.full_sync_every_n_incrementals must be an integer > 0; got {n!r}")
        if out["strategy"] == "full only":
            raise RegistryError(f"{where}.full_sync_every_n_incrementals cannot be set with "
                                "strategy 'full only'")
        out["full_sync_every_n_incrementals"] = n
    auto = value.get("auto_start_on_connection", True)
    if not isinstance(auto, bool):
        raise RegistryError(f"{where}.auto_start_on_connection must be true or false")
    out["auto_start_on_connection"] = auto
    return out


def own_schema(sync_config: Mapping[str, Any] | None) -> str | None:
    """The schema a connection sync config gives its customer, if any."""
    return ((sync_config or {}).get("destination_config") or {}).get("schema")


def chosen_objects(sync_config: Mapping[str, Any] | None
                   ) -> Mapping[str, tuple[str, ...]] | None:
    """The objects a connection sync config chose, per kind; None: it chose none."""
    chosen = {kind: tuple(o["object"] for o in (sync_config or {}).get(f"{kind}_objects"))
              for kind in CHOOSABLE if (sync_config or {}).get(f"{kind}_objects") is not None}
    return chosen or None


def narrow(objects: Mapping[str, Iterable[str]], chosen: Mapping[str, Iterable[str]] | None,
           paused: Mapping[str, Iterable[str]] | None = None) -> dict[str, list[str]]:
    """An extractor's objects per kind, less those a connection sync config did not choose
    (kinds it chose nothing of stay whole) and those paused on this connection. Render, the
    runner and the tap's credential source all use it: they must agree on which objects a
    run reads."""
    paused = paused or {}
    return {kind: [o for o in names if (chosen is None or kind not in chosen
                                        or o in chosen[kind]) and o not in paused.get(kind, ())]
            for kind, names in objects.items()}


def config_objects(config: Any) -> dict[str, list[str]]:
    """A sync config's object names per kind."""
    return {kind: [o["object"] for o in getattr(config, f"{kind}_objects") or ()]
            for kind in OBJECT_KINDS}


def sync_objects(sync: Any) -> dict[str, list[str]]:
    """The objects a sync covers, paused or not: its sync config's, narrowed by the
    connection sync config (Supaglue's syncs, one per object)."""
    return narrow(config_objects(sync.sync_config), chosen_objects(sync.connection.sync_config))


def paused_objects(sync: Any) -> dict[str, tuple[str, ...]]:
    return {kind: tuple(names) for kind, names in (sync.paused_objects or {}).items()}


def _common_names() -> dict[str, str]:
    """Every way a common object is written -> its sync-config name: `account`, `accounts`,
    `crm_accounts`, `Account` all mean `account` (Supaglue's paths use the plural)."""
    names: dict[str, str] = {}
    for obj in COMMON_OBJECTS.values():
        for spelling in (obj.name, obj.table, obj.table.split("_", 1)[1]):
            names[slug(spelling)] = obj.name
    return names


COMMON_NAMES = _common_names()


def object_name(kind: str, name: str, where: str) -> str:
    """An object's name as the sync config keeps it: common objects by their one name."""
    if kind != "common":
        return name
    common = COMMON_NAMES.get(slug(name))
    if common is None:
        known = ", ".join(sorted(set(COMMON_NAMES.values())))
        raise RegistryError(f"{where}: {name!r} is not a common object (known: {known})")
    return common


def normalize_objects(items: Any, kind: str) -> list[dict[str, Any]]:
    where = f"{kind}_objects"
    if items is None:
        return []
    if not isinstance(items, list):
        raise RegistryError(f"{where} must be a list of {{'object': ...}}")
    out, seen = [], set()
    for i, item in enumerate(items):
        if isinstance(item, str):
            item = {"object": item}
        if not isinstance(item, Mapping) or not isinstance(item.get("object"), str) \
                or not item["object"]:
            raise RegistryError(f"{where}[{i}] must be an object with a non-empty 'object'")
        name = object_name(kind, item["object"], f"{where}[{i}].object")
        if name in seen:
            raise RegistryError(f"{where} lists {name!r} twice")
        seen.add(name)
        entry: dict[str, Any] = {"object": name}
        if item.get("sync_strategy_override") is not None:
            override = normalize_strategy(item["sync_strategy_override"],
                                          f"{where}[{i}].sync_strategy_override")
            for per_sync in ("auto_start_on_connection", "period_ms"):  # not per object
                override.pop(per_sync, None)
            entry["sync_strategy_override"] = override
        if item.get("schema_id") is not None:
            if kind != "standard":
                raise RegistryError(f"{where}[{i}]: only standard objects take a schema_id "
                                    "(common objects keep their fixed schema)")
            entry["schema_id"] = str(item["schema_id"])
        if item.get("associations_to_fetch"):
            entry["associations_to_fetch"] = list(item["associations_to_fetch"])
        out.append(entry)
    return out


def check_sync_config(provider: str, objects: Mapping[str, list[dict[str, Any]]]) -> None:
    """A sync config syncs a registered provider's objects: refused here (the CLI's `apply`
    and the API share this) rather than when its first run fails."""
    try:
        spec = providers.get(provider)
    except providers.UnknownProvider as exc:
        raise RegistryError(f"sync config: {exc}; install the provider's package (README, "
                            "'Adding a provider') or fix provider_name") from None
    problems = [p for kind in OBJECT_KINDS
                for p in spec.objects.problems(kind, [o["object"] for o in objects[kind]])]
    if problems:
        raise RegistryError(f"sync config of {provider!r}: {'; '.join(problems)}")


class Registry:
    def __init__(self, session: Session, application_id: str | None = None):
        self.s = session
        self.app_id = application_id or default_application()

    # --- applications and customers --------------------------------------------------------

    def application(self, name: str | None = None) -> Application:
        app = self.s.get(Application, self.app_id)
        if app is None:
            app = Application(id=self.app_id, name=name or self.app_id)
            self.s.add(app)
            self.s.flush()
        elif name:
            app.name = name
        return app

    def upsert_customer(self, doc: Mapping[str, Any]) -> Customer:
        customer_id = _required_str(doc, "customer_id", "customer")
        self.application()
        row = self.customer(customer_id, missing_ok=True)
        if row is None:
            row = Customer(application_id=self.app_id, customer_id=customer_id)
            self.s.add(row)
        row.name = str(doc.get("name") or row.name or customer_id)
        row.email = str(doc.get("email") or row.email or "")
        self.s.flush()
        return row

    def customers(self) -> list[Customer]:
        return list(self.s.scalars(select(Customer).where(Customer.application_id == self.app_id)
                                   .order_by(Customer.customer_id)))

    def delete_customer(self, customer_id: str) -> None:
        row = self.customer(customer_id)
        if row.connections:
            raise RegistryError(f"customer {customer_id!r} still has connections: delete them "
                                "first")
        self.s.delete(row)

    # --- providers -------------------------------------------------------------------------

    def upsert_provider(self, doc: Mapping[str, Any]) -> Provider:
        name = doc.get("name") or doc.get("provider_name")
        if not isinstance(name, str) or not name:
            raise RegistryError("provider needs 'name' (or 'provider_name')")
        category = doc.get("category", "crm")
        if category not in CATEGORIES:
            raise RegistryError(f"provider {name!r}: category {category!r} must be one of "
                                f"{', '.join(CATEGORIES)}")
        auth_type = doc.get("auth_type", "oauth2")
        if auth_type not in AUTH_TYPES:
            raise RegistryError(f"provider {name!r}: auth_type {auth_type!r} must be one of "
                                f"{', '.join(AUTH_TYPES)}")
        config = doc.get("config") or {}
        oauth = config.get("oauth") or {}
        creds = oauth.get("credentials") or {}
        client = {"client_id": creds.get("client_id") or creds.get("oauth_client_id"),
                  "client_secret": creds.get("client_secret") or creds.get("oauth_client_secret")}
        if auth_type == "oauth2" and not client["client_id"]:
            raise RegistryError(f"provider {name!r}: oauth2 needs config.oauth.credentials."
                                "client_id (and client_secret)")
        self.application()
        row = self.provider(name, missing_ok=True)
        if row is None:
            row = Provider(application_id=self.app_id, name=name)
            if isinstance(doc.get("id"), int):
                row.id = doc["id"]
            self.s.add(row)
        row.category, row.auth_type = category, auth_type
        row.scopes = list(oauth.get("oauth_scopes") or [])
        # Non-secret tap settings for every connection of this provider (login_url, api_type).
        row.settings = dict(config.get("settings") or {})
        row.sealed_credentials = crypto.seal(client) if client["client_id"] else None
        row.app_id = str(config.get("provider_app_id") or row.app_id or "")
        if "objects" in doc:  # Supaglue's provider objects, kept as given
            row.objects = doc["objects"]
        self.s.flush()
        return row

    def providers(self) -> list[Provider]:
        return list(self.s.scalars(select(Provider).where(Provider.application_id == self.app_id)
                                   .order_by(Provider.name)))

    def delete_provider(self, name: str) -> None:
        row = self.provider(name)
        if self.s.scalar(select(Connection.id).where(Connection.provider_id == row.id)):
            raise RegistryError(f"provider {name!r} still has connections: delete them first")
        if self.s.scalar(select(SyncConfig.id).where(SyncConfig.provider_id == row.id)):
            raise RegistryError(f"provider {name!r} has a sync config: delete it first")
        self.s.delete(row)

    # --- destinations ----------------------------------------------------------------------

    def upsert_destination(self, doc: Mapping[str, Any]) -> Destination:
        kind = doc.get("type", "postgres")
        name = _required_str(doc, "name", "destination") if kind != "supaglue" or \
            doc.get("name") is not None else "supaglue"
        if kind not in ("postgres", "supaglue"):
            raise RegistryError(f"destination {name!r}: type {kind!r} is not supported "
                                "(supported: postgres, supaglue)")
        creds = doc.get("credentials") or doc.get("config") or {}
        if kind == "supaglue":  # Supaglue's hosted destination: tenantsync hosts it
            from tenantsync.api import hosted

            if creds:
                raise RegistryError(f"destination {name!r}: a destination of type 'supaglue' "
                                    "takes no config: tenantsync hosts it (one schema per "
                                    "application)")
            creds = hosted.target_settings(self.app_id)
        unknown = set(creds) - set(DESTINATION_SETTINGS) - set(DESTINATION_SECRETS)
        if unknown:
            raise RegistryError(f"destination {name!r}: unknown credentials keys "
                                f"{', '.join(sorted(unknown))}")
        self.application()
        row = self.destination(name, missing_ok=True)
        if row is None:
            row = Destination(application_id=self.app_id, name=name)
            if isinstance(doc.get("id"), int):
                row.id = doc["id"]
            self.s.add(row)
        row.type = kind
        row.settings = {k: creds[k] for k in DESTINATION_SETTINGS if creds.get(k) is not None}
        secrets = {k: creds[k] for k in DESTINATION_SECRETS if creds.get(k)}
        row.secret_keys = sorted(secrets)
        row.sealed_credentials = crypto.seal(secrets) if secrets else None
        self.s.flush()
        return row

    def destinations(self) -> list[Destination]:
        return list(self.s.scalars(select(Destination)
                                   .where(Destination.application_id == self.app_id)
                                   .order_by(Destination.name)))

    def delete_destination(self, name: str) -> None:
        row = self.destination(name)
        if self.s.scalar(select(SyncConfig.id).where(SyncConfig.destination_id == row.id)):
            raise RegistryError(f"destination {name!r} is used by a sync config")
        self.s.delete(row)

    # --- sync configs ----------------------------------------------------------------------

    def upsert_sync_config(self, doc: Mapping[str, Any]) -> SyncConfig:
        provider = self._ref(Provider, doc, "provider")
        destination = self._ref(Destination, doc, "destination")
        body = doc.get("config") if isinstance(doc.get("config"), Mapping) else doc
        default = normalize_strategy(body.get("default_config") or {}, "default_config")
        objects = {k: normalize_objects(body.get(f"{k}_objects"), k) for k in OBJECT_KINDS}
        check_sync_config(provider.name, objects)
        for item in objects["standard"]:
            if "schema_id" in item:  # by id, or by name in documents written by hand
                item["schema_id"] = str(self.schema(item["schema_id"]).id)
        row = self.s.scalar(select(SyncConfig).where(SyncConfig.application_id == self.app_id,
                                                     SyncConfig.provider_id == provider.id))
        if row is None:
            row = SyncConfig(application_id=self.app_id, provider_id=provider.id)
            if isinstance(doc.get("id"), int):
                row.id = doc["id"]
            self.s.add(row)
        row.name = str(doc.get("name") or row.name or f"{provider.name} sync")
        row.destination_id = destination.id
        row.default_config = default
        row.common_objects, row.standard_objects, row.custom_objects = (
            objects["common"], objects["standard"], objects["custom"])
        self.s.flush()
        for conn in self.s.scalars(select(Connection).where(
                Connection.provider_id == provider.id)):
            self._ensure_sync(conn, row)
        return row

    def sync_configs(self) -> list[SyncConfig]:
        return list(self.s.scalars(select(SyncConfig)
                                   .where(SyncConfig.application_id == self.app_id)
                                   .order_by(SyncConfig.id)))

    def delete_sync_config(self, provider: str, *, force_delete_syncs: bool = False) -> None:
        row = self._sync_config(provider)
        syncs = list(self.s.scalars(select(Sync).where(Sync.sync_config_id == row.id)))
        if syncs and not force_delete_syncs:
            raise RegistryError(f"sync config of {provider!r} has {len(syncs)} sync(s); pass "
                                "--force-delete-syncs to delete them too")
        for sync in syncs:
            self._delete_sync(sync)
        self.s.delete(row)

    # --- connections -----------------------------------------------------------------------

    def upsert_connection(self, doc: Mapping[str, Any]) -> Connection:
        """Import credentials: `{customer_id, provider_name, type: oauth2, refresh_token,
        instance_url?, access_token?}` or `{..., type: api_key, api_key}` (the secrets the
        provider's spec names for its auth kind); a `settings` object, and the connection
        settings the spec declares at the top level (e.g. a login URL), hold non-secret tap
        settings of this connection."""
        customer = self.customer(_required_str(doc, "customer_id", "connection"))
        provider = self.provider(_required_str(doc, "provider_name", "connection"))
        kind = doc.get("type", provider.auth_type)
        if kind != provider.auth_type:
            raise RegistryError(f"connection to {provider.name!r}: type {kind!r} does not match "
                                f"the provider's auth_type {provider.auth_type!r}")
        spec = providers.find(provider.name)
        auth = spec.auth_kind(kind) if spec is not None else None
        needed = auth.secrets if auth is not None else NEEDED_SECRETS[kind]
        if isinstance(auth, providers.ApiKey) and doc.get("api_key") and not doc.get(
                auth.setting):  # Supaglue's field, stored under the tap's setting name
            doc = {**{k: v for k, v in doc.items() if k != "api_key"},
                   auth.setting: doc["api_key"]}
        missing = [k for k in needed if not doc.get(k)]
        if missing:
            raise RegistryError(f"connection of {customer.customer_id!r} to {provider.name!r} "
                                f"needs {', '.join(missing)}")
        row = self.s.scalar(select(Connection).where(Connection.customer_pk == customer.id,
                                                     Connection.provider_id == provider.id))
        if row is None:
            row = Connection(customer_pk=customer.id, provider_id=provider.id)
            self.s.add(row)
        settings = doc.get("settings") or {}
        if not isinstance(settings, Mapping):
            raise RegistryError("connection settings must be an object")
        declared = (INSTANCE_URL, *(spec.connection_settings if spec is not None else ()))
        row.settings = {**settings, **{k: str(doc[k]) for k in declared if doc.get(k)}}
        secrets = (*CONNECTION_SECRETS, *needed)
        row.sealed_credentials = crypto.seal(
            {"type": kind, **{k: doc[k] for k in secrets if doc.get(k)}})
        row.credentials_updated_at = row.connected_at = utcnow()
        self.s.flush()
        config = self.s.scalar(select(SyncConfig).where(SyncConfig.provider_id == provider.id))
        if config is not None:
            self._ensure_sync(row, config)
        return row

    def connections(self) -> list[Connection]:
        return list(self.s.scalars(
            select(Connection).join(Customer).where(Customer.application_id == self.app_id)
            .order_by(Customer.customer_id, Connection.provider_id)))

    def connection(self, customer_id: str, provider: str) -> Connection:
        customer = self.customer(customer_id)
        prov = self.provider(provider)
        row = self.s.scalar(select(Connection).where(Connection.customer_pk == customer.id,
                                                     Connection.provider_id == prov.id))
        if row is None:
            raise RegistryError(f"customer {customer_id!r} has no connection to {provider!r}")
        return row

    def delete_connection(self, customer_id: str, provider: str) -> None:
        row = self.connection(customer_id, provider)
        for sync in self.s.scalars(select(Sync).where(Sync.connection_id == row.id)):
            self._delete_sync(sync)
        self.s.delete(row)

    # --- connection sync configs (a customer's own schema and choice of objects) -----------

    def set_connection_sync_config(self, customer_id: str, provider: str,
                                   doc: Mapping[str, Any]) -> Connection:
        """Supaglue's connection sync config: `{destination_config?: {type: postgres, schema},
        standard_objects?: [{object}], custom_objects?: [{object}]}`. The customer's tables
        go to its own schema (created when missing; its syncs keep bookmarks per schema, see
        render.state_suffix); its syncs read the listed objects only, which must be among the
        sync config's (replaced whole; an absent list: all of them)."""
        conn = self.connection(customer_id, provider)
        where = f"connection sync config of {customer_id!r} x {provider!r}"
        unknown = set(doc) - set(CONNECTION_SYNC_KEYS)
        if unknown:
            raise RegistryError(f"{where}: unknown keys {', '.join(sorted(unknown))} (expected "
                                "destination_config, standard_objects, custom_objects)")
        config = self._sync_config(provider)
        out: dict[str, Any] = {}
        dest_config = doc.get("destination_config")
        if dest_config is not None:
            if not isinstance(dest_config, Mapping) or dest_config.get("type") != "postgres" \
                    or set(dest_config) - {"type", "schema"}:
                raise RegistryError(f"{where}: destination_config must be "
                                    "{'type': 'postgres', 'schema': ...}")
            if config.destination.type != "postgres":
                raise RegistryError(f"{where}: destination {config.destination.name!r} is "
                                    f"{config.destination.type!r}; only a postgres destination "
                                    "takes a per-connection schema")
            schema = dest_config.get("schema")
            if not isinstance(schema, str) or not schema.strip() or \
                    len(schema.encode()) > MAX_IDENTIFIER_BYTES:
                raise RegistryError(f"{where}: destination_config.schema must be a schema name "
                                    f"of 1 to {MAX_IDENTIFIER_BYTES} bytes")
            out["destination_config"] = {"type": "postgres", "schema": schema}
        for kind in CHOOSABLE:
            if doc.get(f"{kind}_objects") is None:
                continue
            chosen = normalize_objects(doc[f"{kind}_objects"], kind)
            offered = {o["object"] for o in getattr(config, f"{kind}_objects")}
            extra = [o["object"] for o in chosen if o["object"] not in offered]
            if extra:
                raise RegistryError(
                    f"{where}: {kind}_objects {', '.join(map(repr, extra))} are not in "
                    f"{provider!r}'s sync config (it offers: "
                    f"{', '.join(sorted(offered)) or 'none'})")
            out[f"{kind}_objects"] = [{"object": o["object"]} for o in chosen]
        conn.sync_config = out or None
        self.s.flush()
        return conn

    def delete_connection_sync_config(self, customer_id: str, provider: str) -> Connection:
        """Back to the provider's sync config (its schema and all its objects)."""
        conn = self.connection(customer_id, provider)
        conn.sync_config = None
        self.s.flush()
        return conn

    def upsert_connection_sync_config(self, doc: Mapping[str, Any]) -> Connection:
        """A bundle entry: the connection by `customer_id` and `provider_name`, then the
        connection sync config's keys."""
        rest = {k: v for k, v in doc.items() if k not in ("customer_id", "provider_name")}
        return self.set_connection_sync_config(
            _required_str(doc, "customer_id", "connection sync config"),
            _required_str(doc, "provider_name", "connection sync config"), rest)

    # --- schemas and field mappings ---------------------------------------------------------

    def upsert_schema(self, doc: Mapping[str, Any], schema_id: str | None = None) -> Schema:
        """Supaglue's schema `{name, config: {fields, allow_additional_field_mappings}}`,
        created or replaced by name (or by `schema_id`, renaming it)."""
        with _refusals():
            name, fields, allow = schemas.normalize_schema(doc)
        self.application()
        row = self.schema(schema_id) if schema_id is not None else self.s.scalar(
            select(Schema).where(Schema.application_id == self.app_id, Schema.name == name))
        clash = self.s.scalar(select(Schema).where(Schema.application_id == self.app_id,
                                                   Schema.name == name))
        if clash is not None and clash is not row:
            raise RegistryError(f"schema {name!r} already exists (id {clash.id})")
        if row is None:
            row = Schema(application_id=self.app_id)
            self.s.add(row)
        row.name, row.fields, row.allow_additional_field_mappings = name, fields, allow
        self.s.flush()
        return row

    def schemas(self) -> list[Schema]:
        return list(self.s.scalars(select(Schema).where(Schema.application_id == self.app_id)
                                   .order_by(Schema.id)))

    def schema(self, ref: Any) -> Schema:
        """A schema by id (a number or its text) or by name."""
        text = str(ref)
        row = None
        if text.isascii() and text.isdigit() and len(text) <= 18:
            row = self.s.get(Schema, int(text))
        if row is None or row.application_id != self.app_id:
            row = self.s.scalar(select(Schema).where(Schema.application_id == self.app_id,
                                                     Schema.name == text))
        if row is None:
            raise RegistryError(f"no schema {text!r} in application {self.app_id!r}")
        return row

    def delete_schema(self, ref: Any) -> None:
        row = self.schema(ref)
        users = [c.provider.name for c in self.sync_configs()
                 if any(o.get("schema_id") == str(row.id) for o in c.standard_objects)]
        if users:
            raise RegistryError(f"schema {row.name!r} is attached to objects of the sync "
                                f"config of {', '.join(map(repr, users))}: detach it first")
        self.s.delete(row)

    def attached_schemas(self, provider: str) -> dict[str, Schema]:
        """The provider's standard objects that have a schema, with it."""
        config = self._sync_config_or_none(self.provider(provider).id)
        return {o["object"]: self.schema(o["schema_id"]) for o in
                (config.standard_objects if config is not None else ()) if o.get("schema_id")}

    def field_mappings(self, customer_id: str, provider: str) -> list[dict[str, Any]]:
        """Supaglue's list of object field mappings of one connection."""
        conn = self.connection(customer_id, provider)
        return [schemas.merged_info(schema, obj, schemas.customer_mappings(conn, obj))
                for obj, schema in self.attached_schemas(provider).items()]

    def set_field_mappings(self, customer_id: str, provider: str, doc: Mapping[str, Any],
                           provider_fields: Callable[[str], Iterable[str]] | None = None
                           ) -> tuple[dict[str, Any], bool]:
        """Replace the customer's mappings of one object, `{name, type: standard,
        field_mappings: [{schema_field, mapped_field?}]}`; `provider_fields(object)` lists
        the provider's fields every mapped field must be among. Returns Supaglue's object
        field mapping and whether the connection had no mapping before."""
        conn = self.connection(customer_id, provider)
        name, kind = doc.get("name"), doc.get("type", "standard")
        if kind != "standard":
            raise RegistryError(f"type {kind!r}: field mappings apply to standard objects "
                                "(common objects keep their fixed schema)")
        schema = self.attached_schemas(provider).get(name) if isinstance(name, str) else None
        if schema is None:
            raise RegistryError(f"object {name!r} of {provider!r} has no schema attached: "
                                "field mappings can only be set for objects with a schema")
        with _refusals():
            items = schemas.check_mappings(schema, name, doc.get("field_mappings"))
        if provider_fields is not None:
            known = set(provider_fields(name))
            unknown = [f for f in schemas.provider_fields_of(schema, items) if f not in known]
            if unknown:
                raise RegistryError(f"{provider!r} object {name!r} has no field "
                                    f"{', '.join(map(repr, unknown))} for customer "
                                    f"{customer_id!r}")
        created = not conn.field_mappings
        conn.field_mappings = {**(conn.field_mappings or {}), name: items}
        self.s.flush()
        return schemas.merged_info(schema, name, items), created

    def effective_mappings(self, customer_id: str, provider: str) -> dict[str, Any]:
        """What target-postgres writes as `_supaglue_mapped_data`, per object."""
        conn = self.connection(customer_id, provider)
        return {obj: schemas.effective(schema, schemas.customer_mappings(conn, obj))
                for obj, schema in self.attached_schemas(provider).items()}

    # --- syncs and runs --------------------------------------------------------------------

    def sync(self, customer_id: str, provider: str) -> Sync:
        conn = self.connection(customer_id, provider)
        row = self.s.scalar(select(Sync).where(Sync.connection_id == conn.id))
        if row is None:
            raise RegistryError(f"no sync for {customer_id!r} x {provider!r}: create a sync "
                                f"config for provider {provider!r}")
        return row

    def syncs(self) -> list[Sync]:
        return list(self.s.scalars(
            select(Sync).join(Connection).join(Customer)
            .where(Customer.application_id == self.app_id).order_by(Sync.id)))

    def sync_views(self, sync_id: int | None = None,
                   customers: Iterable[tuple[str, str]] | None = None) -> list[SyncView]:
        """Every sync of every application (or one, or those of some (application, customer)
        pairs), for rendering: one query, no secret."""
        query = (
            select(Sync.id, Customer.application_id, Customer.customer_id, Provider.name,
                   Connection.id, Destination.name, SyncConfig.default_config, Sync.paused,
                   Destination.settings, Connection.sync_config, Sync.paused_objects)
            .join(Connection, Sync.connection_id == Connection.id)
            .join(Customer, Connection.customer_pk == Customer.id)
            .join(Provider, Connection.provider_id == Provider.id)
            .join(SyncConfig, Sync.sync_config_id == SyncConfig.id)
            .join(Destination, SyncConfig.destination_id == Destination.id))
        if sync_id is not None:
            query = query.where(Sync.id == sync_id)
        if customers is not None:
            query = query.where(tuple_(Customer.application_id, Customer.customer_id)
                                .in_(list(customers)))
        rows = self.s.execute(query)
        return [SyncView(sid, app, cust, prov, conn, dest,
                         cfg.get("period_ms", DEFAULT_PERIOD_MS), paused,
                         dest_settings.get("schema") or DEFAULT_SCHEMA, own_schema(own),
                         chosen_objects(own),
                         {k: tuple(v) for k, v in (paused_objs or {}).items()} or None)
                for sid, app, cust, prov, conn, dest, cfg, paused, dest_settings, own,
                paused_objs in rows]

    def of_tenants(self, query, customer_id: str | None = None, provider: str | None = None):
        """`query` (over Sync) narrowed to this application, and optionally to one customer
        and provider, through the sync's connection."""
        query = (query.join(Connection, Sync.connection_id == Connection.id)
                 .join(Customer, Connection.customer_pk == Customer.id)
                 .join(Provider, Connection.provider_id == Provider.id)
                 .where(Customer.application_id == self.app_id))
        if customer_id:
            query = query.where(Customer.customer_id == customer_id)
        if provider:
            query = query.where(Provider.name == provider)
        return query

    def runs(self, customer_id: str | None = None, provider: str | None = None,
             limit: int = 50) -> list[SyncRun]:
        query = self.of_tenants(select(SyncRun).join(Sync, SyncRun.sync_id == Sync.id),
                                customer_id, provider)
        return list(self.s.scalars(query.order_by(SyncRun.id.desc()).limit(limit)))

    # --- apply -----------------------------------------------------------------------------

    def apply(self, doc: Any) -> list[str]:
        """Create or update everything in a document: one object, a list, or a bundle
        `{"customers": [...], "providers": [...], "destinations": [...], "schemas": [...],
        "sync_configs": [...], "connections": [...], "connection_sync_configs": [...]}`.
        Returns one line per object applied."""
        done: list[str] = []
        for kind, item in _documents(doc):
            row = getattr(self, f"upsert_{kind}")(item)
            done.append(f"{kind} {_label(row)}")
        return done

    # --- helpers ---------------------------------------------------------------------------

    def _ensure_sync(self, conn: Connection, config: SyncConfig) -> Sync:
        row = self.s.scalar(select(Sync).where(Sync.connection_id == conn.id,
                                               Sync.sync_config_id == config.id))
        if row is None:
            auto = config.default_config.get("auto_start_on_connection", True)
            row = Sync(connection_id=conn.id, sync_config_id=config.id, paused=not auto,
                       args_for_next_run={})
            self.s.add(row)
            self.s.flush()
        return row

    def _delete_sync(self, sync: Sync) -> None:
        for run in self.s.scalars(select(SyncRun).where(SyncRun.sync_id == sync.id)):
            self.s.delete(run)
        self.s.delete(sync)

    def customer(self, customer_id: str, *, missing_ok: bool = False) -> Customer:
        row = self.s.scalar(select(Customer).where(Customer.application_id == self.app_id,
                                                   Customer.customer_id == customer_id))
        if row is None and not missing_ok:
            raise RegistryError(f"no customer {customer_id!r} in application {self.app_id!r}")
        return row

    def provider(self, name: str, *, missing_ok: bool = False) -> Provider:
        row = self.s.scalar(select(Provider).where(Provider.application_id == self.app_id,
                                                   Provider.name == name))
        if row is None and not missing_ok:
            raise RegistryError(f"no provider {name!r} in application {self.app_id!r}")
        return row

    def destination(self, name: str, *, missing_ok: bool = False) -> Destination:
        row = self.s.scalar(select(Destination).where(Destination.application_id == self.app_id,
                                                      Destination.name == name))
        if row is None and not missing_ok:
            raise RegistryError(f"no destination {name!r} in application {self.app_id!r}")
        return row

    def _sync_config_or_none(self, provider_id: int) -> SyncConfig | None:
        return self.s.scalar(select(SyncConfig).where(SyncConfig.provider_id == provider_id))

    def _sync_config(self, provider: str) -> SyncConfig:
        row = self._sync_config_or_none(self.provider(provider).id)
        if row is None:
            raise RegistryError(f"provider {provider!r} has no sync config")
        return row

    def _ref(self, model: type, doc: Mapping[str, Any], what: str) -> Any:
        """A provider or destination named by `<what>_name` or by registry `<what>_id`."""
        name, ident = doc.get(f"{what}_name"), doc.get(f"{what}_id")
        if name:
            return getattr(self, what)(name)
        row = self.s.get(model, ident) if isinstance(ident, int) else None
        if row is None or row.application_id != self.app_id:
            raise RegistryError(f"sync config: no {what} with {what}_name={name!r} or "
                                f"{what}_id={ident!r}")
        return row


BUNDLE_KEYS = {"customers": "customer", "providers": "provider", "destinations": "destination",
               "schemas": "schema", "sync_configs": "sync_config", "connections": "connection",
               "connection_sync_configs": "connection_sync_config"}
ORDER = list(BUNDLE_KEYS.values())


def _documents(doc: Any) -> Iterable[tuple[str, Mapping[str, Any]]]:
    if isinstance(doc, list):
        items = [d for item in doc for d in _documents(item)]
        return sorted(items, key=lambda kd: ORDER.index(kd[0]))  # references resolve in order
    if not isinstance(doc, Mapping):
        raise RegistryError("a document must be a JSON object or a list of objects")
    if set(doc) & set(BUNDLE_KEYS):
        unknown = set(doc) - set(BUNDLE_KEYS)
        if unknown:
            raise RegistryError(f"bundle has unknown keys: {', '.join(sorted(unknown))}")
        return [(BUNDLE_KEYS[key], item) for key in BUNDLE_KEYS for item in doc.get(key) or []
                if _mapping(item, key)]
    return [(_kind(doc), doc)]


def _mapping(item: Any, key: str) -> bool:
    if not isinstance(item, Mapping):
        raise RegistryError(f"every entry of {key!r} must be a JSON object")
    return True


def _kind(doc: Mapping[str, Any]) -> str:
    """Which object a Supaglue-shaped document describes, from the keys it has."""
    config = doc.get("config")
    if "default_config" in doc or (isinstance(config, Mapping) and "default_config" in config):
        return "sync_config"
    if isinstance(config, Mapping) and "fields" in config:
        return "schema"
    if "auth_type" in doc or "category" in doc:
        return "provider"
    if doc.get("type") in ("postgres", "supaglue"):
        return "destination"
    if "provider_name" in doc and "customer_id" in doc:
        chooses = set(CONNECTION_SYNC_KEYS) & set(doc)
        return "connection_sync_config" if chooses else "connection"
    if "customer_id" in doc:
        return "customer"
    raise RegistryError("cannot tell what this document is (expected a customer, provider, "
                        "destination, schema, sync config or connection shape); keys: "
                        f"{', '.join(sorted(doc)) or 'none'}")


def _label(row: Any) -> str:
    if isinstance(row, Customer):
        return row.customer_id
    if isinstance(row, Connection):
        return f"{row.customer.customer_id} x {row.provider.name}"
    if isinstance(row, SyncConfig):
        return f"{row.provider.name} -> {row.destination.name}"
    return row.name


@contextmanager
def _refusals() -> Iterator[None]:
    """A schema or mapping refusal is bad input like any other here."""
    try:
        yield
    except schemas.MappingRefused as exc:
        raise RegistryError(str(exc)) from None


def _required_str(doc: Mapping[str, Any], key: str, what: str) -> str:
    value = doc.get(key)
    if not isinstance(value, str) or not value:
        raise RegistryError(f"{what} needs a non-empty string {key!r}")
    return value
