"""A HubSpot portal's data: object types, records, the lagging search index, associations and
owners, with the mutations tests use. The HTTP layer (`crm_api`) only reads through it.

Storage (tenantsync.sandbox.store): per object type a table `{type}` of wire records (doc: the
record with every property that has a value; `deleted` = archived) and a table
`{type}__search`, the search index: doc `{"t": typed values, "r": wire record}` plus indexed
columns `num` (record id), `created` and `modified` (epoch ms). Writes reach the index
`search_lag` seconds of sandbox time later, as HubSpot's search lags its writes; until then a
search sees the record as it was (or not at all).
"""

from __future__ import annotations

import heapq
import itertools
import re
import threading
from datetime import datetime, timedelta
from typing import Any

import msgspec

from tap_hubspot.sandbox import search
from tap_hubspot.sandbox.associations import AssociationStore, AssociationTypes
from tap_hubspot.sandbox.objects import PETS, ObjectType, TypeRegistry
from tap_hubspot.sandbox.properties import FIELD_TYPES, READ_ONLY_NAMES, Prop
from tap_hubspot.sandbox.records import record_doc, wire_value
from tap_hubspot.sandbox.world import HubSpotWorld, Seed, hs_datetime
from tenantsync.sandbox.clock import Clock
from tenantsync.sandbox.datagen import World
from tenantsync.sandbox.store import Cursors, Store

_encode = msgspec.json.Encoder().encode
decode = msgspec.json.Decoder().decode
_BATCH = 2000
_PROPERTY_NAME = re.compile(r"^[a-z][a-z0-9_]{0,99}$")
SEARCH_COLUMNS = {"num": "INTEGER", "created": "INTEGER", "modified": "INTEGER"}


def _text(doc: dict) -> str:
    return _encode(doc).decode()


def _ms(iso: str) -> int:
    return search.typed("datetime", iso)  # type: ignore[return-value]


class Portal:
    def __init__(self, store: Store, clock: Clock, *, portal_id: int, created_at: datetime,
                 search_lag: float = 0.0):
        self.store, self.clock, self.portal_id = store, clock, portal_id
        self.search_lag = search_lag
        self.types = TypeRegistry(portal_id, hs_datetime(created_at))
        self.types.add_custom(PETS)
        self.assoc_types = AssociationTypes(
            {name: t.singular for name, t in self.types.types.items()})
        self.assoc_types.define("pets", "contacts")
        self.assocs = AssociationStore(store, self.assoc_types)
        self.owners: list[dict] = []
        self._lock = threading.RLock()
        self._next_id: dict[str, int] = {}
        self._pending: list[tuple[datetime, int, str, str]] = []  # (due, seq, type, id)
        self._seq = itertools.count()
        self._generation: dict[str, int] = {}
        self._snapshots = Cursors(max_open=64)
        self._local = threading.local()  # which connection of this thread has our functions
        for name in self.types.types:
            self._create_tables(name)

    def _create_tables(self, name: str) -> None:
        self.store.create_table(name)
        self.store.create_table(f"{name}__search", SEARCH_COLUMNS)
        self._next_id.setdefault(name, self.types.types[name].id_base)
        self._generation[name] = 0

    def conn(self):
        """This thread's store connection, with the search SQL functions registered."""
        conn = self.store.conn()
        if getattr(self._local, "conn", None) is not conn:
            for name, (nargs, fn) in search.SQL_FUNCTIONS.items():
                conn.create_function(name, nargs, fn, deterministic=True)
            self._local.conn = conn
        return conn

    # -- types ---------------------------------------------------------------------------------

    def resolve(self, spelling: str) -> ObjectType:
        t = self.types.resolve(spelling)
        if t is None:
            raise KeyError(f"unknown HubSpot object type {spelling!r}")
        return t

    # -- loading the world ---------------------------------------------------------------------

    def load(self, world: World, seed: int) -> None:
        hw = HubSpotWorld(world, {n: t.id_base for n, t in self.types.types.items()}, seed)
        mappers = {**hw.mappers(), "pets": lambda: hw.pets("pets")}
        for name, mapper in mappers.items():
            self._load_type(self.types.types[name], mapper())
        self.assocs.add_many(hw.contact_roles())
        self.owners = list(hw.owners())

    def _load_type(self, t: ObjectType, seeds) -> None:
        table = self.types.properties[t.name]
        prop_types = table.types()
        main, index, edges = [], [], []
        last = t.id_base - 1

        def flush():
            self.store.insert_many(t.name, main)
            self.store.insert_many(f"{t.name}__search", index)
            self.assocs.add_many(edges)
            main.clear(), index.clear(), edges.clear()

        for s in seeds:
            doc = self._seed_doc(t, s)
            text = _text(doc)
            main.append((doc["id"], 0, text))
            typed = search.index_value(prop_types, doc["properties"])
            index.append((doc["id"], 0, s.id, _ms(doc["createdAt"]), _ms(doc["updatedAt"]),
                          _text({"t": typed, "r": doc})))
            edges.extend((t.name, s.id, to, to_id) for to, to_id in s.links)
            last = s.id
            if len(main) >= _BATCH:
                flush()
        flush()
        self._next_id[t.name] = last + 1

    def _seed_doc(self, t: ObjectType, s: Seed) -> dict:
        table = self.types.properties[t.name]
        props = {}
        for name, value in s.props.items():
            text = wire_value(table.props[name], value)
            if text is not None:
                props[name] = text
        created, modified = hs_datetime(s.created), hs_datetime(s.modified)
        props |= {"hs_object_id": str(s.id), t.created_prop: created, t.modified_prop: modified}
        return record_doc(s.id, props, created, modified)

    # -- the search index ----------------------------------------------------------------------

    def _write(self, t: ObjectType, doc: dict) -> None:
        """Store a record and schedule its search-index update."""
        self.store.put(t.name, doc["id"], _text(doc), deleted=doc["archived"])
        due = self.clock.now() + timedelta(seconds=max(self.search_lag, 0))
        heapq.heappush(self._pending, (due, next(self._seq), t.name, doc["id"]))
        if self.search_lag <= 0:
            self.catch_up()

    def catch_up(self) -> None:
        """Apply every index update that is due by now (sandbox time)."""
        with self._lock:
            now = self.clock.now()
            while self._pending and self._pending[0][0] <= now:
                _, _, name, record_id = heapq.heappop(self._pending)
                self._index(self.types.types[name], record_id)

    def _index(self, t: ObjectType, record_id: str) -> None:
        stored = self.store.get(t.name, record_id)
        doc = decode(stored.doc)
        typed = search.index_value(self.types.properties[t.name].types(), doc["properties"])
        self.store.put(f"{t.name}__search", record_id, _text({"t": typed, "r": doc}),
                       deleted=stored.deleted, num=int(record_id),
                       created=_ms(doc["createdAt"]), modified=_ms(doc["updatedAt"]))
        self._generation[t.name] += 1

    def search(self, t: ObjectType, plan: search.SearchPlan) -> tuple[int, list[str]]:
        """(total matches, the page's index docs: `{"t": typed values, "r": record}`)."""
        self.catch_up()
        table = f"{t.name}__search"
        key = repr((t.name, self._generation[t.name], plan.where, plan.params, plan.order_by))
        rowids = self._snapshots.get(key)
        if rowids is None:
            self.conn()
            rowids = self.store.select_rowids(table, f"deleted = 0 AND ({plan.where})",
                                              plan.params, plan.order_by)
            self._snapshots.put(key, rowids)
        end = min(plan.offset + plan.limit, search.RESULT_WINDOW)
        return len(rowids), self._docs(table, rowids[plan.offset:end])

    def _docs(self, table: str, rowids) -> list[str]:
        return [r[0] for r in self.store.fetch_docs(table, rowids)]

    # -- reads ---------------------------------------------------------------------------------

    def page(self, t: ObjectType, after_rid: int, limit: int, archived: bool
             ) -> tuple[list[str], int | None]:
        """A list page (stored docs) in id order after rowid `after_rid`; and the rowid to
        continue after, when there is more."""
        rowids = self.store.select_rowids(t.name, "deleted = ? AND rid > ?",
                                          (int(archived), after_rid), "rid", limit=limit + 1)
        more = len(rowids) > limit
        page = rowids[:limit]
        return self._docs(t.name, page), (page[-1] if more else None)

    def rowid_before(self, t: ObjectType, record_id: int) -> int:
        """The rowid after which the records with ids >= `record_id` start (ids grow with
        rowids: records are stored in creation order)."""
        row = self.conn().execute(f'SELECT min(rid) FROM "{t.name}" WHERE CAST(id AS INTEGER)'
                                  " >= ?", [record_id]).fetchone()
        if row[0] is not None:
            return row[0] - 1
        row = self.conn().execute(f'SELECT max(rid) FROM "{t.name}"').fetchone()
        return row[0] or 0

    def get(self, t: ObjectType, record_id: str) -> dict | None:
        stored = self.store.get(t.name, record_id)
        return decode(stored.doc) if stored is not None else None

    def get_many(self, t: ObjectType, ids: list[str]) -> dict[str, str]:
        """The stored docs of those of `ids` that exist."""
        if not ids:
            return {}
        rows = self.conn().execute(
            f'SELECT id, doc FROM "{t.name}" WHERE id IN ({",".join("?" * len(ids))})', ids)
        return dict(rows.fetchall())

    def count(self, t: ObjectType, archived: bool = False) -> int:
        return self.store.count(t.name, "deleted = ?", (int(archived),))

    def associated(self, t: ObjectType, ids: list[int], to: ObjectType, *, after: int = 0,
                   limit: int | None = None) -> dict[int, list[int]]:
        return self.assocs.targets(t.name, ids, to.name, after=after, limit=limit)

    # -- mutations (the framework's Python and control API) ------------------------------------

    def _values(self, t: ObjectType, fields: dict, *, creating: bool) -> dict[str, str | None]:
        if not isinstance(fields, dict):
            raise ValueError("fields must be an object of property values")
        table = self.types.properties[t.name]
        out = {}
        for name, value in fields.items():
            prop = table.get(name)
            if prop is None:
                raise ValueError(f"{t.name} has no property {name!r}")
            writable_now = creating and name == t.created_prop  # HubSpot lets imports set it
            if (prop.calculated or name in READ_ONLY_NAMES) and not writable_now:
                raise ValueError(f"{t.name} property {name!r} is read-only (set by HubSpot)")
            out[name] = wire_value(prop, value)
        return out

    @staticmethod
    def _derive(t: ObjectType, props: dict[str, str]) -> None:
        """The calculated properties the twin maintains, from the values they depend on."""
        if t.name == "deals" and "dealstage" in props:
            props["hs_is_closed"] = str(props["dealstage"] in ("closedwon", "closedlost")).lower()
            props["hs_is_closed_won"] = str(props["dealstage"] == "closedwon").lower()
        if t.name == "line_items" and "price" in props:
            total = float(props["price"]) * float(props.get("quantity") or 1)
            props["amount"] = wire_value(Prop("amount", "", "number"), total)

    def create(self, obj: str, fields: dict) -> dict:
        t = self.resolve(obj)
        values = self._values(t, fields, creating=True)
        with self._lock:
            record_id = self._next_id[t.name]
            self._next_id[t.name] += 1
            now = hs_datetime(self.clock.stamp())
            created = values.pop(t.created_prop, None) or now
            props = {k: v for k, v in values.items() if v is not None}
            props |= {"hs_object_id": str(record_id), t.created_prop: created,
                      t.modified_prop: now}
            self._derive(t, props)
            doc = record_doc(record_id, props, created, now)
            self._write(t, doc)
            return doc

    def _existing(self, t: ObjectType, record_id: str) -> dict:
        doc = self.get(t, str(record_id))
        if doc is None:
            raise KeyError(f"no {t.name} record with id {record_id!r}")
        return doc

    def _touch(self, t: ObjectType, doc: dict) -> str:
        now = hs_datetime(self.clock.stamp())
        doc["properties"][t.modified_prop] = now
        doc["updatedAt"] = now
        return now

    def update(self, obj: str, record_id: str, fields: dict) -> dict:
        t = self.resolve(obj)
        values = self._values(t, fields, creating=False)
        with self._lock:
            doc = self._existing(t, record_id)
            if doc["archived"]:
                raise KeyError(f"{t.name} record {record_id} is archived; restore it first")
            props = doc["properties"]
            for name, value in values.items():
                if value is None:
                    props.pop(name, None)
                else:
                    props[name] = value
            self._derive(t, props)
            self._touch(t, doc)
            self._write(t, doc)
            return doc

    def archive(self, obj: str, record_id: str) -> dict:
        t = self.resolve(obj)
        with self._lock:
            doc = self._existing(t, record_id)
            if doc["archived"]:
                raise KeyError(f"{t.name} record {record_id} is already archived")
            doc["archived"] = True
            doc["archivedAt"] = self._touch(t, doc)
            self._write(t, doc)
            return doc

    def restore(self, obj: str, record_id: str) -> dict:
        t = self.resolve(obj)
        with self._lock:
            doc = self._existing(t, record_id)
            if not doc["archived"]:
                raise ValueError(f"{t.name} record {record_id} is not archived")
            doc["archived"] = False
            doc.pop("archivedAt", None)
            self._touch(t, doc)
            self._write(t, doc)
            return doc

    def associate(self, obj: str, record_id: str, to_obj: str, to_id: str) -> None:
        t, to = self.resolve(obj), self.resolve(to_obj)
        self._existing(t, record_id), self._existing(to, to_id)
        self.assocs.add_many([(t.name, int(record_id), to.name, int(to_id))])

    def add_property(self, obj: str, name: str, type: str, **options: Any) -> dict:
        """A portal-defined property, e.g. add_property("contacts", "favorite_color",
        "enumeration", options=[{"value": "red", "label": "Red"}], label="Favorite color")."""
        t = self.resolve(obj)
        if not isinstance(name, str) or not _PROPERTY_NAME.match(name):
            raise ValueError(f"property name must be lower-case letters, digits and _ "
                             f"(starting with a letter), got {name!r}")
        known = {"label", "fieldType", "field_type", "groupName", "group", "options",
                 "description"}
        unknown = set(options) - known
        if unknown:
            raise ValueError(f"unknown property setting(s): {', '.join(sorted(unknown))}; "
                             f"known: {', '.join(sorted(known))}")
        if type not in FIELD_TYPES:
            raise ValueError(f"property type must be one of {', '.join(FIELD_TYPES)}, "
                             f"got {type!r}")
        choices = []
        for o in options.get("options") or ():
            if isinstance(o, str):
                choices.append((o, o))
            elif isinstance(o, dict) and o.get("value"):
                choices.append((str(o["value"]), str(o.get("label") or o["value"])))
            else:
                raise ValueError(f"each option needs a value, got {o!r}")
        prop = Prop(name, str(options.get("label") or name), type,
                    str(options.get("fieldType") or options.get("field_type") or ""),
                    tuple(choices), hubspot_defined=False,
                    group=str(options.get("groupName") or options.get("group") or ""),
                    description=str(options.get("description") or ""))
        table = self.types.properties[t.name]
        with self._lock:
            table.add(prop, hs_datetime(self.clock.stamp()))
        return table.wire(name)[0]
