"""`LinearSandbox`: Linear's GraphQL API (developers.linear.app) served by a real GraphQL
server: graphql-core parses and validates every query against Linear's schema (the part a
sync reads, `schema.py`) and executes it over the twin's store.

- `POST /graphql`, JSON `{"query", "variables", "operationName"}`. Connections `issues`,
  `comments`, `users`, `projects`, `teams` with `first` (default 50, at most 250) / `after`,
  `filter` (`id`, `createdAt`, `updatedAt` comparators, `and` / `or`), `orderBy` (`createdAt`,
  the default, or `updatedAt`; newest first), `includeArchived` (archived nodes are left out
  unless it is true); single nodes by id; `viewer`.
- Errors as Linear sends them: `{"errors": [{"message", "extensions": {"code", "type",
  "userPresentableMessage"}}]}`; a query that does not parse or validate is HTTP 400
  (`GRAPHQL_PARSE_FAILED`, `GRAPHQL_VALIDATION_FAILED`), bad variables 400
  (`BAD_USER_INPUT`), a missing or unknown credential 401 (`AUTHENTICATION_ERROR`).
- Auth: a personal API key as the whole `Authorization` header (no "Bearer"), or an OAuth
  access token as `Authorization: Bearer <token>` (`/oauth/authorize`, `/oauth/token`; refresh
  tokens rotate and are single-use).
- Rate limits (`limits.py`): requests and complexity points per credential and hour, leaky
  buckets; over either the answer is HTTP 400 `RATELIMITED`; one query over 10,000 points is
  refused. Every response carries `X-Complexity` and `X-RateLimit-{Requests,Complexity}-*`.
- Deletes: archiving sets `archivedAt` (and `updatedAt`); the node stays readable with
  `includeArchived: true`.
"""

from __future__ import annotations

import json
import secrets
import uuid
from collections.abc import Mapping
from datetime import timedelta
from typing import Any

import msgspec
from graphql import (
    DocumentNode,
    GraphQLError,
    GraphQLObjectType,
    GraphQLSyntaxError,
    execute_sync,
    get_operation_ast,
    parse,
    validate,
)

from tap_linear.sandbox.data import TABLES, LinearWorld, stamp
from tap_linear.sandbox.limits import Meter, RateLimits
from tap_linear.sandbox.project import Fallback, Projector, only_id
from tap_linear.sandbox.schema import CONNECTIONS, DEFAULT_PAGE, Complexity, build, parse_moment
from tenantsync.sandbox.server import BadRequest, Request, Response, Route
from tenantsync.sandbox.twinkit import (
    Limits,
    OAuthEndpoints,
    RestTwin,
    Table,
    decode_cursor,
    encode_cursor,
)

MAX_PAGE = 250
RELATIONS = {("Issue", "team"): "teams", ("Issue", "assignee"): "users",
             ("Issue", "creator"): "users", ("Issue", "project"): "projects",
             ("Comment", "issue"): "issues", ("Comment", "user"): "users",
             ("Project", "lead"): "users"}
TABLE_OF = {node: table for node, table in CONNECTIONS.items()}
ROOTS = {field: field for field in CONNECTIONS.values()}  # connection field -> its store table
OPS = {"eq": "=", "neq": "!=", "gt": ">", "gte": ">=", "lt": "<", "lte": "<="}
TYPES = {"GRAPHQL_PARSE_FAILED": "graphql error", "GRAPHQL_VALIDATION_FAILED": "graphql error",
         "BAD_USER_INPUT": "invalid input", "INVALID_INPUT": "invalid input",
         "AUTHENTICATION_ERROR": "authentication error", "RATELIMITED": "ratelimited",
         "ENTITY_NOT_FOUND": "invalid input", "INTERNAL_SERVER_ERROR": "internal error"}
_SCHEMA = build()


class LinearError(Exception):
    def __init__(self, code: str, message: str, status: int = 400):
        super().__init__(message)
        self.code, self.message, self.status = code, message, status


def error_body(code: str, message: str, locations: Any = None) -> dict:
    entry: dict[str, Any] = {"message": message}
    if locations:
        entry["locations"] = locations
    entry["extensions"] = {"code": code, "type": TYPES.get(code, "graphql error"),
                           "userError": code != "INTERNAL_SERVER_ERROR",
                           "userPresentableMessage": message}
    return {"errors": [entry]}


def _locations(error: GraphQLError) -> list[dict] | None:
    return [{"line": loc.line, "column": loc.column} for loc in error.locations or ()] or None


def _updated(doc: dict) -> str:
    return doc["updatedAt"]


def _created(doc: dict) -> str:
    return doc["createdAt"]


class _Context:
    """What resolvers of one request share: the twin and the nodes already loaded."""

    def __init__(self, twin: LinearSandbox):
        self.twin = twin
        self.cache: dict[tuple[str, str], dict | None] = {}
        self.records = 0

    def node(self, table: str, node_id: str) -> dict | None:
        key = (table, node_id)
        if key not in self.cache:
            found = self.twin.store.get(table, node_id)
            self.cache[key] = None if found is None else json.loads(found.doc)
        return self.cache[key]


class LinearSandbox(RestTwin):
    provider = "linear"
    public_hosts = ("api.linear.app",)
    access_lifetime = timedelta(hours=24)
    limits = Limits(burst=10**9, limit_header=None, remaining_header=None, reset_header=None)
    tables = [Table(name, {"createdAt": ("TEXT", _created), "updatedAt": ("TEXT", _updated)})
              for name in TABLES]

    def __init__(self, *, rate_limits: RateLimits | None = None, **kwargs: Any):
        super().__init__(**kwargs)
        self.data = LinearWorld(self.world, self.seed)
        self.meter = Meter(rate_limits or RateLimits())
        self.oauth.rotate_refresh_tokens = True  # Linear's refresh tokens are single-use
        self.oauth_api = OAuthEndpoints("/oauth/authorize", "/oauth/token",
                                        lifetime_seconds=int(self.access_lifetime
                                                             .total_seconds()))
        self.schema = _SCHEMA
        self.projector = Projector(self.schema, ROOTS, RELATIONS)
        self._documents: dict[str, tuple[DocumentNode, list[GraphQLError]]] = {}
        self._resolvers()

    # -- declarations ----------------------------------------------------------------------

    def docs(self, table: str) -> Any:
        return getattr(self.data, table)()

    def extra_routes(self) -> list[Route]:
        return [*self.oauth_api.routes(self), Route("POST", "/graphql", self._graphql, "graphql")]

    def credential(self, request: Request) -> tuple[str | None, str]:
        header = (request.headers.get("Authorization") or "").strip()
        if not header:
            return None, ""
        bearer = request.bearer()
        return (bearer, "oauth") if bearer else (header, "api_key")

    def new_token(self, kind: str) -> str:
        if kind in ("access", "refresh"):
            return f"lin_oauth_{secrets.token_hex(32)}"
        return super().new_token(kind)

    def mint_api_key(self) -> str:
        key = f"lin_api_{secrets.token_hex(20)}"
        self.api_keys.add(key)
        return key

    # -- auth, limits, errors --------------------------------------------------------------

    def before(self, request: Request) -> Response | None:
        token, kind = self.credential(request)
        valid = (token in self.api_keys) if kind == "api_key" else \
            (kind == "oauth" and self.oauth.use(token) is not None)
        if not valid:
            return self.error(401, "AUTHENTICATION_ERROR",
                              "Authentication required, not authenticated")
        request.state["token"] = token
        return self._charge(request, "requests", 1)

    def _charge(self, request: Request, kind: str, points: float) -> Response | None:
        if self.meter.take(request.state["token"], kind, points):
            return None
        self.accounting.violation(f"{request.path}: over Linear's {kind} limit of "
                                  f"{getattr(self.meter.limits, kind)} per hour")
        if self.enforce_rate_limit:
            return self.error(400, "RATELIMITED", "Rate limit exceeded")
        return None

    def after(self, request: Request, response: Response) -> None:
        response.headers.update(self.meter.headers(request.state.get("token"),
                                                   request.state.get("complexity")))

    def error(self, status: int, code: str, message: str = "", locations: Any = None
              ) -> Response:  # type: ignore[override]
        return Response.json(error_body(code, message or code, locations), status)

    def error_response(self, status: int, *, retry_after: float | None = None) -> Response:
        code = {401: "AUTHENTICATION_ERROR", 429: "RATELIMITED"}.get(
            status, "INTERNAL_SERVER_ERROR" if status >= 500 else "INVALID_INPUT")
        response = self.error(status, code, "Rate limit exceeded" if status == 429 else
                              f"HTTP {status}")
        if retry_after is not None:
            response.headers["Retry-After"] = f"{retry_after:g}"
        return response

    def not_found(self, request: Request) -> Response:
        return self.error(404, "INVALID_INPUT", f"Cannot {request.method} {request.path}")

    def malformed(self, request: Request, exc: BadRequest) -> Response:
        return self.error(400, "BAD_USER_INPUT", str(exc))

    # -- GraphQL ---------------------------------------------------------------------------

    def _graphql(self, request: Request) -> Response:
        body = request.json()
        if not isinstance(body, Mapping) or not isinstance(body.get("query"), str):
            return self.error(400, "BAD_USER_INPUT",
                              "POST body must be JSON with a `query` string")
        variables = body.get("variables") or {}
        operation_name = body.get("operationName")
        if not isinstance(variables, Mapping):
            return self.error(400, "BAD_USER_INPUT", "`variables` must be an object")
        try:
            document, problems = self._document(body["query"])
        except GraphQLSyntaxError as exc:
            return self.error(400, "GRAPHQL_PARSE_FAILED", exc.message, _locations(exc))
        if problems:
            return self.error(400, "GRAPHQL_VALIDATION_FAILED", problems[0].message,
                              _locations(problems[0]))
        operation = get_operation_ast(document, operation_name)
        if operation is None:
            return self.error(400, "GRAPHQL_VALIDATION_FAILED",
                              f"Unknown operation named {operation_name!r}" if operation_name
                              else "Must provide operation name if query contains multiple "
                                   "operations.")
        cost = Complexity(self.schema, document, variables).of(operation)
        request.state["complexity"] = cost
        limit = self.meter.limits.max_complexity
        if cost > limit:
            return self.error(400, "RATELIMITED", f"Query too complex: complexity {cost} "
                              f"exceeds the maximum of {limit} for a single query")
        refused = self._charge(request, "complexity", cost)
        if refused is not None:
            return refused
        self.accounting.use_quota(cost)  # the accounting's quota: complexity points spent
        context = _Context(self)
        try:  # queries of plain selections on connections (what syncs send): projected
            data = self.projector.run(
                operation, variables, lambda field, args: self._connection(
                    ROOTS[field], context, **args), context.node)
            return Response(200, msgspec.json.encode({"data": data}), records=context.records)
        except (Fallback, LinearError):
            context = _Context(self)  # graphql-core executes it (and reports its errors)
        result = execute_sync(self.schema, document, context_value=context,
                              variable_values=variables, operation_name=operation_name)
        out: dict[str, Any] = {}
        status = 200
        if result.errors:
            first = result.errors[0]
            original = first.original_error
            if isinstance(original, LinearError):
                code, status = original.code, original.status
            elif first.path is None:  # variables that do not coerce (before any field)
                code, status = "BAD_USER_INPUT", 400
            else:
                code, status = "INTERNAL_SERVER_ERROR", 500
            out["errors"] = [error_body(code, e.message, _locations(e))["errors"][0]
                             for e in result.errors]
        out["data"] = result.data
        return Response(status, msgspec.json.encode(out), records=context.records)

    def _document(self, query: str) -> tuple[DocumentNode, list[GraphQLError]]:
        """The parsed document and its validation errors (cached by the query's text: a sync
        sends the same few queries again and again)."""
        found = self._documents.get(query)
        if found is None:
            document = parse(query)
            found = (document, validate(self.schema, document))
            if len(self._documents) > 256:
                self._documents.clear()
            self._documents[query] = found
        return found

    def _resolvers(self) -> None:
        query = self.schema.query_type
        for node, field in CONNECTIONS.items():
            table = TABLE_OF[node]
            query.fields[field].resolve = (
                lambda _root, info, table=table, **args: self._connection(
                    table, info.context, **args))
            single = node[0].lower() + node[1:]
            query.fields[single].resolve = (
                lambda _root, info, id, table=table, node=node: self._one(info, table, node, id))
        query.fields["viewer"].resolve = lambda _root, info: self._one(
            info, "users", "User", self.data.ref("user", 0)["id"])
        for (node, field), table in RELATIONS.items():
            kind = self.schema.type_map[node]
            assert isinstance(kind, GraphQLObjectType)
            kind.fields[field].resolve = (
                lambda parent, info, table=table: self._related(parent, info, table))

    def _one(self, info, table: str, node: str, node_id: str) -> dict:
        found = info.context.node(table, node_id)
        if found is None:
            raise LinearError("ENTITY_NOT_FOUND", f"Entity not found: {node}", 200)
        info.context.records += 1
        return found

    def _related(self, parent: dict, info, table: str) -> dict | None:
        ref = parent.get(info.field_name)
        if ref is None or only_id(info.field_nodes[0].selection_set):
            return ref
        return info.context.node(table, ref["id"])

    def _connection(self, table: str, context: _Context, *, filter: dict | None = None,
                    first: int | None = None, after: str | None = None,
                    last: int | None = None, before: str | None = None,
                    includeArchived: bool = False, orderBy: str | None = None) -> dict:
        if last is not None or before is not None:
            raise LinearError("INVALID_INPUT", "this twin pages forward only (first/after)")
        size = DEFAULT_PAGE if first is None else first
        if not 0 < size <= MAX_PAGE:
            raise LinearError("INVALID_INPUT", f"first must be between 1 and {MAX_PAGE}")
        column = orderBy or "createdAt"
        clauses, args = ([] if includeArchived else ["deleted = 0"]), []
        if filter:
            where, values = self._filter(filter)
            clauses.append(where)
            args += values
        if after:
            try:
                value, rid = decode_cursor(after)
            except ValueError:
                raise LinearError("INVALID_INPUT", f"invalid cursor {after!r}") from None
            clauses.append(f'("{column}" < ? OR ("{column}" = ? AND rid < ?))')
            args += [value, value, rid]
        rowids = self.store.select_rowids(table, " AND ".join(clauses) or "1", args,
                                          order_by=f'"{column}" DESC, rid DESC',
                                          limit=size + 1)
        more = len(rowids) > size
        rows = self.store.fetch_docs(table, rowids[:size], extra=("rid", column))
        nodes = [msgspec.json.decode(doc) for doc, _, _ in rows]
        cursors = [encode_cursor(value, rid) for _, rid, value in rows]
        context.records += len(nodes)
        return {"nodes": nodes,
                "edges": [{"node": n, "cursor": c} for n, c in zip(nodes, cursors, strict=True)],
                "pageInfo": {"hasNextPage": more, "hasPreviousPage": bool(after),
                             "startCursor": cursors[0] if cursors else None,
                             "endCursor": cursors[-1] if cursors else None}}

    def _filter(self, spec: Mapping[str, Any]) -> tuple[str, list]:
        """A `<Node>Filter` as SQL (all of its parts must hold)."""
        clauses, args = [], []
        for field, comparator in spec.items():
            if comparator is None:
                continue
            if field in ("and", "or"):
                parts = [self._filter(item) for item in comparator]
                if parts:
                    joiner = " AND " if field == "and" else " OR "
                    clauses.append("(" + joiner.join(p for p, _ in parts) + ")")
                    args += [a for _, values in parts for a in values]
                continue
            column = "id" if field == "id" else field
            for op, value in comparator.items():
                if value is None:
                    continue
                values = value if op in ("in", "nin") else [value]
                if field != "id":
                    values = [self._instant(v) for v in values]
                if op in ("in", "nin"):
                    marks = ",".join("?" * len(values)) or "NULL"
                    clauses.append(f'"{column}" {"NOT IN" if op == "nin" else "IN"} ({marks})')
                else:
                    clauses.append(f'"{column}" {OPS[op]} ?')
                args += values
        return ("(" + " AND ".join(clauses) + ")") if clauses else "1", args

    def _instant(self, value: str) -> str:
        try:
            return stamp(parse_moment(value, self.clock.now()))
        except ValueError as exc:
            raise LinearError("INVALID_INPUT", str(exc)) from None

    # -- mutations (the control API) -------------------------------------------------------

    def create(self, obj: str, fields: dict) -> dict:
        table = self.table(obj).name
        last = self.store.select_rowids(table, order_by="rid DESC", limit=1)
        if not last:
            raise ValueError(f"no {table} to model a new one on")
        template = json.loads(self.store.fetch_docs(table, last)[0][0])
        now = stamp(self.clock.stamp())
        doc = {**template, **fields, "id": str(uuid.uuid4()), "createdAt": now,
               "updatedAt": now, "archivedAt": None}
        if table == "issues":
            number = self.store.count(table) + 1
            key = template["identifier"].split("-")[0]
            doc.update(number=float(number), identifier=f"{key}-{number}")
        return self.save(table, doc)

    def update(self, obj: str, record_id: str, fields: dict) -> dict:
        doc, _ = self.stored(obj, record_id)
        doc.update(fields)
        doc["updatedAt"] = stamp(self.clock.stamp())
        return self.save(obj, doc, deleted=doc.get("archivedAt") is not None)

    def delete(self, obj: str, record_id: str) -> None:
        """Archive (Linear's soft delete)."""
        doc, _ = self.stored(obj, record_id)
        doc["archivedAt"] = doc["updatedAt"] = stamp(self.clock.stamp())
        self.save(obj, doc, deleted=True)

    def restore(self, obj: str, record_id: str) -> dict:
        doc, _ = self.stored(obj, record_id)
        doc["archivedAt"] = None
        doc["updatedAt"] = stamp(self.clock.stamp())
        return self.save(obj, doc)
