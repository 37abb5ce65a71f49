"""`IntercomSandbox`: Intercom's REST API 2.x as documented (developers.intercom.com), on the
twin kit.

- `POST /contacts/search`, `POST /conversations/search`: a query of `{field, operator, value}`
  leaves and AND / OR groups (at most 2 levels, 15 per group; operators = != > < IN NIN),
  timestamps compared as dates (so `updated_at > T` leaves out the rest of T's day), `sort`
  by a field, `pagination {per_page <= 150, starting_after}`, `pages.next.starting_after`
  while more pages follow.
- `GET /companies/scroll`: one open scroll per workspace (a second one: 400 `scroll_exists`);
  each page names the `scroll_param` of the next (a param sent again serves its page again);
  a scroll idle for a minute expires (its params: 404); it ends with an empty page.
- `GET /tags` (an empty list), `GET /admins` (one page), `GET /articles` (`page` /
  `per_page`, `pages.next` a URL).
- Auth: bearer access tokens that never expire, from the OAuth install (`/oauth` consent,
  `POST /auth/eagle/token` with code, client_id, client_secret; no refresh token) or a
  private app. `Intercom-Version` checked. Errors `{"type": "error.list", "request_id",
  "errors": [{"code", "message"}]}`. `X-RateLimit-Limit|Remaining|Reset` (epoch seconds) on
  every response: a private app's 10,000 calls a minute, counted in 10-second windows.
"""

from __future__ import annotations

import secrets
import threading
import time
import uuid
from typing import Any

from tap_intercom.sandbox.data import IntercomWorld, contact_id, epoch
from tenantsync.sandbox.oauth import OAuthError
from tenantsync.sandbox.server import Request, Response, Route
from tenantsync.sandbox.twinkit import (
    ApiError,
    Limits,
    OAuthEndpoints,
    Resource,
    RestTwin,
    Table,
    decode_cursor,
    encode_cursor,
)

VERSIONS = ("1.0", "1.1", "1.2", "1.3", "1.4", "2.0", "2.1", "2.2", "2.3", "2.4", "2.5", "2.6",
            "2.7", "2.8", "2.9", "2.10", "2.11", "2.12", "2.13", "2.14", "Unstable")
MAX_PER_PAGE, SCROLL_PAGE, DAY = 150, 50, 86_400
OPERATORS = {"=": "=", "!=": "!=", ">": ">", "<": "<", "IN": "IN", "NIN": "NOT IN"}
TIMES = ("created_at", "updated_at")
CODES = {400: "parameter_invalid", 401: "unauthorized", 403: "forbidden", 404: "not_found",
         429: "rate_limit_exceeded", 500: "server_error", 503: "service_unavailable"}


class _BadQuery(ApiError):
    def __init__(self, message: str):
        super().__init__(400, message)


def _updated(doc: dict) -> Any:
    return doc.get("updated_at")


def _created(doc: dict) -> Any:
    return doc.get("created_at")


def _where(query: Any, depth: int = 0) -> tuple[str, list]:
    """An Intercom search query as SQL over the promoted columns (times as dates)."""
    if not isinstance(query, dict):
        raise _BadQuery("query must be an object")
    op = query.get("operator")
    if op in ("AND", "OR"):
        parts = query.get("value")
        if depth >= 2:
            raise _BadQuery("queries nest at most 2 levels")
        if not isinstance(parts, list) or not 1 <= len(parts) <= 15:
            raise _BadQuery(f"{op} takes 1 to 15 filters")
        clauses = [_where(p, depth + 1) for p in parts]
        return (f"({f' {op} '.join(c for c, _ in clauses)})",
                [a for _, args in clauses for a in args])
    field, value = query.get("field"), query.get("value")
    if op not in OPERATORS:
        raise _BadQuery(f"operator {op!r} is not one of {', '.join(OPERATORS)}, AND, OR")
    if field not in (*TIMES, "id"):
        raise _BadQuery(f"field {field!r} cannot be searched in this twin")
    values = value if op in ("IN", "NIN") else [value]
    if not isinstance(values, list) or not values:
        raise _BadQuery(f"{op} needs a list of values")
    if field in TIMES:
        # epoch seconds; a JSON number with a fraction is taken too (singer-io tap-intercom
        # sends Python's datetime.timestamp(), a float, and works against Intercom)
        if not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values):
            raise _BadQuery(f"{field} takes epoch seconds")
        column, values = f'("{field}" / {DAY})', [int(v) // DAY for v in values]
    else:
        column, values = "id", [str(v) for v in values]
    if op in ("IN", "NIN"):
        return f"{column} {OPERATORS[op]} ({','.join('?' * len(values))})", values
    return f"{column} {OPERATORS[op]} ?", values


class IntercomSandbox(RestTwin):
    provider = "intercom"
    public_hosts = ("api.intercom.io",)
    limits = Limits(burst=10_000 // 6, window=10.0, limit_header="X-RateLimit-Limit",
                    remaining_header="X-RateLimit-Remaining", reset_header="X-RateLimit-Reset")
    tables = [Table("admins"), Table("articles", {"updated_at": ("INTEGER", _updated)}),
              *(Table(name, {"updated_at": ("INTEGER", _updated),
                             "created_at": ("INTEGER", _created)})
                for name in ("companies", "contacts", "conversations"))]
    SEARCHES = {"contacts": ("list", "data"), "conversations": ("conversation.list",
                                                                "conversations")}

    def __init__(self, *, scroll_ttl: float = 60.0, **kwargs: Any):
        super().__init__(**kwargs)
        self.data = IntercomWorld(self.world)
        self.oauth_api = OAuthEndpoints("/oauth", "/auth/eagle/token")
        self.scroll_ttl = scroll_ttl
        self._scroll: dict[str, Any] | None = None  # the open scroll: params, last use
        self._scroll_lock = threading.Lock()
        self.served: set[str] = set()  # companies served (a deleted one is then flagged)

    def docs(self, table: str) -> Any:
        return getattr(self.data, table)()

    # -- declarations ----------------------------------------------------------------------

    def resources(self) -> list[Resource]:
        def articles(page: Any, info: dict) -> dict:
            pages = {"type": "pages", "page": info["page"], "per_page": info["limit"]}
            if info["more"]:
                pages["next"] = (f"{self.base_url}/articles?page={info['next_page']}"
                                 f"&per_page={info['limit']}")
            return {"type": "list", "pages": pages, "data": page or []}
        return [Resource("articles", "/articles", "articles", articles, paging="page",
                         size_param="per_page", position_param="page", default_size=50,
                         max_size=MAX_PER_PAGE),
                Resource("admins", "/admins", "admins", lambda page, info: {
                    "type": "admin.list", "admins": page or []}, paging="all")]

    def extra_routes(self) -> list[Route]:
        return [*self.oauth_api.routes(self)[:2],  # the consent page
                Route("POST", r"/auth/eagle/token", self._token, "oauth.token", public=True),
                Route("GET", r"/companies/scroll", self._scroll_page, "companies.scroll"),
                # the workspace's tags (none are made): clients such as singer-io
                # tap-intercom read them first to check their token
                Route("GET", r"/tags", lambda request: Response.json(
                    {"type": "list", "data": []}), "tags"),
                *(Route("POST", rf"/{name}/search", self._searcher(name), f"{name}.search")
                  for name in self.SEARCHES)]

    def credential(self, request: Request) -> tuple[str | None, str]:
        token = request.bearer()
        return (token, "api_key") if token else (None, "")  # tokens never expire

    def mint_token(self) -> str:
        """An access token as an app install or a private app gets one (it never expires)."""
        token = "dG9rOj" + secrets.token_urlsafe(40)
        self.api_keys.add(token)
        return token

    def before(self, request: Request) -> Response | None:
        early = super().before(request)
        version = request.headers.get("Intercom-Version")
        if early is None and version is not None and version not in VERSIONS:
            return self.error(400, f"Requested version {version!r} does not exist",
                              "intercom_version_invalid")
        return early

    def after(self, request: Request, response: Response) -> None:
        super().after(request, response)
        reset = response.headers.get("X-RateLimit-Reset")
        if reset is not None:  # Intercom's reset is the window's end in epoch seconds
            response.headers["X-RateLimit-Reset"] = str(int(time.time()) + int(reset))

    def error(self, status: int, message: str, code: str | None = None) -> Response:
        return Response.json({"type": "error.list", "request_id": str(uuid.uuid4()),
                              "errors": [{"code": code or CODES.get(status, "error"),
                                          "message": message}]}, status)

    def rate_limited(self, daily: bool, reset: float) -> Response:
        return self.error(429, "Too many requests")

    # -- OAuth: a code for a token that never expires --------------------------------------

    def _token(self, request: Request) -> Response:
        form = request.form()
        try:
            self.oauth.exchange_code(form.get("client_id"), form.get("client_secret"),
                                     form.get("code"), None)
        except OAuthError as exc:
            return self.error(401 if exc.reason == "invalid_client" else 400, str(exc),
                              exc.reason)
        token = self.mint_token()
        return Response.json({"type": "oauth_token", "token": token, "access_token": token,
                              "token_type": "Bearer"})

    # -- search ----------------------------------------------------------------------------

    def _searcher(self, table: str):
        kind, key = self.SEARCHES[table]

        def handle(request: Request) -> Response:
            try:
                return self._search(table, kind, key, request.json())
            except ApiError as exc:
                return self.error(exc.status, exc.message)
        return handle

    def _search(self, table: str, kind: str, key: str, body: Any) -> Response:
        if not isinstance(body, dict) or "query" not in body:
            raise _BadQuery("the body needs a query")
        where, args = _where(body["query"])
        clauses, args = ["deleted = 0", where], list(args)
        sort = body.get("sort") or {"field": "created_at", "order": "descending"}
        column = sort.get("field")
        if column not in (*TIMES, "id") or sort.get("order") not in ("ascending",
                                                                      "descending"):
            raise _BadQuery(f"sort {sort!r}: field one of created_at, updated_at, id; order "
                            "ascending or descending")
        column = "rid" if column == "id" else f'"{column}"'
        pagination = body.get("pagination") or {}
        per_page = pagination.get("per_page", 50)
        if not isinstance(per_page, int) or not 1 <= per_page <= MAX_PER_PAGE:
            raise _BadQuery(f"per_page must be 1 to {MAX_PER_PAGE}; got {per_page!r}")
        total = self.store.count(table, " AND ".join(clauses), args)
        page, cmp = 1, "<" if sort["order"] == "descending" else ">"
        if pagination.get("starting_after"):
            try:
                (after, page), rid = decode_cursor(str(pagination["starting_after"]))
            except (ValueError, TypeError):
                raise _BadQuery("starting_after is not valid") from None
            clauses.append(f"({column} {cmp} ? OR ({column} = ? AND rid {cmp} ?))"
                           if column != "rid" else f"rid {cmp} ?")
            args += [after, after, rid] if column != "rid" else [rid]
        direction = "DESC" if cmp == "<" else "ASC"
        order = f"{column} {direction}" + (f", rid {direction}" if column != "rid" else "")
        rowids = self.store.select_rowids(table, " AND ".join(clauses), args, order_by=order,
                                          limit=per_page + 1)
        rows = self.store.fetch_docs(table, rowids[:per_page],
                                     extra=("rid", column.strip('"')))
        pages = {"type": "pages", "page": page, "per_page": per_page,
                 "total_pages": -(-total // per_page)}
        if len(rowids) > per_page:
            pages["next"] = {"page": page + 1, "starting_after": encode_cursor(
                [rows[-1][2], page + 1], rows[-1][1])}
        return self._page({"type": kind, "total_count": total, "pages": pages}, key,
                          [r[0] for r in rows])

    @staticmethod
    def _page(envelope: dict, key: str, docs: list[str]) -> Response:
        head = Response.json(envelope).body_bytes()[:-1]
        return Response(body=[head, f',"{key}":['.encode(), ",".join(docs).encode(), b"]}"],
                        records=len(docs))

    # -- the scroll API --------------------------------------------------------------------

    def _scroll_page(self, request: Request) -> Response:
        param = request.arg("scroll_param")
        now = time.monotonic()
        with self._scroll_lock:
            scroll = self._scroll
            if scroll is not None and now - scroll["used"] > self.scroll_ttl:
                scroll = self._scroll = None  # idle too long: expired
            if not param:
                if scroll is not None:
                    return self.error(400, "scroll already exists for this workspace. Please "
                                      "ensure to use the scroll parameter from the initial "
                                      "request", "scroll_exists")
                scroll = self._scroll = {"params": {}, "used": now}
                after = 0
            elif scroll is None or param not in scroll["params"]:
                return self.error(404, "scroll parameter not found (expired or finished)")
            else:
                after = scroll["params"][param]
            scroll["used"] = now
            rowids = self.store.select_rowids("companies", "deleted = 0 AND rid > ?", [after],
                                              order_by="rid ASC", limit=SCROLL_PAGE)
            rows = self.store.fetch_docs("companies", rowids, extra=("rid", "id"))
            following = str(uuid.uuid4())
            if rows:
                scroll["params"][following] = rows[-1][1]
                self.served.update(r[2] for r in rows)
            else:
                self._scroll = None  # the end: the scroll and its params expire
        return self._page({"type": "list", "pages": None, "total_count": None,
                           "scroll_param": following}, "data", [r[0] for r in rows])

    # -- mutations (the control API) -------------------------------------------------------

    def create(self, obj: str, fields: dict) -> dict:
        """A contact signing up (modeled on an existing one)."""
        if obj != "contacts":
            raise NotImplementedError("this twin creates contacts")
        n = self.store.count("contacts")
        template, _ = self.all_records("contacts")[0]
        now = epoch(self.clock.stamp())
        cid = contact_id(self.world.counts["contact"] + n)
        doc = {**template, "id": cid, "external_id": f"user-new-{n}", "created_at": now,
               "updated_at": now, "signed_up_at": now, "last_seen_at": now, **fields}
        return self.save("contacts", doc)

    def update(self, obj: str, record_id: str, fields: dict) -> dict:
        doc, deleted = self.stored(obj, record_id)
        if deleted:
            raise KeyError(f"{obj} {record_id} is deleted")
        doc.update(fields)
        doc["updated_at"] = epoch(self.clock.stamp())
        return self.save(obj, doc)

    def delete(self, obj: str, record_id: str) -> None:
        """The record leaves every listing (Intercom keeps no deleted feed)."""
        doc, _ = self.stored(obj, record_id)
        self.save(obj, doc, deleted=True)
