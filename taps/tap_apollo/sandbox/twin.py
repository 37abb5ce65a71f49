"""`ApolloSandbox`: Apollo.io's REST API v1 as documented (docs.apollo.io/reference), declared on
the twin kit.

- Searches: `POST /api/v1/accounts/search`, `/contacts/search`, `/emailer_campaigns/search`
  and `GET /api/v1/users/search` (the older `/v1/...` paths too): `page` (from 1) and
  `per_page` (<= 100) in the JSON body or the query string; the answer's `pagination`
  `{page, per_page, total_entries, total_pages}` (contacts send `page` as a string, as Apollo
  sometimes does); at most 500 pages are displayed (50,000 records): a later page is a 422.
  Contacts and accounts sort by `sort_by_field` (`contact_created_at`, `contact_updated_at`,
  `account_created_at`, ...) with `sort_ascending` (default: most recent first).
  `GET /api/v1/email_accounts`: every mailbox, unpaged. No updated-since filter anywhere.
- Auth: the API key in the `X-Api-Key` header, or (deprecated) `api_key` in the query string
  or the JSON body. A bad key: 401 `{"error": ...}`.
- Rate limits, per team and per endpoint, in fixed minute, hour and day windows that open on
  the endpoint's first request (docs.apollo.io/reference/rate-limits; plan Professional by
  default: 200 / 400 / 2,000). Every answer but 401/403 carries `x-rate-limit-minute|hourly|
  24-hour`, `x-minute|hourly|24-hour-requests-left` and `x-minute|hourly|24-hour-usage`. A
  request over a window gets 429 with a plain-text body `The maximum number of api calls
  allowed for api/v1/<path> is N times per <minute|hour|day>. ...` and `Retry-After` (the
  window's rest); it is counted as a rate-limit violation (served and counted when the
  limits are not enforced).
"""

from __future__ import annotations

import json
import re
import secrets
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from tap_apollo.sandbox.data import PREFIX, ApolloWorld, stamp
from tenantsync.sandbox.server import Request, Response, Route
from tenantsync.sandbox.twinkit import ApiError, Resource, RestTwin, Table

_ID = re.compile(r'^\{"id":"([^"]+)"')  # a stored record's id (records are stored id first)
MAX_PAGES = 500  # Apollo displays at most 500 pages of a search
WINDOWS = (("minute", 60.0), ("hour", 3600.0), ("day", 86400.0))
HEADER = {"minute": "minute", "hour": "hourly", "day": "24-hour"}
# plan -> requests per (minute, hour, day), per endpoint (current plans)
PLANS = {"free": (50, 200, 600), "basic": (200, 400, 2_000),
         "professional": (200, 400, 2_000), "organization": (200, 600, 6_000)}


@dataclass
class _Fixed:
    opened: float = 0.0
    used: int = 0


class EndpointWindows:
    """Apollo's per-endpoint fixed windows (real monotonic time, like the accounting)."""

    def __init__(self, limits: tuple[int, int, int]):
        self.limits = dict(zip((w for w, _ in WINDOWS), limits, strict=True))
        self._windows: dict[tuple[str, str], _Fixed] = {}
        self._lock = threading.Lock()

    def charge(self, endpoint: str) -> tuple[str | None, dict[str, tuple[int, int]], float]:
        """Count a request: (the window it exceeds or None, {window: (used, limit)}, seconds
        until the exceeded window resets). A refused request is not charged."""
        now = time.monotonic()
        with self._lock:
            states = {}
            for name, length in WINDOWS:
                w = self._windows.setdefault((endpoint, name), _Fixed(now))
                if now - w.opened >= length:
                    w.opened, w.used = now, 0
                states[name] = (w, length)
            over = next((n for n, (w, _) in states.items() if w.used >= self.limits[n]), None)
            if over is None:
                for w, _ in states.values():
                    w.used += 1
            wait = states[over][1] - (now - states[over][0].opened) if over else 0.0
            return over, {n: (w.used, self.limits[n]) for n, (w, _) in states.items()}, wait

    def used(self) -> dict[str, dict[str, int]]:
        """endpoint -> {window: requests counted in its current window}."""
        out: dict[str, dict[str, int]] = {}
        with self._lock:
            for (endpoint, name), w in self._windows.items():
                out.setdefault(endpoint, {})[name] = w.used
        return out


def _envelope(key: str, page_as_text: bool = False) -> Callable[[Any, Mapping], dict]:
    def envelope(docs: Any, info: Mapping[str, Any]) -> dict:
        page = info.get("page", 1)
        return {"breadcrumbs": [], "partial_results_only": False, key: docs or [],
                "pagination": {"page": str(page) if page_as_text else page,
                               "per_page": info["limit"], "total_entries": info["total"],
                               "total_pages": -(-info["total"] // info["limit"])}}
    return envelope


def _unpaged(key: str) -> Callable[[Any, Mapping], dict]:
    return lambda docs, info: {key: docs or []}


def _column(name: str) -> Callable[[dict], Any]:
    return lambda doc: doc.get(name)


class ApolloSandbox(RestTwin):
    provider = "apollo"
    api_key_header = "X-Api-Key"
    api_key_param = "api_key"
    public_hosts = ("api.apollo.io",)
    tables = [Table(name, {"created_at": ("TEXT", _column("created_at")),
                           "updated_at": ("TEXT", _column("updated_at"))})
              for name in ("accounts", "contacts")] + [
        Table(name, {"created_at": ("TEXT", _column("created_at"))})
        for name in ("users", "emailer_campaigns", "email_accounts")]

    def __init__(self, *, plan: str = "professional", **kwargs: Any):
        super().__init__(**kwargs)
        self.plan = plan
        self.windows = EndpointWindows(PLANS[plan])
        self.data = ApolloWorld(self.world, self.seed)
        self.served: dict[str, set[str]] = {}  # table -> ids some answer has shown

    # -- declarations ----------------------------------------------------------------------

    def docs(self, table: str) -> Any:
        return getattr(self.data, table)()

    def resources(self) -> list[Resource]:
        def search(name: str, key: str, sorts: Mapping[str, str] = {}, **kwargs: Any):
            return Resource(f"{name}.search", rf"/(?:api/)?v1/{name}/search", name,
                            _envelope(key, **kwargs), paging="page", size_param="per_page",
                            default_size=25, max_size=100, position_param="page",
                            sort_param="sort_by_field", direction_param="sort_ascending",
                            sorts={"id": "rid", **sorts})
        return [search("accounts", "accounts", {"account_created_at": "created_at",
                                                "account_updated_at": "updated_at"}),
                search("contacts", "contacts", {"contact_created_at": "created_at",
                                                "contact_updated_at": "updated_at"},
                       page_as_text=True),
                search("users", "users"),
                search("emailer_campaigns", "emailer_campaigns"),
                Resource("email_accounts", r"/(?:api/)?v1/email_accounts", "email_accounts",
                         _unpaged("email_accounts"), paging="all")]

    def routes(self) -> list[Route]:
        """Searches answer POST (parameters in the JSON body) and GET (in the query)."""
        out = super().routes()
        return out + [Route("POST", r.pattern, self._with_body(r.handler), r.name)
                      for r in out if r.name.endswith(".search")]

    def _with_body(self, handler: Callable[[Request], Response]):
        """A search: its JSON body's parameters read like query parameters
        (`sort_ascending` true/false as the kit's asc/desc)."""
        def handle(request: Request) -> Response:
            body = request.json() or {}
            if not isinstance(body, dict):
                return self.error(422, "The request body must be a JSON object")
            query = dict(request.query)
            for name, value in body.items():
                if isinstance(value, bool):
                    value = str(value).lower()
                if isinstance(value, str | int | float):
                    query[name] = [str(value)]
            if "sort_by_field" in query:
                query["sort_ascending"] = ["asc" if (query.get("sort_ascending") or [""])[0]
                                           in ("true", "asc") else "desc"]
            else:
                query.pop("sort_ascending", None)
            request.query = query
            return handler(request)
        return handle

    def list_page(self, resource: Resource, request: Request) -> tuple[list[str], dict]:
        if resource.paging == "page":
            page = self._int("page", request.arg("page", "1"), minimum=1)
            if page > MAX_PAGES:
                raise ApiError(422, f"You can only view up to {MAX_PAGES} pages of results "
                                    f"(page {page} requested). Narrow the search with filters.")
        docs, info = super().list_page(resource, request)
        shown = self.served.setdefault(resource.table, set())
        shown.update(m.group(1) for m in map(_ID.match, docs) if m)
        where, args = resource.visible(request)
        info["total"] = self.store.count(resource.table, where, args)
        return docs, info

    def error(self, status: int, message: str) -> Response:
        return Response.json({"error": message, "error_code": _CODES.get(status, "ERROR")},
                             status)

    def credential(self, request: Request) -> tuple[str | None, str]:
        token, kind = super().credential(request)
        if token is None and request.method == "POST" and request.body:
            try:
                body = json.loads(request.body)
            except ValueError:
                body = None
            if isinstance(body, dict) and isinstance(body.get("api_key"), str):
                return body["api_key"], "api_key"
        return token, kind

    def before(self, request: Request) -> Response | None:
        token, kind = self.credential(request)
        if kind != "api_key" or token not in self.api_keys:
            return self.error(401, "Invalid access credentials.")
        endpoint = request.route.name if request.route else request.path
        over, usage, wait = self.windows.charge(endpoint)
        request.state["usage"] = usage
        if over is None:
            self.accounting.use_quota(1)
            return None
        limit = self.windows.limits[over]
        self.accounting.violation(f"{request.path}: over {limit} requests per {over} "
                                  "for this endpoint")
        if not self.enforce_rate_limit and over == "minute":
            self.accounting.use_quota(1)
            return None
        return self._over(request.path, over, limit, wait)

    def _over(self, path: str, window: str, limit: int, wait: float) -> Response:
        text = (f"The maximum number of api calls allowed for {path.lstrip('/')} is {limit} "
                f"times per {window}. Please upgrade your plan from "
                "https://app.apollo.io/#/settings/plans/upgrade.")
        return Response(429, text, content_type="text/plain; charset=utf-8",
                        headers={"Retry-After": str(max(1, round(wait)))})

    def rate_limited(self, daily: bool, reset: float) -> Response:
        # an injected 429 (fault storm): the minute window's
        return self._over("api/v1/search", "minute", self.windows.limits["minute"], reset)

    def after(self, request: Request, response: Response) -> None:
        if response.status in (401, 403):
            return
        usage = request.state.get("usage")
        if usage is None:  # answered before `before` (an injected fault)
            usage = {name: (limit, limit) if response.status == 429 else (0, limit)
                     for name, limit in self.windows.limits.items()}
        for window, (used, limit) in usage.items():
            h = HEADER[window]
            response.headers[f"x-rate-limit-{h}"] = str(limit)
            response.headers[f"x-{h}-requests-left"] = str(max(0, limit - used))
            response.headers[f"x-{h}-usage"] = str(used)
        if response.status == 429 and "Retry-After" not in response.headers:
            response.headers["Retry-After"] = "1"

    def mint_api_key(self) -> str:
        key = secrets.token_urlsafe(16)
        self.api_keys.add(key)
        return key

    def info(self) -> dict:
        return {**super().info(), "plan": self.plan, "usage": self.windows.used()}

    # -- mutations (the control API) -------------------------------------------------------

    def create(self, obj: str, fields: dict) -> dict:
        table = self.table(obj).name
        rowids = self.store.select_rowids(table, order_by="rid DESC", limit=1)
        last = json.loads(self.store.fetch_docs(table, rowids)[0][0]) if rowids else {}
        number = int(str(last.get("id") or "0" * 24)[8:], 16) + 1 if last else 0
        now = stamp(self.clock.stamp())
        doc = {**last, **fields, "id": f"{PREFIX[table]}{self.seed & 0xFFFFFF:06x}"
                                       f"{number:016x}", "created_at": now}
        if "updated_at" in last or table in ("contacts", "accounts"):
            doc["updated_at"] = now
        if table == "contacts":
            doc["contact_campaign_statuses"] = []
        return self.save(table, doc)

    def update(self, obj: str, record_id: str, fields: dict) -> dict:
        doc, deleted = self.stored(obj, record_id)
        if deleted:
            raise KeyError(f"{obj} {record_id} is deleted")
        doc.update(fields)
        if "updated_at" in doc:
            doc["updated_at"] = stamp(self.clock.stamp())
        return self.save(obj, doc)

    def delete(self, obj: str, record_id: str) -> None:
        """As in Apollo: a deleted record leaves every search (nothing marks it). (`served`
        says whether any client can have seen it.)"""
        doc, _ = self.stored(obj, record_id)
        self.save(obj, doc, deleted=True)

    def restore(self, obj: str, record_id: str) -> dict:
        doc, _ = self.stored(obj, record_id)
        return self.save(obj, doc)


_CODES = {400: "BAD_REQUEST", 401: "INVALID_API_KEY", 404: "NOT_FOUND",
          422: "UNPROCESSABLE_ENTITY", 500: "INTERNAL_ERROR"}
