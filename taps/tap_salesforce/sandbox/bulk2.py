"""Bulk API 2.0 query jobs (`/services/data/vXX.X/jobs/query`), results as paged CSV.

A job snapshots its result rows when created; it then moves UploadComplete -> InProgress ->
JobComplete one step per status poll (`bulk_polls` polls in all), so clients see the states a
real org goes through. Results are served in pages of `maxRecords` with an opaque
`Sforce-Locator` (the literal `null` on the last page) and `Sforce-NumberOfRecords`.
"""

from __future__ import annotations

import base64
import binascii
import csv
import functools
import io
import threading
from dataclasses import dataclass

import msgspec

from tap_salesforce.sandbox.errors import sf_error
from tap_salesforce.sandbox.ids import make_id
from tap_salesforce.sandbox.records import bulk_datetime, sf_datetime
from tap_salesforce.sandbox.schema import COMPOUND
from tap_salesforce.sandbox.soql import Compiled, SoqlError, compile_query
from tenantsync.sandbox.server import Request, Response, Route

V = r"/services/data/v(?P<ver>\d+\.\d)"
JOB = r"(?P<job>750[A-Za-z0-9]{12}(?:[A-Za-z0-9]{3})?)"
DELIMITERS = {"COMMA": ",", "TAB": "\t", "PIPE": "|", "SEMICOLON": ";", "CARET": "^",
              "BACKQUOTE": "`"}
LINE_ENDINGS = {"LF": "\n", "CRLF": "\r\n"}
DEFAULT_MAX_RECORDS = 100_000
TERMINAL = ("JobComplete", "Failed", "Aborted")
_decode = msgspec.json.Decoder()


@dataclass
class BulkJob:
    id: str
    operation: str
    compiled: Compiled
    rowids: object  # array of rowids: the result snapshot
    created_by: str
    created: str
    api_version: str
    line_ending: str
    delimiter: str
    state: str = "UploadComplete"
    polls: int = 0
    modstamp: str = ""

    def info(self, *, full: bool) -> dict:
        data = {"id": self.id, "operation": self.operation,
                "object": self.compiled.sobject.name, "createdById": self.created_by,
                "createdDate": self.created, "systemModstamp": self.modstamp or self.created,
                "state": self.state, "concurrencyMode": "Parallel", "contentType": "CSV",
                "apiVersion": float(self.api_version), "lineEnding": self.line_ending,
                "columnDelimiter": self.delimiter}
        if full:
            done = self.state == "JobComplete"
            data.update({"jobType": "V2Query", "numberRecordsProcessed":
                         len(self.rowids) if done else 0, "retries": 0,
                         "totalProcessingTime": 120 if done else 0,
                         "isPkChunkingSupported": True})
        return data


def _error(status: int, code: str, message: str) -> Response:
    return sf_error(status, code, message)


def encode_locator(offset: int) -> str:
    return base64.b64encode(str(offset).encode()).decode().rstrip("=")


def decode_locator(locator: str) -> int | None:
    try:
        text = base64.b64decode(locator + "=" * (-len(locator) % 4), validate=True).decode()
    except (binascii.Error, UnicodeDecodeError):
        return None
    return int(text) if text.isdigit() else None


class BulkApi:
    def _init_bulk(self) -> None:
        self.bulk_jobs: dict[str, BulkJob] = {}
        self._job_seq = 0
        self._job_lock = threading.Lock()

    def bulk_routes(self) -> list[Route]:
        base = V + "/jobs/query"
        return [
            Route("POST", base + "/?", self.create_job, "bulk2.create"),
            Route("GET", base + "/?", self.list_jobs, "bulk2.list"),
            Route("GET", f"{base}/{JOB}/?", self.job_status, "bulk2.status"),
            Route("PATCH", f"{base}/{JOB}/?", self.abort_job, "bulk2.abort"),
            Route("DELETE", f"{base}/{JOB}/?", self.delete_job, "bulk2.delete"),
            Route("GET", f"{base}/{JOB}/results/?", self.job_results, "bulk2.results"),
        ]

    def create_job(self, request: Request) -> Response:
        ver = self._version(request)
        body = request.json()
        if not isinstance(body, dict):
            return _error(400, "JSON_PARSER_ERROR", "The request body must be a JSON object")
        operation = body.get("operation")
        if operation not in ("query", "queryAll"):
            return _error(400, "INVALIDJOB", f"Invalid operation for a query job: {operation}")
        if body.get("contentType", "CSV") != "CSV":
            return _error(400, "INVALIDJOB", "contentType must be CSV")
        delimiter = body.get("columnDelimiter", "COMMA")
        line_ending = body.get("lineEnding", "LF")
        if delimiter not in DELIMITERS or line_ending not in LINE_ENDINGS:
            return _error(400, "INVALIDJOB", "Invalid columnDelimiter or lineEnding")
        text = body.get("query")
        if not isinstance(text, str) or not text.strip():
            return _error(400, "INVALIDJOB", "query is required for a query job")
        try:
            compiled = compile_query(text, self.objects)
        except SoqlError as exc:
            return _error(400, exc.code, exc.message)
        if compiled.count:
            return _error(400, "API_ERROR", "Aggregate queries are not supported by Bulk API")
        if compiled.offset:
            return _error(400, "API_ERROR", "OFFSET is not supported by Bulk API")
        if any(fl.type in COMPOUND for fl in compiled.fields):
            return _error(400, "API_ERROR", "Selecting compound data not supported in Bulk "
                                            "Query")
        rowids = self.snapshot(compiled, operation == "queryAll")
        with self._job_lock:
            self._job_seq += 1
            job_id = make_id("750", self._job_seq)
        job = BulkJob(job_id, operation, compiled, rowids,
                      request.state.get("user_id") or self.oauth.default_user,
                      sf_datetime(self.clock.stamp()), ver, line_ending, delimiter)
        if self.bulk_polls <= 0:
            job.state = "JobComplete"
        self.bulk_jobs[job_id] = job
        return Response.json(job.info(full=False))

    def _job(self, request: Request) -> BulkJob | Response:
        ver = self._version(request)
        job = self.bulk_jobs.get(request.params["job"])
        if job is None:
            return _error(404, "NOT_FOUND", "The requested resource does not exist")
        if job.api_version != ver:
            return _error(409, "INVALIDJOB", "The API version of this request does not match "
                                              "the version the job was created with")
        return job

    def list_jobs(self, request: Request) -> Response:
        self._version(request)
        return Response.json({"done": True, "records": [
            j.info(full=False) for j in self.bulk_jobs.values()], "nextRecordsUrl": None})

    def job_status(self, request: Request) -> Response:
        job = self._job(request)
        if isinstance(job, Response):
            return job
        if job.state not in TERMINAL:
            job.polls += 1
            job.state = "JobComplete" if job.polls >= self.bulk_polls else "InProgress"
            job.modstamp = sf_datetime(self.clock.stamp())
        return Response.json(job.info(full=True))

    def abort_job(self, request: Request) -> Response:
        job = self._job(request)
        if isinstance(job, Response):
            return job
        body = request.json()
        if not isinstance(body, dict) or body.get("state") != "Aborted":
            return _error(400, "INVALIDJOB", "A query job can only be set to state Aborted")
        if job.state in TERMINAL:
            return _error(400, "INVALIDJOB", f"Job is already in state {job.state}")
        job.state = "Aborted"
        job.modstamp = sf_datetime(self.clock.stamp())
        return Response.json(job.info(full=True))

    def delete_job(self, request: Request) -> Response:
        job = self._job(request)
        if isinstance(job, Response):
            return job
        if job.state not in TERMINAL:
            return _error(400, "INVALIDJOB", "Only a completed, failed or aborted job can be "
                                             "deleted")
        del self.bulk_jobs[job.id]
        return Response(204, content_type=None)

    def job_results(self, request: Request) -> Response:
        job = self._job(request)
        if isinstance(job, Response):
            return job
        if job.state != "JobComplete":
            return _error(412, "JOB_NOT_COMPLETE" if job.state != "Aborted" else "INVALIDJOB",
                          f"Job {job.id} is in state {job.state}; results are available once "
                          "it is JobComplete")
        raw_max = request.arg("maxRecords")
        if raw_max is not None and (not raw_max.isdigit() or int(raw_max) < 1):
            return _error(400, "API_ERROR", "maxRecords must be a positive integer")
        size = int(raw_max) if raw_max else DEFAULT_MAX_RECORDS
        locator = request.arg("locator")
        offset = decode_locator(locator) if locator else 0
        if offset is None or offset > len(job.rowids):
            return _error(400, "INVALID_QUERY_LOCATOR", f"Invalid locator: {locator}")
        end = min(offset + size, len(job.rowids))
        body = self._csv(job, job.rowids[offset:end])
        headers = {"Sforce-Locator": encode_locator(end) if end < len(job.rowids) else "null",
                   "Sforce-NumberOfRecords": str(end - offset)}
        return Response(body=body, content_type="text/csv", headers=headers,
                        records=end - offset)

    def _csv(self, job: BulkJob, rowids) -> bytes:
        return bulk_csv(self.store, job.compiled, rowids, DELIMITERS[job.delimiter],
                        LINE_ENDINGS[job.line_ending])


def bulk_csv(store, compiled: Compiled, rowids, delimiter: str = ",",
             line_ending: str = "\n") -> bytes:
    """Bulk API CSV: a header row of field names, every value quoted, null as empty,
    datetimes as `2024-01-01T00:00:00.000Z`."""
    out = io.StringIO()
    writer = csv.writer(out, delimiter=delimiter, quoting=csv.QUOTE_ALL,
                        lineterminator=line_ending)
    names = [fl.name for fl in compiled.fields]
    writer.writerow(names)
    docs = store.fetch_docs(compiled.sobject.name, rowids)
    try:
        rows = _typed_rows(compiled, docs)
    except (msgspec.ValidationError, TypeError):
        # a value of another type: the whole page takes every value through _csv_value
        datetimes = {fl.name for fl in compiled.fields if fl.type == "datetime"}
        rows = [[_csv_value(record.get(n), n in datetimes) for n in names]
                for record in (_decode.decode(doc) for (doc,) in docs)]
    writer.writerows(rows)
    return out.getvalue().encode()


def _typed_rows(compiled: Compiled, docs: list[tuple]) -> list[list]:
    """The CSV rows of `docs`, decoded straight into the selected fields (a twin's page is
    most of its CPU: no dict of every field, no call per value). Raises ValidationError for a
    value that is not text, a number, null, or a boolean column's true or false."""
    decode = _row_decoder(tuple((fl.name, fl.type == "boolean") for fl in compiled.fields))
    datetimes = [i for i, fl in enumerate(compiled.fields) if fl.type == "datetime"]
    booleans = [i for i, fl in enumerate(compiled.fields) if fl.type == "boolean"]
    rows = []
    for (doc,) in docs:
        row = list(msgspec.structs.astuple(decode(doc)))
        for i in datetimes:
            if row[i] is not None:
                row[i] = bulk_datetime(row[i])
        for i in booleans:
            row[i] = _BOOLEAN_TEXT[row[i]]
        rows.append(row)
    return rows


_BOOLEAN_TEXT = {True: "true", False: "false", None: None}  # None: written as empty


@functools.lru_cache(maxsize=64)
def _row_decoder(fields: tuple[tuple[str, bool], ...]):
    """A decoder of a stored record into just these (name, is_boolean) fields, in order;
    TypeError for names a struct cannot hold as its fields (not identifiers, or repeated)."""
    row = msgspec.defstruct("BulkRow", [(name, (bool | None) if boolean else
                                         (str | int | float | None), None)
                                        for name, boolean in fields])
    if len(row.__struct_fields__) != len(fields):
        raise TypeError("a field is selected twice")
    return msgspec.json.Decoder(row).decode


def _csv_value(value, is_datetime: bool) -> str:
    if value is None:
        return ""
    if value is True:
        return "true"
    if value is False:
        return "false"
    if is_datetime:
        return bulk_datetime(value)
    return str(value)
