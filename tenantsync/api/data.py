"""The Data Listing API over the hosted destination: `/data/v2/{provider}/{object}` (standard
and custom objects: the provider's fields of each raw record, as `projection` shapes them)
and the unified listings `/crm/v2/{object}`, `/engagement/v2/{object}` (common objects), all
scoped to the caller's application (its schema) and `x-customer-id`.

Pagination is keyset on the record id within the tenant, the primary key's order
(application, provider, customer, id): an update rewrites a row in place and never moves
it in that order, so paging while a sync writes neither skips nor repeats a record that
existed when paging began (new records appear if their id is still ahead). Ordering by
modification time instead would move updated rows behind the cursor and skip them. The index
this needs is the primary key, or one created on first use (`ensure_keyset_index`).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime
from typing import Any

import psycopg2
import psycopg2.extras
import psycopg2.pool
from fastapi import APIRouter, Query
from psycopg2 import sql
from sqlalchemy import select

from tenantsync import contract
from tenantsync.api import hosted, projection, shapes
from tenantsync.api.errors import ApiError, bad_request, not_found
from tenantsync.api.service import AppRegistry, CustomerHeader, ProviderHeader
from tenantsync.common_schema import BASE_FIELDS, COMMON_OBJECTS
from tenantsync.controller.models import SyncConfig
from tenantsync.controller.registry import Registry, RegistryError

router = APIRouter(tags=["data listing"])
log = logging.getLogger(__name__)
DEFAULT_PAGE_SIZE = 10  # Supaglue's default for data and unified lists
_dsn: dict[str, str] = {}
_dsn_lock = threading.Lock()


def hosted_dsn() -> str:
    with _dsn_lock:  # starting the embedded server is done once per process
        if "dsn" not in _dsn:
            _dsn["dsn"] = hosted.dsn()
        return _dsn["dsn"]


def reset_dsn() -> None:
    with _dsn_lock:
        _dsn.clear()
        for pool in _pools.values():
            pool.closeall()
        _pools.clear()


_pools: dict[str, psycopg2.pool.ThreadedConnectionPool] = {}
POOL_SIZE = 8


_slots = threading.BoundedSemaphore(POOL_SIZE)  # psycopg2's pool refuses, never waits


@contextmanager
def reader() -> Iterator[tuple[str, Any]]:
    """(dsn, a pooled read-only autocommit connection) to the hosted database; waits for a
    free one. A connection that failed is closed rather than handed out again."""
    dsn = hosted_dsn()
    with _slots:
        with _dsn_lock:
            pool = _pools.get(dsn)
            if pool is None:
                pool = _pools[dsn] = psycopg2.pool.ThreadedConnectionPool(
                    0, POOL_SIZE, dsn, application_name="tenantsync-data-api",
                    options="-c default_transaction_read_only=on")
        conn = pool.getconn()
        broken = False
        try:
            conn.autocommit = True
            yield dsn, conn
        except psycopg2.Error:
            broken = True
            raise
        finally:
            pool.putconn(conn, close=broken or bool(conn.closed))


_indexed: set[tuple[str, str, str]] = set()  # (dsn, schema, table) known to have the index


def _index_columns(cur, schema: str, table: str) -> list[list[str]]:
    """The column lists of the table's valid indexes, in index order."""
    cur.execute("""
        SELECT array(SELECT a.attname FROM unnest(i.indkey) WITH ORDINALITY AS k(attnum, n)
                     JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum
                     ORDER BY k.n) AS cols
        FROM pg_index i WHERE i.indrelid = to_regclass(%s) AND i.indisvalid""",
                (f'"{schema}"."{table}"',))
    return [list(r["cols"]) for r in cur.fetchall()]


def ensure_keyset_index(dsn: str, schema: str, table: str, equal: list[str],
                        id_col: str) -> None:
    """Make sure an index serves `WHERE <equal columns> = .. AND id > .. ORDER BY id`: the
    primary key does for tables target-postgres creates; `custom_objects` (object name after
    the id in its key) and tables created elsewhere get one, built CONCURRENTLY (writers are
    not blocked) and idempotently. Checked once per table and process."""
    if (dsn, schema, table) in _indexed:
        return
    n = len(equal)
    conn = psycopg2.connect(dsn, application_name="tenantsync-data-api")
    try:
        conn.autocommit = True
        with conn.cursor(cursor_factory=psycopg2.extras.RealDictCursor) as cur:
            if not any(set(cols[:n]) == set(equal) and cols[n:n + 1] == [id_col]
                       for cols in _index_columns(cur, schema, table)):
                name = contract.identifier(f"{table}_tenant_keyset_idx")
                cur.execute(sql.SQL("CREATE INDEX CONCURRENTLY IF NOT EXISTS {} ON {}.{} ({})")
                            .format(sql.Identifier(name), sql.Identifier(schema),
                                    sql.Identifier(table),
                                    sql.SQL(", ").join(map(sql.Identifier, [*equal, id_col]))))
    except psycopg2.Error as exc:  # listings still work, only slower
        log.warning("cannot index %s.%s for listings: %s", schema, table,
                    str(exc).splitlines()[0])
        return
    finally:
        conn.close()
    _indexed.add((dsn, schema, table))


def _jsonable(value: Any) -> Any:
    if isinstance(value, datetime):
        return projection.iso_utc(value)
    if isinstance(value, date):
        return value.isoformat()
    return value


def _hosted_config(reg: Registry, provider_name: str) -> SyncConfig:
    try:
        provider = reg.provider(provider_name)
    except RegistryError as exc:
        raise not_found(str(exc)) from None
    config = reg.s.scalar(select(SyncConfig).where(SyncConfig.provider_id == provider.id))
    if config is None or config.destination.type != hosted.TYPE:
        raise bad_request(f"provider {provider_name!r} is not synced to the hosted destination "
                          "(a sync config with a destination of type 'supaglue')")
    return config


def _customer(reg: Registry, customer_id: str) -> None:
    try:
        reg.customer(customer_id)
    except RegistryError as exc:
        raise not_found(str(exc)) from None


def _listed(config: SyncConfig, kind: str) -> dict[str, str]:
    """slug -> object name, for the objects of one kind the sync config lists."""
    return {contract.slug(o["object"]): o["object"] for o in getattr(config, f"{kind}_objects")}


def _object_target(config: SyncConfig, provider: str, name: str
                   ) -> tuple[str, str | None, str]:
    """(table, custom object name or None, the object as the sync config names it) of a
    data-listing path's object; plural names (`accounts`, `companies`) find their singular
    object, as Supaglue's paths read."""
    wanted = contract.slug(name)
    candidates = [wanted]
    if wanted.endswith("ies"):
        candidates.append(wanted[:-3] + "y")
    if wanted.endswith("s"):
        candidates.append(wanted[:-1])
    for kind in ("standard", "custom"):
        listed = _listed(config, kind)
        for candidate in candidates:
            if candidate in listed:
                dest = contract.resolve(contract.stream_name(kind, listed[candidate]), provider)
                return dest.table, dest.object_name, listed[candidate]
    raise bad_request(f"object {name!r} is not synced by provider {provider!r}'s sync config")


def _schema_attached(config: SyncConfig, provider: str, table: str) -> bool:
    """Whether the standard object stored in `table` has a schema: its records then carry
    their `_supaglue_mapped_data`."""
    return any(o.get("schema_id") and contract.resolve(
        contract.stream_name("standard", o["object"]), provider).table == table
        for o in config.standard_objects)


def _page(schema: str, table: str, columns: list[str], id_col: str, modified_col: str,
          tenant: dict[str, str], cursor: str | None, page_size: int,
          modified_after: datetime | None
          ) -> tuple[list[dict[str, Any]], str | None, str | None, int]:
    """One page of a tenant's rows by id: (rows, next, previous, total matching)."""
    where = [sql.SQL("{} = %s").format(sql.Identifier(k)) for k in tenant]
    params: list[Any] = list(tenant.values())
    if modified_after is not None:
        where.append(sql.SQL("{} > %s").format(sql.Identifier(modified_col)))
        params.append(modified_after)
    count_where, count_params = list(where), list(params)
    position = shapes.read_cursor(cursor, str)
    if position.after is not None:
        where.append(sql.SQL("{} {} %s").format(sql.Identifier(id_col),
                                                sql.SQL("<" if position.reverse else ">")))
        params.append(position.after)
    table_sql = sql.SQL("{}.{}").format(sql.Identifier(schema), sql.Identifier(table))
    with reader() as (dsn, conn), \
            conn.cursor(cursor_factory=psycopg2.extras.RealDictCursor) as cur:
        cur.execute("SELECT to_regclass(%s) IS NOT NULL AS present", (f'"{schema}"."{table}"',))
        if not cur.fetchone()["present"]:
            return [], None, None, 0  # nothing synced yet
        ensure_keyset_index(dsn, schema, table, list(tenant), id_col)
        cur.execute(sql.SQL("SELECT column_name FROM information_schema.columns "
                            "WHERE table_schema = %s AND table_name = %s"),
                    (schema, table))
        present = {r["column_name"] for r in cur.fetchall()}
        chosen = [c for c in columns if c in present]
        cur.execute(sql.SQL("SELECT {} FROM {} WHERE {} ORDER BY {} {} LIMIT %s").format(
            sql.SQL(", ").join(map(sql.Identifier, chosen)), table_sql,
            sql.SQL(" AND ").join(where), sql.Identifier(id_col),
            sql.SQL("DESC" if position.reverse else "ASC")), [*params, page_size + 1])
        rows = [dict(r) for r in cur.fetchall()]
        cur.execute(sql.SQL("SELECT count(*) AS n FROM {} WHERE {}").format(
            table_sql, sql.SQL(" AND ").join(count_where)), count_params)
        total = cur.fetchone()["n"]
    rows, next_cursor, previous = shapes.paginate(rows, page_size, position,
                                                  lambda r: r[id_col])
    return rows, next_cursor, previous, total


PageSize = Query(DEFAULT_PAGE_SIZE, ge=1, le=1000)


RawDataFlag = Query(True, description="Return each record's stored provider record as "
                    "`raw_data` (the top-level fields are a projection of it), as Supaglue "
                    "always did; false leaves it out.")


@router.get("/data/v2/{provider_name}/{object_name}")
def list_object_records(*, provider_name: str, object_name: str,
                        customer_id: str = CustomerHeader, cursor: str | None = None,
                        page_size: int = PageSize, modified_after: str | None = None,
                        include_raw_data: bool = RawDataFlag, reg: AppRegistry) -> dict:
    """A standard or custom object's records, by record id: the provider's fields of each raw
    record at the top level (Salesforce: every field but `attributes`; HubSpot: `id`,
    `createdAt`, `updatedAt`, `archived`, `archivedAt` and the `properties` hoisted), with
    `_supaglue_is_deleted` and `_supaglue_last_modified_at` (a row a full sync swept is
    deleted whatever its raw record says), and `_supaglue_mapped_data` for an object with a
    schema (the customer's field mapping)."""
    _customer(reg, customer_id)
    config = _hosted_config(reg, provider_name)
    table, custom_name, listed_as = _object_target(config, provider_name, object_name)
    tenant = {"_supaglue_application_id": reg.app_id, "_supaglue_provider_name": provider_name,
              "_supaglue_customer_id": customer_id}
    if custom_name:
        tenant["_supaglue_object_name"] = custom_name
    mapped = not custom_name and _schema_attached(config, provider_name, table)
    rows, next_cursor, previous, total = _page(
        hosted.schema_for(reg.app_id), table,
        ["_supaglue_id", "_supaglue_last_modified_at", "_supaglue_is_deleted",
         "_supaglue_raw_data", *([projection.MAPPED_DATA] if mapped else [])],
        "_supaglue_id", "_supaglue_last_modified_at", tenant, cursor,
        page_size, shapes.parse_timestamp(modified_after, "modified_after"))
    records = [projection.record(provider_name, listed_as, r["_supaglue_raw_data"],
                                 is_deleted=r["_supaglue_is_deleted"],
                                 last_modified_at=_jsonable(r["_supaglue_last_modified_at"]),
                                 include_raw_data=include_raw_data,
                                 mapped_data=r.get(projection.MAPPED_DATA)) for r in rows]
    return shapes.page(records, next_cursor, previous, total)


def _unified(category: str, object_name: str, customer_id: str, provider_name: str,
             cursor: str | None, page_size: int, modified_after: str | None,
             include_raw_data: bool, reg: Registry) -> dict:
    table = f"{category}_{object_name}"
    common = COMMON_OBJECTS.get(table)
    if common is None:
        known = sorted(t.split("_", 1)[1] for t in COMMON_OBJECTS if t.startswith(category))
        raise not_found(f"no {category} common object {object_name!r} (known: "
                        f"{', '.join(known)})")
    _customer(reg, customer_id)
    config = _hosted_config(reg, provider_name)
    if common.name not in {o["object"] for o in config.common_objects}:
        raise bad_request(f"common object {common.name!r} is not synced by provider "
                          f"{provider_name!r}'s sync config")
    columns = [f.name for f in (*BASE_FIELDS, *common.fields)]
    if include_raw_data:
        columns.append("raw_data")
    tenant = {"_supaglue_application_id": reg.app_id, "_supaglue_provider_name": provider_name,
              "_supaglue_customer_id": customer_id}
    rows, next_cursor, previous, total = _page(hosted.schema_for(reg.app_id), table, columns, "id",
                                     "last_modified_at", tenant, cursor, page_size,
                                     shapes.parse_timestamp(modified_after, "modified_after"))
    records = [{k: _jsonable(v) for k, v in r.items()} for r in rows]
    return shapes.page(records, next_cursor, previous, total)




def cached_only(read_from_cache: bool) -> None:
    if not read_from_cache:
        raise ApiError(501, "Live reads are not served",
                       "read_from_cache=false: tenantsync serves unified records from what its "
                       "syncs wrote to the hosted destination, never from the provider live; "
                       "leave read_from_cache out or pass true")


@router.get("/crm/v2/{object_name}")
def list_crm(*, object_name: str, customer_id: str = CustomerHeader,
             provider_name: str = ProviderHeader, cursor: str | None = None,
             page_size: int = PageSize, modified_after: str | None = None,
             include_raw_data: bool = False, read_from_cache: bool = True,
             reg: AppRegistry) -> dict:
    """Unified CRM records (accounts, contacts, leads, opportunities, users), from the hosted
    destination (what syncs wrote: `read_from_cache=false` is refused with 501)."""
    cached_only(read_from_cache)
    return _unified("crm", object_name, customer_id, provider_name, cursor, page_size,
                    modified_after, include_raw_data, reg)


@router.get("/engagement/v2/{object_name}")
def list_engagement(*, object_name: str, customer_id: str = CustomerHeader,
                    provider_name: str = ProviderHeader, cursor: str | None = None,
                    page_size: int = PageSize, modified_after: str | None = None,
                    include_raw_data: bool = False, read_from_cache: bool = True,
                    reg: AppRegistry) -> dict:
    """Unified engagement records, from the hosted destination."""
    cached_only(read_from_cache)
    return _unified("engagement", object_name, customer_id, provider_name, cursor, page_size,
                    modified_after, include_raw_data, reg)
