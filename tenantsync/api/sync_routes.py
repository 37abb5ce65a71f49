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
    CustomerFilterHeader,
    CustomerHeader,
    ProviderFilterHeader,
    ProviderHeader,
    ServiceConfig,
)
from tenantsync.controller import runner
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
    schema_id: str | None = Field(default=None, max_length=256)  # standard objects only


class EntityIn(Strict):
    entity_id: str = Name


class SyncConfigData(Strict):
    default_config: StrategyIn
    common_objects: list[ObjectIn] = Field(default_factory=list, max_length=200)
    standard_objects: list[ObjectIn] = Field(default_factory=list, max_length=200)
    custom_objects: list[ObjectIn] = Field(default_factory=list, max_length=200)
    # Supaglue's deprecated entities: accepted, not kept (entities are not served)
    entities: list[EntityIn] | None = Field(default=None, max_length=200, exclude=True)


class SyncConfigIn(Strict):
    name: str | None = Text
    provider_name: str = Name
    destination_name: str = Name
    config: SyncConfigData


class SyncConfigUpdate(SyncConfigIn):
    """Supaglue's update carries only `config`: the provider and destination stay."""

    provider_name: str | None = Field(default=None, min_length=1, max_length=256)
    destination_name: str | None = Field(default=None, min_length=1, max_length=256)


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
def update_sync_config(*, sync_config_id: str, body: SyncConfigUpdate,
                       force_delete_syncs: bool = False, reg: AppRegistry,
                       cfg: Config) -> dict:
    row = _sync_config_row(reg, sync_config_id)
    body.provider_name = body.provider_name or row.provider.name
    body.destination_name = body.destination_name or row.destination.name
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


@router.delete("/sync_configs/{sync_config_id}")
def delete_sync_config(*, sync_config_id: str, force_delete_syncs: bool = False,
                       reg: AppRegistry,
                       cfg: Config) -> dict:
    """Answers the deleted sync config (200), as Supaglue does."""
    row = _sync_config_row(reg, sync_config_id)
    syncs = _syncs_of(reg, row)
    if syncs and not force_delete_syncs:
        raise bad_request(f"sync config has {len(syncs)} sync(s): pass "
                          "force_delete_syncs=true to delete them too")
    shown = shapes.sync_config(row)
    reg.delete_sync_config(row.provider.name, force_delete_syncs=True)
    commit(reg, cfg)
    return shown


# --- syncs: one per object of a connection (one Meltano run reads all unpaused ones) -------

ObjectType = Literal["common", "standard", "custom"]


class SyncActionIn(Strict):
    """Supaglue's body names one object; without one (a tenantsync extension) the action
    applies to every object of the connection."""

    object_type: ObjectType | None = None
    object: str | None = Text
    entity_id: str | None = Text  # Supaglue's deprecated entities: refused below
    perform_full_refresh: bool = False


def _tenant_sync(reg: Registry, customer_id: str, provider_name: str) -> Sync:
    return missing(reg.sync, customer_id, provider_name)


def _chosen(row: Sync, body: SyncActionIn | None) -> tuple[str, str] | None:
    """The (object type, object) a sync action names, or None for all of them."""
    if body is None or (body.object is None and body.object_type is None
                        and body.entity_id is None):
        return None
    if body.entity_id is not None:
        raise ApiError(422, "Entities are not supported", "entity_id: entities (deprecated in "
                       "Supaglue) are not served by tenantsync; name object_type and object")
    if body.object is None or body.object_type is None:
        raise bad_request("name both object_type and object (or neither, for every object)")
    item = (body.object_type, body.object)
    if item not in shapes.sync_items(row):
        raise not_found(f"no sync of {body.object_type} object {body.object!r} for this "
                        "connection (not in its sync config, or not chosen by its connection "
                        "sync config)")
    return item


def _answer(row: Sync, item: tuple[str, str] | None) -> dict:
    if item is not None:
        return shapes.object_sync(row, *item)
    return {"results": [shapes.object_sync(row, *i) for i in shapes.sync_items(row)]}


def expanded_page(reg: Registry, query, column, cursor: str | None, page_size: int,
                  expand, *, descending: bool) -> tuple[list, str | None, str | None]:
    """One page of the items rows expand into (a sync into its objects, a run into its
    objects), keyset-paged on [row id, item index]: `expand(row)` gives (index, item) pairs
    in index order, already filtered."""
    position = shapes.read_cursor(cursor, list)
    if position.after is not None and not (
            len(position.after) == 2 and all(type(v) is int for v in position.after)):
        raise bad_request("cursor is not valid: pass back a `next` or `previous` value "
                          "unchanged")
    forward = position.reverse == descending  # walking towards larger row ids
    after_row, after_index = position.after or (None, None)
    if after_row is not None:
        query = query.where(column >= after_row if forward else column <= after_row)
    query = query.order_by(column if forward else column.desc())
    items: list = []
    batch, offset = page_size + 1, 0
    while len(items) <= page_size:
        rows = list(reg.s.scalars(query.offset(offset).limit(batch)))
        for row in rows:
            pairs = list(expand(row))
            if position.reverse:
                pairs.reverse()
            for index, item in pairs:
                key = [row.id, index]
                if after_row is not None and row.id == after_row and (
                        index <= after_index if not position.reverse else index >= after_index):
                    continue
                items.append((key, item))
        if len(rows) < batch:
            break
        offset += batch
    page, next_cursor, previous = shapes.paginate(items, page_size, position, lambda e: e[0])
    return [item for _, item in page], next_cursor, previous


def _object_filter(object_type: str | None, name: str | None):
    return lambda kind, obj: (object_type is None or kind == object_type) and \
        (name is None or obj == name)


@router.get("/syncs")
def list_syncs(*, cursor: str | None = None, page_size: int = PageSize,
               customer_id: str | None = None, provider_name: str | None = None,
               object_type: ObjectType | None = None, object: str | None = None,
               customer_header: str | None = CustomerFilterHeader,
               provider_header: str | None = ProviderFilterHeader,
               reg: AppRegistry) -> dict:
    """Supaglue's syncs, one per object of each connection, in a flat page (the tenant by
    query parameters or by the `x-customer-id` / `x-provider-name` headers)."""
    query = reg.of_tenants(select(Sync).options(*_SYNC_SHAPE),
                           _one_of(customer_id, customer_header, "customer_id"),
                           _one_of(provider_name, provider_header, "provider_name"))
    wanted = _object_filter(object_type, object)

    def expand(row: Sync):
        return [(i, shapes.object_sync(row, *item))
                for i, item in enumerate(shapes.sync_items(row)) if wanted(*item)]

    results, next_cursor, previous = expanded_page(reg, query, Sync.id, cursor, page_size,
                                                   expand, descending=False)
    return shapes.flat_page(results, next_cursor, previous)


def _one_of(param: str | None, header: str | None, name: str) -> str | None:
    """A listing's filter, given as a query parameter or as its header; both must agree."""
    if param is not None and header is not None and param != header:
        raise bad_request(f"{name} {param!r} and the x-{name.split('_')[0]}-"
                          f"{name.split('_')[1]} header {header!r} disagree")
    return param if param is not None else header


def _set_paused(reg: Registry, cfg: ServiceConfig, customer_id: str, provider_name: str,
                body: SyncActionIn | None, paused: bool) -> dict:
    row = _tenant_sync(reg, customer_id, provider_name)
    item = _chosen(row, body)
    held = {k: set(v) for k, v in (row.paused_objects or {}).items()}
    if item is None:  # the whole connection
        row.paused, held = paused, {}
    elif paused:
        held.setdefault(item[0], set()).add(item[1])
    else:
        if row.paused:  # resuming one object of a paused connection: only that one runs
            row.paused = False
            for kind, name in shapes.sync_items(row):
                held.setdefault(kind, set()).add(name)
        held.get(item[0], set()).discard(item[1])
    row.paused_objects = {k: sorted(v) for k, v in held.items() if v} or None
    commit(reg, cfg, customer_id)
    return _answer(row, item)


@router.post("/syncs/_pause")
def pause_sync(*, body: SyncActionIn | None = None, customer_id: str = CustomerHeader,
               provider_name: str = ProviderHeader, reg: AppRegistry,
               cfg: Config) -> dict:
    """Pause one object's sync: the connection's runs leave it out."""
    return _set_paused(reg, cfg, customer_id, provider_name, body, True)


@router.post("/syncs/_resume")
def resume_sync(*, body: SyncActionIn | None = None, customer_id: str = CustomerHeader,
                provider_name: str = ProviderHeader, reg: AppRegistry,
                cfg: Config) -> dict:
    return _set_paused(reg, cfg, customer_id, provider_name, body, False)


@router.post("/syncs/_trigger")
def trigger_sync(*, body: SyncActionIn | None = None, customer_id: str = CustomerHeader,
                 provider_name: str = ProviderHeader, reg: AppRegistry,
                 cfg: Config) -> dict:
    """Start the connection's run now: it reads every unpaused object, the named one
    included (one Meltano run per connection; see docs/DESIGN.md)."""
    row = _tenant_sync(reg, customer_id, provider_name)
    item = _chosen(row, body)
    shown = _answer(row, item)
    if row.paused or (item is not None and shown["paused"]) or not runner.run_objects(row):
        what = f"{item[0]} object {item[1]!r} of " if item else ""
        raise ApiError(409, "Sync is paused", f"{what}sync {customer_id} x {provider_name} "
                       "is paused: resume it first")
    if body is not None and body.perform_full_refresh:
        row.args_for_next_run = {**(row.args_for_next_run or {}), "perform_full_refresh": True}
    reg.s.commit()
    if cfg.run_on_trigger:
        runs.start_in_background(cfg, reg.app_id, customer_id, provider_name)
    return shown


# --- connection sync configs (a customer's own schema and choice of objects) ---------------

class ChosenObjectIn(Strict):
    object: str = Name
    table: str | None = Text  # Supaglue's per-object table: refused below (422)


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
    if any(o.table for o in (body.standard_objects or []) + (body.custom_objects or [])):
        raise ApiError(422, "Table overrides are not supported", "standard_objects/"
                       "custom_objects[].table: an object's table is named by tenantsync's "
                       "stream contract ({provider}_{object})")
    try:
        conn = reg.set_connection_sync_config(
            customer_id, provider_name, body.model_dump(by_alias=True, exclude_none=True))
    except RegistryError as exc:
        raise bad_request(str(exc)) from None
    commit(reg, cfg, customer_id)
    return conn.sync_config or {}


@router.delete("/connection_sync_configs", status_code=204)
def delete_connection_sync_config(*, customer_id: str = CustomerHeader,
                                  provider_name: str = ProviderHeader, reg: AppRegistry,
                                  cfg: Config) -> Response:
    missing(reg.delete_connection_sync_config, customer_id, provider_name)
    commit(reg, cfg, customer_id)
    return Response(status_code=204)


# --- sync runs: one per object of each connection run ---------------------------------------

@router.get("/sync-runs")
def list_sync_runs(*, cursor: str | None = None, page_size: int = PageSize,
                   customer_id: str | None = None, provider_name: str | None = None,
                   object_type: ObjectType | None = None, object: str | None = None,
                   status: Literal["SUCCESS", "FAILURE", "IN_PROGRESS"] | None = None,
                   start_timestamp: str | None = None, end_timestamp: str | None = None,
                   customer_header: str | None = CustomerFilterHeader,
                   provider_header: str | None = ProviderFilterHeader,
                   reg: AppRegistry) -> dict:
    """Supaglue's sync runs, newest first: each connection run once per object it read."""
    customer_id = _one_of(customer_id, customer_header, "customer_id")
    provider_name = _one_of(provider_name, provider_header, "provider_name")
    query = (select(SyncRun).options(*(joinedload(SyncRun.sync).options(o) for o in _SYNC_SHAPE))
             .join(Sync, SyncRun.sync_id == Sync.id))
    query = reg.of_tenants(query, customer_id, provider_name)
    if status:
        query = query.where(SyncRun.status == status)
    if (start := shapes.parse_timestamp(start_timestamp, "start_timestamp")) is not None:
        query = query.where(SyncRun.started_at >= start)
    if (end := shapes.parse_timestamp(end_timestamp, "end_timestamp")) is not None:
        query = query.where(SyncRun.started_at <= end)
    wanted = _object_filter(object_type, object)

    def expand(row: SyncRun):
        return [(i, shapes.object_sync_run(row, i, item))
                for i, item in enumerate(shapes.run_items(row))
                if wanted(item["object_type"], item["object"])]

    results, next_cursor, previous = expanded_page(reg, query, SyncRun.id, cursor, page_size,
                                                   expand, descending=True)
    return shapes.flat_page(results, next_cursor, previous)
