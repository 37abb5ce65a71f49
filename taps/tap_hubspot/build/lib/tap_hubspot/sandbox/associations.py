"""Associations between HubSpot records: the type table and their SQLite storage.

HubSpot-defined association type ids (v4 `typeId`) per (from, to) pair, from HubSpot's
association-type table; each pair is stored in both directions, as HubSpot shows them.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from tenantsync.sandbox.store import Store

TABLE = "hs_associations"


@dataclass(frozen=True)
class AssociationType:
    type_id: int
    name: str  # v3 `type`: "contact_to_company"
    category: str = "HUBSPOT_DEFINED"


# (from type, to type): type id, both directions listed explicitly (the ids are not symmetric).
_IDS = {
    ("contacts", "companies"): 279, ("companies", "contacts"): 280,
    ("deals", "contacts"): 3, ("contacts", "deals"): 4,
    ("deals", "companies"): 341, ("companies", "deals"): 342,
    ("contacts", "tickets"): 15, ("tickets", "contacts"): 16,
    ("tickets", "companies"): 339, ("companies", "tickets"): 340,
    ("deals", "tickets"): 27, ("tickets", "deals"): 28,
    ("deals", "line_items"): 19, ("line_items", "deals"): 20,
    ("deals", "quotes"): 63, ("quotes", "deals"): 64,
    ("companies", "calls"): 181, ("calls", "companies"): 182,
    ("companies", "emails"): 185, ("emails", "companies"): 186,
    ("companies", "meetings"): 187, ("meetings", "companies"): 188,
    ("companies", "notes"): 189, ("notes", "companies"): 190,
    ("companies", "tasks"): 191, ("tasks", "companies"): 192,
    ("contacts", "calls"): 193, ("calls", "contacts"): 194,
    ("contacts", "emails"): 197, ("emails", "contacts"): 198,
    ("contacts", "meetings"): 199, ("meetings", "contacts"): 200,
    ("contacts", "notes"): 201, ("notes", "contacts"): 202,
    ("contacts", "tasks"): 203, ("tasks", "contacts"): 204,
    ("deals", "calls"): 205, ("calls", "deals"): 206,
    ("deals", "emails"): 209, ("emails", "deals"): 210,
    ("deals", "meetings"): 211, ("meetings", "deals"): 212,
    ("deals", "notes"): 213, ("notes", "deals"): 214,
    ("deals", "tasks"): 215, ("tasks", "deals"): 216,
}
_CUSTOM_BASE = 1000  # portal-defined association types (custom objects) number from here


class AssociationTypes:
    def __init__(self, singular: dict[str, str]):
        self._singular = singular  # type name -> singular, for v3 type names
        self._types: dict[tuple[str, str], AssociationType] = {
            pair: AssociationType(tid, self._name(*pair)) for pair, tid in _IDS.items()}

    def _name(self, a: str, b: str) -> str:
        return f"{self._singular[a]}_to_{self._singular[b]}"

    def define(self, a: str, b: str) -> None:
        """A portal-defined (custom object) association, both directions."""
        for pair in ((a, b), (b, a)):
            if pair not in self._types:
                tid = _CUSTOM_BASE + len(self._types)
                self._types[pair] = AssociationType(tid, self._name(*pair), "USER_DEFINED")

    def get(self, a: str, b: str) -> AssociationType | None:
        return self._types.get((a, b))

    def pairs(self) -> list[tuple[str, str, AssociationType]]:
        return [(a, b, t) for (a, b), t in self._types.items()]


class AssociationStore:
    """Edges in one SQLite table of the sandbox store, kept in both directions."""

    def __init__(self, store: Store, types: AssociationTypes):
        self.store, self.types = store, types
        with store.write_lock:
            store.conn().execute(
                f"CREATE TABLE IF NOT EXISTS {TABLE} (from_type TEXT NOT NULL, "
                "from_id INTEGER NOT NULL, to_type TEXT NOT NULL, to_id INTEGER NOT NULL, "
                "PRIMARY KEY (from_type, to_type, from_id, to_id)) WITHOUT ROWID")

    def add_many(self, edges: Iterable[tuple[str, int, str, int]]) -> None:
        rows = []
        for a, a_id, b, b_id in edges:
            if self.types.get(a, b) is None:
                raise ValueError(f"{a} cannot be associated with {b}")
            rows += [(a, a_id, b, b_id), (b, b_id, a, a_id)]
        with self.store.write_lock:
            conn = self.store.conn()
            conn.execute("BEGIN")
            conn.executemany(f"INSERT OR IGNORE INTO {TABLE} VALUES (?, ?, ?, ?)", rows)
            conn.execute("COMMIT")

    def targets(self, a: str, ids: Sequence[int], b: str, *, after: int = 0,
                limit: int | None = None) -> dict[int, list[int]]:
        """For each of `ids`, the ids of `b` records it is associated with (ascending)."""
        if not ids:
            return {}
        sql = (f"SELECT from_id, to_id FROM {TABLE} WHERE from_type = ? AND to_type = ? "
               f"AND from_id IN ({','.join('?' * len(ids))}) AND to_id > ? "
               "ORDER BY from_id, to_id")
        params: list = [a, b, *ids, after]
        if limit is not None:
            sql += " LIMIT ?"
            params.append(limit)
        out: dict[int, list[int]] = {}
        for from_id, to_id in self.store.conn().execute(sql, params):
            out.setdefault(from_id, []).append(to_id)
        return out
