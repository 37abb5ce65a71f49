"""`SalesloftSandbox`: Salesloft's API v2 as documented (developers.salesloft.com), declared
on the twin kit.

- Lists `/v2/{people,accounts,users,cadences,cadence_memberships,steps}` (and `.json`):
  `page` / `per_page` (default 25, at most 100; more is a 400), `metadata.paging` with
  `next_page` (null on the last page); `sort_by` (`updated_at` by default, users `id`) and
  `sort_direction` ASC|DESC (default DESC); `updated_at[gt|gte|lt|lte]` at microsecond
  precision (users have none).
- Deletes are hard (no deleted feed); cadences carry `archived_at`.
- Auth: OAuth 2 (`/oauth/authorize`, `/oauth/token` as on accounts.salesloft.com).
- Errors `{"error": ...}`; the team's cost limit: 600 per minute for the whole team, deep pages
  priced (page 101-150: 3, 151-250: 8, 251-500: 10, 501 on: 30), `x-ratelimit-endpoint-cost`
  and `x-ratelimit-remaining-minute` on every response; 429 `{"error": "API rate limit
  exceeded"}` with `Retry-After`.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

from tap_salesloft.sandbox.data import SalesloftWorld, stamp
from tenantsync.sandbox.server import Request, Response, Route
from tenantsync.sandbox.twinkit import (
    Filter,
    Limits,
    OAuthEndpoints,
    Resource,
    RestTwin,
    Table,
)

OBJECTS = ("people", "accounts", "users", "cadences", "cadence_memberships", "steps")
DEEP_PAGES = ((500, 30), (250, 10), (150, 8), (100, 3))  # beyond page N: cost


def page_cost(request: Request) -> int:
    """What a listing request costs in the team's minute (deep pages cost more)."""
    try:
        page = int(request.arg("page") or 1)
    except ValueError:
        return 1
    return next((cost for beyond, cost in DEEP_PAGES if page > beyond), 1)


def _updated(doc: dict) -> str:
    return doc["updated_at"]


def _microseconds(value: str) -> str:
    moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    if moment.tzinfo is None:
        raise ValueError("ISO 8601 needs an offset")
    return stamp(moment.astimezone(timezone.utc))


def _envelope(docs: Any, info: dict) -> dict:
    page = info.get("page", 1)
    return {"metadata": {"filtering": {}, "sorting": {}, "paging": {
        "per_page": info["limit"], "current_page": page,
        "next_page": info.get("next_page"), "prev_page": page - 1 if page > 1 else None}},
        "data": docs}


class SalesloftSandbox(RestTwin):
    provider = "salesloft"
    public_hosts = ("api.salesloft.com", "accounts.salesloft.com")
    access_lifetime = timedelta(hours=2)
    limits = Limits(burst=600, window=60.0, per_token=False,
                    limit_header="x-ratelimit-limit-per-minute",
                    remaining_header="x-ratelimit-remaining-minute", reset_header=None)
    tables = [Table(name, {"updated_at": ("TEXT", _updated)}) for name in OBJECTS]

    def __init__(self, **kwargs: Any):
        super().__init__(**kwargs)
        self.data = SalesloftWorld(self.world)
        self.oauth_api = OAuthEndpoints("/oauth/authorize", "/oauth/token",
                                        lifetime_seconds=7200)

    def docs(self, table: str) -> Any:
        return getattr(self.data, table)()

    def resources(self) -> list[Resource]:
        out = []
        for name in OBJECTS:
            filters = () if name == "users" else tuple(
                Filter(f"updated_at[{op}]", "updated_at", sql, _microseconds)
                for op, sql in (("gt", ">"), ("gte", ">="), ("lt", "<"), ("lte", "<=")))
            out.append(Resource(
                name, rf"/v2/{name}(?:\.json)?", name, _envelope, paging="page",
                size_param="per_page", default_size=25, max_size=100, position_param="page",
                filters=filters, sort_param="sort_by", direction_param="sort_direction",
                sorts={"id": "rid", "created_at": "rid", "updated_at": "updated_at"},
                default_sort="id" if name == "users" else "updated_at",
                default_direction="desc"))
        return out

    def extra_routes(self) -> list[Route]:
        return self.oauth_api.routes(self)

    def burst_cost(self, request: Request) -> int:
        return page_cost(request)

    def error(self, status: int, message: str) -> Response:
        return Response.json({"error": message}, status)

    def rate_limited(self, daily: bool, reset: float) -> Response:
        return self.error(429, "API rate limit exceeded")

    def after(self, request: Request, response: Response) -> None:
        super().after(request, response)
        response.headers["x-ratelimit-endpoint-cost"] = str(page_cost(request))

    # -- mutations (the control API) -------------------------------------------------------

    def create(self, obj: str, fields: dict) -> dict:
        import json

        table = self.table(obj).name
        rowids = self.store.select_rowids(table, order_by="rid DESC", limit=1)
        last = json.loads(self.store.fetch_docs(table, rowids)[0][0])
        now = stamp(self.clock.stamp())
        return self.save(table, {**last, **fields, "id": int(last["id"]) + 1,
                                 "created_at": now, "updated_at": now})

    def update(self, obj: str, record_id: str, fields: dict) -> dict:
        doc, deleted = self.stored(obj, record_id)
        if deleted:
            raise KeyError(f"{obj} {record_id} is deleted")
        doc.update(fields)
        doc["updated_at"] = stamp(self.clock.stamp())
        return self.save(obj, doc)

    def delete(self, obj: str, record_id: str) -> None:
        """Salesloft deletes for good: the record leaves every list."""
        doc, _ = self.stored(obj, record_id)
        doc["updated_at"] = stamp(self.clock.stamp())
        self.save(obj, doc, deleted=True)
