"""The record store of a sandbox: SQLite in a temp file, so a twin can hold millions of records.

Each object is one table: `rid` (rowid), `id` (the provider's record id, unique), `deleted`
(0/1), the twin's promoted columns (the fields it filters and orders on, e.g. a modified
timestamp; indexed), and `doc`: the record pre-serialized exactly as the provider sends it, so
pages are spliced from stored text instead of being rebuilt per request.

Queries snapshot the matching rowids (SQLite does the filtering and ordering on the indexes);
pages then fetch docs by rowid. `Cursors` keeps those snapshots for paging tokens.
"""

from __future__ import annotations

import os
import re
import shutil
import sqlite3
import tempfile
import threading
import weakref
from array import array
from collections import OrderedDict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_TYPES = {"TEXT", "INTEGER", "REAL", "NUMERIC"}


def _ident(name: str) -> str:
    if not _NAME.match(name):
        raise ValueError(f"not a valid table or column name: {name!r}")
    return f'"{name}"'


@dataclass(frozen=True)
class StoredRecord:
    rid: int
    id: str
    deleted: bool
    doc: str
    columns: dict[str, Any]


class Store:
    def __init__(self, path: str | os.PathLike | None = None):
        self._tmpdir = None
        if path is None:
            self._tmpdir = tempfile.mkdtemp(prefix="tenantsync-sandbox-")
            path = os.path.join(self._tmpdir, "records.sqlite3")
            # a sandbox that is never stopped still leaves no temp files behind
            weakref.finalize(self, shutil.rmtree, self._tmpdir, True)
        self.path = str(path)
        self._local = threading.local()
        self._all: list[sqlite3.Connection] = []
        self._conn_lock = threading.Lock()
        self.write_lock = threading.RLock()
        self._columns: dict[str, list[str]] = {}
        self._closed = False

    # -- connections ---------------------------------------------------------------------------

    def conn(self) -> sqlite3.Connection:
        """This thread's connection (SQLite connections must not be shared across threads)."""
        conn = getattr(self._local, "conn", None)
        if conn is None:
            if self._closed:
                raise RuntimeError("the sandbox store is closed")
            conn = sqlite3.connect(self.path, timeout=30, isolation_level=None,
                                   check_same_thread=False)
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=OFF")
            conn.execute("PRAGMA cache_size=-65536")
            conn.execute("PRAGMA temp_store=MEMORY")
            self._local.conn = conn
            with self._conn_lock:
                self._all.append(conn)
        return conn

    def close(self) -> None:
        self._closed = True
        with self._conn_lock:
            for conn in self._all:
                conn.close()
            self._all.clear()
        if self._tmpdir:
            shutil.rmtree(self._tmpdir, ignore_errors=True)

    # -- schema --------------------------------------------------------------------------------

    def create_table(self, table: str, columns: dict[str, str] | None = None) -> None:
        """A table with the fixed columns plus `columns` (name -> SQL type), each indexed. Each
        index also holds `deleted` and the other promoted columns, so a query filtering on
        them and ordering by one is answered from its index alone: snapshotting a large
        object reads no row (the rows hold the documents), as a provider's own index on its
        modified timestamp would serve it."""
        columns = columns or {}
        for name, sqltype in columns.items():
            if sqltype.upper() not in _TYPES:
                raise ValueError(f"column {name!r}: SQL type must be one of {sorted(_TYPES)}")
        extra = "".join(f", {_ident(c)} {t}" for c, t in columns.items())
        t = _ident(table)
        with self.write_lock:
            conn = self.conn()
            conn.execute(f"CREATE TABLE IF NOT EXISTS {t} (rid INTEGER PRIMARY KEY, "
                         f"id TEXT NOT NULL UNIQUE, deleted INTEGER NOT NULL DEFAULT 0"
                         f"{extra}, doc TEXT NOT NULL)")
            for column in columns:
                covered = ", ".join(_ident(c) for c in ("deleted", *columns) if c != column)
                conn.execute(f"CREATE INDEX IF NOT EXISTS {_ident(f'{table}__{column}')} "
                             f"ON {t} ({_ident(column)}, rid, {covered})")
        self._columns[table] = list(columns)

    def tables(self) -> list[str]:
        return list(self._columns)

    def columns(self, table: str) -> list[str]:
        try:
            return self._columns[table]
        except KeyError:
            raise KeyError(f"no such sandbox table: {table!r}") from None

    # -- writes --------------------------------------------------------------------------------

    def insert_many(self, table: str, rows: Iterable[Sequence]) -> int:
        """Bulk-insert rows of (id, deleted, *promoted columns in order, doc); one transaction."""
        cols = ["id", "deleted", *self.columns(table), "doc"]
        sql = (f"INSERT INTO {_ident(table)} ({', '.join(map(_ident, cols))}) "
               f"VALUES ({', '.join('?' * len(cols))})")
        with self.write_lock:
            conn = self.conn()
            conn.execute("BEGIN")
            try:
                cur = conn.executemany(sql, rows)
                conn.execute("COMMIT")
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            return cur.rowcount

    def put(self, table: str, record_id: str, doc: str, *, deleted: bool = False,
            **columns: Any) -> None:
        """Insert or replace one record (a mutation); keeps its rowid when it exists."""
        names = self.columns(table)
        unknown = set(columns) - set(names)
        if unknown:
            raise ValueError(f"table {table!r} has no column(s) {sorted(unknown)}")
        values = [columns.get(c) for c in names]
        cols = ["id", "deleted", *names, "doc"]
        updates = ", ".join(f"{_ident(c)} = excluded.{_ident(c)}" for c in cols[1:])
        with self.write_lock:
            self.conn().execute(
                f"INSERT INTO {_ident(table)} ({', '.join(map(_ident, cols))}) "
                f"VALUES ({', '.join('?' * len(cols))}) "
                f"ON CONFLICT(id) DO UPDATE SET {updates}",
                [record_id, int(deleted), *values, doc])

    def remove(self, table: str, record_id: str) -> bool:
        """Hard delete (gone for good, e.g. emptied from a recycle bin)."""
        with self.write_lock:
            cur = self.conn().execute(f"DELETE FROM {_ident(table)} WHERE id = ?", [record_id])
            return cur.rowcount > 0

    # -- reads ---------------------------------------------------------------------------------

    def get(self, table: str, record_id: str) -> StoredRecord | None:
        names = self.columns(table)
        select = ", ".join(["rid", "id", "deleted", *map(_ident, names), "doc"])
        row = self.conn().execute(f"SELECT {select} FROM {_ident(table)} WHERE id = ?",
                                  [record_id]).fetchone()
        if row is None:
            return None
        return StoredRecord(row[0], row[1], bool(row[2]), row[-1],
                            dict(zip(names, row[3:-1], strict=True)))

    def count(self, table: str, where: str = "1", params: Sequence = ()) -> int:
        return self.conn().execute(f"SELECT count(*) FROM {_ident(table)} WHERE {where}",
                                   params).fetchone()[0]

    def select_rowids(self, table: str, where: str = "1", params: Sequence = (),
                      order_by: str = "rid", limit: int | None = None,
                      offset: int = 0) -> array:
        """Snapshot the rowids matching `where`, in `order_by` order (rid breaks ties)."""
        sql = (f"SELECT rid FROM {_ident(table)} WHERE {where} ORDER BY {order_by}"
               + ("" if order_by.strip() == "rid" else ", rid"))
        if limit is not None or offset:
            sql += f" LIMIT {int(limit) if limit is not None else -1} OFFSET {int(offset)}"
        out = array("q")
        cur = self.conn().execute(sql, params)
        while True:
            chunk = cur.fetchmany(50_000)
            if not chunk:
                return out
            out.extend(r[0] for r in chunk)

    def fetch_docs(self, table: str, rowids: Sequence[int],
                   extra: Sequence[str] = ()) -> list[tuple]:
        """(doc, *extra columns) for each rowid, in the order given (missing rows skipped)."""
        if not rowids:
            return []
        select = ", ".join(["t.doc", *(f"t.{_ident(c)}" for c in extra)])
        ids = "[" + ",".join(map(str, rowids)) + "]"
        return self.conn().execute(
            f"SELECT {select} FROM json_each(?) AS j JOIN {_ident(table)} AS t "
            f"ON t.rid = j.value ORDER BY j.key", [ids]).fetchall()


class Cursors:
    """Open query snapshots by token, least recently used evicted past `max_open`."""

    def __init__(self, max_open: int = 200):
        self.max_open = max_open
        self._open: OrderedDict[str, Any] = OrderedDict()
        self._lock = threading.Lock()

    def put(self, token: str, value: Any) -> None:
        with self._lock:
            self._open[token] = value
            self._open.move_to_end(token)
            while len(self._open) > self.max_open:
                self._open.popitem(last=False)

    def get(self, token: str) -> Any | None:
        with self._lock:
            value = self._open.get(token)
            if value is not None:
                self._open.move_to_end(token)
            return value

    def drop(self, token: str) -> None:
        with self._lock:
            self._open.pop(token, None)
