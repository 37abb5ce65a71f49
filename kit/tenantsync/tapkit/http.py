"""One HTTP client for every tap: a keep-alive session, retries with backoff and jitter,
Retry-After, one re-authentication on an expired session, pacing hooks, and error messages
that name what failed without leaking secrets.

Providers plug in through three small seams instead of subclassing:
- `classify(response) -> Verdict`: what a response means (ok, retry, re-auth, stop, fatal),
  since every provider encodes quota and session errors differently;
- an `Authenticator` (`apply(headers)`, `refresh()`);
- `Pacer`s (`before_request()`, `after_response(response)`): rate windows and quota guards.
A response body is parsed inside the retry loop, so a truncated 200 body is fetched again.
"""

from __future__ import annotations

import email.utils
import enum
import ipaddress
import logging
import random
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol
from urllib.parse import urlsplit

import msgspec
import requests

from tenantsync.tapkit import observed
from tenantsync.tapkit.errors import (
    AuthError,
    FatalHttpError,
    RetriableBodyError,
    StopSync,
    redact,
)

log = logging.getLogger("tenantsync.tapkit.http")

# Failures of the transport itself: always worth another try.
TRANSPORT_ERRORS = (
    requests.ConnectionError,
    requests.Timeout,
    requests.exceptions.ChunkedEncodingError,
    requests.exceptions.ContentDecodingError,
    ConnectionResetError,
)


class Disposition(enum.Enum):
    OK = "ok"
    RETRY = "retry"  # transient: back off and try again
    REAUTH = "reauth"  # session expired: refresh credentials once, then try again
    STOP = "stop"  # quota exhausted: stop the run cleanly (StopSync)
    FATAL = "fatal"  # a request retrying cannot fix


@dataclass(frozen=True)
class Verdict:
    disposition: Disposition
    code: str | None = None  # provider error code, e.g. INVALID_SESSION_ID
    message: str = ""


def default_classify(response: requests.Response) -> Verdict:
    """The usual HTTP meaning of a status; providers wrap this to read their error bodies."""
    status = response.status_code
    if status < 300:
        return Verdict(Disposition.OK)
    if status == 401:
        return Verdict(Disposition.REAUTH, message=response.reason or "")
    if status in (408, 429) or status >= 500:
        return Verdict(Disposition.RETRY, message=response.reason or "")
    return Verdict(Disposition.FATAL, message=_snippet(response))


class Authenticator(Protocol):
    def apply(self, headers: dict[str, str]) -> None:
        """Add credentials to a request's headers (called before every attempt)."""

    def refresh(self) -> None:
        """Obtain a fresh session after the provider rejected the current one."""


class Pacer(Protocol):
    def before_request(self) -> None:
        """Wait if the rate window is full; raise StopSync if no more calls may be made."""

    def after_response(self, response: requests.Response) -> None:
        """Learn from a response (rate-limit and quota headers)."""


@dataclass(frozen=True)
class RetryPolicy:
    max_tries: int = 8
    base_seconds: float = 1.0
    max_backoff_seconds: float = 60.0
    # A Retry-After longer than this is a quota, not a hiccup: stop cleanly instead of sleeping.
    max_retry_after_seconds: float = 900.0

    def backoff(self, attempt: int, rng: random.Random) -> float:
        """Exponential backoff with equal jitter: half fixed, half random, so that many
        clients retrying together spread out but none retries immediately."""
        ceiling = min(self.max_backoff_seconds, self.base_seconds * (2 ** attempt))
        return ceiling / 2 + rng.uniform(0, ceiling / 2)


def parse_json(response: requests.Response) -> Any:
    """The JSON body; a body that does not decode (truncated) is retriable."""
    try:
        return msgspec.json.decode(response.content)
    except msgspec.DecodeError as exc:
        raise RetriableBodyError(f"response body is not valid JSON ({exc})") from None


def parse_nothing(response: requests.Response) -> requests.Response:
    return response


def retry_after_seconds(headers: Mapping[str, str], now: float | None = None) -> float | None:
    """Seconds to wait from a Retry-After header (delta-seconds or an HTTP date), or None."""
    value = headers.get("Retry-After")
    if value is None:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - (time.time() if now is None else now))


class HttpClient:
    def __init__(
        self,
        *,
        auth: Authenticator | None = None,
        classify: Callable[[requests.Response], Verdict] = default_classify,
        retry: RetryPolicy | None = None,
        pacers: Iterable[Pacer] = (),
        timeout: float = 300.0,
        headers: Mapping[str, str] | None = None,
        secrets: Callable[[], Iterable[str | None]] = tuple,
        sleep: Callable[[float], None] = time.sleep,
        rng: random.Random | None = None,
        logger: logging.Logger = log,
    ):
        self.session = requests.Session()  # one keep-alive connection pool for the whole run
        if headers:
            self.session.headers.update(headers)
        self.auth = auth
        self.classify = classify
        self.retry = retry or RetryPolicy()
        self.pacers = list(pacers)
        self.timeout = (min(30.0, timeout), timeout)  # (connect, read)
        self._secrets = secrets
        self._sleep = sleep
        self._rng = rng or random.Random()
        self.log = logger
        self.requests_made = 0

    def close(self) -> None:
        self.session.close()

    def request(
        self,
        method: str,
        url: str,
        *,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
        data: Any = None,
        headers: Mapping[str, str] | None = None,
        parse: Callable[[requests.Response], Any] = parse_json,
        authenticate: bool = True,
    ) -> Any:
        """Send a request and return `parse(response)`, retrying what is transient."""
        attempt = 0  # failed attempts so far
        reauthenticated = False
        while True:
            for pacer in self.pacers:
                pacer.before_request()
            send_headers = dict(headers or {})
            if authenticate and self.auth is not None:
                self.auth.apply(send_headers)
            self.requests_made += 1
            try:
                response = self.session.request(
                    method, url, params=params, json=json, data=data, headers=send_headers,
                    timeout=self.timeout)
            except requests.exceptions.SSLError as exc:
                # A certificate problem does not heal by retrying.
                raise FatalHttpError(self._clean(
                    f"{method} {_path(url)}: TLS failed ({exc}); check the URL, or the CA "
                    "bundle (REQUESTS_CA_BUNDLE)")) from None
            except TRANSPORT_ERRORS as exc:
                if _refused_locally(url, exc):
                    host = urlsplit(url).netloc
                    raise FatalHttpError(self._clean(
                        f"{method} {_path(url)}: connection refused at {host}: nothing listens "
                        "there (a local server, e.g. a sandbox twin, that has stopped); start it "
                        "again or point the connection elsewhere")) from None
                attempt = self._wait_or_fail(method, url, attempt, type(exc).__name__, None)
                continue
            observed.saw_response(response.headers)
            for pacer in self.pacers:
                pacer.after_response(response)

            verdict = self.classify(response)
            if verdict.disposition is Disposition.OK:
                try:
                    return parse(response)
                except RetriableBodyError as exc:
                    attempt = self._wait_or_fail(method, url, attempt, str(exc), None)
                    continue
            if verdict.disposition is Disposition.REAUTH:
                if self.auth is None or not authenticate or reauthenticated:
                    raise AuthError(self._describe(method, url, response, verdict,
                                                   "the provider rejected the session"))
                self.log.info("Session expired (%s); refreshing credentials once.",
                              verdict.code or response.status_code)
                self.auth.refresh()
                reauthenticated = True
                continue
            if verdict.disposition is Disposition.RETRY:
                wait = retry_after_seconds(response.headers)
                if wait is not None and wait > self.retry.max_retry_after_seconds:
                    raise StopSync(self._describe(
                        method, url, response, verdict,
                        f"the provider asks to wait {wait:.0f}s (Retry-After)"))
                reason = f"HTTP {response.status_code} {verdict.code or ''}".strip()
                attempt = self._wait_or_fail(method, url, attempt, reason, wait, response,
                                             verdict)
                continue
            if verdict.disposition is Disposition.STOP:
                raise StopSync(self._describe(method, url, response, verdict, "quota exhausted"))
            raise FatalHttpError(self._describe(method, url, response, verdict, "request failed"),
                                 status=response.status_code, code=verdict.code)

    def _wait_or_fail(self, method: str, url: str, attempt: int, reason: str,
                      retry_after: float | None, response: requests.Response | None = None,
                      verdict: Verdict | None = None) -> int:
        attempt += 1
        if attempt >= self.retry.max_tries:
            if response is not None and verdict is not None:
                detail = self._describe(method, url, response, verdict,
                                        f"gave up after {attempt} attempts")
            else:
                detail = self._clean(
                    f"{method} {_path(url)}: gave up after {attempt} attempts ({reason})")
            raise FatalHttpError(detail, status=getattr(response, "status_code", None),
                                 code=getattr(verdict, "code", None))
        wait = self.retry.backoff(attempt - 1, self._rng)
        if retry_after is not None:
            # Honour the server exactly (never earlier), with a little jitter on top.
            wait = retry_after + self._rng.uniform(0, min(1.0, self.retry.base_seconds))
        self.log.warning("%s", self._clean(
            f"{method} {_path(url)}: {reason}; retry {attempt}/{self.retry.max_tries - 1} "
            f"in {wait:.2f}s"))
        self._sleep(wait)
        return attempt

    def _describe(self, method: str, url: str, response: requests.Response, verdict: Verdict,
                  what: str) -> str:
        code = f" {verdict.code}" if verdict.code else ""
        message = verdict.message or _snippet(response)
        return self._clean(f"{method} {_path(url)}: {what}: HTTP {response.status_code}{code}: "
                           f"{message}")

    def _clean(self, text: str) -> str:
        return redact(text, self._secrets())


def _refused_locally(url: str, exc: BaseException) -> bool:
    """A refused connection to this machine: nothing listens on that port, and retrying for
    minutes will not start it (a remote refusal may be a restart or a balancer: retried)."""
    if not isinstance(exc, requests.ConnectionError) or "refused" not in str(exc).lower():
        return False
    host = urlsplit(url).hostname or ""
    try:
        return host == "localhost" or ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _path(url: str) -> str:
    """The URL without host and query: enough to know which call failed, nothing sensitive."""
    return urlsplit(url).path or url


def _snippet(response: requests.Response, limit: int = 300) -> str:
    try:
        text = response.text
    except Exception:
        return response.reason or ""
    text = " ".join(text.split())
    return text[:limit] + ("..." if len(text) > limit else "")
