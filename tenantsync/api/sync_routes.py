"""The management API's sync routes: sync configs, syncs (pause, resume, trigger) and sync
runs, in Supaglue's shapes (tenantsync.api.mgmt has the conventions)."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Query, Response
from pydantic import Field
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from tenantsync.api import runs, shapes
from tenantsync.api.errors import ApiError, bad_request, not_found
from tenantsync.api.mgmt import Name, Strict, Text, as_doc, commit, missing, row_by_id
from tenantsync.api.service import (
    AppRegistry,
    Config,
    CustomerHeader,
    ProviderHeader,
    ServiceConfig,
)
from tenantsync.controller.models import (
    Connection,
    Sync,
    SyncConfig,
    SyncRun,
)
from tenantsync.controller.registry import Registry, RegistryError

router = APIRouter(prefix="/mgmt/v2", tags=["management"])
PageSize = Query(1000, ge=1, le=1000)
# What a sync's shape reads, loaded with the page rather than one query per row.
_SYNC_SHAPE = (joinedload(Sync.connection).joinedload(Connection.customer),
               joinedload(Sync.connection).joinedload(Connection.provider),
               joinedload(Sync.sync_config))


def keyset(reg: Registry, query, column, cursor: str | None, page_size: int, *,
           descending: bool) -> tuple[list, str | None, str | None]:
    """One page of `query` in `column` order (ids: ascending, or newest first)."""
    position = shapes.read_cursor(cursor, int)
    forward = position.reverse == descending  # walking towards larger ids
    if position.after is not None:
        query = query.where(column > position.after if forward else column < position.after)
    query = query.order_by(column if forward else column.desc()).limit(page_size + 1)
    return shapes.paginate(list(reg.s.scalars(query)), page_size, position, lambda r: r.id)


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
    row = row_by_id(reg.s, SyncConfig, sync_config_id)
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
    provider = missing(reg.provider, body.provider_name)
    missing(reg.destination, body.destination_name)
    if reg.s.scalar(select(SyncConfig.id).where(SyncConfig.provider_id == provider.id)):
        raise ApiError(409, "Sync config exists", f"provider {body.provider_name!r} already "
                       "has a sync config (one per provider): update it with PUT")
    row = reg.upsert_sync_config(as_doc(body))
    commit(reg, cfg)
    return shapes.sync_config(row)


@router.get("/sync_configs/{sync_config_id}")
def get_sync_config(*, sync_config_id: str, reg: AppRegistry) -> dict:
    return shapes.sync_config(_sync_config_row(reg, sync_config_id))


@router.put("/sync_configs/{sync_config_id}")
def update_sync_config(*, sync_config_id: str, body: SyncConfigIn,
                       force_delete_syncs: bool = False, reg: AppRegistry,
                       cfg: Config) -> dict:
    row = _sync_config_row(reg, sync_config_id)
    missing(reg.destination, body.destination_name)
    new_provider = missing(reg.provider, body.provider_name)
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
    row = reg.upsert_sync_config(as_doc(body))
    commit(reg, cfg)
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
    commit(reg, cfg)
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
    return missing(reg.sync, customer_id, provider_name)


@router.get("/syncs")
def list_syncs(*, cursor: str | None = None, page_size: int = PageSize,
               customer_id: str | None = None, provider_name: str | None = None,
               reg: AppRegistry) -> dict:
    query = reg.of_tenants(select(Sync).options(*_SYNC_SHAPE), customer_id, provider_name)
    rows, next_cursor, previous = keyset(reg, query, Sync.id, cursor, page_size,
                                          descending=False)
    return shapes.page([shapes.sync(r) for r in rows], next_cursor, previous)


def _sync_action(reg: Registry, cfg: ServiceConfig, customer_id: str, provider_name: str,
                 paused: bool) -> dict:
    row = _tenant_sync(reg, customer_id, provider_name)
    row.paused = paused
    commit(reg, cfg)
    return shapes.sync(row)




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


# --- connection sync configs (a customer's own schema and choice of objects) ---------------

class ChosenObjectIn(Strict):
    object: str = Name


class PostgresSchemaIn(Strict):
    type: Literal["postgres"]
    schema_name: str = Field(alias="schema", min_length=1, max_length=63,
                             pattern=r"^[^\x00]+$")


class ConnectionSyncConfigIn(Strict):
    destination_config: PostgresSchemaIn | None = None
    standard_objects: list[ChosenObjectIn] | None = Field(default=None, max_length=10_000)
    custom_objects: list[ChosenObjectIn] | None = Field(default=None, max_length=10_000)


@router.get("/connection_sync_configs")
def get_connection_sync_config(*, customer_id: str = CustomerHeader,
                               provider_name: str = ProviderHeader, reg: AppRegistry) -> dict:
    conn = missing(reg.connection, customer_id, provider_name)
    if not conn.sync_config:
        raise not_found(f"connection {customer_id!r} x {provider_name!r} has no connection "
                        "sync config (it follows the provider's sync config)")
    return conn.sync_config


@router.put("/connection_sync_configs")
def put_connection_sync_config(*, body: ConnectionSyncConfigIn,
                               customer_id: str = CustomerHeader,
                               provider_name: str = ProviderHeader, reg: AppRegistry,
                               cfg: Config) -> dict:
    """Replace the connection's sync config: its own destination schema, and which of the
    sync config's standard and custom objects it syncs."""
    missing(reg.connection, customer_id, provider_name)
    try:
        conn = reg.set_connection_sync_config(
            customer_id, provider_name, body.model_dump(by_alias=True, exclude_none=True))
    except RegistryError as exc:
        raise bad_request(str(exc)) from None
    commit(reg, cfg)
    return conn.sync_config or {}


@router.delete("/connection_sync_configs", status_code=204)
def delete_connection_sync_config(*, customer_id: str = CustomerHeader,
                                  provider_name: str = ProviderHeader, reg: AppRegistry,
                                  cfg: Config) -> Response:
    missing(reg.delete_connection_sync_config, customer_id, provider_name)
    commit(reg, cfg)
    return Response(status_code=204)


# --- sync runs ------------------------------------------------------------------------------

@router.get("/sync-runs")
def list_sync_runs(*, cursor: str | None = None, page_size: int = PageSize,
                   customer_id: str | None = None, provider_name: str | None = None,
                   object: str | None = None,
                   status: Literal["SUCCESS", "FAILURE", "IN_PROGRESS"] | None = None,
                   start_timestamp: str | None = None, end_timestamp: str | None = None,
                   reg: AppRegistry) -> dict:
    query = (select(SyncRun).options(*(joinedload(SyncRun.sync).options(o) for o in _SYNC_SHAPE))
             .join(Sync, SyncRun.sync_id == Sync.id)
             .join(SyncConfig, Sync.sync_config_id == SyncConfig.id))
    query = reg.of_tenants(query, customer_id, provider_name)
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
    rows, next_cursor, previous = keyset(reg, query, SyncRun.id, cursor, page_size,
                                          descending=True)
    return shapes.page([shapes.sync_run(r) for r in rows], next_cursor, previous)
