"""`DynamicsSandbox`: the Dataverse Web API (OData v4) and Microsoft Entra ID's token
endpoint as documented (learn.microsoft.com), declared on the twin kit.

- Listings `GET /api/data/v9.2/{entityset}`: `$select` (unknown columns: 400), `$filter`
  `modifiedon gt <datetime>` (the one filter this twin reads; others: 400), `$orderby`
  `modifiedon asc` or the primary id, `Prefer: odata.maxpagesize=N` (default and cap 5,000,
  echoed in `Preference-Applied`), `@odata.nextLink` carrying an opaque `$skiptoken`;
  opportunities `$expand` `stageid_processstage($select=stagename)` and
  `opportunity_leadtoopportunitysalesprocess($select=name)`.
- Metadata `GET /api/data/v9.2/EntityDefinitions` (with `$expand=Attributes`): logical name,
  entity set, primary id, `ChangeTrackingEnabled`, `IsCustomEntity`, attribute types.
- Auth: Entra ID v2 endpoints `/organizations/oauth2/v2.0/authorize|token`; the refresh grant
  must name a `scope`; errors as Entra's (`error_codes`, `AADSTS...` descriptions, trace and
  correlation ids); a bad token gets 401 with an empty body and `WWW-Authenticate`.
- Service protection limits: per user, 6,000 requests per sliding 300 s; over it a 429 with
  `Retry-After` and error code 0x80072322, counted as a violation.
- Change tracking (entities with `ChangeTrackingEnabled`): a listing sent with `Prefer:
  odata.track-changes` (only `$select` alongside) ends with `@odata.deltaLink`
  (`$deltatoken`: the instant of its first page); the delta link lists the rows changed since
  then, whole, and deleted ones as `$deletedEntity` entries (`id`, `reason: deleted`), in
  modification order, and ends with the next delta link. On other entities: 400.
- Formatted values (`Prefer: odata.include-annotations=...`): formatted.py.
Not modelled: the execution-time and concurrency windows.
"""

from __future__ import annotations

import json
import re
import uuid
from datetime import datetime, timedelta, timezone
from typing import Any
from urllib.parse import urlencode

from tap_dynamics.sandbox.data import ENTITIES, PROCESS, DynamicsWorld, record_field, stamp
from tap_dynamics.sandbox.formatted import asked, formatted_values
from tenantsync.sandbox.server import Request, Response, Route
from tenantsync.sandbox.twinkit import (
    ApiError,
    Filter,
    Limits,
    OAuthEndpoints,
    Resource,
    RestTwin,
    Table,
)

API = "/api/data/v9.2"
MAX_PAGE = 5000
LIMIT_CODE = "0x80072322"
_GT = re.compile(r"^modifiedon gt (\S+)$")
_PAGE_SIZE = re.compile(r"odata\.maxpagesize=(\d+)")
_EXPANDS = {"stageid_processstage($select=stagename)": "stage",
            "opportunity_leadtoopportunitysalesprocess($select=name)": "process"}
_ENTRA = {"invalid_grant": (70008, "The provided authorization code or refresh token has "
                                   "expired due to inactivity or was revoked."),
          "invalid_client": (7000215, "Invalid client secret provided."),
          "invalid_request": (90014, "The required field 'scope' is missing."),
          "unsupported_grant_type": (70003, "The app requested an unsupported grant type.")}


def _modified_after(value: str) -> str:
    match = _GT.match(value.strip())
    if not match:
        raise ValueError("this twin reads `modifiedon gt <datetime>` only")
    moment = datetime.fromisoformat(match.group(1).replace("Z", "+00:00"))
    if moment.tzinfo is None:
        raise ValueError("a datetime literal needs an offset")
    return stamp(moment.astimezone(timezone.utc))


def _envelope(docs: Any, info: dict) -> dict:
    body = {"@odata.context": info["context"], "value": docs}
    for key in ("next_link", "delta_link"):
        if info.get(key):
            body[f"@odata.{key.replace('_l', 'L')}"] = info[key]
    return body


def _delta_token(value: str) -> str:
    return stamp(datetime.fromisoformat(value.replace("Z", "+00:00")))


def entra_error(error: str, detail: str = "") -> Response:
    code, text = _ENTRA.get(error, (90014, detail or error))
    now = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M:%SZ")
    trace, correlation = str(uuid.uuid4()), str(uuid.uuid4())
    return Response.json({
        "error": error, "error_description": f"AADSTS{code}: {text} Trace ID: {trace} "
                                             f"Correlation ID: {correlation} Timestamp: {now}",
        "error_codes": [code], "timestamp": now, "trace_id": trace,
        "correlation_id": correlation}, 401 if error == "invalid_client" else 400)


class EntraEndpoints(OAuthEndpoints):
    """The kit's authorization-code flow with Entra's v2 token endpoint on top: the refresh
    grant must carry `scope`; answers carry `token_type: Bearer`, the scope and
    `ext_expires_in`; refusals are Entra's error documents."""

    def _token(self, twin: Any, request: Request) -> Response:
        form = request.form()
        scope = form.get("scope", "")
        if form.get("grant_type") == "refresh_token" and not scope:
            return entra_error("invalid_request")
        answer = super()._token(twin, request)
        body = json.loads(answer.body_bytes())
        if answer.status >= 400:
            return entra_error(body.get("error", "invalid_request"),
                               body.get("error_description", ""))
        body.update(token_type="Bearer", scope=  # noqa: S106 (a token type)
                    scope or body.get("scope") or "",
                    ext_expires_in=body["expires_in"])
        return Response.json(body)


class DynamicsSandbox(RestTwin):
    provider = "ms_dynamics_365_sales"
    public_hosts = ("login.microsoftonline.com",)
    access_lifetime = timedelta(seconds=3599)
    limits = Limits(burst=6000, window=300.0, limit_header=None, reset_header=None,
                    remaining_header="x-ms-ratelimit-burst-remaining-xrm-requests")
    tables = [Table(e.set, {"modifiedon": ("TEXT", lambda d: d.get("modifiedon"))}, key=e.key)
              for e in ENTITIES.values()] + [Table("processstages", key="processstageid")]

    def __init__(self, **kwargs: Any):
        super().__init__(**kwargs)
        self.data = DynamicsWorld(self.world, self.seed)
        self.oauth_api = EntraEndpoints("/organizations/oauth2/v2.0/authorize",
                                        "/organizations/oauth2/v2.0/token")

    # -- declarations ----------------------------------------------------------------------

    def docs(self, table: str) -> Any:
        return getattr(self.data, table)()

    def resources(self) -> list[Resource]:
        return [Resource(e.set, f"{API}/{e.set}", e.set, _envelope, paging="cursor",
                         size_param="maxpagesize", default_size=MAX_PAGE, max_size=MAX_PAGE,
                         position_param="$skiptoken",
                         filters=(Filter("$filter", "modifiedon", ">", _modified_after),
                                  Filter("$deltatoken", "modifiedon", ">=", _delta_token)),
                         visible=self._visible,
                         sort_param="$orderby", default_sort=f"{e.key} asc",
                         sorts={"modifiedon asc": "modifiedon", f"{e.key} asc": "rid"})
                for e in ENTITIES.values()]

    def extra_routes(self) -> list[Route]:
        return [*self.oauth_api.routes(self),
                Route("GET", f"{API}/EntityDefinitions", self._definitions, "metadata")]

    def error(self, status: int, message: str) -> Response:
        if status == 401:  # Dataverse: no body, where to get a token instead
            return Response(401, b"", content_type=None, headers={
                "WWW-Authenticate": f"Bearer authorization_uri={self.base_url}/organizations/"
                                    f"oauth2/authorize, resource_id={self.base_url}/"})
        code = LIMIT_CODE if status == 429 else f"0x8004{status:04d}"
        return Response.json({"error": {"code": code, "message": message}}, status)

    def rate_limited(self, daily: bool, reset: float) -> Response:
        return self.error(429, f"Number of requests exceeded the limit of {self.limits.burst} "
                               f"over time window of {self.limits.window:g} seconds.")

    def after(self, request: Request, response: Response) -> None:
        super().after(request, response)
        response.headers["OData-Version"] = "4.0"
        applied = [f"odata.maxpagesize={request.state['size']}"] if "size" in request.state \
            else []
        if request.state.get("annotations"):
            applied.append(f"odata.include-annotations={request.state['annotations']}")
        if applied:
            response.headers["Preference-Applied"] = ",".join(applied)

    # -- listings: the page size from `Prefer`, `$select` and `$expand`, the next link -----

    def _size(self, resource: Resource, request: Request) -> int:
        found = _PAGE_SIZE.search(request.headers.get("Prefer") or "")
        size = min(int(found.group(1)), MAX_PAGE) if found and int(found.group(1)) else MAX_PAGE
        request.state["size"] = size
        return size

    @staticmethod
    def _visible(request: Request) -> tuple[str, list]:
        """A delta lists deleted rows too (as `$deletedEntity` entries)."""
        return ("1", []) if request.arg("$deltatoken") else ("deleted = 0", [])

    def _sort(self, resource: Resource, request: Request) -> tuple[str, bool]:
        if request.arg("$deltatoken"):
            return "modifiedon", False
        return super()._sort(resource, request)

    def list_page(self, resource: Resource, request: Request) -> tuple[list[str], dict]:
        entity = ENTITIES[resource.table]
        tracking = ("odata.track-changes" in (request.headers.get("Prefer") or "")
                    or bool(request.arg("$deltatoken")))
        if tracking:
            if not entity.change_tracking:
                raise ApiError(400, f"Change tracking is not enabled for the entity "
                                    f"'{entity.logical}'.")
            if request.arg("$filter") or request.arg("$orderby"):
                raise ApiError(400, "Only $select is supported with change tracking.")
            # the delta's next token is the instant of the read's first page: carried in
            # the skiptoken (`<cursor>~<token>`) to the last page
            cursor, _, since = (request.arg("$skiptoken") or "").partition("~")
            since = since or stamp(self.clock.now())
            request.query.pop("$skiptoken", None)
            if cursor:
                request.query["$skiptoken"] = [cursor]
        docs, info = self._page(resource, request, entity)
        if tracking:
            if info.get("next_cursor"):
                info["next_cursor"] += f"~{since}"
            else:
                query = {k: v[0] for k, v in request.query.items()
                         if k in ("$select", "$expand")}
                query["$deltatoken"] = since
                info["delta_link"] = f"{request.base_url}{request.path}?{urlencode(query)}"
            if request.arg("$deltatoken"):
                info["context"] = f"{request.base_url}{API}/$metadata#{entity.set}/$delta"
                docs = [self._deleted_entry(request, entity, d) for d in docs]
        if info.get("next_cursor"):
            query = {k: v[0] for k, v in request.query.items() if k != "$skiptoken"}
            query["$skiptoken"] = info["next_cursor"]
            info["next_link"] = f"{request.base_url}{request.path}?{urlencode(query)}"
        return docs, info

    def _deleted_entry(self, request: Request, entity: Any, doc: str) -> str:
        key = json.loads(doc).get(entity.key)
        found = self.store.get(entity.set, str(key))
        if found is None or not found.deleted:
            return doc
        return json.dumps({"@odata.context": f"{request.base_url}{API}/$metadata#"
                                             f"{entity.set}/$deletedEntity",
                           "id": key, "reason": "deleted"}, separators=(",", ":"))

    def _page(self, resource: Resource, request: Request, entity: Any
              ) -> tuple[list[str], dict]:
        types = entity.attribute_types()
        known = {record_field(a, k) for a, k in types.items()}
        select = [s for s in (request.arg("$select") or "").split(",") if s]
        unknown = sorted(set(select) - known)
        if unknown:
            raise ApiError(400, f"Could not find a property named '{unknown[0]}' on type "
                                f"'Microsoft.Dynamics.CRM.{entity.logical}'.")
        expand = [e for e in (request.arg("$expand") or "").split(",") if e]
        if any(e not in _EXPANDS for e in expand) or (expand and entity.set != "opportunities"):
            raise ApiError(400, f"$expand {request.arg('$expand')!r} is not supported here")
        docs, info = super().list_page(resource, request)
        annotate = asked(request.headers.get("Prefer"))
        if select or expand or annotate:
            shaped = [self._shape(json.loads(d), entity.key, select, expand) for d in docs]
            if annotate:
                request.state["annotations"] = annotate
                shaped = [{**d, **self.formatted_values(entity.set, d)} for d in shaped]
            docs = [json.dumps(d, separators=(",", ":")) for d in shaped]
        columns = ",".join(select)
        info["context"] = (f"{request.base_url}{API}/$metadata#{entity.set}"
                           + (f"({columns})" if columns else ""))
        return docs, info

    def _shape(self, doc: dict, key: str, select: list[str], expand: list[str]) -> dict:
        out = ({k: doc.get(k) for k in ("@odata.etag", key, *select)} if select else doc)
        for item in expand:
            if _EXPANDS[item] == "stage":
                stage = self.store.get("processstages", str(doc.get("stageid")))
                out["stageid_processstage"] = (
                    {"stagename": json.loads(stage.doc)["stagename"],
                     "processstageid": doc["stageid"]} if stage else None)
            else:
                out["opportunity_leadtoopportunitysalesprocess"] = [{"name": PROCESS}]
        return out

    def formatted_values(self, entity_set: str, doc: dict) -> dict[str, str]:
        """The formatted-value annotations of a row as listed (when asked for)."""
        return formatted_values(entity_set, ENTITIES[entity_set].attribute_types(), doc,
                                self._name_of)

    def _name_of(self, entity_set: str, record_id: str, attribute: str) -> str | None:
        found = self.store.get(entity_set, str(record_id))
        return json.loads(found.doc).get(attribute) if found else None

    def _definitions(self, request: Request) -> Response:
        with_attributes = "Attributes" in (request.arg("$expand") or "")
        value = []
        for e in ENTITIES.values():
            item = {"LogicalName": e.logical, "EntitySetName": e.set,
                    "PrimaryIdAttribute": e.key, "ChangeTrackingEnabled": e.change_tracking,
                    "IsCustomEntity": e.custom}
            if with_attributes:
                item["Attributes"] = [{"LogicalName": a, "AttributeType": k,
                                       "IsValidForRead": True}
                                      for a, k in e.attribute_types().items()]
            value.append(item)
        return Response.json({"@odata.context": f"{request.base_url}{API}/$metadata#"
                                                "EntityDefinitions", "value": value})

    # -- mutations (the control API) -------------------------------------------------------

    def _touch(self, doc: dict) -> dict:
        doc["modifiedon"] = stamp(self.clock.stamp())
        version = int(str(doc.get("@odata.etag", 'W/"0"')).strip('W/"') or 0)
        doc["@odata.etag"] = f'W/"{version + 1}"'
        return doc

    def create(self, obj: str, fields: dict) -> dict:
        table = self.table(obj)
        rowids = self.store.select_rowids(table.name, order_by="rid DESC", limit=1)
        last = json.loads(self.store.fetch_docs(table.name, rowids)[0][0]) if rowids else {}
        doc = self._touch({**last, **fields, table.key: str(uuid.uuid4()), "statecode": 0})
        doc["createdon"] = doc["modifiedon"]
        return self.save(obj, doc)

    def update(self, obj: str, record_id: str, fields: dict) -> dict:
        doc, deleted = self.stored(obj, record_id)
        if deleted:
            raise KeyError(f"{obj} {record_id} is deleted")
        return self.save(obj, self._touch({**doc, **fields}))

    def delete(self, obj: str, record_id: str) -> None:
        """As Dataverse: the row is gone from every listing."""
        doc, _ = self.stored(obj, record_id)
        self.save(obj, self._touch(doc), deleted=True)

    def restore(self, obj: str, record_id: str) -> dict:
        doc, _ = self.stored(obj, record_id)
        return self.save(obj, self._touch(doc))

    def info(self) -> dict:
        return {**super().info(), "instance_url": self.base_url}
