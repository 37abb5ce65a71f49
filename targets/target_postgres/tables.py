"""Supaglue's destination tables: their columns (a table of data), their DDL, and the merge SQL.

Three shapes exist (reference/supaglue.md §3): standard-object tables, the one `custom_objects`
table (plus a view per custom object), and common-object tables. Everything below is derived
from `TableSpec`, so DDL, COPY columns and the merge can never disagree.
"""

from __future__ import annotations

from dataclasses import dataclass

from psycopg2 import sql

from tenantsync.common_schema import BASE_FIELDS, COMMON_OBJECTS, JSONB, TIMESTAMP
from tenantsync.contract import Destination, identifier

SHORTENED_COMMENT = "tenantsync: shortened name of "


@dataclass(frozen=True)
class Column:
    name: str
    type: str
    not_null: bool = False


_TENANT = (
    Column("_supaglue_application_id", "TEXT", True),
    Column("_supaglue_provider_name", "TEXT", True),
    Column("_supaglue_customer_id", "TEXT", True),
)
_OBJECT = (
    *_TENANT,
    Column("_supaglue_id", "TEXT", True),
    Column("_supaglue_emitted_at", TIMESTAMP, True),
    Column("_supaglue_last_modified_at", TIMESTAMP, True),
    Column("_supaglue_is_deleted", "BOOLEAN", True),
    Column("_supaglue_raw_data", JSONB, True),
    Column("_supaglue_mapped_data", JSONB, True),
)
TENANT_COLUMNS = tuple(c.name for c in _TENANT)
SEEN_IDS = ("_tenantsync", "seen_ids")  # schema and table of the seen-ids log
EMITTED_AT = "_supaglue_emitted_at"
OBJECT_NAME = "_supaglue_object_name"


@dataclass(frozen=True)
class TableSpec:
    table: str
    columns: tuple[Column, ...]
    id_col: str
    last_modified_col: str
    deleted_col: str
    # Columns loaded per record through COPY (everything except tenant stamp, emitted-at, and
    # constants), in COPY order.
    record_cols: tuple[str, ...]
    object_name: str | None = None  # custom objects: the `_supaglue_object_name` and view name
    unified_col: str | None = None  # common objects: `_supaglue_unified_data`
    full_name: str = ""  # the table's name before PostgreSQL's limit shortened it, if it did

    @property
    def key(self) -> tuple[str, ...]:
        return (*TENANT_COLUMNS, self.id_col, *((OBJECT_NAME,) if self.object_name else ()))

    def column(self, name: str) -> Column:
        return next(c for c in self.columns if c.name == name)


def spec_for(dest: Destination) -> TableSpec:
    if dest.kind == "common":
        obj = COMMON_OBJECTS[dest.table]
        fields = tuple(Column(f.name, f.type, f.not_null) for f in (*BASE_FIELDS, *obj.fields))
        columns = (
            *_TENANT,
            Column(EMITTED_AT, TIMESTAMP, True),
            Column("_supaglue_unified_data", JSONB),
            *fields,
            Column("raw_data", JSONB),
        )
        return TableSpec(
            table=dest.table, columns=columns, id_col="id", last_modified_col="last_modified_at",
            deleted_col="is_deleted", unified_col="_supaglue_unified_data",
            record_cols=("_supaglue_unified_data", *(f.name for f in fields), "raw_data"),
        )
    object_name = dest.object_name if dest.kind == "custom" else None
    columns = (*_OBJECT, Column(OBJECT_NAME, "TEXT", True)) if object_name else _OBJECT
    return TableSpec(
        table=dest.table, columns=columns, id_col="_supaglue_id",
        last_modified_col="_supaglue_last_modified_at", deleted_col="_supaglue_is_deleted",
        record_cols=("_supaglue_id", "_supaglue_last_modified_at", "_supaglue_is_deleted",
                     "_supaglue_raw_data", "_supaglue_mapped_data"),
        object_name=object_name, full_name=dest.full_table,
    )


def _ident(schema: str, name: str) -> sql.Composed:
    return sql.SQL("{}.{}").format(sql.Identifier(schema), sql.Identifier(name))


def _lock(cur, key: str) -> None:
    cur.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", (key,))


def _ensure_schema(cur, schema: str) -> None:
    cur.execute("SELECT 1 FROM pg_namespace WHERE nspname = %s", (schema,))
    if cur.fetchone() is None:  # lock only while the schema is missing: it is created once
        _lock(cur, f"tenantsync:{schema}")
        cur.execute(sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(sql.Identifier(schema)))


def ensure_seen_ids(cur) -> None:
    """The seen-ids log (see merge_sql), created when missing: in a schema of its own, so the
    destination schema holds only Supaglue's tables."""
    table = _ident(*SEEN_IDS)
    cur.execute("SELECT to_regclass(%s)", (table.as_string(cur),))
    if cur.fetchone()[0] is not None:
        return
    _ensure_schema(cur, SEEN_IDS[0])
    _lock(cur, "tenantsync:{}.{}".format(*SEEN_IDS))
    cur.execute(sql.SQL(
        "CREATE TABLE IF NOT EXISTS {} (schema_name TEXT NOT NULL, table_name TEXT NOT NULL, "
        "application_id TEXT NOT NULL, provider_name TEXT NOT NULL, customer_id TEXT NOT NULL, "
        "object_name TEXT NOT NULL, seen_at TIMESTAMPTZ NOT NULL DEFAULT now(), "
        "ids TEXT[] NOT NULL)").format(table))
    cur.execute(sql.SQL("CREATE INDEX IF NOT EXISTS seen_ids_tenant_idx ON {} (customer_id, "
                        "table_name, schema_name, application_id, provider_name, object_name)"
                        ).format(table))
    cur.execute(sql.SQL("COMMENT ON TABLE {} IS {}").format(table, sql.Literal(
        "tenantsync target-postgres: ids of records a sync saw unchanged (their rows were not "
        "rewritten), read and cleared by the full-sync delete sweep")))


def ensure_table(cur, schema: str, spec: TableSpec) -> None:
    """Create schema, table, indexes and view when missing; add missing columns. Never drops.

    Concurrent targets (many tenants at once) would race on CREATE ... IF NOT EXISTS, which
    is not atomic in PostgreSQL (the loser fails on a unique violation in the catalog): the
    schema is created under a lock of its own, the table's DDL under one per table, each a
    transaction-level advisory lock (held until the caller commits; taken in that order).
    """
    _ensure_schema(cur, schema)
    _lock(cur, f"tenantsync:{schema}.{spec.table}")
    table = _ident(schema, spec.table)
    cols = sql.SQL(", ").join(
        sql.SQL("{} {}{}").format(sql.Identifier(c.name), sql.SQL(c.type),
                                  sql.SQL(" NOT NULL" if c.not_null else ""))
        for c in spec.columns
    )
    key = sql.SQL(", ").join(map(sql.Identifier, spec.key))
    cur.execute(sql.SQL("CREATE TABLE IF NOT EXISTS {} ({}, PRIMARY KEY ({}))").format(
        table, cols, key))
    cur.execute(
        "SELECT column_name FROM information_schema.columns "
        "WHERE table_schema = %s AND table_name = %s", (schema, spec.table))
    existing = {r[0] for r in cur.fetchall()}
    for c in spec.columns:
        if c.name not in existing:  # older Supaglue tables: add, nullable, never rewrite
            cur.execute(sql.SQL("ALTER TABLE {} ADD COLUMN {} {}").format(
                table, sql.Identifier(c.name), sql.SQL(c.type)))
    indexes, last_modified = {}, [spec.last_modified_col]
    if spec.object_name:
        indexes[identifier(f"{spec.table}_object_name_idx")] = [OBJECT_NAME]
        last_modified = [OBJECT_NAME, *last_modified]
    indexes[identifier(f"{spec.table}_last_modified_idx")] = last_modified
    # Only the missing ones: CREATE INDEX IF NOT EXISTS locks the table (SHARE) before it
    # looks, so it would wait for every other tenant's write in flight, and queue new ones.
    cur.execute("SELECT indexname FROM pg_indexes WHERE schemaname = %s AND tablename = %s",
                (schema, spec.table))
    present = {r[0] for r in cur.fetchall()}
    for name, cols in indexes.items():
        if name not in present:
            cur.execute(sql.SQL("CREATE INDEX IF NOT EXISTS {} ON {} ({})").format(
                sql.Identifier(name), table, sql.SQL(", ").join(map(sql.Identifier, cols))))
    if spec.full_name:
        _record_full_name(cur, "TABLE", table, spec.full_name)
    if spec.object_name:
        ensure_view(cur, schema, spec.object_name)


def _record_full_name(cur, kind: str, relation: sql.Composable, full_name: str) -> None:
    """A shortened name's comment says what it stands for (obj_description shows it; the
    README's query lists them all)."""
    cur.execute(sql.SQL("COMMENT ON {} {} IS {}").format(
        sql.SQL(kind), relation, sql.Literal(f"{SHORTENED_COMMENT}{full_name}")))


def ensure_view(cur, schema: str, object_name: str) -> None:
    """The per-custom-object view over `custom_objects`, created when missing."""
    view = identifier(object_name)
    cur.execute("SELECT c.relkind FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
                "WHERE n.nspname = %s AND c.relname = %s", (schema, view))
    row = cur.fetchone()
    if row is None:
        cur.execute(sql.SQL("CREATE VIEW {} AS SELECT * FROM {} WHERE {} = {}").format(
            _ident(schema, view), _ident(schema, "custom_objects"),
            sql.Identifier(OBJECT_NAME), sql.Literal(object_name)))
        if view != object_name:
            _record_full_name(cur, "VIEW", _ident(schema, view), object_name)
    elif row[0] != "v":
        raise ValueError(
            f'cannot create view "{schema}"."{view}" for custom object: a relation of '
            f"that name exists and is not a view")


def temp_table_name(spec: TableSpec) -> str:
    return identifier(f"tmp_{spec.table}")


def _temp_type(column: Column) -> str:
    # A timestamp arrives as microseconds in UTC (rows.timestamp_field): TIMESTAMPTZ, at full
    # precision until the merge's cast to the column's.
    return "TIMESTAMPTZ" if column.type == TIMESTAMP else column.type


def create_temp_table(cur, spec: TableSpec) -> None:
    cols = sql.SQL(", ").join(
        sql.SQL("{} {}").format(sql.Identifier(n), sql.SQL(_temp_type(spec.column(n))))
        for n in spec.record_cols)
    cur.execute(sql.SQL(
        "CREATE TEMP TABLE IF NOT EXISTS {} (_seq BIGINT, {}) ON COMMIT DELETE ROWS"
    ).format(sql.Identifier(temp_table_name(spec)), cols))


def copy_sql(spec: TableSpec) -> str:
    """COPY of a batch (binary rows, see rows.py) into the temp table, each row led by its
    sequence."""
    return "COPY {} (_seq, {}) FROM STDIN (FORMAT binary)".format(
        sql.Identifier(temp_table_name(spec)).string,
        ", ".join(sql.Identifier(n).string for n in spec.record_cols))


def load_sql(schema: str, spec: TableSpec) -> str:
    """COPY straight into the Supaglue table (no merge): the tenant stamp, emitted-at and, for
    custom objects, the object name lead each row, then the record columns (binary rows)."""
    cols = [*TENANT_COLUMNS, EMITTED_AT, *((OBJECT_NAME,) if spec.object_name else ()),
            *spec.record_cols]
    return "COPY {}.{} ({}) FROM STDIN (FORMAT binary)".format(
        sql.Identifier(schema).string, sql.Identifier(spec.table).string,
        ", ".join(sql.Identifier(n).string for n in cols))


def _tenant_filter(spec: TableSpec) -> list[sql.Composable]:
    """`column = %(param)s` for the tenant stamp (and the object name of a custom object)."""
    where = [sql.SQL("{} = {}").format(sql.Identifier(c), sql.Placeholder(p))
             for c, p in zip(TENANT_COLUMNS, ("app", "provider", "customer"), strict=True)]
    if spec.object_name:
        where.append(sql.SQL("{} = %(object_name)s").format(sql.Identifier(OBJECT_NAME)))
    return where


def has_rows_sql(schema: str, spec: TableSpec) -> sql.Composed:
    """Whether the table holds any row of this tenant and object."""
    return sql.SQL("SELECT EXISTS (SELECT 1 FROM {} WHERE {})").format(
        _ident(schema, spec.table), sql.SQL(" AND ").join(_tenant_filter(spec)))


def _values(spec: TableSpec) -> dict[str, sql.Composable]:
    """Each column written by the merge: its value, from the temp table's row `t`."""
    values = {c: sql.Placeholder(p) for c, p in zip(TENANT_COLUMNS, ("app", "provider",
                                                                    "customer"), strict=True)}
    values[EMITTED_AT] = sql.SQL("now()")
    for name in spec.record_cols:
        col = spec.column(name)
        expr = sql.SQL("t.{}").format(sql.Identifier(name))
        if name == spec.last_modified_col:
            expr = sql.SQL("COALESCE({}, now())").format(expr)
        elif name == spec.deleted_col:
            expr = sql.SQL("COALESCE({}, false)").format(expr)
        elif col.type == JSONB and col.not_null:
            expr = sql.SQL("COALESCE({}, '[]'::jsonb)").format(expr)
        if col.type == TIMESTAMP:  # the stored precision, so that equal compares equal
            expr = sql.SQL("CAST({} AS {})").format(expr, sql.SQL(TIMESTAMP))
        values[name] = expr
    if spec.object_name:
        values[OBJECT_NAME] = sql.Placeholder("object_name")
    return values


def unchanged_sql(schema: str, spec: TableSpec) -> sql.Composed:
    """Take out of the temp table every record whose stored row is newer, or the same (same
    last-modified time, same content), and log their ids in the seen-ids log, which the
    full-sync delete sweep reads: such rows are not rewritten. Run before merge_sql.

    Parameters: %(app)s, %(provider)s, %(customer)s, and %(object_name)s for custom objects.
    """
    values = _values(spec)
    lm = spec.last_modified_col
    # Same content and, when the record has one, the same last-modified time (a stream without
    # one gets the write time, which must not make every row look changed).
    same = [sql.SQL("(t.{lm} IS NULL OR m.{lm} = {v})").format(lm=sql.Identifier(lm),
                                                               v=values[lm])]
    same += [sql.SQL("m.{} IS NOT DISTINCT FROM {}").format(sql.Identifier(name), values[name])
             for name in spec.record_cols if name not in (spec.id_col, lm)]
    return sql.SQL(
        # a scalar subquery per record: an index probe each, never a join over the tenant's rows
        "WITH unchanged AS (DELETE FROM {tmp} t WHERE COALESCE((SELECT m.{lm} > {lm_value} "
        "OR ({same}) FROM {main} m WHERE {join}), false) RETURNING t.{id}) "
        "INSERT INTO {seen} (schema_name, table_name, application_id, provider_name, "
        "customer_id, object_name, ids) SELECT {schema}, {table}, %(app)s, %(provider)s, "
        "%(customer)s, {object_name}, array_agg({id}) FROM unchanged HAVING count(*) > 0"
    ).format(
        tmp=sql.Identifier(temp_table_name(spec)), main=_ident(schema, spec.table),
        join=sql.SQL(" AND ").join(sql.SQL("m.{} = {}").format(sql.Identifier(c), values[c])
                                   for c in spec.key),
        lm=sql.Identifier(lm), lm_value=values[lm], same=sql.SQL(" AND ").join(same),
        id=sql.Identifier(spec.id_col), seen=_ident(*SEEN_IDS), schema=sql.Literal(schema),
        table=sql.Literal(spec.table), object_name=sql.Literal(spec.object_name or ""),
    )


def merge_sql(schema: str, spec: TableSpec, *, dedupe: bool = True) -> sql.Composed:
    """One set-based upsert from the temp table (after unchanged_sql): newest last-modified
    wins, ties go to the later arrival. A batch known to hold each id once skips the sort that
    picks one version per id (`dedupe=False`).

    Parameters: %(app)s, %(provider)s, %(customer)s, and %(object_name)s for custom objects.
    """
    values = _values(spec)
    lm = sql.Identifier(spec.last_modified_col)
    pick = ("SELECT DISTINCT ON (t.{id}) {select} FROM {tmp} t "
            "ORDER BY t.{id}, t.{lm} DESC NULLS LAST, t._seq DESC " if dedupe
            else "SELECT {select} FROM {tmp} t ")
    return sql.SQL(
        "INSERT INTO {main} AS m ({cols}) " + pick + "ON CONFLICT ({key}) DO UPDATE SET "
        "{updates} WHERE m.{lm} <= EXCLUDED.{lm}"
    ).format(
        main=_ident(schema, spec.table), cols=sql.SQL(", ").join(map(sql.Identifier, values)),
        id=sql.Identifier(spec.id_col), select=sql.SQL(", ").join(values.values()),
        tmp=sql.Identifier(temp_table_name(spec)), lm=lm,
        key=sql.SQL(", ").join(map(sql.Identifier, spec.key)),
        updates=sql.SQL(", ").join(sql.SQL("{c} = EXCLUDED.{c}").format(c=sql.Identifier(c))
                                   for c in values if c not in spec.key),
    )


def upsert_sql(schema: str, spec: TableSpec, *, dedupe: bool = True) -> sql.Composed:
    """unchanged_sql and merge_sql in one statement, for a batch whose every record has its
    last-modified time: the upsert rewrites a row only when the record is newer, or as new with
    other content, and the ids it did not write (stored newer, or the same) go to the seen-ids
    log. One index probe and one JSON parse per record instead of two (the conflict check
    compares with EXCLUDED).

    Parameters: %(app)s, %(provider)s, %(customer)s, and %(object_name)s for custom objects.
    """
    values = _values(spec)
    lm = sql.Identifier(spec.last_modified_col)
    same = sql.SQL(" AND ").join(
        sql.SQL("m.{c} IS NOT DISTINCT FROM EXCLUDED.{c}").format(c=sql.Identifier(name))
        for name in spec.record_cols if name not in (spec.id_col, spec.last_modified_col))
    pick = ("SELECT DISTINCT ON (t.{id}) {select} FROM {tmp} t "
            "ORDER BY t.{id}, t.{lm} DESC NULLS LAST, t._seq DESC " if dedupe
            else "SELECT {select} FROM {tmp} t ")
    return sql.SQL(
        "WITH written AS (INSERT INTO {main} AS m ({cols}) " + pick + "ON CONFLICT ({key}) "
        "DO UPDATE SET {updates} WHERE m.{lm} < EXCLUDED.{lm} OR (m.{lm} = EXCLUDED.{lm} AND "
        "NOT ({same})) RETURNING m.{id}) "
        "INSERT INTO {seen} (schema_name, table_name, application_id, provider_name, "
        "customer_id, object_name, ids) SELECT {schema}, {table}, %(app)s, %(provider)s, "
        "%(customer)s, {object_name}, array_agg(DISTINCT t.{id}) FROM {tmp} t "
        "WHERE NOT EXISTS (SELECT FROM written w WHERE w.{id} = t.{id}) HAVING count(*) > 0"
    ).format(
        main=_ident(schema, spec.table), cols=sql.SQL(", ").join(map(sql.Identifier, values)),
        id=sql.Identifier(spec.id_col), select=sql.SQL(", ").join(values.values()),
        tmp=sql.Identifier(temp_table_name(spec)), lm=lm, same=same,
        key=sql.SQL(", ").join(map(sql.Identifier, spec.key)),
        updates=sql.SQL(", ").join(sql.SQL("{c} = EXCLUDED.{c}").format(c=sql.Identifier(c))
                                   for c in values if c not in spec.key),
        seen=_ident(*SEEN_IDS), schema=sql.Literal(schema), table=sql.Literal(spec.table),
        object_name=sql.Literal(spec.object_name or ""),
    )


def _seen_ids_of(schema: str, spec: TableSpec) -> sql.Composed:
    """The seen-ids log's rows of one tenant and object."""
    return sql.SQL(
        "FROM {} WHERE customer_id = %(customer)s AND table_name = {} AND schema_name = {} "
        "AND application_id = %(app)s AND provider_name = %(provider)s AND object_name = {}"
    ).format(_ident(*SEEN_IDS), sql.Literal(spec.table), sql.Literal(schema),
             sql.Literal(spec.object_name or ""))


SEEN_TEMP = "tenantsync_seen_since"


def sweep_sql(schema: str, spec: TableSpec) -> tuple[sql.Composed, sql.Composed, sql.Composed]:
    """The full-sync delete sweep, three statements for one transaction: gather the ids seen
    unchanged since the full sync began (a temp table, dropped at commit); mark deleted every
    row of one tenant and object neither written nor seen since then; forget the seen ids.

    Parameters: %(app)s, %(provider)s, %(customer)s, %(since)s, and %(object_name)s for custom.
    """
    gather = sql.SQL(
        "CREATE TEMP TABLE {} ON COMMIT DROP AS SELECT DISTINCT unnest(ids) AS id {} "
        "AND seen_at >= %(since)s; ANALYZE {}"
    ).format(sql.Identifier(SEEN_TEMP), _seen_ids_of(schema, spec), sql.Identifier(SEEN_TEMP))
    deleted = sql.Identifier(spec.deleted_col)
    sets = [sql.SQL("{} = true").format(deleted)]
    if spec.unified_col:  # keep the unified JSON consistent with the column
        sets.append(sql.SQL("{u} = jsonb_set(COALESCE({u}, '{{}}'::jsonb), '{{is_deleted}}', "
                            "'true'::jsonb)").format(u=sql.Identifier(spec.unified_col)))
    where = [*_tenant_filter(spec), sql.SQL("NOT {}").format(deleted),
             sql.SQL("{} < %(since)s").format(sql.Identifier(EMITTED_AT)),
             sql.SQL("NOT EXISTS (SELECT FROM {} s WHERE s.id = m.{})").format(
                 sql.Identifier(SEEN_TEMP), sql.Identifier(spec.id_col))]
    mark = sql.SQL("UPDATE {} AS m SET {} WHERE {}").format(
        _ident(schema, spec.table), sql.SQL(", ").join(sets), sql.SQL(" AND ").join(where))
    forget = sql.SQL("DELETE {}").format(_seen_ids_of(schema, spec))
    return gather, mark, forget
