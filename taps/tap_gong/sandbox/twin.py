"""`GongSandbox`: Gong's call endpoints as documented (help.gong.io, Gong API reference),
on the twin kit.

- `GET /v2/calls` (`fromDateTime` >=, `toDateTime` <, on the call's start; `cursor`),
  `POST /v2/calls/extensive` (body `{filter: {fromDateTime, toDateTime, callIds}, cursor,
  contentSelector}`), `POST /v2/calls/transcript` (body `{filter, cursor}`): calls in start
  order, 100 a page (fixed), `records: {totalRecords, currentPageSize, currentPageNumber,
  cursor}` with the cursor only while more pages follow; an empty result is a 404
  "No calls found corresponding to the provided filters".
- Auth: an access key and secret as HTTP Basic, or OAuth bearer tokens (authorize at
  `/oauth2/authorize`; `POST /oauth2/generate-customer-token` with the grant in the URL query
  and the app's credentials as HTTP Basic; the response names `api_base_url_for_customer`).
- Errors `{"requestId", "errors": ["..."]}`. Limits: 3 calls a second and 10,000 a day per
  company; over either, 429 with Retry-After (the day's: until midnight UTC). No rate headers.
"""

from __future__ import annotations

import base64
import json
import secrets
from datetime import datetime, timedelta, timezone
from typing import Any

from tap_gong.sandbox.data import GongWorld, call_id, iso, select
from tenantsync.sandbox.server import Request, Response, Route
from tenantsync.sandbox.twinkit import (
    ApiError,
    Limits,
    OAuthEndpoints,
    RestTwin,
    Table,
    decode_cursor,
    encode_cursor,
)

PAGE_SIZE = 100
NO_CALLS = "No calls found corresponding to the provided filters"
TABLES = {"call": "calls", "detailedCall": "details", "callTranscript": "transcripts"}


def _instant(name: str, value: Any) -> str:
    """An ISO-8601 filter bound with an offset, as stored (UTC, whole seconds)."""
    try:
        moment = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        raise ApiError(400, f"{name}: {value!r} is not an ISO-8601 date-time") from None
    if moment.tzinfo is None:
        raise ApiError(400, f"{name}: {value!r} needs a time zone offset")
    return iso(moment.astimezone(timezone.utc))


def _started(doc: dict) -> str:
    return doc["started"]


class GongSandbox(RestTwin):
    provider = "gong"
    public_hosts = ("api.gong.io",)
    access_lifetime = timedelta(days=1)
    limits = Limits(burst=3, window=1.0, daily_budget=10_000, limit_header=None,
                    remaining_header=None, reset_header=None)
    tables = [Table("calls", {"started": ("TEXT", _started)}), Table("details"),
              Table("transcripts", key="callId")]

    def __init__(self, *, records: int = 1000, counts: dict[str, int] | None = None,
                 **kwargs: Any):
        # `records` is the number of calls; the people on them come from the same world
        super().__init__(records=records, counts={"call": records, **(counts or {})}, **kwargs)
        self.data = GongWorld(self.world)
        self.oauth_api = OAuthEndpoints(
            "/oauth2/authorize", "/oauth2/generate-customer-token", lifetime_seconds=86_400,
            adds=lambda sb: {"api_base_url_for_customer": sb.base_url}, grant_in_query=True)
        self._added = 0
        self.served: set[str] = set()  # transcripts served (a deleted one is then flagged)

    # -- the store -------------------------------------------------------------------------

    def populate(self) -> None:
        calls, details, transcripts = [], [], []
        for cid, c in self.data.entities():
            call = self.data.call(cid, c, c["created"])
            calls.append(call)
            details.append({"id": cid, **self.data.detailed(call, c)})
            transcripts.append(self.data.transcript(cid, c))
        self._docs = {"calls": calls, "details": details, "transcripts": transcripts}
        super().populate()
        del self._docs

    def docs(self, table: str) -> Any:
        return self._docs[table]

    # -- requests --------------------------------------------------------------------------

    def extra_routes(self) -> list[Route]:
        return [*self.oauth_api.routes(self),
                Route("GET", r"/v2/calls", self._calls, "v2.calls"),
                Route("POST", r"/v2/calls/extensive", self._extensive, "v2.calls.extensive"),
                Route("POST", r"/v2/calls/transcript", self._transcripts,
                      "v2.calls.transcript")]

    def credential(self, request: Request) -> tuple[str | None, str]:
        basic = request.bearer("Basic")
        if basic:
            try:
                return base64.b64decode(basic, validate=True).decode(), "api_key"
            except ValueError:
                return None, ""
        return super().credential(request)

    def mint_access_key(self) -> tuple[str, str]:
        """A new API access key and its secret (Gong: Company settings > API)."""
        key, secret = secrets.token_hex(12).upper(), secrets.token_urlsafe(30)
        self.api_keys.add(f"{key}:{secret}")
        return key, secret

    def error(self, status: int, message: str) -> Response:
        return Response.json({"requestId": secrets.token_hex(10), "errors": [message]}, status)

    def rate_limited(self, daily: bool, reset: float) -> Response:
        response = self.error(429, "API request limit reached")
        if daily:
            now = self.clock.now()
            midnight = (now + timedelta(days=1)).replace(hour=0, minute=0, second=0,
                                                         microsecond=0)
            reset = (midnight - now).total_seconds()
        response.headers["Retry-After"] = str(max(1, round(reset)))
        return response

    def _calls(self, request: Request) -> Response:
        return self._listing(request, "calls", "calls", {
            k: request.arg(k) for k in ("fromDateTime", "toDateTime") if request.arg(k)},
            request.arg("cursor"))

    def _body(self, request: Request) -> dict:
        body = request.json()
        if not isinstance(body, dict) or not isinstance(body.get("filter") or {}, dict):
            raise ApiError(400, "The request body must be an object with a filter object")
        return body

    def _extensive(self, request: Request) -> Response:
        try:
            body = self._body(request)
        except ApiError as exc:
            return self.error(exc.status, exc.message)
        selector = body.get("contentSelector") or {}
        return self._listing(request, "details", "calls", body.get("filter") or {},
                             body.get("cursor"), lambda doc: select(doc, selector))

    def _transcripts(self, request: Request) -> Response:
        try:
            body = self._body(request)
        except ApiError as exc:
            return self.error(exc.status, exc.message)
        return self._listing(request, "transcripts", "callTranscripts",
                             body.get("filter") or {}, body.get("cursor"))

    def _listing(self, request: Request, table: str, key: str, filt: dict,
                 cursor: str | None, shape=None) -> Response:
        """One page of calls in start order (`filt`: fromDateTime, toDateTime, callIds), as
        `table`'s records (the call, its extensive form, its transcript) under `key`."""
        try:
            where, args = ["deleted = 0"], []
            for name, op in (("fromDateTime", ">="), ("toDateTime", "<")):
                if filt.get(name):
                    where.append(f'"started" {op} ?')
                    args.append(_instant(name, filt[name]))
            if filt.get("callIds"):
                ids = [str(i) for i in filt["callIds"]]
                where.append(f"id IN ({','.join('?' * len(ids))})")
                args += ids
            total = self.store.count("calls", " AND ".join(where), args)
            page = 0
            if cursor:
                try:
                    (after, page), rid = decode_cursor(str(cursor))
                except (ValueError, TypeError):
                    raise ApiError(400, f"cursor: {cursor!r} is not valid") from None
                where.append('("started" > ? OR ("started" = ? AND rid > ?))')
                args += [after, after, rid]
        except ApiError as exc:
            return self.error(exc.status, exc.message)
        rowids = self.store.select_rowids("calls", " AND ".join(where), args,
                                          order_by='"started" ASC, rid ASC',
                                          limit=PAGE_SIZE + 1)
        rows = self.store.fetch_docs("calls", rowids[:PAGE_SIZE], extra=("id", "started",
                                                                          "rid"))
        if not rows and not cursor:
            return self.error(404, NO_CALLS)
        docs = []
        for doc, cid, _started_at, _rid in rows:
            if table != "calls":
                found = self.store.get(table, cid)
                if found is None or found.deleted:
                    continue  # e.g. a call whose recording (and transcript) was deleted
                doc = found.doc
                if table == "transcripts":
                    self.served.add(cid)
            docs.append(json.dumps(shape(json.loads(doc)), separators=(",", ":"))
                        if shape else doc)
        info = {"totalRecords": total, "currentPageSize": len(docs),
                "currentPageNumber": page}
        if len(rowids) > PAGE_SIZE:
            last = rows[-1]
            info["cursor"] = encode_cursor([last[2], page + 1], last[3])
        head = json.dumps({"requestId": secrets.token_hex(10), "records": info})
        return Response(body=[head[:-1].encode(), f',"{key}":['.encode(),
                              ",".join(docs).encode(), b"]}"], records=len(docs))

    # -- mutations (the control API) -------------------------------------------------------

    def create(self, obj: str, fields: dict) -> dict:
        """A call just recorded (with its extensive form and transcript)."""
        if obj != "call":
            raise NotImplementedError("calls are recorded; their forms come with them")
        n = self.world.counts["call"]
        template = self.world.get("call", self._added % max(1, n)) if n else None
        if template is None:
            raise NotImplementedError("an empty world has no call to model a new one on")
        cid = call_id(n + self._added)
        self._added += 1
        call = {**self.data.call(cid, template, self.clock.stamp()), **fields}
        self.save("calls", call)
        self.save("details", {"id": cid, **self.data.detailed(call, template)})
        self.save("transcripts", self.data.transcript(cid, template))
        return call

    def update(self, obj: str, record_id: str, fields: dict) -> dict:
        """A call's metadata changed (its title, say); the extensive form shows it too."""
        call, deleted = self.stored("calls", record_id)
        if deleted or obj != "call":
            raise KeyError(f"no live call {record_id!r}")
        call.update(fields)
        detail, _ = self.stored("details", record_id)
        detail["metaData"] = call
        self.save("details", detail)
        return self.save("calls", call)

    def delete(self, obj: str, record_id: str) -> None:
        """`callTranscript`: the call's recording was deleted (the call stays); `call`: the
        call is gone with everything of it."""
        tables = {"callTranscript": ("transcripts",),
                  "call": ("calls", "details", "transcripts")}.get(obj)
        if tables is None:
            raise NotImplementedError(f"{obj} is not deleted on its own")
        for table in tables:
            doc, _ = self.stored(table, record_id)
            self.save(table, doc, deleted=True)

    def records(self, obj: str) -> list[tuple[dict, bool]]:
        return self.all_records(TABLES[obj])
