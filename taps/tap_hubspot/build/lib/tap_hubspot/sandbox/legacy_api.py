"""Routes of HubSpot's that independent clients still call besides the v3 CRM API
(developers.hubspot.com: the legacy v1/v2 properties APIs, the CRM pipelines API):

- `GET /properties/v1/{type}/properties` and `GET /companies/v2/properties`: every property as
  a bare JSON array, in the legacy shape (`createdAt` in epoch milliseconds, `readOnlyValue`,
  `deleted`, ...);
- `GET /companies/v2/companies/paged` (`companies`, `has-more`, `offset`) and
  `/companies/v2/companies/{id}`, `GET /deals/v1/deal/paged` (`deals`, `hasMore`, `offset`):
  live records, ordered by id, `offset` the last id of the page; each property a
  `{"value", "timestamp" (epoch ms of the record's last change), "source", "sourceId",
  "versions"}` object; a page lists only the requested `properties` (all with
  `includeAllProperties=true`), the detail route all of them;
- `GET /deals/v1/pipelines` (the deal pipelines, legacy shape) and
  `GET /crm/v3/pipelines/{type}` (deals and tickets) and `/crm/v3/pipelines/{type}/{id}`: the
  pipelines the twin's `pipeline` / `hs_pipeline` properties name, with their stages (the
  stage properties' options), `metadata` as HubSpot gives it (deals: `probability`,
  `isClosed`; tickets: `ticketState`).
"""

from __future__ import annotations

from datetime import datetime

from tap_hubspot.sandbox.crm_api import CrmApi, _flag, _int_arg, _json, _multi, _not_found
from tap_hubspot.sandbox.errors import fail
from tap_hubspot.sandbox.portal import decode
from tap_hubspot.sandbox.properties import DEAL_STAGES, PIPELINES, TICKET_PIPELINES, TICKET_STAGES
from tenantsync.sandbox.server import Request, Response, Route

# pipeline type -> (pipelines, stages, stage metadata); the twin has one pipeline per type
_CLOSED_DEAL = {"closedwon": "1.0", "closedlost": "0.0"}
PIPELINE_TABLE = {
    "deals": (PIPELINES, DEAL_STAGES, lambda stage, i, n: {
        "isClosed": str(stage in _CLOSED_DEAL).lower(),
        "probability": _CLOSED_DEAL.get(stage, f"{round((i + 1) / n, 1)}")}),
    "tickets": (TICKET_PIPELINES, TICKET_STAGES, lambda stage, i, n: {
        "ticketState": "CLOSED" if i == n - 1 else "OPEN"}),
}


def _epoch_ms(iso: str) -> int:
    return int(datetime.fromisoformat(iso.replace("Z", "+00:00")).timestamp() * 1000)


def legacy_property(wire: dict) -> dict:
    """A v3 property definition in the v1/v2 properties API's shape."""
    read_only = wire["modificationMetadata"]
    return {
        "name": wire["name"], "label": wire["label"], "description": wire["description"],
        "groupName": wire["groupName"], "type": wire["type"], "fieldType": wire["fieldType"],
        "options": [{**o, "readOnly": read_only.get("readOnlyOptions", False)}
                    for o in wire["options"]],
        "displayOrder": wire["displayOrder"], "calculated": wire["calculated"],
        "externalOptions": wire["externalOptions"], "hasUniqueValue": wire["hasUniqueValue"],
        "hidden": wire["hidden"], "hubspotDefined": wire.get("hubspotDefined", False),
        "formField": wire["formField"], "readOnlyValue": read_only["readOnlyValue"],
        "readOnlyDefinition": read_only["readOnlyDefinition"],
        "mutableDefinitionNotDeletable": read_only["readOnlyDefinition"],
        "favorited": False, "favoritedOrder": -1, "deleted": False,
        "searchableInGlobalSearch": False, "showCurrencySymbol": False,
        "createdAt": _epoch_ms(wire["createdAt"]), "updatedAt": _epoch_ms(wire["updatedAt"]),
        "createdUserId": None, "updatedUserId": None,
    }


class LegacyApi:
    def __init__(self, crm: CrmApi):
        self.crm, self.portal = crm, crm.portal

    def routes(self) -> list[Route]:
        t = r"(?P<type>[^/]+)"
        return [
            Route("GET", rf"/properties/v1/{t}/properties/?", self.properties,
                  "legacy.properties"),
            Route("GET", r"/(?P<type>companies)/v2/properties/?", self.properties,
                  "legacy.properties"),
            Route("GET", r"/companies/v2/companies/paged/?", self.companies,
                  "legacy.companies.list"),
            Route("GET", r"/companies/v2/companies/(?P<id>\d+)/?", self.company,
                  "legacy.companies.get"),
            Route("GET", r"/deals/v1/deal/paged/?", self.deals, "legacy.deals.list"),
            Route("GET", r"/deals/v1/pipelines/?", self.deal_pipelines_v1,
                  "legacy.deals.pipelines"),
            Route("GET", rf"/crm/v3/pipelines/{t}/?", self.pipelines, "crm.pipelines.list"),
            Route("GET", rf"/crm/v3/pipelines/{t}/(?P<id>[^/]+)/?", self.pipeline,
                  "crm.pipelines.get"),
        ]

    def properties(self, request: Request) -> Response:
        t = self.crm._type(request.params["type"])
        wire = self.portal.types.properties[t.name].wire()
        return _json([legacy_property(p) for p in wire])

    def _pipelines(self, request: Request) -> list[dict]:
        t = self.crm._type(request.params["type"])
        if t.name not in PIPELINE_TABLE:
            raise fail(400, f"Object type {t.type_id} does not support pipelines",
                       "VALIDATION_ERROR")
        pipelines, stages, metadata = PIPELINE_TABLE[t.name]
        at = self.portal.types.created_at
        return [{
            "id": pid, "label": label, "displayOrder": order, "createdAt": at,
            "updatedAt": at, "archived": False,
            "stages": [{"id": sid, "label": slabel, "displayOrder": i,
                        "metadata": metadata(sid, i, len(stages)), "createdAt": at,
                        "updatedAt": at, "archived": False,
                        "writePermissions": "CRM_PERMISSIONS_ENFORCEMENT"}
                       for i, (sid, slabel) in enumerate(stages)],
        } for order, (pid, label) in enumerate(pipelines)]

    def deal_pipelines_v1(self, request: Request) -> Response:
        """The deal pipelines in the v1 deals API's shape: a bare array, epoch-ms times."""
        request.params["type"] = "deals"
        found = [{
            "pipelineId": p["id"], "label": p["label"], "displayOrder": p["displayOrder"],
            "active": True, "default": p["displayOrder"] == 0,
            "createdAt": _epoch_ms(p["createdAt"]), "updatedAt": _epoch_ms(p["updatedAt"]),
            "stages": [{"stageId": st["id"], "label": st["label"],
                        "displayOrder": st["displayOrder"], "active": True,
                        "probability": float(st["metadata"]["probability"]),
                        "closedWon": st["id"] == "closedwon"} for st in p["stages"]],
        } for p in self._pipelines(request)]
        return _json(found, records=len(found))

    def pipelines(self, request: Request) -> Response:
        found = self._pipelines(request)
        return _json({"results": found}, records=len(found))

    def pipeline(self, request: Request) -> Response:
        for p in self._pipelines(request):
            if p["id"] == request.params["id"]:
                return _json(p, records=1)
        raise fail(404, f"Unable to find pipeline {request.params['id']}", "OBJECT_NOT_FOUND")

    # -- legacy records ------------------------------------------------------------------------

    @staticmethod
    def _legacy(doc: dict, names: list[str] | None) -> dict:
        """`properties` in the legacy shape (all of them when `names` is None)."""
        stamp = _epoch_ms(doc["updatedAt"])
        props = doc["properties"]
        return {name: {"value": props[name], "timestamp": stamp, "source": "API",
                       "sourceId": None, "versions": [{
                           "name": name, "value": props[name], "timestamp": stamp,
                           "source": "API", "sourceVid": [], "requestId": ""}]}
                for name in (props if names is None else names) if props.get(name) is not None}

    def _legacy_page(self, request: Request, type_name: str, maximum: int
                     ) -> tuple[list[dict], int | None, list[str] | None]:
        t = self.portal.resolve(type_name)
        limit = _int_arg(request, "limit", 100, maximum)
        offset = request.arg("offset") or "0"
        if not offset.isdigit():
            raise fail(400, f"offset must be a record id, got {offset!r}", "VALIDATION_ERROR")
        start = self.portal.rowid_before(t, int(offset) + 1)
        docs, more = self.portal.page(t, start, limit, False)
        records = [decode(d) for d in docs]
        every = _flag(request, "includeAllProperties")
        names = None if every else _multi(request, "properties")
        last = int(records[-1]["id"]) if records else int(offset)
        return records, (last if more is not None else None), names

    def companies(self, request: Request) -> Response:
        records, more, names = self._legacy_page(request, "companies", 250)
        portal = self.portal.portal_id
        body = {"companies": [{"companyId": int(r["id"]), "portalId": portal,
                               "isDeleted": False, "properties": self._legacy(r, names)}
                              for r in records],
                "has-more": more is not None,
                "offset": more if more is not None else (records and int(records[-1]["id"]))}
        return _json(body, records=len(records))

    def company(self, request: Request) -> Response:
        t = self.portal.resolve("companies")
        doc = self.portal.get(t, request.params["id"])
        if doc is None or doc["archived"]:
            raise _not_found(request.params["id"])
        return _json({"companyId": int(doc["id"]), "portalId": self.portal.portal_id,
                      "isDeleted": False, "properties": self._legacy(doc, None)}, records=1)

    def deals(self, request: Request) -> Response:
        records, more, names = self._legacy_page(request, "deals", 250)
        body = {"deals": [{"dealId": int(r["id"]), "portalId": self.portal.portal_id,
                           "isDeleted": False, "properties": self._legacy(r, names),
                           "associations": {"associatedVids": [], "associatedCompanyIds": [],
                                            "associatedDealIds": [],
                                            "associatedTicketIds": []},
                           "imports": [], "stateChanges": []} for r in records],
                "hasMore": more is not None,
                "offset": more if more is not None else (records and int(records[-1]["id"]))}
        return _json(body, records=len(records))
