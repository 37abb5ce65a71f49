"""Bulk API 1.0 query jobs (`/services/async/XX.X/job...`), as singer-io tap-salesforce's BULK
mode and simple-salesforce's `sf.bulk` use them.

Auth is the `X-SFDC-Session` header; a bad session is HTTP 400 `InvalidSessionId`. Job and batch
info is JSON for JSON jobs and for requests with a JSON body, XML otherwise (a CSV job's batch
info is XML). A batch snapshots its rows when added and goes Queued -> InProgress -> Completed
one step per status poll (`bulk_polls` in all); a malformed query fails the batch with an
`InvalidBatch` state message, as Salesforce does. `Sforce-Enable-PKChunking: chunkSize=N`
splits a batch into Id-range batches and leaves the original `NotProcessed`. Results are CSV
(CSV jobs) or a JSON array whose datetimes are epoch milliseconds (JSON jobs), split into
result files of `bulk1_result_rows` records.
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass, field
from xml.sax.saxutils import escape

import msgspec

from tap_salesforce.sandbox.bulk2 import bulk_csv
from tap_salesforce.sandbox.ids import make_id
from tap_salesforce.sandbox.records import parse_sf_datetime, sf_datetime
from tap_salesforce.sandbox.soql import Compiled, SoqlError, compile_query
from tenantsync.sandbox.server import Request, Response, Route

A = r"/services/async/(?P<ver>\d+\.\d)"
JOB = r"(?P<job>750[A-Za-z0-9]{12}(?:[A-Za-z0-9]{3})?)"
BATCH = r"(?P<batch>751[A-Za-z0-9]{12}(?:[A-Za-z0-9]{3})?)"
RESULT = r"(?P<result>752[A-Za-z0-9]{12}(?:[A-Za-z0-9]{3})?)"
NS = "http://www.force.com/2009/06/asyncapi/dataload"
CONTENT_TYPES = ("CSV", "JSON")
DONE = ("Completed", "Failed", "NotProcessed")
_decode = msgspec.json.Decoder()
_encode = msgspec.json.Encoder()


@dataclass
class Batch:
    id: str
    job_id: str
    created: str
    compiled: Compiled | None
    rowids: object = ()
    state: str = "Queued"
    message: str | None = None
    polls: int = 0
    results: list[str] = field(default_factory=list)


@dataclass
class Job:
    id: str
    operation: str
    object: str
    content_type: str
    created_by: str
    created: str
    api_version: str
    chunk_size: int | None
    state: str = "Open"
    batches: dict[str, Batch] = field(default_factory=dict)


def _bulk_time(rest_value: str) -> str:
    return rest_value[:-5] + "Z"


def job_info(job: Job) -> dict:
    states = [b.state for b in job.batches.values()]
    processed = sum(len(b.rowids) for b in job.batches.values() if b.state == "Completed")
    return {"apexProcessingTime": 0, "apiActiveProcessingTime": 0,
            "apiVersion": float(job.api_version), "concurrencyMode": "Parallel",
            "contentType": job.content_type, "createdById": job.created_by,
            "createdDate": _bulk_time(job.created), "id": job.id,
            "numberBatchesCompleted": states.count("Completed"),
            "numberBatchesFailed": states.count("Failed"),
            "numberBatchesInProgress": states.count("InProgress"),
            "numberBatchesQueued": states.count("Queued"),
            "numberBatchesTotal": len(states), "numberRecordsFailed": 0,
            "numberRecordsProcessed": processed, "numberRetries": 0, "object": job.object,
            "operation": job.operation, "state": job.state,
            "systemModstamp": _bulk_time(job.created), "totalProcessingTime": 0}


def batch_info(batch: Batch) -> dict:
    info = {"apexProcessingTime": 0, "apiActiveProcessingTime": 0,
            "createdDate": _bulk_time(batch.created), "id": batch.id, "jobId": batch.job_id,
            "numberRecordsFailed": 0,
            "numberRecordsProcessed": len(batch.rowids) if batch.state == "Completed" else 0,
            "state": batch.state, "systemModstamp": _bulk_time(batch.created),
            "totalProcessingTime": 0}
    if batch.message:
        info["stateMessage"] = batch.message
    return info


# Element order of the XML documents (Salesforce's schema order).
_JOB_ORDER = ("id", "operation", "object", "createdById", "createdDate", "systemModstamp",
              "state", "concurrencyMode", "contentType", "numberBatchesQueued",
              "numberBatchesInProgress", "numberBatchesCompleted", "numberBatchesFailed",
              "numberBatchesTotal", "numberRecordsProcessed", "numberRetries", "apiVersion",
              "numberRecordsFailed", "totalProcessingTime", "apiActiveProcessingTime",
              "apexProcessingTime")
_BATCH_ORDER = ("id", "jobId", "state", "stateMessage", "createdDate", "systemModstamp",
                "numberRecordsProcessed", "numberRecordsFailed", "totalProcessingTime",
                "apiActiveProcessingTime", "apexProcessingTime")


def _elements(data: dict, order: tuple[str, ...]) -> str:
    return "".join(f"<{k}>{escape(str(data[k]))}</{k}>" for k in order if k in data)


def _xml(root: str, inner: str) -> str:
    return f'<?xml version="1.0" encoding="UTF-8"?><{root} xmlns="{NS}">{inner}</{root}>'


class BulkV1Api:
    bulk1_result_rows = 100_000

    def _init_bulk1(self) -> None:
        self.bulk1_jobs: dict[str, Job] = {}
        self._bulk1_seq = 0
        self._bulk1_lock = threading.Lock()

    def bulk1_routes(self) -> list[Route]:
        return [
            Route("POST", A + "/job/?", self.b1_create_job, "bulk1.job.create"),
            Route("GET", f"{A}/job/{JOB}/?", self.b1_get_job, "bulk1.job"),
            Route("POST", f"{A}/job/{JOB}/?", self.b1_update_job, "bulk1.job.update"),
            Route("POST", f"{A}/job/{JOB}/batch/?", self.b1_add_batch, "bulk1.batch.create"),
            Route("GET", f"{A}/job/{JOB}/batch/?", self.b1_list_batches, "bulk1.batches"),
            Route("GET", f"{A}/job/{JOB}/batch/{BATCH}/?", self.b1_get_batch, "bulk1.batch"),
            Route("GET", f"{A}/job/{JOB}/batch/{BATCH}/result/?", self.b1_result_list,
                  "bulk1.results"),
            Route("GET", f"{A}/job/{JOB}/batch/{BATCH}/result/{RESULT}/?", self.b1_result,
                  "bulk1.result"),
        ]

    # -- helpers -------------------------------------------------------------------------------

    def _b1_next_id(self, prefix: str) -> str:
        with self._bulk1_lock:
            self._bulk1_seq += 1
            return make_id(prefix, self._bulk1_seq)

    @staticmethod
    def _b1_json_request(request: Request) -> bool:
        return "json" in (request.headers.get("Content-Type") or "").lower()

    def b1_error(self, request: Request, code: str, message: str,
                 status: int = 400) -> Response:
        if self._b1_json_request(request):
            return Response.json({"exceptionCode": code, "exceptionMessage": message}, status)
        body = _xml("error", f"<exceptionCode>{code}</exceptionCode>"
                             f"<exceptionMessage>{escape(message)}</exceptionMessage>")
        return Response(status, body, content_type="application/xml")

    def _b1_reply(self, request: Request, job: Job, root: str, data: dict,
                  order: tuple[str, ...]) -> Response:
        """A job's info in the format of the request (JSON or XML); batch info and result
        lists come in the job's own format (`_b1_batch_reply`), whatever the request's
        Content-Type says (Bulk API 1.0: a CSV or XML job answers XML)."""
        if self._b1_json_request(request):
            return Response.json(data)
        return Response(200, _xml(root, _elements(data, order)),
                        content_type="application/xml")

    @staticmethod
    def _b1_batch_reply(job: Job, root: str, data, xml_inner: str) -> Response:
        if job.content_type == "JSON":
            return Response.json(data)
        return Response(200, _xml(root, xml_inner), content_type="application/xml")

    def _b1_job(self, request: Request) -> Job | Response:
        if request.params["ver"] not in self.api_versions:
            return self.b1_error(request, "InvalidUrl", "unknown API version", 404)
        job = self.bulk1_jobs.get(request.params["job"])
        if job is None:
            return self.b1_error(request, "InvalidJob", f"Invalid job id: "
                                                        f"{request.params['job']}")
        return job

    def _b1_batch(self, request: Request) -> tuple[Job, Batch] | Response:
        job = self._b1_job(request)
        if isinstance(job, Response):
            return job
        batch = job.batches.get(request.params["batch"])
        if batch is None:
            return self.b1_error(request, "InvalidBatch",
                                 f"Invalid batch id: {request.params['batch']}")
        return job, batch

    # -- jobs ----------------------------------------------------------------------------------

    def b1_create_job(self, request: Request) -> Response:
        if request.params["ver"] not in self.api_versions:
            return self.b1_error(request, "InvalidUrl", "unknown API version", 404)
        try:
            body = _decode.decode(request.body or b"null")
        except msgspec.DecodeError:
            return self.b1_error(request, "ClientInputError",
                                 "Unable to parse the job: send it as JSON")
        if not isinstance(body, dict):
            return self.b1_error(request, "ClientInputError", "a job must be a JSON object")
        operation, obj = body.get("operation"), body.get("object")
        if operation not in ("query", "queryAll"):
            return self.b1_error(request, "InvalidJob", f"Operation not supported by this "
                                                        f"endpoint: {operation}")
        if obj not in self.objects:
            return self.b1_error(request, "InvalidJob", f"Unable to find object: {obj}")
        content_type = body.get("contentType", "CSV")
        if content_type not in CONTENT_TYPES:
            return self.b1_error(request, "InvalidJob",
                                 f"contentType must be one of {', '.join(CONTENT_TYPES)}")
        chunking = request.headers.get("Sforce-Enable-PKChunking") or ""
        chunk_size = None
        if chunking.lower().startswith("true") or "chunksize" in chunking.lower():
            m = re.search(r"chunkSize=(\d+)", chunking, re.I)
            chunk_size = int(m.group(1)) if m else 100_000
        job = Job(self._b1_next_id("750"), operation, obj, content_type,
                  request.state.get("user_id") or self.oauth.default_user,
                  sf_datetime(self.clock.stamp()), request.params["ver"], chunk_size)
        self.bulk1_jobs[job.id] = job
        return self._b1_reply(request, job, "jobInfo", job_info(job), _JOB_ORDER)

    def b1_get_job(self, request: Request) -> Response:
        job = self._b1_job(request)
        if isinstance(job, Response):
            return job
        return self._b1_reply(request, job, "jobInfo", job_info(job), _JOB_ORDER)

    def b1_update_job(self, request: Request) -> Response:
        job = self._b1_job(request)
        if isinstance(job, Response):
            return job
        try:
            state = _decode.decode(request.body or b"null").get("state")
        except (msgspec.DecodeError, AttributeError):
            state = None
        if state not in ("Closed", "Aborted"):
            return self.b1_error(request, "InvalidJobState", "a job can be Closed or Aborted")
        job.state = state
        return self._b1_reply(request, job, "jobInfo", job_info(job), _JOB_ORDER)

    # -- batches -------------------------------------------------------------------------------

    def b1_add_batch(self, request: Request) -> Response:
        job = self._b1_job(request)
        if isinstance(job, Response):
            return job
        if job.state != "Open":
            return self.b1_error(request, "InvalidJobState",
                                 f"Job {job.id} is {job.state}: no more batches")
        batch = Batch(self._b1_next_id("751"), job.id, sf_datetime(self.clock.stamp()), None)
        job.batches[batch.id] = batch
        text = request.body.decode("utf-8", "replace")
        try:
            compiled = compile_query(text, self.objects)
            if compiled.sobject.name != job.object:
                raise SoqlError("INVALID_TYPE", f"the query is on {compiled.sobject.name}, "
                                                f"the job on {job.object}")
            if compiled.count or compiled.offset:
                raise SoqlError("MALFORMED_QUERY", "Aggregate queries and OFFSET are not "
                                                   "supported by Bulk API")
        except SoqlError as exc:
            batch.state = "Failed"
            batch.message = f"InvalidBatch : Failed to process query: {exc.code}: {exc.message}"
            return self._b1_batch_info(job, batch)
        batch.compiled = compiled
        batch.rowids = self.snapshot(compiled, job.operation == "queryAll")
        if job.chunk_size:
            self._b1_chunk(job, batch)
        return self._b1_batch_info(job, batch)

    def _b1_batch_info(self, job: Job, batch: Batch) -> Response:
        info = batch_info(batch)
        return self._b1_batch_reply(job, "batchInfo", info, _elements(info, _BATCH_ORDER))

    def _b1_chunk(self, job: Job, original: Batch) -> None:
        """PK chunking: one batch per `chunk_size` Ids (in Id order); the original is not run."""
        ids = dict(self.store.conn().execute(
            f'SELECT rid, id FROM "{job.object}" WHERE rid IN (SELECT value FROM json_each(?))',
            ["[" + ",".join(map(str, original.rowids)) + "]"]).fetchall())
        ordered = sorted(original.rowids, key=ids.__getitem__)
        original.state, original.rowids = "NotProcessed", ()
        for start in range(0, len(ordered), job.chunk_size):
            chunk = Batch(self._b1_next_id("751"), job.id, original.created, original.compiled,
                          ordered[start:start + job.chunk_size])
            job.batches[chunk.id] = chunk

    def b1_list_batches(self, request: Request) -> Response:
        job = self._b1_job(request)
        if isinstance(job, Response):
            return job
        infos = [batch_info(self._b1_advance(b)) for b in job.batches.values()]
        inner = "".join(f"<batchInfo>{_elements(i, _BATCH_ORDER)}</batchInfo>" for i in infos)
        return self._b1_batch_reply(job, "batchInfoList", {"batchInfo": infos}, inner)

    def b1_get_batch(self, request: Request) -> Response:
        found = self._b1_batch(request)
        if isinstance(found, Response):
            return found
        job, batch = found
        return self._b1_batch_info(job, self._b1_advance(batch))

    def _b1_advance(self, batch: Batch) -> Batch:
        if batch.state not in DONE:
            batch.polls += 1
            batch.state = "Completed" if batch.polls >= self.bulk_polls else "InProgress"
            if batch.state == "Completed":
                size = self.bulk1_result_rows
                batch.results = [self._b1_next_id("752")
                                 for _ in range(max(1, -(-len(batch.rowids) // size)))]
        return batch

    # -- results -------------------------------------------------------------------------------

    def b1_result_list(self, request: Request) -> Response:
        found = self._b1_batch(request)
        if isinstance(found, Response):
            return found
        job, batch = found
        if batch.state != "Completed":
            return self.b1_error(request, "InvalidBatch", f"Batch {batch.id} is {batch.state}: "
                                                          "results are not available")
        inner = "".join(f"<result>{r}</result>" for r in batch.results)
        return self._b1_batch_reply(job, "result-list", batch.results, inner)

    def b1_result(self, request: Request) -> Response:
        found = self._b1_batch(request)
        if isinstance(found, Response):
            return found
        job, batch = found
        if request.params["result"] not in batch.results:
            return self.b1_error(request, "InvalidBatch",
                                 f"Invalid result id: {request.params['result']}")
        part = batch.results.index(request.params["result"])
        size = self.bulk1_result_rows
        rowids = batch.rowids[part * size:(part + 1) * size]
        if job.content_type == "CSV":
            return Response(body=bulk_csv(self.store, batch.compiled, rowids),
                            content_type="text/csv", records=len(rowids))
        return Response(body=self._b1_json_records(job, batch.compiled, rowids),
                        records=len(rowids))

    def _b1_json_records(self, job: Job, compiled: Compiled, rowids) -> bytes:
        names = [fl.name for fl in compiled.fields]
        datetimes = {fl.name for fl in compiled.fields if fl.type == "datetime"}
        base = f"/services/data/v{job.api_version}/sobjects/{job.object}/"
        out = []
        for doc, rid in self.store.fetch_docs(job.object, rowids, extra=("id",)):
            full = _decode.decode(doc)
            record = {"attributes": {"type": job.object, "url": base + rid}}
            for n in names:
                value = full.get(n)
                if n in datetimes and value is not None:  # JSON bulk results: epoch ms
                    value = int(parse_sf_datetime(value).timestamp() * 1000)
                record[n] = value
            out.append(record)
        return _encode.encode(out)
