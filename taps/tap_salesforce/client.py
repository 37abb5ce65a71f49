"""The Salesforce API as tap-salesforce uses it: OAuth, REST describe and queryAll, composite
batch describes, Bulk API 2.0 query jobs; over one tapkit HttpClient (one keep-alive session)."""

from __future__ import annotations

import codecs
import csv
import io
import logging
import re
import time
from collections.abc import Callable, Iterator, Mapping
from typing import Any

import msgspec
import requests
from singer_sdk.exceptions import ConfigValidationError

from tenantsync.tapkit.errors import FatalHttpError, RetriableBodyError, TapkitError
from tenantsync.tapkit.http import Disposition, HttpClient, Verdict
from tenantsync.tapkit.oauth import RefreshTokenAuth, StaticTokenAuth
from tenantsync.tapkit.pacing import QuotaGuard, announce_wait
from tenantsync.tapkit.settings import (
    retry_policy_from,
    stored_refresh_token,
    token_sinks_from,
)

DEFAULT_LOGIN_URL = "https://login.salesforce.com"
DEFAULT_API_VERSION = "61.0"
QUERY_PAGE_SIZE = 2000  # the REST maximum
DESCRIBE_BATCH = 25  # composite/batch subrequest limit
BULK_PAGE_SIZE = 50_000
UTF8_CHUNK = 1 << 20
BULK_POLL_MAX_SECONDS = 10.0
BULK_MAX_WAIT_SECONDS = 2 * 3600

_SESSION_CODES = {"INVALID_SESSION_ID", "InvalidSessionId"}
_RETRIABLE_CODES = {"SERVER_UNAVAILABLE", "UNABLE_TO_LOCK_ROW"}
# A query that scanned too much at once: the same query would time out again; the stream
# reads its range in smaller date windows instead (streams.SalesforceStream._rest).
QUERY_TIMEOUT = "QUERY_TIMEOUT"
_USAGE = re.compile(r"api-usage=(\d+)/(\d+)")
_XML_CODE = re.compile(r"<exceptionCode>([^<]+)</exceptionCode>")
_XML_MESSAGE = re.compile(r"<exceptionMessage>([^<]*)</exceptionMessage>")


class BulkUnavailable(TapkitError):
    """Bulk API 2.0 refused the query (object or query not supported): use REST."""


class BulkJobFailed(TapkitError):
    """A Bulk API 2.0 job ended Failed or Aborted, or never finished."""


def api_usage(headers: Mapping[str, str]) -> tuple[int, int] | None:
    """(used, limit) from `Sforce-Limit-Info: api-usage=N/M` (extra parts tolerated)."""
    match = _USAGE.search(headers.get("Sforce-Limit-Info") or "")
    return (int(match.group(1)), int(match.group(2))) if match else None


def error_of(response: requests.Response) -> tuple[str | None, str]:
    """(errorCode, message) from any of Salesforce's error shapes: a JSON array (REST), a JSON
    object (OAuth, Bulk), or XML (Bulk 1.0 style)."""
    try:
        body = msgspec.json.decode(response.content)
    except msgspec.DecodeError:
        text = response.text
        code, message = _XML_CODE.search(text), _XML_MESSAGE.search(text)
        return (code.group(1) if code else None,
                message.group(1) if message else " ".join(text.split())[:300])
    if isinstance(body, list) and body and isinstance(body[0], dict):
        body = body[0]
    if isinstance(body, dict):
        code = body.get("errorCode") or body.get("error") or body.get("exceptionCode")
        message = (body.get("message") or body.get("error_description")
                   or body.get("exceptionMessage") or "")
        return (str(code) if code else None, str(message))
    return None, str(body)[:300]


def classify(response: requests.Response) -> Verdict:
    status = response.status_code
    if status < 300:
        return Verdict(Disposition.OK)
    code, message = error_of(response)
    if status == 401 or code in _SESSION_CODES:
        return Verdict(Disposition.REAUTH, code, message)
    if code == "REQUEST_LIMIT_EXCEEDED":
        # The daily quota stops the run; a concurrency limit passes in a moment.
        transient = "Concurrent" in message
        return Verdict(Disposition.RETRY if transient else Disposition.STOP, code, message)
    if status in (408, 429) or status >= 500 or code in _RETRIABLE_CODES:
        return Verdict(Disposition.RETRY, code, message)
    if code == "INVALID_FIELD":
        message += " (the catalog names a field this org does not have: run discovery again)"
    return Verdict(Disposition.FATAL, code, message)


def _csv_reader(content: bytes) -> Iterator[list[str]]:
    """CSV rows decoded incrementally from the bytes (no whole-page str or StringIO copy)."""
    return csv.reader(io.TextIOWrapper(io.BytesIO(content), encoding="utf-8", newline=""),
                      strict=True)


def _csv_page(response: requests.Response) -> tuple[list[str], bytes, str | None]:
    """(header, CSV bytes, next locator) of a Bulk 2.0 results page, checked whole before any
    of its records is built, so that a short or garbled page is fetched again: valid UTF-8,
    and as many rows as Sforce-NumberOfRecords says, counted as the line ends outside quoted
    fields (RFC 4180: a field holding a quote or a line break is quoted and its quotes
    doubled, so a line end is inside a field exactly when the quotes before it are odd in
    number). Counting costs about a sixth of parsing the page; a page whose count differs, or
    that declares none, is parsed to say what is wrong. A row's width is checked as its record
    is built (csv_record_builder)."""
    content = response.content
    _check_utf8(content)
    declared = response.headers.get("Sforce-NumberOfRecords")
    if declared is None or not declared.isdigit() or _count_rows(content) != int(declared):
        _parse_page(content, declared)
    try:
        header = next(_csv_reader(content), [])
    except csv.Error as exc:
        raise _garbled(exc) from None
    locator = response.headers.get("Sforce-Locator")
    return header, content, (None if locator in (None, "", "null") else locator)


def _garbled(exc: Exception) -> RetriableBodyError:
    return RetriableBodyError(f"bulk results are not valid UTF-8 CSV ({exc})")


def _check_utf8(content: bytes) -> None:
    """Valid UTF-8, decoded a megabyte at a time (a page's text whole would take up to four
    times its bytes)."""
    if content.isascii():
        return
    decoder = codecs.getincrementaldecoder("utf-8")()
    view = memoryview(content)
    try:
        for start in range(0, len(view), UTF8_CHUNK):
            decoder.decode(view[start:start + UTF8_CHUNK])
        decoder.decode(b"", final=True)
    except UnicodeDecodeError as exc:
        raise _garbled(exc) from None


def _count_rows(content: bytes) -> int:
    """Data rows of a CSV page: line ends outside quoted fields, less the header's."""
    rows, quoted, start = 0, False, 0
    find, count = content.find, content.count
    while (end := find(b"\n", start)) >= 0:
        if count(b'"', start, end) & 1:
            quoted = not quoted
        rows += not quoted
        start = end + 1
    if start < len(content):  # a last row without a line end
        quoted ^= bool(count(b'"', start) & 1)
        rows += not quoted
    return rows - 1


def _parse_page(content: bytes, declared: str | None) -> None:
    """The whole page parsed as CSV: every row as wide as the header, and as many rows as
    declared; RetriableBodyError naming what is wrong."""
    header: list[str] = []
    rows = 0
    try:
        for row in _csv_reader(content):
            if not header:
                header = row
            elif len(row) != len(header):
                raise RetriableBodyError("bulk results page has a row of the wrong width "
                                         "(truncated?)")
            else:
                rows += 1
    except (csv.Error, UnicodeDecodeError) as exc:
        raise _garbled(exc) from None
    if declared is not None and declared.isdigit() and int(declared) != rows:
        raise RetriableBodyError(
            f"bulk results page has {rows} rows, Sforce-NumberOfRecords says {declared}")


def csv_rows(content: bytes) -> Iterator[list[str]]:
    """The data rows of a page `_csv_page` checked (header skipped)."""
    reader = _csv_reader(content)
    next(reader, None)
    return reader


class SalesforceClient:
    def __init__(self, config: Mapping[str, Any], logger: logging.Logger,
                 sleep: Callable[[float], None] = time.sleep):
        self.log = logger
        self._sleep = sleep
        self.api_version = str(config.get("api_version") or DEFAULT_API_VERSION)
        if not re.fullmatch(r"\d{2,3}\.0", self.api_version):
            raise ConfigValidationError(
                f"api_version {self.api_version!r} must look like '61.0'")
        self.guard = QuotaGuard(float(config.get("quota_max_percent") or 80), api_usage,
                                "Salesforce")
        self.http = HttpClient(
            classify=classify, retry=retry_policy_from(config), pacers=[self.guard],
            timeout=float(config.get("request_timeout") or 300),
            headers={"User-Agent": "tenantsync-tap-salesforce"},
            secrets=self._secrets, logger=logger, sleep=sleep)
        self._config_secrets = tuple(config.get(k) for k in
                                     ("client_secret", "refresh_token", "access_token"))
        self._instance_url = (config.get("instance_url") or "").rstrip("/") or None
        if config.get("refresh_token"):
            if not config.get("client_id"):
                raise ConfigValidationError("refresh_token is set but client_id is missing")
            # The token endpoint: login_url when set, else the org's own My Domain (the
            # refresh-token grant is served at <My Domain>/services/oauth2/token as at
            # login.salesforce.com, per Salesforce's "OAuth 2.0 Refresh Token Flow"), else
            # login.salesforce.com.
            login_url = (config.get("login_url") or self._instance_url
                         or DEFAULT_LOGIN_URL).rstrip("/")
            self.auth: RefreshTokenAuth | StaticTokenAuth = RefreshTokenAuth(
                http=self.http, token_url=f"{login_url}/services/oauth2/token",
                client_id=config["client_id"], client_secret=config.get("client_secret"),
                refresh_token=stored_refresh_token(config, config["refresh_token"]),
                origin_token=config["refresh_token"], provider="Salesforce",
                sinks=token_sinks_from(config), extra_keys=("instance_url",))
        elif config.get("access_token"):
            if not self._instance_url:
                raise ConfigValidationError("access_token needs instance_url as well")
            self.auth = StaticTokenAuth(config["access_token"], "Salesforce")
        else:
            raise ConfigValidationError(
                "no credentials: set client_id, client_secret and refresh_token "
                "(or access_token and instance_url)")
        self.http.auth = self.auth

    def _secrets(self) -> tuple[str | None, ...]:
        return self._config_secrets + self.auth.secrets()

    def close(self) -> None:
        self.http.close()

    @property
    def instance_url(self) -> str:
        """The org's base URL: from the token response (logging in first if needed)."""
        if isinstance(self.auth, RefreshTokenAuth) and not self.auth.token_response:
            self.auth.refresh()
        url = self.auth.token_response.get("instance_url") or self._instance_url
        if not url:
            raise ConfigValidationError("the token response has no instance_url; set "
                                        "instance_url")
        return str(url).rstrip("/")

    def url(self, path: str) -> str:
        """Absolute URL of a data API path (`sobjects`) or of a server-relative one (`/...`)."""
        if path.startswith("/"):
            return self.instance_url + path
        return f"{self.instance_url}/services/data/v{self.api_version}/{path}"

    def get(self, path: str, **kwargs: Any) -> Any:
        return self.http.request("GET", self.url(path), **kwargs)

    # --- discovery -----------------------------------------------------------------------

    def describe_global(self) -> list[dict]:
        return self.get("sobjects")["sobjects"]

    def describe(self, names: list[str]) -> dict[str, dict]:
        """Describe objects through composite/batch, 25 per call."""
        out: dict[str, dict] = {}
        failures: list[str] = []
        prefix = f"/services/data/v{self.api_version}"
        for start in range(0, len(names), DESCRIBE_BATCH):
            chunk = names[start:start + DESCRIBE_BATCH]
            body = self.http.request("POST", self.url("composite/batch"), json={
                "haltOnError": False,
                "batchRequests": [{"method": "GET", "url": f"{prefix}/sobjects/{n}/describe"}
                                  for n in chunk]})
            results = body.get("results") or []
            if len(results) != len(chunk):
                raise FatalHttpError(f"composite/batch answered {len(results)} results for "
                                     f"{len(chunk)} describe requests")
            for name, result in zip(chunk, results, strict=True):
                if result.get("statusCode") == 200 and isinstance(result.get("result"), dict):
                    out[name] = result["result"]
                else:
                    detail = result.get("result")
                    if isinstance(detail, list) and detail and isinstance(detail[0], dict):
                        detail = f"{detail[0].get('errorCode')}: {detail[0].get('message')}"
                    failures.append(f"{name} (HTTP {result.get('statusCode')}: {detail})")
        if failures:
            raise FatalHttpError("describe failed for " + "; ".join(failures))
        return out

    # --- REST query ----------------------------------------------------------------------

    def query(self, soql: str) -> Iterator[tuple[list[dict], int]]:
        """Pages of `queryAll` (deleted and archived rows included): (records, totalSize)."""
        headers = {"Sforce-Query-Options": f"batchSize={QUERY_PAGE_SIZE}"}
        body = self.get("queryAll", params={"q": soql}, headers=headers)
        while True:
            yield body["records"], int(body.get("totalSize") or 0)
            if body.get("done", True) or not body.get("nextRecordsUrl"):
                return
            body = self.get(body["nextRecordsUrl"], headers=headers)

    # --- Bulk API 2.0 --------------------------------------------------------------------

    def bulk_query(self, soql: str, page_size: int = BULK_PAGE_SIZE
                   ) -> Iterator[tuple[list[str], Iterator[list[str]]]]:
        """Run a `queryAll` Bulk 2.0 job and yield its result pages as (header, rows)."""
        try:
            job = self.http.request("POST", self.url("jobs/query"), json={
                "operation": "queryAll", "query": soql, "contentType": "CSV",
                "columnDelimiter": "COMMA", "lineEnding": "LF"})
        except FatalHttpError as exc:
            if exc.status in (400, 404):
                raise BulkUnavailable(str(exc)) from None
            raise
        job_id = job["id"]
        self._wait_for_job(job_id)
        locator: str | None = None
        while True:
            params: dict[str, Any] = {"maxRecords": page_size}
            if locator:
                params["locator"] = locator
            header, content, locator = self.get(
                f"jobs/query/{job_id}/results", params=params, headers={"Accept": "text/csv"},
                parse=_csv_page)
            yield header, csv_rows(content)
            del content  # let this page go before the next one arrives
            if locator is None:
                return

    def _wait_for_job(self, job_id: str) -> None:
        waited, pause = 0.0, 0.2
        while True:
            job = self.get(f"jobs/query/{job_id}")
            state = job.get("state")
            if state == "JobComplete":
                return
            if state in ("Failed", "Aborted"):
                raise BulkJobFailed(f"Bulk API 2.0 job {job_id} ended {state}: "
                                    f"{job.get('errorMessage') or 'no error message'}")
            if waited >= BULK_MAX_WAIT_SECONDS:
                raise BulkJobFailed(f"Bulk API 2.0 job {job_id} still {state} after "
                                    f"{waited:.0f}s")
            announce_wait(pause, f"Bulk API 2.0 job {state}")
            self._sleep(pause)
            waited += pause
            pause = min(pause * 2, BULK_POLL_MAX_SECONDS)
