"""`PipedriveSandbox`: Pipedrive's API v1 and v2 as documented (developers.pipedrive.com),
declared on the twin kit.

- v2 lists (`/api/v2/deals|persons|organizations|activities|products`): cursor paging
  (`limit` <= 500, `cursor`), `updated_since` (>=) / `updated_until` (<), `sort_by`
  id|update_time|add_time with `sort_direction`; deleted deals only with `status` naming
  `deleted`, and only those deleted in the last 30 days; other deleted records are not listed.
- v1 lists (`/v1/notes|leads|pipelines|stages|users`, `/v1/{entity}Fields`): `start` / `limit`
  (<= 500) with `additional_data.pagination`; users and pipelines are not paged; archived
  leads are left out.
- Auth: OAuth bearer tokens (`POST /oauth/token` with HTTP Basic client credentials; the
  response names the `api_domain`), or an API token (`x-api-token` header or `api_token`
  parameter). Errors: `{"success": false, "error", "errorCode", "error_info"}`.
- Rate limits: a burst window per token (2 s) and a daily token budget, each request costing
  tokens (list 20, v2 list 10, single record 2, change 10; core-api-concepts-rate-limiting);
  `x-ratelimit-limit|remaining|reset` on every response; 429 `Request over limit`.
"""

from __future__ import annotations

import json
import secrets
import uuid
from datetime import datetime, timedelta, timezone
from typing import Any

from tap_pipedrive.sandbox.data import (
    STANDARD_FIELDS,
    PipedriveWorld,
    fields_of,
    v1_time,
    v2_time,
)
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

DELETED_DEALS_DAYS = 30
V2 = ("deals", "persons", "organizations", "activities", "products")
V1 = ("notes", "leads", "pipelines", "stages", "users")
ENTITY = {"deals": "deal", "persons": "person", "organizations": "organization",
          "activities": "activity", "products": "product", "notes": "note"}
FIELDS_ENDPOINTS = {f"{e}Fields": e for e in ENTITY.values()}
COSTS = {"v2": 10, "v1": 20, "one": 2, "change": 10}


def _rfc3339(value: str) -> str:
    """An `updated_since` value as stored (`YYYY-MM-DDTHH:MM:SSZ`); a ValueError otherwise."""
    moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    if moment.tzinfo is None:
        raise ValueError("RFC 3339 needs an offset")
    return v2_time(moment.astimezone(timezone.utc))


def _v2_envelope(docs: list[dict], info: dict) -> dict:
    return {"success": True, "data": docs,
            "additional_data": {"next_cursor": info.get("next_cursor")}}


def _v1_envelope(docs: list[dict], info: dict) -> dict:
    pagination = {"start": info.get("start", 0), "limit": info.get("limit"),
                  "more_items_in_collection": info["more"]}
    if info["more"]:
        pagination["next_start"] = info["next_start"]
    return {"success": True, "data": docs or None,
            "additional_data": {"pagination": pagination}}


def _unpaged(docs: list[dict], info: dict) -> dict:
    return {"success": True, "data": docs}


def _updated(doc: dict) -> str | None:
    return doc.get("update_time")


def _status(doc: dict) -> str | None:
    return doc.get("status")


class PipedriveSandbox(RestTwin):
    provider = "pipedrive"
    api_key_header = "x-api-token"
    api_key_param = "api_token"
    public_hosts = ("api.pipedrive.com",)  # clients that hard-code it: tenantsync.sandbox.proxy
    access_lifetime = timedelta(seconds=3599)
    # Professional plan, OAuth: 320 requests per 2 s; budget 30,000 x plan multiplier x seats
    limits = Limits(burst=320, window=2.0, daily_budget=30_000 * 4 * 10)
    tables = [Table(name, {"update_time": ("TEXT", _updated)}) for name in
              ("persons", "organizations", "activities", "products", "notes", "leads")] + [
        Table("deals", {"update_time": ("TEXT", _updated), "status": ("TEXT", _status)}),
        Table("pipelines"), Table("stages"), Table("users")]

    def __init__(self, **kwargs: Any):
        super().__init__(**kwargs)
        self.data = PipedriveWorld(self.world, self.seed)
        self.oauth_api = OAuthEndpoints("/oauth/authorize", "/oauth/token",
                                        adds=lambda sb: {"api_domain": sb.base_url})

    # -- declarations ----------------------------------------------------------------------

    def docs(self, table: str) -> Any:
        return getattr(self.data, table)()

    def resources(self) -> list[Resource]:
        v2 = [Resource(f"v2.{name}", f"/api/v2/{name}", name, _v2_envelope, paging="cursor",
                       position_param="cursor", filters=(
                           Filter("updated_since", "update_time", ">=", _rfc3339),
                           Filter("updated_until", "update_time", "<", _rfc3339)),
                       sort_param="sort_by", direction_param="sort_direction",
                       sorts={"id": "rid", "update_time": "update_time", "add_time": "rid"},
                       cost=COSTS["v2"], **({"visible": self._deals_visible}
                                            if name == "deals" else {})) for name in V2]
        v1 = [Resource(f"v1.{name}", f"/v1/{name}", name, _v1_envelope, cost=COSTS["v1"],
                       sort_param="sort", sorts={"id": "rid", "id ASC": "rid",
                                                 "update_time ASC": "update_time"})
              for name in ("notes", "leads", "stages")]
        whole = [Resource(f"v1.{name}", f"/v1/{name}", name, _unpaged, paging="all",
                          cost=COSTS["v1"]) for name in ("pipelines", "users")]
        return [*v2, *v1, *whole]

    def extra_routes(self) -> list[Route]:
        return [*self.oauth_api.routes(self),
                Route("GET", r"/v1/(?P<entity>[a-z]+Fields)", self._fields, "v1.fields")]

    def cost(self, request: Request) -> int:
        route = request.route.name if request.route else ""
        return COSTS["v2"] if route.startswith("v2.") else COSTS["v1"]

    def error(self, status: int, message: str) -> Response:
        response = Response.json({"success": False, "error": message, "errorCode": status,
                                  "error_info": "Please check developers.pipedrive.com"},
                                 status)
        if status == 401:
            response.headers["x-401-by-gw"] = "true"
        return response

    def rate_limited(self, daily: bool, reset: float) -> Response:
        message = ("Daily token budget exceeded" if daily else "Request over limit")
        return self.error(429, message)

    def new_token(self, kind: str) -> str:
        if kind in ("access", "refresh"):  # Pipedrive tokens: "<company>:<user>:<secret>"
            return f"13371:1000:{secrets.token_hex(20)}"
        return super().new_token(kind)

    def mint_api_token(self) -> str:
        token = secrets.token_hex(20)
        self.api_keys.add(token)
        return token

    def _deals_visible(self, request: Request) -> tuple[str, list]:
        wanted = [s for s in (request.arg("status") or "open,won,lost").split(",") if s]
        unknown = set(wanted) - {"open", "won", "lost", "deleted"}
        if unknown:
            raise ApiError(400, f"Invalid value for parameter status: {sorted(unknown)}")
        live = [s for s in wanted if s != "deleted"]
        clauses, args = [], []
        if live:
            clauses.append(f"(deleted = 0 AND status IN ({','.join('?' * len(live))}))")
            args += live
        if "deleted" in wanted:
            clauses.append("(deleted = 1 AND update_time >= ?)")
            args.append(v2_time(self.clock.now() - timedelta(days=DELETED_DEALS_DAYS)))
        return " OR ".join(clauses) or "0", args

    def _fields(self, request: Request) -> Response:
        entity = FIELDS_ENDPOINTS.get(request.params["entity"])
        if entity is None:
            return self.not_found(request)
        return Response.json({"success": True, "data": fields_of(
            self.seed, entity, STANDARD_FIELDS[entity]), "additional_data": {"pagination": {
                "start": 0, "limit": 500, "more_items_in_collection": False}}})

    # -- mutations (the control API) -------------------------------------------------------

    def _now(self, table: str) -> str:
        moment = self.clock.stamp()
        if table in ("notes", "pipelines", "stages"):
            return v1_time(moment)
        stamp = v2_time(moment)
        return stamp.replace("Z", ".000Z") if table == "leads" else stamp

    def create(self, obj: str, fields: dict) -> dict:
        table = self.table(obj).name
        if table == "users":
            raise NotImplementedError("users are managed in Pipedrive's settings")
        rowids = self.store.select_rowids(table, order_by="rid DESC", limit=1)
        last = json.loads(self.store.fetch_docs(table, rowids)[0][0]) if rowids else None
        now = self._now(table)
        doc = {**(dict(last) if last else {}), **fields, "add_time": now, "update_time": now}
        doc["id"] = (str(uuid.uuid4()) if table == "leads"
                     else max(int(last["id"]) if last else 0, 0) + 1)
        if "is_deleted" in doc:
            doc["is_deleted"] = False
        if table == "deals":
            doc.setdefault("status", "open")
        return self.save(table, doc)

    def update(self, obj: str, record_id: str, fields: dict) -> dict:
        doc, deleted = self.stored(obj, record_id)
        if deleted:
            raise KeyError(f"{obj} {record_id} is deleted")
        doc.update(fields)
        doc["update_time" if obj != "users" else "modified"] = self._now(obj)
        return self.save(obj, doc)

    def delete(self, obj: str, record_id: str) -> None:
        """As Pipedrive: the record leaves the lists (deals stay listable with
        status=deleted for 30 days, with is_deleted true); leads are archived."""
        if obj in ("users", "pipelines", "stages"):
            raise NotImplementedError(f"{obj} are not deleted through this twin")
        doc, _ = self.stored(obj, record_id)
        doc["update_time"] = self._now(obj)
        if obj == "leads":
            doc["is_archived"] = True
        elif obj == "notes":
            doc["active_flag"] = False
        else:
            doc["is_deleted"] = True
        self.save(obj, doc, deleted=True)

    def restore(self, obj: str, record_id: str) -> dict:
        doc, _ = self.stored(obj, record_id)
        doc["update_time"] = self._now(obj)
        for flag, live in (("is_deleted", False), ("is_archived", False), ("active_flag", True)):
            if flag in doc:
                doc[flag] = live
        return self.save(obj, doc)

    def info(self) -> dict:
        return {**super().info(), "api_domain": self.base_url}
