"""The CRM write endpoints of the HubSpot twin: create, update and archive records, create
properties (developers.hubspot.com, CRM API "objects" and "properties" guides).

`POST /crm/v3/objects/{type}` `{"properties": {...}, "associations"?: [{"to": {"id"},
"types": [{"associationCategory", "associationTypeId"}]}]}` -> 201 the record;
`PATCH /crm/v3/objects/{type}/{id}` `{"properties": {...}}` -> 200 the record;
`DELETE /crm/v3/objects/{type}/{id}` -> 204 (archived: listed with `archived=true`);
`POST /crm/v3/properties/{type}` a property definition -> 201 the property.
Refusals: 400 VALIDATION_ERROR naming the property, 404 OBJECT_NOT_FOUND.
"""

from __future__ import annotations

from tap_hubspot.sandbox.crm_api import CrmApi, _body, _json, _not_found
from tap_hubspot.sandbox.errors import validation
from tap_hubspot.sandbox.records import projection
from tenantsync.sandbox.server import Request, Response, Route


class WriteApi:
    def __init__(self, crm: CrmApi):
        self.crm, self.portal = crm, crm.portal

    def routes(self) -> list[Route]:
        t, rid = r"(?P<type>[^/]+)", r"(?P<id>\d+)"
        return [
            Route("POST", rf"/crm/v3/objects/{t}", self.create, "crm.objects.create"),
            Route("PATCH", rf"/crm/v3/objects/{t}/{rid}", self.update, "crm.objects.update"),
            Route("DELETE", rf"/crm/v3/objects/{t}/{rid}", self.archive, "crm.objects.archive"),
            Route("POST", rf"/crm/v3/properties/{t}", self.create_property,
                  "crm.properties.create"),
        ]

    def _properties(self, request: Request) -> dict:
        props = _body(request).get("properties")
        if not isinstance(props, dict):
            raise validation("properties must be an object of property values")
        return props

    @staticmethod
    def _write(fn, *args, record_id: str = "") -> dict:
        """A portal mutation, its refusals in HubSpot's terms."""
        try:
            return fn(*args)
        except KeyError as exc:
            raise _not_found(record_id or str(exc.args[0] if exc.args else "")) from None
        except ValueError as exc:
            raise validation(f"Property values were not valid: {exc}") from None

    def _links(self, t, body: dict) -> list[tuple[str, str]]:
        """(to type, to id) of a create's `associations`, by association type id."""
        links = []
        for a in body.get("associations") or ():
            to_id = str(((a or {}).get("to") or {}).get("id", ""))
            type_ids = {int(x.get("associationTypeId", -1)) for x in a.get("types") or ()
                        if isinstance(x, dict) and str(x.get("associationTypeId", "")).isdigit()}
            pair = next((b for a_, b, kind in self.portal.assoc_types.pairs()
                         if a_ == t.name and kind.type_id in type_ids), None)
            if not to_id.isdigit() or pair is None:
                raise validation(f"association {a!r}: needs to.id and an associationTypeId "
                                 f"defined from {t.name}")
            links.append((pair, to_id))
        return links

    def create(self, request: Request) -> Response:
        t = self.crm._type(request.params["type"])
        props, body = self._properties(request), _body(request)
        links = self._links(t, body)
        doc = self._write(self.portal.create, t.name, props)
        for to, to_id in links:
            self._write(self.portal.associate, t.name, doc["id"], to, to_id, record_id=to_id)
        return self._answer(t, doc, 201)

    def update(self, request: Request) -> Response:
        t = self.crm._type(request.params["type"])
        doc = self._write(self.portal.update, t.name, request.params["id"],
                          self._properties(request), record_id=request.params["id"])
        return self._answer(t, doc, 200)

    def archive(self, request: Request) -> Response:
        t = self.crm._type(request.params["type"])
        doc = self.portal.get(t, request.params["id"])
        if doc is None:
            raise _not_found(request.params["id"])
        if not doc["archived"]:
            self.portal.archive(t.name, request.params["id"])
        return Response(204, content_type=None)

    def _answer(self, t, doc: dict, status: int) -> Response:
        text = self.portal.get_many(t, [doc["id"]])[doc["id"]]
        record = projection(tuple(doc["properties"])).records([text])[0]
        return _json(record, status, records=1)

    def create_property(self, request: Request) -> Response:
        t = self.crm._type(request.params["type"])
        body = _body(request)
        name, kind = body.get("name"), body.get("type")
        options = {k: body[k] for k in ("label", "fieldType", "groupName", "options",
                                        "description") if body.get(k) is not None}
        if self.portal.types.properties[t.name].get(name) is not None:
            raise validation(f"Property named '{name}' already exists.",
                             sub_category="PROPERTY_ALREADY_EXISTS")
        try:
            wire = self.portal.add_property(t.name, name, kind, **options)
        except ValueError as exc:
            raise validation(str(exc)) from None
        return _json(wire, 201)
