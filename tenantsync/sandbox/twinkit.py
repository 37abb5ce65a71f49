"""The twin kit: a REST provider's twin declared from a table of resources.

A twin subclasses `RestTwin` and declares
- `tables`: per store table, its promoted columns and how each is read from a record
  (`Table`); records are the provider's JSON, stored as sent;
- `resources`: per listing endpoint, its path, store table, paging (`offset`, `cursor`
  (keyset, opaque), `page` or `all`), page-size parameter, default and maximum, the filters
  and sorts it accepts, which stored rows it shows (`visible`), the body around a page
  (`envelope`) and its rate-limit cost;
- `error(status, message)`: the provider's error envelope; `auth`: how requests carry
  credentials (OAuth bearer tokens of the framework's registry, and/or API keys in a header or
  query parameter);
- `limits`: the burst window per token (violations counted in the accounting), the
  daily budget in the provider's units, and the rate-limit header names.

The kit answers as an API documents, not as a client expects: an oversized page, an unknown
sort or a malformed filter value gets the provider's 400; a request over the burst window or
the daily budget gets the provider's 429 (with `enforce_rate_limit`; otherwise it is served
and counted as a violation); every response carries the rate-limit headers; the budget spent
is the accounting's quota.
"""

from __future__ import annotations

import base64
import html
import json
import threading
import time
from collections import defaultdict, deque
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from tenantsync.sandbox.oauth import OAuthError
from tenantsync.sandbox.server import Request, Response, Route, Sandbox

Doc = dict[str, Any]


_PAGE = "__twinkit_page__"  # where an envelope puts the page (spliced after encoding)


class ApiError(Exception):
    """A provider error raised inside a handler: the twin answers with its envelope."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status
        self.message = message


@dataclass(frozen=True)
class Table:
    """A store table: promoted columns (name -> (SQL type, getter from the record)); `key`:
    the record's id field (OData entities name theirs, e.g. `accountid`)."""

    name: str
    columns: Mapping[str, tuple[str, Callable[[Doc], Any]]] = field(default_factory=dict)
    key: str = "id"

    def values(self, doc: Doc) -> dict[str, Any]:
        return {name: get(doc) for name, (_, get) in self.columns.items()}


@dataclass(frozen=True)
class Filter:
    """A query parameter that narrows a listing: `column op value`, the value converted by
    `convert` (a ValueError is the provider's 400)."""

    param: str
    column: str
    op: str = ">="
    convert: Callable[[str], Any] = str


PAGING = ("offset", "cursor", "page", "all")


@dataclass(frozen=True)
class Resource:
    name: str  # the accounting's endpoint name
    path: str  # route regex
    table: str
    # (page, paging info) -> body. The page is opaque: put it where the records go (it is
    # falsy when empty); the stored records are spliced in there as they were stored.
    envelope: Callable[[Any, Mapping[str, Any]], Any]
    paging: str = "offset"  # offset | cursor | page | all
    size_param: str = "limit"
    default_size: int = 100
    max_size: int = 500
    position_param: str = "start"  # offset: start index; cursor: cursor; page: page number
    filters: Sequence[Filter] = ()
    sort_param: str | None = None
    sorts: Mapping[str, str] = field(default_factory=lambda: {"id": "rid"})  # value -> column
    default_sort: str = "id"
    direction_param: str | None = None  # asc / desc (any case)
    default_direction: str = "asc"
    descending_prefix: str | None = None  # JSON:API: `sort=-updatedAt` sorts descending
    visible: Callable[[Request], tuple[str, list]] = lambda request: ("deleted = 0", [])
    cost: int = 1

    def __post_init__(self) -> None:
        if self.paging not in PAGING:
            raise ValueError(f"resource {self.name}: paging {self.paging!r} not one of {PAGING}")
        if not 1 <= self.default_size <= self.max_size:
            raise ValueError(f"resource {self.name}: default_size must be in 1..max_size")


@dataclass(frozen=True)
class Limits:
    """Burst: at most `burst` requests (or cost units: `RestTwin.burst_cost`) per `window`
    seconds per token, or for the whole account with `per_token=False`; `daily_budget` in the
    provider's units (None: none). Header names: None leaves a header out."""

    burst: int = 100
    window: float = 2.0
    daily_budget: int | None = None
    per_token: bool = True
    limit_header: str | None = "x-ratelimit-limit"
    remaining_header: str | None = "x-ratelimit-remaining"
    reset_header: str | None = "x-ratelimit-reset"


@dataclass
class _Window:
    sent: deque = field(default_factory=deque)  # (monotonic time, cost)
    used: int = 0


class Bursts:
    """Sliding windows per token (real monotonic time, like the accounting)."""

    def __init__(self, limits: Limits):
        self.limits = limits
        self._windows: dict[str, _Window] = defaultdict(_Window)
        self._lock = threading.Lock()

    def admit(self, token: str, cost: int = 1) -> tuple[bool, int, float]:
        """(within the window, units left, seconds until the oldest frees), counting this
        request's `cost` when it is within."""
        now = time.monotonic()
        with self._lock:
            window = self._windows[token]
            sent = window.sent
            while sent and now - sent[0][0] >= self.limits.window:
                window.used -= sent.popleft()[1]
            within = window.used + cost <= self.limits.burst
            if within:
                sent.append((now, cost))
                window.used += cost
            reset = self.limits.window - (now - sent[0][0]) if sent else 0.0
            return within, max(0, self.limits.burst - window.used), max(0.0, reset)


def encode_cursor(value: Any, rid: int) -> str:
    raw = json.dumps([value, rid], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(token: str) -> tuple[Any, int]:
    try:
        value, rid = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
        return value, int(rid)
    except (ValueError, TypeError) as exc:
        raise ValueError(f"invalid cursor {token!r}") from exc


class RestTwin(Sandbox):
    """A Sandbox whose listings come from `resources` over `tables`; see the module doc."""

    tables: Sequence[Table] = ()
    limits = Limits()
    api_key_header: str | None = None  # e.g. "x-api-token"
    api_key_param: str | None = None  # e.g. "api_token"

    def __init__(self, *, limits: Limits | None = None, **kwargs: Any):
        if limits is not None:
            self.limits = limits
        # Windows are per token (`Bursts`, which counts violations itself), not per server.
        self.rate_window = None
        self.quota_limit = self.limits.daily_budget
        super().__init__(**kwargs)
        self.bursts = Bursts(self.limits)
        self.api_keys: set[str] = set()
        self._tables = {t.name: t for t in self.tables}

    # -- what a twin declares --------------------------------------------------------------

    def resources(self) -> Sequence[Resource]:
        return ()

    def extra_routes(self) -> list[Route]:
        """Routes of the twin's own (OAuth endpoints, single records, metadata)."""
        return []

    def error(self, status: int, message: str) -> Response:
        """The provider's error envelope."""
        return Response.json({"error": message}, status)

    def cost(self, request: Request) -> int:
        """The budget a request spends (listings: their resource's cost, others 1)."""
        return self._costs.get(request.route.name if request.route else "", 1)

    def burst_cost(self, request: Request) -> int:
        """What a request counts in the burst window (1; providers pricing deep pages or
        expensive endpoints say more)."""
        return 1

    def rate_limited(self, daily: bool, reset: float) -> Response:
        """The provider's 429 (burst window or daily budget)."""
        return self.error(429, "Request over limit")

    def docs(self, table: str) -> Any:
        """The records to load into `table` (an iterable of dicts), for `populate`."""
        raise NotImplementedError

    # -- framework hooks -------------------------------------------------------------------

    def routes(self) -> list[Route]:
        resources = self.resources()
        self._costs = {r.name: r.cost for r in resources}
        return [*self.extra_routes(),
                *(Route("GET", r.path, self._lister(r), r.name) for r in resources)]

    def populate(self) -> None:
        for table in self.tables:
            self.store.create_table(table.name, {c: t for c, (t, _) in table.columns.items()})
            self.store.insert_many(table.name, self._rows(table, self.docs(table.name)))

    def _rows(self, table: Table, docs: Any):
        for doc in docs:
            yield (str(doc[table.key]), 0, *table.values(doc).values(), json.dumps(
                doc, separators=(",", ":")))

    def credential(self, request: Request) -> tuple[str | None, str]:
        """(the token, its kind "oauth" | "api_key") a request carries, or (None, "")."""
        bearer = request.bearer()
        if bearer:
            return bearer, "oauth"
        key = (request.headers.get(self.api_key_header) if self.api_key_header else None) or \
            (request.arg(self.api_key_param) if self.api_key_param else None)
        return (key, "api_key") if key else (None, "")

    def before(self, request: Request) -> Response | None:
        token, kind = self.credential(request)
        valid = (token in self.api_keys) if kind == "api_key" else \
            (kind == "oauth" and self.oauth.use(token) is not None)
        if not valid:
            return self.error(401, "unauthorized access")
        request.state["token"] = token
        within, remaining, reset = self.bursts.admit(
            token if self.limits.per_token else "", self.burst_cost(request))
        request.state["ratelimit"] = (remaining, reset)
        if not within:
            self.accounting.violation(
                f"{request.path}: over {self.limits.burst} per {self.limits.window:g}s for "
                f"{'one token' if self.limits.per_token else 'the account'}")
        budget = self.limits.daily_budget
        spent = self.accounting.quota_used()
        if budget is not None and spent + self.cost(request) > budget:
            return self.rate_limited(True, reset)
        if not within and self.enforce_rate_limit:
            return self.rate_limited(False, reset)
        self.accounting.use_quota(self.cost(request))
        return None

    def after(self, request: Request, response: Response) -> None:
        # a 429 that `before` did not decide (an injected fault) is the burst window's
        remaining, reset = request.state.get(
            "ratelimit", (0 if response.status == 429 else self.limits.burst, 0.0))
        lim = self.limits
        for name, value in ((lim.limit_header, lim.burst), (lim.remaining_header, remaining),
                            (lim.reset_header, max(1, round(reset)) if remaining < 1 else
                             round(lim.window))):
            if name:
                response.headers[name] = str(value)
        if response.status == 429 and "Retry-After" not in response.headers:
            response.headers["Retry-After"] = str(max(1, round(reset)))

    def error_response(self, status: int, *, retry_after: float | None = None) -> Response:
        response = (self.rate_limited(False, retry_after or 1.0) if status == 429 else
                    self.error(status, {401: "unauthorized access", 404: "not found"}.get(
                        status, "Service unavailable" if status >= 500 else "Bad request")))
        if retry_after is not None:
            response.headers["Retry-After"] = f"{retry_after:g}"
        return response

    def not_found(self, request: Request) -> Response:
        return self.error(404, f"Unknown method {request.method} {request.path}")

    # -- listings --------------------------------------------------------------------------

    def _lister(self, resource: Resource) -> Callable[[Request], Response]:
        def handle(request: Request) -> Response:
            try:
                docs, info = self.list_page(resource, request)
            except ApiError as exc:
                return self.error(exc.status, exc.message)
            if not docs:
                return Response.json(resource.envelope([], info))
            body = json.dumps(resource.envelope(_PAGE, info), separators=(",", ":"))
            head, found, tail = body.partition(f'"{_PAGE}"')
            if not found:
                raise ValueError(f"resource {resource.name}: the envelope dropped the page")
            return Response(body=[head.encode(), b"[", ",".join(docs).encode(), b"]",
                                 tail.encode()], records=len(docs))
        return handle

    def list_page(self, resource: Resource, request: Request) -> tuple[list[str], dict]:
        """One page of a listing: the stored records (JSON text) and the paging info for the
        envelope (`start`, `limit`, `next_start` | `next_cursor` | `next_page`, `more`)."""
        size = self._size(resource, request)
        where, params = resource.visible(request)
        clauses, args = [f"({where})"], list(params)
        for f in resource.filters:
            raw = request.arg(f.param)
            if raw in (None, ""):
                continue
            try:
                value = f.convert(raw)
            except (TypeError, ValueError):
                raise ApiError(400, f"Invalid value for parameter {f.param}: {raw!r}") from None
            clauses.append(f'"{f.column}" {f.op} ?')
            args.append(value)
        column, descending = self._sort(resource, request)
        order = f'"{column}"' if column != "rid" else "rid"
        direction = "DESC" if descending else "ASC"
        info: dict[str, Any] = {"limit": size}
        if resource.paging == "cursor":
            token = request.arg(resource.position_param)
            if token:
                try:
                    value, rid = decode_cursor(token)
                except ValueError as exc:
                    raise ApiError(400, str(exc)) from None
                cmp = "<" if descending else ">"
                if column == "rid":
                    clauses.append(f"rid {cmp} ?")
                    args.append(rid)
                else:
                    clauses.append(f"({order} {cmp} ? OR ({order} = ? AND rid {cmp} ?))")
                    args += [value, value, rid]
            offset = 0
        elif resource.paging == "page":
            page = self._int(resource.position_param, request.arg(resource.position_param, "1"),
                             minimum=1)
            offset = (page - 1) * size
            info["page"] = page
        elif resource.paging == "offset":
            offset = self._int(resource.position_param,
                               request.arg(resource.position_param, "0"), minimum=0)
            info["start"] = offset
        else:
            offset, size = 0, None
        rowids = self.store.select_rowids(
            resource.table, " AND ".join(clauses), args,
            order_by=f"{order} {direction}" + (f", rid {direction}" if order != "rid" else ""),
            limit=None if size is None else size + 1, offset=offset)
        more = size is not None and len(rowids) > size
        rowids = rowids[:size] if size is not None else rowids
        rows = self.store.fetch_docs(resource.table, rowids,
                                     extra=("rid",) + ((column,) if column != "rid" else ()))
        docs = [row[0] for row in rows]
        info["more"] = more
        if more:
            if resource.paging == "cursor":
                last = rows[-1]
                info["next_cursor"] = encode_cursor(last[2] if column != "rid" else None,
                                                    last[1])
            elif resource.paging == "page":
                info["next_page"] = info["page"] + 1
            else:
                info["next_start"] = offset + len(docs)
        return docs, info

    def _size(self, resource: Resource, request: Request) -> int:
        size = self._int(resource.size_param,
                         request.arg(resource.size_param, str(resource.default_size)), minimum=1)
        if size > resource.max_size:
            raise ApiError(400, f"Parameter {resource.size_param} must be at most "
                                f"{resource.max_size}; got {size}")
        return size

    def _sort(self, resource: Resource, request: Request) -> tuple[str, bool]:
        key = request.arg(resource.sort_param) if resource.sort_param else None
        key = key or resource.default_sort
        prefix = resource.descending_prefix
        descending = bool(prefix) and key.startswith(prefix) and key[len(prefix):] in \
            resource.sorts
        if descending:
            key = key[len(prefix):]
        if key not in resource.sorts:
            raise ApiError(400, f"Invalid value for parameter {resource.sort_param}: {key!r} "
                                f"(allowed: {', '.join(resource.sorts)})")
        direction = (request.arg(resource.direction_param) or resource.default_direction) \
            if resource.direction_param else ("desc" if descending else "asc")
        direction = direction.lower()
        if direction not in ("asc", "desc"):
            raise ApiError(400, f"Invalid value for parameter {resource.direction_param}: "
                                f"{direction!r} (allowed: asc, desc)")
        return resource.sorts[key], direction == "desc"

    @staticmethod
    def _int(param: str, raw: str | None, *, minimum: int) -> int:
        try:
            value = int(raw or "")
        except ValueError:
            raise ApiError(400, f"Parameter {param} must be an integer; got {raw!r}") from None
        if value < minimum:
            raise ApiError(400, f"Parameter {param} must be at least {minimum}; got {value}")
        return value

    # -- records (the control API's mutations go through these) ----------------------------

    def table(self, name: str) -> Table:
        try:
            return self._tables[name]
        except KeyError:
            raise KeyError(f"no object {name!r} in this twin (objects: "
                           f"{', '.join(self._tables)})") from None

    def stored(self, table: str, record_id: str) -> tuple[Doc, bool]:
        found = self.store.get(self.table(table).name, str(record_id))
        if found is None:
            raise KeyError(f"no {table} record {record_id!r}")
        return json.loads(found.doc), found.deleted

    def save(self, table: str, doc: Doc, *, deleted: bool = False) -> Doc:
        t = self.table(table)
        self.store.put(t.name, str(doc[t.key]), json.dumps(doc, separators=(",", ":")),
                       deleted=deleted, **t.values(doc))
        return doc

    def all_records(self, table: str) -> list[tuple[Doc, bool]]:
        """Every stored record of `table` (live and deleted), in id order."""
        rowids = self.store.select_rowids(self.table(table).name)
        rows = self.store.fetch_docs(table, rowids, extra=("deleted",))
        return [(json.loads(doc), bool(deleted)) for doc, deleted in rows]

    def get_record(self, obj: str, record_id: str) -> dict:
        return self.stored(obj, record_id)[0]


# -- OAuth endpoints -----------------------------------------------------------------------------

_CONSENT = """<!doctype html>
<html><head><meta charset="utf-8"><title>Connect to {provider} (sandbox)</title></head>
<body><h1>Connect {client} to {provider}</h1><p>The app asks for: {scopes}</p>
<form method="post" action="{path}">{hidden}
<button type="submit" name="decision" value="approve">Allow and install</button>
<button type="submit" name="decision" value="deny">Cancel</button></form></body></html>
"""


@dataclass(frozen=True)
class OAuthEndpoints:
    """The authorization-code flow on the framework's OAuthRegistry: a consent page at
    `authorize_path` (approve redirects with `code` and `state`) and the token endpoint at
    `token_path` (grants authorization_code and refresh_token; client credentials in an HTTP
    Basic header, or in the form). `adds(twin)`: what the token response adds (e.g. the API
    host); `grant_in_query`: the grant is read from the URL query, not the form (Gong).
    Errors are OAuth's `{"error", "error_description"}` with 400 (401 for the client)."""

    authorize_path: str = "/oauth/authorize"
    token_path: str = "/oauth/token"  # noqa: S105 (a URL path)
    adds: Callable[[Any], dict] = lambda twin: {}
    lifetime_seconds: int = 3599
    grant_in_query: bool = False

    def routes(self, twin: Sandbox) -> list[Route]:
        return [Route("GET", self.authorize_path, lambda r: self._consent(twin, r),
                      "oauth.authorize", public=True),
                Route("POST", self.authorize_path, lambda r: self._decide(twin, r),
                      "oauth.authorize", public=True),
                Route("POST", self.token_path, lambda r: self._token(twin, r), "oauth.token",
                      public=True)]

    def _consent(self, twin: Sandbox, request: Request) -> Response:
        args = {k: request.arg(k) or "" for k in ("client_id", "redirect_uri", "scope", "state")}
        try:
            twin.oauth.check_redirect(args["client_id"], args["redirect_uri"])
        except OAuthError as exc:
            return Response(400, f"<p>Authorization failed: {html.escape(exc.reason)}</p>",
                            content_type="text/html;charset=UTF-8")
        hidden = "".join(f'<input type="hidden" name="{k}" value="{html.escape(v)}">'
                         for k, v in args.items())
        return Response(200, _CONSENT.format(
            provider=html.escape(twin.provider), client=html.escape(args["client_id"]),
            scopes=html.escape(args["scope"] or "default"), path=self.authorize_path,
            hidden=hidden), content_type="text/html;charset=UTF-8")

    def _decide(self, twin: Sandbox, request: Request) -> Response:
        form = request.form()
        client_id, redirect_uri = form.get("client_id"), form.get("redirect_uri")
        try:
            twin.oauth.check_redirect(client_id, redirect_uri)
        except OAuthError as exc:
            return Response(400, f"<p>Authorization failed: {html.escape(exc.reason)}</p>",
                            content_type="text/html;charset=UTF-8")
        state = {"state": form["state"]} if form.get("state") else {}
        if form.get("decision") != "approve":
            params = {"error": "access_denied", **state}
        else:
            params = {"code": twin.oauth.issue_code(client_id, redirect_uri,
                                                    form.get("scope", "")), **state}
        joiner = "&" if "?" in redirect_uri else "?"
        return Response(302, b"", content_type=None,
                        headers={"Location": redirect_uri + joiner + urlencode(params)})

    def _token(self, twin: Sandbox, request: Request) -> Response:
        form = ({k: v[0] for k, v in request.query.items()} if self.grant_in_query
                else request.form())
        client_id, secret = form.get("client_id"), form.get("client_secret")
        basic = request.bearer("Basic")
        if basic:
            try:
                client_id, _, secret = base64.b64decode(basic).decode().partition(":")
            except ValueError:
                return _oauth_error("invalid_client", "malformed Basic credentials", 401)
        grant = form.get("grant_type")
        try:
            if grant == "authorization_code":
                access, refresh = twin.oauth.exchange_code(client_id, secret, form.get("code"),
                                                           form.get("redirect_uri"))
            elif grant == "refresh_token":
                access, rotated = twin.oauth.refresh(client_id, secret,
                                                     form.get("refresh_token"))
                refresh = rotated or form["refresh_token"]
            else:
                raise OAuthError("unsupported_grant_type", str(grant))
        except OAuthError as exc:
            if exc.reason == "invalid_client":
                return _oauth_error("invalid_client", str(exc), 401)
            return _oauth_error("invalid_grant" if exc.reason.startswith("invalid_") and
                                exc.reason != "invalid_request" else exc.reason, str(exc), 400)
        return Response.json({"access_token": access.token, "token_type": "bearer",
                              "refresh_token": refresh, "scope": access.grant.scope,
                              "expires_in": self.lifetime_seconds, **self.adds(twin)})


def _oauth_error(error: str, description: str, status: int) -> Response:
    return Response.json({"error": error, "error_description": description}, status)
