"""The CRM endpoints of the HubSpot twin (provider-apis.md §2.4-2.8): objects (list, get,
batch read, search), properties, custom object schemas, owners and associations (v3, v4).

Handlers parse and validate the wire, read through `Portal`, and answer in HubSpot's shapes.
"""

from __future__ import annotations

import base64
import binascii
from datetime import datetime, timezone
from urllib.parse import urlencode

import msgspec

from tap_hubspot.sandbox import search
from tap_hubspot.sandbox.errors import fail, validation
from tap_hubspot.sandbox.objects import ObjectType
from tap_hubspot.sandbox.portal import Portal
from tap_hubspot.sandbox.records import projection
from tenantsync.sandbox.server import BadRequest, Request, Response, Route

_encode = msgspec.json.Encoder().encode
LIST_MAX, BATCH_MAX, OWNERS_MAX, ASSOC_MAX = 100, 100, 500, 500


def _json(data, status: int = 200, records: int = 0) -> Response:
    return Response(status, _encode(data), records=records)


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def cursor(value: int) -> str:
    """An opaque paging token (base64 of a position), as HubSpot's list `after` looks."""
    return base64.b64encode(str(value).encode()).decode()


def _uncursor(token: str | None) -> int:
    if not token:
        return 0
    try:
        return int(base64.b64decode(token, validate=True).decode())
    except (binascii.Error, ValueError, UnicodeDecodeError):
        raise validation(f"Invalid paging cursor after={token!r}; pass back paging.next.after "
                         "unchanged") from None


def _multi(request: Request, name: str) -> list[str]:
    """A list parameter, repeated and/or comma-separated (`properties=a,b&properties=c`)."""
    out = []
    for value in request.query.get(name, ()):
        out.extend(v.strip() for v in value.split(",") if v.strip())
    return out


def _flag(request: Request, name: str) -> bool:
    value = (request.arg(name) or "false").lower()
    if value not in ("true", "false"):
        raise validation(f"{name} must be true or false, got {value!r}")
    return value == "true"


def _int_arg(request: Request, name: str, default: int, maximum: int) -> int:
    raw = request.arg(name)
    try:
        value = default if raw in (None, "") else int(raw)
    except ValueError:
        raise validation(f"{name} must be a whole number, got {raw!r}") from None
    if not 1 <= value <= maximum:
        raise validation(f"{name} must be between 1 and {maximum}, got {value}")
    return value


def _body(request: Request) -> dict:
    try:
        body = request.json()
    except BadRequest as exc:
        raise validation(f"Invalid input JSON: {exc}") from None
    if not isinstance(body, dict):
        raise validation("the request body must be a JSON object")
    return body


def _not_found(record_id: str) -> Exception:
    return fail(404, "Object not found.  objectId are usually numeric.", "OBJECT_NOT_FOUND",
                context={"id": [record_id]})


class CrmApi:
    def __init__(self, portal: Portal):
        self.portal = portal

    def routes(self) -> list[Route]:
        t, rid, to = r"(?P<type>[^/]+)", r"(?P<id>[^/]+)", r"(?P<to>[^/]+)"
        schemas = r"(?:/crm/v3/schemas|/crm-object-schemas/v3/schemas)"
        return [
            Route("GET", rf"/crm/v[34]/objects/{t}", self.list_objects, "crm.objects.list"),
            Route("POST", rf"/crm/v3/objects/{t}/search", self.search, "crm.objects.search"),
            Route("POST", rf"/crm/objects/2026-03/{t}/search", self.search, "crm.objects.search"),
            Route("POST", rf"/crm/v3/objects/{t}/batch/read", self.batch_read,
                  "crm.objects.batch_read"),
            Route("GET", rf"/crm/v[34]/objects/{t}/{rid}", self.get_object, "crm.objects.get"),
            Route("GET", rf"/crm/v3/properties/{t}", self.properties, "crm.properties.list"),
            Route("GET", rf"/crm/v3/properties/{t}/(?P<name>[^/]+)", self.property,
                  "crm.properties.get"),
            Route("GET", schemas, self.schemas, "crm.schemas.list"),
            Route("GET", rf"{schemas}/{t}", self.schema, "crm.schemas.get"),
            Route("GET", r"/crm/v3/owners/?", self.owners, "crm.owners.list"),
            Route("GET", rf"/crm/v3/owners/{rid}", self.owner, "crm.owners.get"),
            Route("GET", rf"/crm/v4/objects/{t}/{rid}/associations/{to}", self.associations,
                  "crm.associations.v4.list"),
            Route("POST", rf"/crm/v4/associations/{t}/{to}/batch/read", self.associations_v4,
                  "crm.associations.v4.batch_read"),
            Route("POST", rf"/crm/v3/associations/{t}/{to}/batch/read", self.associations_v3,
                  "crm.associations.v3.batch_read"),
        ]

    # -- helpers -------------------------------------------------------------------------------

    def _type(self, spelling: str) -> ObjectType:
        t = self.portal.types.resolve(spelling)
        if t is None:
            raise validation(f"Unable to infer object type from: {spelling}")
        return t

    def _targets(self, request: Request) -> list[ObjectType]:
        """The `associations` parameter's types; HubSpot accepts types a portal has no records
        or association definitions for (e.g. `conversations`): they add nothing."""
        found = (self.portal.types.resolve(a) for a in _multi(request, "associations"))
        return [t for t in found if t is not None]

    def _start(self, t: ObjectType, token: str | None) -> int:
        """The rowid a list page starts after: from our opaque cursor, or from a numeric
        `after` (a record id: the page starts at the first record whose id is at least it)."""
        if token and token.isdigit():
            return self.portal.rowid_before(t, int(token))
        return _uncursor(token)

    def _names(self, t: ObjectType, requested: list[str] | tuple[str, ...] | None
               ) -> tuple[str, ...]:
        """The properties a response carries: the defaults when none are requested, else those
        requested that exist plus the id, created and modified ones, which HubSpot always
        returns."""
        if not requested:
            return t.defaults
        props = self.portal.types.properties[t.name].props
        always = ("hs_object_id", t.created_prop, t.modified_prop)
        return tuple(n for n in dict.fromkeys((*requested, *always)) if n in props)

    def _assoc_key(self, t: ObjectType) -> str:
        return self.portal.types.fully_qualified(t.name) if t.custom else t.name

    def _attach(self, t: ObjectType, records: list, targets: list[ObjectType]) -> None:
        """Add v3 `associations` (only the non-empty ones, as HubSpot does) to each record."""
        ids = [int(r.id) for r in records]
        for to in targets:
            kind = self.portal.assoc_types.get(t.name, to.name)
            if kind is None or not ids:
                continue
            found = self.portal.associated(t, ids, to)
            key = self._assoc_key(to)
            for rec in records:
                linked = found.get(int(rec.id))
                if linked:
                    rec.associations = rec.associations or {}
                    rec.associations[key] = {
                        "results": [{"id": str(i), "type": kind.name} for i in linked]}

    # -- objects -------------------------------------------------------------------------------

    def list_objects(self, request: Request) -> Response:
        t = self._type(request.params["type"])
        limit = _int_arg(request, "limit", 10, LIST_MAX)
        after = self._start(t, request.arg("after"))
        archived = _flag(request, "archived")
        names = self._names(t, _multi(request, "properties"))
        targets = self._targets(request)
        docs, next_rid = self.portal.page(t, after, limit, archived)
        records = projection(names).records(docs)
        self._attach(t, records, targets)
        body: dict = {"results": records}
        if next_rid is not None:
            token = cursor(next_rid)
            query = {k: v for k, v in request.query.items() if k != "after"}
            query["after"] = [token]
            body["paging"] = {"next": {"after": token,
                                       "link": "?" + urlencode(query, doseq=True)}}
        return _json(body, records=len(records))

    def get_object(self, request: Request) -> Response:
        t = self._type(request.params["type"])
        record_id = request.params["id"]
        archived = _flag(request, "archived")
        found = self.portal.get_many(t, [record_id]) if record_id.isdigit() else {}
        names = self._names(t, _multi(request, "properties"))
        records = projection(names).records(list(found.values()))
        if not records or records[0].archived != archived:
            raise _not_found(record_id)
        self._attach(t, records, self._targets(request))
        return _json(records[0], records=1)

    def batch_read(self, request: Request) -> Response:
        t = self._type(request.params["type"])
        body = _body(request)
        inputs = body.get("inputs")
        if not isinstance(inputs, list) or not all(isinstance(i, dict) and i.get("id")
                                                   for i in inputs):
            raise validation("inputs must be a list of {\"id\": ...} objects")
        if len(inputs) > BATCH_MAX:
            raise validation(f"inputs: at most {BATCH_MAX} ids per batch, got {len(inputs)}")
        if body.get("idProperty") not in (None, "", "hs_object_id"):
            raise validation(f"idProperty {body.get('idProperty')!r} is not a unique "
                             "identifier property")
        archived = _flag(request, "archived")
        started = _now()
        ids = [str(i["id"]) for i in inputs]
        found = self.portal.get_many(t, [i for i in ids if i.isdigit()])
        requested = body.get("properties") or []
        if not isinstance(requested, list) or not all(isinstance(p, str) for p in requested):
            raise validation("properties must be a list of property names")
        names = self._names(t, requested)
        by_id = {r.id: r for r in projection(names).records(list(found.values()))
                 if r.archived == archived}
        results = [by_id[i] for i in dict.fromkeys(ids) if i in by_id]
        missing = [i for i in dict.fromkeys(ids) if i not in by_id]
        out: dict = {"status": "COMPLETE", "results": results, "startedAt": started,
                     "completedAt": _now()}
        if missing:
            out["numErrors"] = 1
            out["errors"] = [{
                "status": "error", "category": "OBJECT_NOT_FOUND",
                "message": f"Could not get some {t.singular.upper()} objects, they may be "
                           "deleted or not exist. Check that ids are valid.",
                "context": {"ids": missing}}]
        return _json(out, 207 if missing else 200, records=len(results))

    def search(self, request: Request) -> Response:
        t = self._type(request.params["type"])
        table = self.portal.types.properties[t.name]
        columns = {"hs_object_id": "num", t.created_prop: "created", t.modified_prop: "modified"}
        try:
            plan = search.plan(_body(request), t, table, columns)
        except search.SearchError as exc:
            raise validation(str(exc)) from None
        total, docs = self.portal.search(t, plan)
        records = projection(self._names(t, plan.properties)).indexed(docs)
        body: dict = {"total": total, "results": records}
        following = plan.offset + plan.limit
        if following < total:
            body["paging"] = {"next": {"after": str(following)}}
        return _json(body, records=len(records))

    # -- properties and schemas ----------------------------------------------------------------

    def properties(self, request: Request) -> Response:
        t = self._type(request.params["type"])
        if _flag(request, "archived"):  # no property of the twin has ever been archived
            return _json({"results": []})
        return _json({"results": self.portal.types.properties[t.name].wire()})

    def property(self, request: Request) -> Response:
        t = self._type(request.params["type"])
        name = request.params["name"]
        table = self.portal.types.properties[t.name]
        if table.get(name) is None:
            raise fail(404, f"Unable to find property {name} for object type {t.type_id}",
                       "OBJECT_NOT_FOUND", context={"propertyName": [name]})
        return _json(table.wire(name)[0])

    def _schema(self, t: ObjectType) -> dict:
        reg = self.portal.types
        spec = reg.custom.get(t.name)
        created = reg.created_at
        associations = [
            {"id": str(kind.type_id), "name": kind.name,
             "fromObjectTypeId": reg.types[a].type_id, "toObjectTypeId": reg.types[b].type_id,
             "createdAt": created, "updatedAt": created}
            for a, b, kind in self.portal.assoc_types.pairs() if a == t.name]
        singular = spec.singular_label if spec else t.singular.replace("_", " ").title()
        return {
            "id": t.type_id.split("-", 1)[1], "objectTypeId": t.type_id, "name": t.name,
            "fullyQualifiedName": reg.fully_qualified(t.name) if t.custom else t.name,
            "labels": {"singular": singular,
                       "plural": spec.plural_label if spec else t.name.replace("_", " ").title()},
            "primaryDisplayProperty": spec.primary_display if spec else t.defaults[-1],
            "secondaryDisplayProperties": [],
            "requiredProperties": list(spec.required) if spec else [],
            "searchableProperties": list(t.searchable),
            "properties": reg.properties[t.name].wire(),
            "associations": associations, "archived": False, "createdAt": created,
            "updatedAt": created, "allowsSensitiveProperties": False,
        }

    def schemas(self, request: Request) -> Response:
        if _flag(request, "archived"):
            return _json({"results": []})
        custom = [t for t in self.portal.types.types.values() if t.custom]
        return _json({"results": [self._schema(t) for t in custom]})

    def schema(self, request: Request) -> Response:
        return _json(self._schema(self._type(request.params["type"])))

    # -- owners --------------------------------------------------------------------------------

    def owners(self, request: Request) -> Response:
        limit = _int_arg(request, "limit", 100, OWNERS_MAX)
        start = _uncursor(request.arg("after"))
        archived = _flag(request, "archived")
        email = (request.arg("email") or "").lower()
        rows = [o for o in self.portal.owners if o["archived"] == archived
                and (not email or o["email"].lower() == email)]
        page = rows[start:start + limit]
        body: dict = {"results": page}
        if start + limit < len(rows):
            token = cursor(start + limit)
            body["paging"] = {"next": {"after": token, "link": f"?after={token}"}}
        return _json(body, records=len(page))

    def owner(self, request: Request) -> Response:
        key = request.params["id"]
        by = request.arg("idProperty") or "id"
        if by not in ("id", "userId"):
            raise validation(f"idProperty must be id or userId, got {by!r}")
        archived = _flag(request, "archived")
        for o in self.portal.owners:
            if str(o[by]) == key and o["archived"] == archived:
                return _json(o, records=1)
        raise fail(404, f"Owner with {by} {key} not found", "OBJECT_NOT_FOUND")

    # -- associations --------------------------------------------------------------------------

    def _spec(self, t: ObjectType, to: ObjectType) -> dict | None:
        kind = self.portal.assoc_types.get(t.name, to.name)
        if kind is None:
            return None
        return {"category": kind.category, "typeId": kind.type_id, "label": None}

    def _to_type(self, request: Request) -> ObjectType:
        """The target type of an association route: one the twin does not model (HubSpot has
        many, e.g. `conversations`) is a type without associations, not an error."""
        to = self.portal.types.resolve(request.params["to"])
        return to or ObjectType(request.params["to"], "", request.params["to"], "", (), (), 0)

    def associations(self, request: Request) -> Response:
        t, to = self._type(request.params["type"]), self._to_type(request)
        record_id = request.params["id"]
        limit = _int_arg(request, "limit", ASSOC_MAX, ASSOC_MAX)
        after = _uncursor(request.arg("after"))
        spec = self._spec(t, to)
        linked = []
        if spec is not None and record_id.isdigit():
            linked = self.portal.associated(t, [int(record_id)], to, after=after,
                                            limit=limit + 1).get(int(record_id), [])
        body: dict = {"results": [{"toObjectId": str(i), "associationTypes": [spec]}
                                  for i in linked[:limit]]}
        if len(linked) > limit:
            token = cursor(linked[limit - 1])
            body["paging"] = {"next": {"after": token, "link": f"?after={token}"}}
        return _json(body, records=len(body["results"]))

    def _batch_ids(self, request: Request) -> list[str]:
        inputs = _body(request).get("inputs")
        if not isinstance(inputs, list) or not all(isinstance(i, dict) and i.get("id")
                                                   for i in inputs):
            raise validation("inputs must be a list of {\"id\": ...} objects")
        if len(inputs) > 1000:
            raise validation(f"inputs: at most 1000 ids per batch, got {len(inputs)}")
        return list(dict.fromkeys(str(i["id"]) for i in inputs))

    def associations_v4(self, request: Request) -> Response:
        t, to = self._type(request.params["type"]), self._to_type(request)
        ids = self._batch_ids(request)
        started = _now()
        spec = self._spec(t, to)
        numeric = [int(i) for i in ids if i.isdigit()]
        found = self.portal.associated(t, numeric, to) if spec else {}
        results, missing = [], []
        for record_id in ids:
            linked = found.get(int(record_id)) if record_id.isdigit() else None
            if linked:
                results.append({"from": {"id": record_id}, "to": [
                    {"toObjectId": str(i), "associationTypes": [spec]} for i in linked]})
            else:
                missing.append(record_id)
        out: dict = {"status": "COMPLETE", "results": results, "startedAt": started,
                     "completedAt": _now()}
        if missing:
            out["numErrors"] = len(missing)
            out["errors"] = [{
                "status": "error", "category": "OBJECT_NOT_FOUND",
                "subCategory": "crm.associations.NO_ASSOCIATIONS_FOUND",
                "message": f"No {to.name} is associated with {t.singular} {i}.",
                "context": {"fromObjectId": [i]}} for i in missing]
        return _json(out, 207 if missing else 200, records=len(results))

    def associations_v3(self, request: Request) -> Response:
        t, to = self._type(request.params["type"]), self._to_type(request)
        ids = self._batch_ids(request)
        started = _now()
        kind = self.portal.assoc_types.get(t.name, to.name)
        numeric = [int(i) for i in ids if i.isdigit()]
        found = self.portal.associated(t, numeric, to) if kind else {}
        results = [{"from": {"id": i}, "to": [{"id": str(j), "type": kind.name}
                                              for j in found[int(i)]]}
                   for i in ids if i.isdigit() and found.get(int(i))]
        return _json({"status": "COMPLETE", "results": results, "startedAt": started,
                      "completedAt": _now()}, records=len(results))
