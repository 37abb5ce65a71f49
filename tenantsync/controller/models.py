"""The registry's tables (SQLAlchemy 2.0). Secrets live only in the `sealed_*` columns
(tenantsync.controller.crypto); everything else is safe to show and to render."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from sqlalchemy import JSON, ForeignKey, Integer, String, Text, UniqueConstraint, false
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


def utcnow() -> datetime:
    return datetime.now(timezone.utc).replace(tzinfo=None)


class Base(DeclarativeBase):
    type_annotation_map = {dict[str, Any]: JSON, list[Any]: JSON}


class Application(Base):
    __tablename__ = "applications"
    id: Mapped[str] = mapped_column(String(128), primary_key=True)
    name: Mapped[str] = mapped_column(String(256))
    # Supaglue's key-less `/oauth/connect?application_id=` form, only when turned on.
    public_connect: Mapped[bool] = mapped_column(default=False, server_default=false())


class RegistryMeta(Base):
    """Facts about the registry itself (the secret key's fingerprint)."""

    __tablename__ = "registry_meta"
    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(Text)


class Customer(Base):
    __tablename__ = "customers"
    __table_args__ = (UniqueConstraint("application_id", "customer_id"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    application_id: Mapped[str] = mapped_column(ForeignKey("applications.id"))
    customer_id: Mapped[str] = mapped_column(String(256))  # your id for the customer
    name: Mapped[str] = mapped_column(String(256), default="")
    email: Mapped[str] = mapped_column(String(256), default="")
    connections: Mapped[list[Connection]] = relationship(back_populates="customer")


class Provider(Base):
    __tablename__ = "providers"
    __table_args__ = (UniqueConstraint("application_id", "name"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    application_id: Mapped[str] = mapped_column(ForeignKey("applications.id"))
    name: Mapped[str] = mapped_column(String(64))  # Supaglue's name (tenantsync.providers)
    category: Mapped[str] = mapped_column(String(32))  # crm, engagement
    auth_type: Mapped[str] = mapped_column(String(32))  # oauth2, api_key, access_key_secret
    scopes: Mapped[list[Any]] = mapped_column(default=list)
    settings: Mapped[dict[str, Any]] = mapped_column(default=dict)  # non-secret tap settings
    sealed_credentials: Mapped[str | None] = mapped_column(Text)  # OAuth app client id/secret
    app_id: Mapped[str] = mapped_column(String(256), default="")  # Supaglue's provider_app_id
    # Supaglue's provider `objects` ({common: [{name, schema_id?}], standard: [...]}), as given
    objects: Mapped[dict[str, Any] | None] = mapped_column()


class Destination(Base):
    __tablename__ = "destinations"
    __table_args__ = (UniqueConstraint("application_id", "name"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    application_id: Mapped[str] = mapped_column(ForeignKey("applications.id"))
    name: Mapped[str] = mapped_column(String(256))
    type: Mapped[str] = mapped_column(String(32))  # postgres (later: the hosted one)
    settings: Mapped[dict[str, Any]] = mapped_column(default=dict)  # host, port, schema, ...
    secret_keys: Mapped[list[Any]] = mapped_column(default=list)  # names of the sealed ones
    sealed_credentials: Mapped[str | None] = mapped_column(Text)  # password
    version: Mapped[int] = mapped_column(default=1)  # +1 on each update (Supaglue's PUT checks it)


class Schema(Base):
    """Supaglue's schema: the fields an application reads of a standard object, each
    optionally mapped by the application to a provider field (`mapped_name`); customers map
    the others (Connection.field_mappings)."""

    __tablename__ = "schemas"
    __table_args__ = (UniqueConstraint("application_id", "name"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    application_id: Mapped[str] = mapped_column(ForeignKey("applications.id"))
    name: Mapped[str] = mapped_column(String(256))
    fields: Mapped[list[Any]] = mapped_column(default=list)  # [{name, mapped_name?, is_required?}]
    allow_additional_field_mappings: Mapped[bool] = mapped_column(default=False)


class SyncConfig(Base):
    __tablename__ = "sync_configs"
    __table_args__ = (UniqueConstraint("application_id", "provider_id"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    application_id: Mapped[str] = mapped_column(ForeignKey("applications.id"))
    name: Mapped[str] = mapped_column(String(256), default="")
    provider_id: Mapped[int] = mapped_column(ForeignKey("providers.id"))
    destination_id: Mapped[int] = mapped_column(ForeignKey("destinations.id"))
    default_config: Mapped[dict[str, Any]] = mapped_column(default=dict)
    common_objects: Mapped[list[Any]] = mapped_column(default=list)
    standard_objects: Mapped[list[Any]] = mapped_column(default=list)
    custom_objects: Mapped[list[Any]] = mapped_column(default=list)
    provider: Mapped[Provider] = relationship()
    destination: Mapped[Destination] = relationship()


class Connection(Base):
    __tablename__ = "connections"
    __table_args__ = (UniqueConstraint("customer_pk", "provider_id"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    customer_pk: Mapped[int] = mapped_column(ForeignKey("customers.id"))
    provider_id: Mapped[int] = mapped_column(ForeignKey("providers.id"))
    # non-secret settings the provider's spec declares (instance_url, a login or base URL...)
    settings: Mapped[dict[str, Any]] = mapped_column(default=dict)
    # the customer's overrides: {destination_config: {type, schema}, standard_objects: [...],
    # custom_objects: [...]} (Registry.set_connection_sync_config); None: the sync config's
    sync_config: Mapped[dict[str, Any] | None] = mapped_column()
    # the customer's field mappings per object: {object: [{schema_field, mapped_field?}]}
    field_mappings: Mapped[dict[str, Any] | None] = mapped_column()
    sealed_credentials: Mapped[str] = mapped_column(Text)  # tokens or API key
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    credentials_updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    # the customer's last connect (a rotated token is not one); None before migration 0007
    connected_at: Mapped[datetime | None] = mapped_column(default=utcnow)
    # what the taps saw of the provider on the last run: {provider_user_id, rate_limit: {...}}
    observed: Mapped[dict[str, Any] | None] = mapped_column()
    customer: Mapped[Customer] = relationship(back_populates="connections")
    provider: Mapped[Provider] = relationship()


class Sync(Base):
    __tablename__ = "syncs"
    __table_args__ = (UniqueConstraint("connection_id", "sync_config_id"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    connection_id: Mapped[int] = mapped_column(ForeignKey("connections.id"))
    sync_config_id: Mapped[int] = mapped_column(ForeignKey("sync_configs.id"))
    paused: Mapped[bool] = mapped_column(default=False)
    args_for_next_run: Mapped[dict[str, Any]] = mapped_column(default=dict)
    # {kind: [object, ...]}: objects left out of this connection's runs (Supaglue's per-object
    # pause); None or {}: none
    paused_objects: Mapped[dict[str, Any] | None] = mapped_column()
    connection: Mapped[Connection] = relationship()
    sync_config: Mapped[SyncConfig] = relationship()


class SyncRun(Base):
    __tablename__ = "sync_runs"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    sync_id: Mapped[int] = mapped_column(ForeignKey("syncs.id"), index=True)
    status: Mapped[str] = mapped_column(String(16))  # IN_PROGRESS, SUCCESS, FAILURE
    strategy: Mapped[str] = mapped_column(String(16))  # full, incremental, auto
    started_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    ended_at: Mapped[datetime | None] = mapped_column()
    records: Mapped[dict[str, Any]] = mapped_column(default=dict)  # stream -> records written
    num_records: Mapped[int] = mapped_column(default=0)
    error: Mapped[str | None] = mapped_column(Text)
    # [{object_type, object, strategy}]: what the run read (its objects less the paused ones)
    objects: Mapped[list[Any] | None] = mapped_column()
    sync: Mapped[Sync] = relationship()
