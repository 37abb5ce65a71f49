"""The Apollo API as tap-apollo uses it, over one tapkit HttpClient: the API key in the
`X-Api-Key` header (never in the URL or body, where logs and proxies keep it), and Apollo's
rate limits: per endpoint, fixed minute, hour and day windows, reported in `x-<window>-
requests-left` headers (docs.apollo.io/reference/rate-limits).

Pacing: before a request to an endpoint whose minute window the last answer left empty, wait
for the window to reset (it opened when that answer's `x-minute-usage` was 1); when its hour
or day window is empty, stop the run cleanly instead (every bookmark is in the last STATE; the
next run resumes the pass at its page). A 429 whose plain-text body names the hour or the day
(or a plan without API access) stops likewise; a minute's 429 is waited out (Retry-After)."""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import urlsplit

import msgspec
import requests
from singer_sdk.exceptions import ConfigValidationError

from tenantsync.tapkit.errors import AuthError, StopSync
from tenantsync.tapkit.http import Disposition, HttpClient, Verdict
from tenantsync.tapkit.rest import Page, RestClient, RestObject
from tenantsync.tapkit.rest.paging import Call
from tenantsync.tapkit.settings import retry_policy_from

DEFAULT_BASE_URL = "https://api.apollo.io"
WINDOWS = {"minute": 60.0, "hourly": 3600.0, "24-hour": 86400.0}
_TERMINAL = re.compile(r"times per (hour|day)|only available to paying teams", re.IGNORECASE)
_URL = re.compile(r"^https?://[^/\s]+")


def classify(response: requests.Response) -> Verdict:
    status = response.status_code
    if status < 300:
        return Verdict(Disposition.OK)
    try:
        body = msgspec.json.decode(response.content)
        message = str(body.get("error") or body.get("message") or "")
    except (msgspec.DecodeError, AttributeError):
        message = " ".join(response.text.split())[:300]
    if status in (401, 403):
        return Verdict(Disposition.FATAL, "unauthorized", message or "the API key was refused")
    if status == 429:
        if _TERMINAL.search(message):
            return Verdict(Disposition.STOP, "quota", message)
        return Verdict(Disposition.RETRY, "rate_limit", message)
    if status in (408,) or status >= 500:
        return Verdict(Disposition.RETRY, None, message)
    return Verdict(Disposition.FATAL, None, message)


class ApiKeyAuth:
    def __init__(self, key: str):
        self._key = key

    def apply(self, headers: dict[str, str]) -> None:
        headers["X-Api-Key"] = self._key

    def refresh(self) -> None:
        raise AuthError("Apollo refused the configured api_key (revoked, or not a master key)")


class EndpointPacer:
    """Apollo's windows per endpoint, from the headers of that endpoint's last answer."""

    def __init__(self, clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], None] = time.sleep, log: logging.Logger | None = None):
        self._clock, self._sleep = clock, sleep
        self._left: dict[str, dict[str, int]] = {}
        self._opened: dict[str, float] = {}  # endpoint -> when its minute window opened
        self.log = log or logging.getLogger("tap-apollo")
        self.waits = 0
        self.seen: dict[str, dict[str, int]] = {}  # endpoint -> last reported limits

    def before(self, endpoint: str) -> None:
        left = self._left.get(endpoint) or {}
        for window in ("24-hour", "hourly"):
            if left.get(window) == 0:
                limit = self.seen.get(endpoint, {}).get(window)
                raise StopSync(f"Apollo's {window} quota for {endpoint} is spent ({limit} "
                               "calls); the next run resumes where this one stopped")
        if left.get("minute") == 0:
            opened = self._opened.get(endpoint, self._clock())
            wait = max(0.0, opened + WINDOWS["minute"] - self._clock()) + 0.5
            self.waits += 1
            self.log.info("Apollo's minute window for %s is spent; waiting %.1fs",
                          endpoint, wait)
            self._sleep(wait)
            left.pop("minute", None)

    def after_response(self, response: requests.Response) -> None:
        h = response.headers
        endpoint = urlsplit(response.url).path.lstrip("/")
        left, limits = {}, {}
        for window in WINDOWS:
            try:
                left[window] = int(h[f"x-{window}-requests-left"])
                limits[window] = int(h[f"x-rate-limit-{window}"])
            except (KeyError, ValueError):
                continue
        if not left:
            return
        self._left[endpoint], self.seen[endpoint] = left, limits
        if h.get("x-minute-usage") == "1":
            self._opened[endpoint] = self._clock()

    def before_request(self) -> None:  # the HttpClient pacer protocol (paced per endpoint)
        pass


def _base_url(config: Mapping[str, Any]) -> str:
    url = (config.get("base_url") or DEFAULT_BASE_URL).rstrip("/")
    if not _URL.match(url):
        raise ConfigValidationError(f"base_url {url!r} must be an http(s) URL")
    return url


class ApolloClient(RestClient):
    def __init__(self, config: Mapping[str, Any], logger: logging.Logger):
        key = config.get("api_key")
        if not key:
            raise ConfigValidationError("no credentials: set api_key (an Apollo API key)")
        self.pacer = EndpointPacer(log=logger)
        self._key = key
        http = HttpClient(
            auth=ApiKeyAuth(key), classify=classify, retry=retry_policy_from(config),
            pacers=[self.pacer], timeout=float(config.get("request_timeout") or 300),
            headers={"User-Agent": "tenantsync-tap-apollo", "Accept": "application/json",
                     "Cache-Control": "no-cache"},
            secrets=lambda: (self._key,), logger=logger)
        super().__init__(http, _base_url(config))
        self.log = logger
        self.last_pagination: dict[str, dict] = {}  # object -> the last page's pagination

    def fetch(self, obj: RestObject, call: Call) -> Page:
        self.pacer.before(urlsplit(self.url(call.url)).path.lstrip("/"))
        page = super().fetch(obj, call)
        info = page.body.get("pagination") if isinstance(page.body, dict) else None
        if isinstance(info, dict):
            self.last_pagination[obj.name] = info
        return page

    @property
    def requests_made(self) -> int:
        return self.http.requests_made
