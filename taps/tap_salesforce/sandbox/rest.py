"""The Salesforce REST API endpoints of the twin (`/services/data/...`)."""

from __future__ import annotations

import json
import threading
from datetime import datetime, timedelta, timezone
from email.utils import parsedate_to_datetime

import msgspec

from tap_salesforce.sandbox.errors import SalesforceError, sf_error
from tap_salesforce.sandbox.ids import make_id
from tap_salesforce.sandbox.records import sf_datetime
from tap_salesforce.sandbox.schema import describe, sobject_summary
from tap_salesforce.sandbox.soql import Compiled, SoqlError, compile_query
from tenantsync.sandbox.server import Abort, Request, Response, Route
from tenantsync.sandbox.store import Cursors

PAGE = 2000  # records per query page (the most Salesforce sends)
MIN_PAGE = 200
COMPOSITE_MAX = 25
DELETED_ID_LIMIT = 600_000
V = r"/services/data/v(?P<ver>\d+\.\d)"
OBJ = r"(?P<obj>[A-Za-z][A-Za-z0-9_]*)"
RID = r"(?P<id>[A-Za-z0-9]{15}(?:[A-Za-z0-9]{3})?)"
_SEASONS = ("Winter", "Spring", "Summer")
_decode = msgspec.json.Decoder()
_encode = msgspec.json.Encoder()


def release_label(version: str) -> str:
    """`59.0` -> `Winter '24` (three releases a year)."""
    n = int(float(version)) - 59
    return f"{_SEASONS[n % 3]} '{24 + n // 3:02d}"


class _QueryCursor:
    """A query's snapshot: the matching rowids and how to render them."""

    __slots__ = ("compiled", "rowids")

    def __init__(self, compiled: Compiled, rowids):
        self.compiled, self.rowids = compiled, rowids


class RestApi:
    def _init_rest(self) -> None:
        self.cursors = Cursors(max_open=50)  # abandoned query snapshots, oldest evicted
        self._locator_seq = 0
        self._locator_lock = threading.Lock()

    def rest_routes(self) -> list[Route]:
        r = Route
        return [
            r("GET", r"/services/data/?", self.versions, "versions", public=True),
            r("GET", V + "/?", self.resources, "resources"),
            r("GET", V + "/sobjects/?", self.global_describe, "sobjects"),
            r("GET", V + f"/sobjects/{OBJ}/?", self.sobject_info, "sobject"),
            r("POST", V + f"/sobjects/{OBJ}/?", self.create_record, "record.create"),
            r("GET", V + f"/sobjects/{OBJ}/describe/?", self.describe, "describe"),
            r("GET", V + f"/sobjects/{OBJ}/deleted/?", self.deleted, "deleted"),
            r("GET", V + f"/sobjects/{OBJ}/updated/?", self.updated, "updated"),
            r("GET", V + f"/sobjects/{OBJ}/{RID}/?", self.get_record_rest, "record.get"),
            r("PATCH", V + f"/sobjects/{OBJ}/{RID}/?", self.update_record, "record.update"),
            r("DELETE", V + f"/sobjects/{OBJ}/{RID}/?", self.delete_record, "record.delete"),
            r("GET", V + "/query/?", lambda q: self.query(q, False), "query"),
            r("GET", V + "/queryAll/?", lambda q: self.query(q, True), "queryAll"),
            r("GET", V + r"/(?:query|queryAll)/(?P<loc>[A-Za-z0-9]{15,18})-(?P<offset>\d+)/?",
              self.query_more, "query.more"),
            r("GET", V + "/limits/?", self.limits, "limits"),
            r("POST", V + "/composite/batch/?", self.composite_batch, "composite.batch"),
        ]

    # -- helpers -------------------------------------------------------------------------------

    def _version(self, request: Request) -> str:
        ver = request.params.get("ver")
        if ver not in self.api_versions:
            raise Abort(sf_error(404, "NOT_FOUND", "The requested resource does not exist"))
        return ver

    def _sobject(self, request: Request):
        self._version(request)
        try:
            return self.sobject(request.params["obj"])
        except SalesforceError as exc:
            raise exc.abort() from None

    def _record_url(self, ver: str, obj: str, record_id: str) -> str:
        return f"/services/data/v{ver}/sobjects/{obj}/{record_id}"

    # -- discovery -----------------------------------------------------------------------------

    def versions(self, request: Request) -> Response:
        return Response.json([{"label": release_label(v), "url": f"/services/data/v{v}",
                               "version": v} for v in self.api_versions])

    def resources(self, request: Request) -> Response:
        ver = self._version(request)
        base = f"/services/data/v{ver}"
        names = ("sobjects", "query", "queryAll", "limits", "composite", "jobs")
        return Response.json({name: f"{base}/{name}" for name in names})

    def _unchanged_since(self, request: Request) -> bool:
        """Describe calls honour If-Modified-Since: 304 when no metadata changed since (an
        unparsable date is ignored, as HTTP says)."""
        header = request.headers.get("If-Modified-Since")
        try:
            since = parsedate_to_datetime(header) if header else None
        except (TypeError, ValueError):
            return False
        return since is not None and since.tzinfo is not None and \
            self.metadata_changed.replace(microsecond=0) <= since

    def global_describe(self, request: Request) -> Response:
        ver = self._version(request)
        if self._unchanged_since(request):
            return Response(304, content_type=None)
        return Response.json({"encoding": "UTF-8", "maxBatchSize": 200, "sobjects": [
            sobject_summary(o, ver) for o in self.objects.values()]})

    def sobject_info(self, request: Request) -> Response:
        obj = self._sobject(request)
        return Response.json({"objectDescribe": sobject_summary(obj, request.params["ver"]),
                              "recentItems": []})

    def describe(self, request: Request) -> Response:
        obj = self._sobject(request)
        if self._unchanged_since(request):
            return Response(304, content_type=None)
        return Response.json(describe(obj, request.params["ver"], self.objects))

    def limits(self, request: Request) -> Response:
        self._version(request)
        used = self.accounting.quota_used()
        quota = self.quota_limit or 0
        jobs = len(self.bulk_jobs)
        batches = sum(len(j.batches) for j in self.bulk1_jobs.values())

        def limit(mx: int, used_: int = 0) -> dict:
            return {"Max": mx, "Remaining": max(0, mx - used_)}

        return Response.json({
            "ActiveScratchOrgs": limit(3), "ConcurrentAsyncGetReportInstances": limit(200),
            "ConcurrentSyncReportRuns": limit(20), "DailyApiRequests": limit(quota, used),
            "DailyAsyncApexExecutions": limit(250000), "DailyBulkApiBatches": limit(15000, batches),
            "DailyBulkV2QueryFileStorageMB": limit(976562), "DailyBulkV2QueryJobs":
            limit(10000, jobs), "DailyGenericStreamingApiEvents": limit(10000),
            "DailyStreamingApiEvents": limit(10000), "DailyWorkflowEmails": limit(2000),
            "DataStorageMB": limit(5, 1), "FileStorageMB": limit(20),
            "HourlyODataCallout": limit(20000), "HourlyTimeBasedWorkflow": limit(1000),
            "MassEmail": limit(10), "SingleEmail": limit(15),
        })

    # -- records -------------------------------------------------------------------------------

    def get_record_rest(self, request: Request) -> Response:
        obj = self._sobject(request)
        try:
            record = self._load(obj, request.params["id"])
        except SalesforceError as exc:
            raise exc.abort() from None
        wanted = request.arg("fields")
        if wanted:
            names = [n.strip() for n in wanted.split(",") if n.strip()]
            unknown = [n for n in names if obj.field(n) is None]
            if unknown:
                return sf_error(400, "INVALID_FIELD", f"No such column '{unknown[0]}' on "
                                                      f"sobject of type {obj.name}")
            record = {obj.field(n).name: record[obj.field(n).name] for n in names}
        url = self._record_url(request.params["ver"], obj.name, request.params["id"])
        return Response.json({"attributes": {"type": obj.name, "url": url}, **record},
                             records=1)

    def create_record(self, request: Request) -> Response:
        obj = self._sobject(request)
        try:
            record = self.create(obj.name, request.json())
        except SalesforceError as exc:
            return exc.response()
        return Response.json({"id": record["Id"], "success": True, "errors": []}, 201)

    def update_record(self, request: Request) -> Response:
        obj = self._sobject(request)
        try:
            self.update(obj.name, request.params["id"], request.json())
        except SalesforceError as exc:
            return exc.response()
        return Response(204, content_type=None)

    def delete_record(self, request: Request) -> Response:
        obj = self._sobject(request)
        try:
            self.delete(obj.name, request.params["id"])
        except SalesforceError as exc:
            return exc.response()
        return Response(204, content_type=None)

    # -- query ---------------------------------------------------------------------------------

    def query(self, request: Request, include_deleted: bool) -> Response:
        ver = self._version(request)
        text = request.arg("q")
        if not text:
            return sf_error(400, "MALFORMED_QUERY", "A query string has to be specified")
        try:
            compiled = compile_query(text, self.objects)
        except SoqlError as exc:
            return sf_error(400, exc.code, exc.message)
        rowids = self.snapshot(compiled, include_deleted)
        if compiled.count:
            return Response.json({"totalSize": len(rowids), "done": True, "records": []})
        if self.query_timeout_rows is not None and len(rowids) > self.query_timeout_rows:
            return sf_error(400, "QUERY_TIMEOUT", "Your query request was running for too long.")
        cursor = _QueryCursor(compiled, rowids)
        return self._page(request, ver, cursor, self._new_locator(cursor), 0)

    def query_more(self, request: Request) -> Response:
        ver = self._version(request)
        cursor = self.cursors.get(request.params["loc"])
        offset = int(request.params["offset"])
        if cursor is None or offset > len(cursor.rowids):
            return sf_error(400, "INVALID_QUERY_LOCATOR", "invalid query locator")
        return self._page(request, ver, cursor, request.params["loc"], offset)

    def _new_locator(self, cursor: _QueryCursor) -> str:
        with self._locator_lock:
            self._locator_seq += 1
            locator = make_id("01g", self._locator_seq)
        self.cursors.put(locator, cursor)
        return locator

    def _page(self, request: Request, ver: str, cursor: _QueryCursor, locator: str,
              offset: int) -> Response:
        size = _batch_size(request.headers.get("Sforce-Query-Options"))
        end = min(offset + size, len(cursor.rowids))
        records = self.render(cursor.compiled, ver, cursor.rowids[offset:end])
        total = len(cursor.rowids)
        head = f'{{"totalSize":{total},"done":{"true" if end >= total else "false"},'
        if end < total:
            head += f'"nextRecordsUrl":"/services/data/v{ver}/query/{locator}-{end}",'
        else:
            self.cursors.drop(locator)
        body = f'{head}"records":[{",".join(records)}]}}'.encode()
        return Response(body=body, records=len(records))

    def render(self, compiled: Compiled, ver: str, rowids) -> list[str]:
        """Records as JSON text with `attributes`; spliced from the store when the SELECT
        list is every field in describe order, projected otherwise."""
        obj = compiled.sobject
        rows = self.store.fetch_docs(obj.name, rowids, extra=("id",))
        prefix = f'{{"attributes":{{"type":"{obj.name}","url":"/services/data/v{ver}/sobjects/'
        prefix += f'{obj.name}/'
        if [fl.name for fl in compiled.fields] == [fl.name for fl in obj.fields]:
            return [f'{prefix}{rid}"}},{doc[1:]}' for doc, rid in rows]
        names = [fl.name for fl in compiled.fields]
        out = []
        for doc, rid in rows:
            full = _decode.decode(doc)
            picked = _encode.encode({n: full.get(n) for n in names}).decode()
            out.append(f'{prefix}{rid}"}},{picked[1:]}' if len(picked) > 2
                       else f'{prefix}{rid}"}}}}')
        return out

    # -- replication ---------------------------------------------------------------------------

    def _window(self, request: Request) -> tuple[datetime, datetime]:
        values = []
        for name in ("start", "end"):
            raw = request.arg(name)
            if not raw:
                raise Abort(sf_error(400, "MISSING_ARGUMENT", f"Missing argument: {name}"))
            try:
                moment = datetime.fromisoformat(raw.replace("Z", "+00:00").replace(" ", "+"))
            except ValueError:
                raise Abort(sf_error(400, "INVALID_REPLICATION_DATE",
                                     f"{name} is not a valid dateTime: {raw}")) from None
            if moment.tzinfo is None:
                moment = moment.replace(tzinfo=timezone.utc)
            values.append(moment.astimezone(timezone.utc).replace(second=0, microsecond=0))
        start, end = values
        if end - start < timedelta(minutes=1):
            raise Abort(sf_error(400, "INVALID_REPLICATION_DATE",
                                 "startDate must chronologically precede endDate by more than "
                                 "one minute"))
        return start, end

    def deleted(self, request: Request) -> Response:
        obj = self._sobject(request)
        start, end = self._window(request)
        now = self.clock.now()
        earliest = (now - timedelta(days=15)).replace(second=0, microsecond=0)
        latest = min(end, now.replace(second=0, microsecond=0))
        lo, hi = sf_datetime(max(start, earliest)), sf_datetime(latest)
        rows = self.store.conn().execute(
            f'SELECT id, deleted_at FROM "{obj.name}" WHERE deleted = 1 AND deleted_at >= ? '
            "AND deleted_at < ? ORDER BY deleted_at, rid LIMIT ?",
            [lo, hi, DELETED_ID_LIMIT + 1]).fetchall()
        if len(rows) > DELETED_ID_LIMIT:
            return sf_error(400, "EXCEEDED_ID_LIMIT", "record limit reached. narrow the range")
        return Response.json({"deletedRecords": [{"id": i, "deletedDate": d} for i, d in rows],
                              "earliestDateAvailable": sf_datetime(earliest),
                              "latestDateCovered": sf_datetime(latest)}, records=len(rows))

    def updated(self, request: Request) -> Response:
        obj = self._sobject(request)
        start, end = self._window(request)
        latest = min(end, self.clock.now().replace(second=0, microsecond=0))
        rows = self.store.conn().execute(
            f'SELECT id FROM "{obj.name}" WHERE deleted = 0 AND modstamp >= ? AND modstamp < ? '
            "ORDER BY modstamp, rid LIMIT ?",
            [sf_datetime(start), sf_datetime(latest), DELETED_ID_LIMIT + 1]).fetchall()
        if len(rows) > DELETED_ID_LIMIT:
            return sf_error(400, "EXCEEDED_ID_LIMIT", "record limit reached. narrow the range")
        return Response.json({"ids": [r[0] for r in rows],
                              "latestDateCovered": sf_datetime(latest)}, records=len(rows))

    # -- composite -----------------------------------------------------------------------------

    def composite_batch(self, request: Request) -> Response:
        self._version(request)
        body = request.json()
        subrequests = body.get("batchRequests") if isinstance(body, dict) else None
        if not isinstance(subrequests, list) or not subrequests:
            return sf_error(400, "JSON_PARSER_ERROR", "batchRequests is required")
        if len(subrequests) > COMPOSITE_MAX:
            return sf_error(400, "INVALID_BATCH_REQUEST",
                            f"A batch can contain a maximum of {COMPOSITE_MAX} requests")
        halt = bool(body.get("haltOnError"))
        results, failed, served = [], False, 0
        for sub in subrequests:
            if failed and halt:
                results.append({"statusCode": 412, "result": [{
                    "errorCode": "BATCH_PROCESSING_HALTED",
                    "message": "Batch processing halted per request"}]})
                continue
            response = self._subrequest(request, sub)
            served += response.records
            raw = response.body_bytes()
            result = json.loads(raw) if raw else None
            results.append({"statusCode": response.status, "result": result})
            failed = failed or response.status >= 400
        return Response.json({"hasErrors": failed, "results": results}, records=served)

    def _subrequest(self, outer: Request, sub) -> Response:
        if not isinstance(sub, dict) or not isinstance(sub.get("url"), str):
            return sf_error(400, "INVALID_BATCH_REQUEST", "each batch request needs a url")
        from urllib.parse import parse_qs, unquote, urlsplit

        url = sub["url"]
        if not url.startswith("/"):
            url = "/services/data/" + url
        split = urlsplit(url)
        method = str(sub.get("method", "GET")).upper()
        route, params, _ = self._router.match(method, unquote(split.path))
        if route is None or route.public or not route.name.startswith(("sobject", "describe",
                                                                       "query", "record",
                                                                       "limits", "deleted",
                                                                       "updated")):
            return sf_error(404, "NOT_FOUND", "The requested resource does not exist")
        rich = sub.get("richInput")
        inner = Request(method=method, path=unquote(split.path),
                        query=parse_qs(split.query, keep_blank_values=True),
                        headers=outer.headers, body=json.dumps(rich).encode() if rich else b"",
                        raw_path=url, base_url=outer.base_url, params=params, route=route,
                        state=outer.state)
        try:
            return route.handler(inner)
        except Abort as abort:
            return abort.response


def _batch_size(header: str | None) -> int:
    """`Sforce-Query-Options: batchSize=N` (200..2000; Salesforce treats it as a hint)."""
    if header:
        for part in header.split(","):
            key, _, value = part.strip().partition("=")
            if key.strip() == "batchSize" and value.strip().isdigit():
                return max(MIN_PAGE, min(PAGE, int(value)))
    return PAGE

