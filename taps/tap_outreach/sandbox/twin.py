"""`OutreachSandbox`: Outreach's API v2 (JSON:API) as documented (developers.outreach.io),
declared on the twin kit.

- Lists `/api/v2/{accounts,prospects,users,sequences,sequenceSteps,mailboxes,sequenceStates,
  stages}`:
  `page[size]` (default 50, at most 1000; more is a 400), `page[after]` cursors in an absolute
  `links.next` that repeats the request's query (clients may send its keys again), no `next`
  on the last page; `sort=updatedAt|id|createdAt` (`-` prefix: descending); filters
  `filter[updatedAt]=<from>..<to>` (inclusive, `inf`/`-inf` open) or, with
  `newFilterSyntax=true`, `filter[updatedAt][gte|gt|lte|lt]=<ts>` (a `..` range then is a
  400); `include=<relationship>,...` adds the related resources as `included`.
- Deletes are hard: a deleted record leaves every list (Outreach has no deleted feed).
- Auth: OAuth 2 (`/oauth/authorize`, `/oauth/token`, client credentials in the form, access
  tokens for 2 hours; refresh tokens rotate when `oauth.rotate_refresh_tokens` is on).
- Errors: `{"errors": [{"id", "title", "detail"}]}`. Rate limit: 10,000 requests per hour per
  user, `x-ratelimit-limit|remaining|reset` (reset in epoch seconds) on every response; 429
  `rateLimitExceeded`.
"""

from __future__ import annotations

import json
import math
import re
import time
from datetime import datetime, timedelta, timezone
from typing import Any
from urllib.parse import urlencode

from tap_outreach.sandbox.data import TYPES, OutreachWorld, stamp
from tenantsync.sandbox.server import Request, Response, Route
from tenantsync.sandbox.twinkit import (
    ApiError,
    Limits,
    OAuthEndpoints,
    Resource,
    RestTwin,
    Table,
)

OBJECTS = tuple(TYPES)
# relationship type -> the table holding it (for `include`)
TABLE_OF = {kind: table for table, kind in TYPES.items()}
ERRORS = {400: ("badRequest", "Bad Request"), 401: ("unauthorized", "Unauthorized"),
          404: ("resourceNotFound", "Resource Not Found"),
          422: ("validationError", "Validation Error"),
          429: ("rateLimitExceeded", "Rate Limit Exceeded"),
          503: ("serviceUnavailable", "Service Unavailable")}
_FILTER = re.compile(r"filter\[(\w+)\](?:\[(gte|gt|lte|lt)\])?")
_OPS = {"gte": ">=", "gt": ">", "lte": "<=", "lt": "<"}


def _updated(doc: dict) -> str:
    return doc["attributes"]["updatedAt"]


def _timestamp(value: str) -> str:
    """A filter bound as stored (ms, `Z`); ApiError for anything not ISO 8601 with a zone."""
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
        if moment.tzinfo is None:
            raise ValueError
    except ValueError:
        raise ApiError(400, f"filterParameter.invalidDatetimeFormat: {value!r} is not an "
                            "ISO 8601 timestamp with a zone") from None
    return stamp(moment.astimezone(timezone.utc))


def _envelope(docs: Any, info: dict) -> dict:
    body = {"data": docs, "links": info["links"]}
    if "included" in info:
        body["included"] = info["included"]
    return body


class OutreachSandbox(RestTwin):
    provider = "outreach"
    public_hosts = ("api.outreach.io",)
    access_lifetime = timedelta(hours=2)
    limits = Limits(burst=10_000, window=3600.0)  # per user and hour
    tables = [Table(name, {"updatedAt": ("TEXT", _updated)}) for name in OBJECTS]

    def __init__(self, **kwargs: Any):
        super().__init__(**kwargs)
        self.data = OutreachWorld(self.world)
        self.oauth_api = OAuthEndpoints("/oauth/authorize", "/oauth/token",
                                        lifetime_seconds=7200)

    # -- declarations ----------------------------------------------------------------------

    def docs(self, table: str) -> Any:
        return getattr(self.data, table)()

    def resources(self) -> list[Resource]:
        return [Resource(name, f"/api/v2/{name}", name, _envelope, paging="cursor",
                         size_param="page[size]", default_size=50, max_size=1000,
                         position_param="page[after]", sort_param="sort",
                         sorts={"id": "rid", "createdAt": "rid", "updatedAt": "updatedAt"},
                         default_sort="id", descending_prefix="-", visible=self._visible)
                for name in OBJECTS]

    def extra_routes(self) -> list[Route]:
        return self.oauth_api.routes(self)

    def error(self, status: int, message: str) -> Response:
        code, title = ERRORS.get(status, ("badRequest" if status < 500 else "serverError",
                                          "Error"))
        return Response.json({"errors": [{"id": code, "title": title, "detail": message}]},
                             status)

    def rate_limited(self, daily: bool, reset: float) -> Response:
        at = datetime.now(timezone.utc) + timedelta(seconds=reset)
        return self.error(429, f"You have exceeded your permitted rate limit of "
                               f"{self.limits.burst:,}; please try again at "
                               f"{at.isoformat(timespec='seconds')}.")

    def after(self, request: Request, response: Response) -> None:
        super().after(request, response)
        # Outreach sends the reset as epoch seconds: rounded up, so waiting until then is safe
        _, reset = request.state.get("ratelimit", (0, 1.0))
        response.headers["x-ratelimit-reset"] = str(math.ceil(time.time() + max(reset, 1.0)))

    # -- listings --------------------------------------------------------------------------

    def _visible(self, request: Request) -> tuple[str, list]:
        clauses, args = ["deleted = 0"], []
        new_syntax = request.arg("newFilterSyntax") == "true"
        for key, values in request.query.items():
            if not key.startswith("filter["):
                continue
            match = _FILTER.fullmatch(key)
            if match is None or match.group(1) != "updatedAt":
                raise ApiError(400, f"filterParameter.unknown: {key} (this twin filters on "
                                    "updatedAt)")
            value, op = values[0], match.group(2)
            if op is not None:
                if not new_syntax:
                    raise ApiError(400, f"{key} needs newFilterSyntax=true")
                clauses.append(f'"updatedAt" {_OPS[op]} ?')
                args.append(_timestamp(value))
                continue
            low, dots, high = value.partition("..")
            if not dots:
                raise ApiError(400, f"filterParameter.invalidRange: {value!r} (want A..B)")
            if new_syntax:
                raise ApiError(400, "filterParameter.invalidDatetimeFormat: a range needs the "
                                    "legacy filter syntax")
            for bound, open_end, op_ in ((low, "-inf", ">="), (high, "inf", "<=")):
                if bound != open_end:
                    clauses.append(f'"updatedAt" {op_} ?')
                    args.append(_timestamp(bound))
        return " AND ".join(clauses), args

    def list_page(self, resource: Resource, request: Request) -> tuple[list[str], dict]:
        docs, info = super().list_page(resource, request)
        query = [(k, v[0]) for k, v in request.query.items() if k != "page[after]"]
        here = f"{request.base_url}{request.path}"
        info["links"] = {"first": f"{here}?{urlencode(query)}"}
        if info.get("next_cursor"):
            after = ("page[after]", info["next_cursor"])
            info["links"]["next"] = f"{here}?{urlencode([*query, after])}"
        include = [n for n in (request.arg("include") or "").split(",") if n]
        if include:
            info["included"] = self._included([json.loads(d) for d in docs], include)
        return docs, info

    def _included(self, docs: list[dict], names: list[str]) -> list[dict]:
        wanted: dict[tuple[str, int], None] = {}
        for name in names:
            for doc in docs:
                rel = (doc.get("relationships") or {}).get(name)
                if rel is None:
                    raise ApiError(400, f"includeParameter.invalid: {doc['type']} has no "
                                        f"relationship {name!r}")
                if rel.get("data"):
                    wanted[(rel["data"]["type"], rel["data"]["id"])] = None
        out = []
        for kind, rid in wanted:
            table = TABLE_OF.get(kind)
            found = self.store.get(table, str(rid)) if table else None
            if found is not None and not found.deleted:
                out.append(json.loads(found.doc))
        return out

    # -- mutations (the control API) -------------------------------------------------------

    def create(self, obj: str, fields: dict) -> dict:
        table = self.table(obj).name
        rowids = self.store.select_rowids(table, order_by="rid DESC", limit=1)
        if not rowids:
            raise ValueError(f"no {obj} to model a new one on")
        last = json.loads(self.store.fetch_docs(table, rowids)[0][0])
        now = stamp(self.clock.stamp())
        rid = int(last["id"]) + 1
        doc = {**last, "id": rid, "attributes": {**last["attributes"], **fields,
                                                 "createdAt": now, "updatedAt": now},
               "links": {"self": last["links"]["self"].rsplit("/", 1)[0] + f"/{rid}"}}
        return self.save(table, doc)

    def update(self, obj: str, record_id: str, fields: dict) -> dict:
        doc, deleted = self.stored(obj, record_id)
        if deleted:
            raise KeyError(f"{obj} {record_id} is deleted")
        doc["attributes"].update(fields)
        doc["attributes"]["updatedAt"] = stamp(self.clock.stamp())
        return self.save(obj, doc)

    def delete(self, obj: str, record_id: str) -> None:
        """Outreach deletes for good: the record leaves every list."""
        doc, _ = self.stored(obj, record_id)
        doc["attributes"]["updatedAt"] = stamp(self.clock.stamp())
        self.save(obj, doc, deleted=True)
