"""Linear's GraphQL API as tap-linear uses it, over one tapkit HttpClient: OAuth2 (refresh
tokens rotate on every refresh) or a personal API key (the whole `Authorization` header, no
"Bearer"), errors inside GraphQL's `errors[]`, and the complexity-based rate limits read
from the response headers. Documentation: developers.linear.app (authentication, OAuth 2.0,
rate limiting, errors)."""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable, Mapping
from typing import Any

import msgspec
import requests
from singer_sdk.exceptions import ConfigValidationError

from tap_linear.objects import complexity
from tenantsync.tapkit.errors import AuthError, FatalHttpError, StopSync
from tenantsync.tapkit.http import Disposition, HttpClient, Verdict
from tenantsync.tapkit.oauth import RefreshTokenAuth, StaticTokenAuth
from tenantsync.tapkit.rest import Call, Page, RestClient, RestObject
from tenantsync.tapkit.settings import retry_policy_from, stored_refresh_token, token_sinks_from
from tenantsync.tapkit.tokens import fingerprint

log = logging.getLogger("tap_linear")
DEFAULT_BASE_URL = "https://api.linear.app"
TOKEN_PATH = "/oauth/token"  # noqa: S105 (a URL path)
_URL = re.compile(r"^https?://[^/\s]+")
BUCKETS = ("Requests", "Complexity")


def _error(body: Any) -> tuple[str | None, str]:
    """(extensions.code, message) of the first GraphQL error in a body."""
    errors = body.get("errors") if isinstance(body, Mapping) else None
    if not errors or not isinstance(errors[0], Mapping):
        return None, ""
    first = errors[0]
    return (first.get("extensions") or {}).get("code"), str(first.get("message") or "")


def classify(response: requests.Response) -> Verdict:
    """Linear reports most failures inside GraphQL: `RATELIMITED` comes as HTTP 400 (429 at
    the edge), an unknown credential as `AUTHENTICATION_ERROR`."""
    status = response.status_code
    if status < 300:
        return Verdict(Disposition.OK)
    try:
        code, message = _error(msgspec.json.decode(response.content))
    except msgspec.DecodeError:
        code, message = None, " ".join(response.text.split())[:300]
    if status == 401 or code == "AUTHENTICATION_ERROR":
        return Verdict(Disposition.REAUTH, code, message)
    if status == 429 or code == "RATELIMITED":
        return Verdict(Disposition.RETRY, code or "RATELIMITED", message)
    if status == 408 or status >= 500:
        return Verdict(Disposition.RETRY, code, message)
    return Verdict(Disposition.FATAL, code, message)


class ApiKey(StaticTokenAuth):
    """A personal API key: the whole Authorization header, without "Bearer"."""

    def apply(self, headers: dict[str, str]) -> None:
        headers["Authorization"] = self._access_token

    def refresh(self) -> None:
        raise AuthError("Linear refused the configured api_key (revoked or wrong workspace)")


class BucketPacer:
    """Linear's leaky buckets (requests and complexity points per hour): before a request,
    if the last response left less than a request, or less than the last query's complexity
    (`X-Complexity`; `next_cost` when the client knows the coming query's), wait until the
    bucket has refilled that much. A wait longer than
    `max_wait` stops the run cleanly (the next run resumes)."""

    def __init__(self, *, max_wait: float = 900.0, clock: Callable[[], float] = time.time,
                 sleep: Callable[[float], None] = time.sleep):
        self.max_wait = max_wait
        self._clock, self._sleep = clock, sleep
        self._state: dict[str, tuple[float, float, float]] = {}  # limit, remaining, reset (s)
        self._cost = 1.0
        self.next_cost: float | None = None
        self.waits = 0

    def after_response(self, response: requests.Response) -> None:
        h = response.headers
        try:
            self._cost = float(h.get("X-Complexity") or self._cost)
            for name in BUCKETS:
                prefix = f"X-RateLimit-{name}-"
                self._state[name] = (float(h[prefix + "Limit"]), float(h[prefix + "Remaining"]),
                                     float(h[prefix + "Reset"]) / 1000)
        except (KeyError, ValueError):
            return

    def before_request(self) -> None:
        needs = (("Requests", 1.0), ("Complexity", self.next_cost or self._cost))
        wait = max([self._refill(name, need) for name, need in needs if name in self._state]
                   or [0.0])
        if wait <= 0:
            return
        if wait > self.max_wait:
            raise StopSync(f"Linear's hourly rate limit is spent for {wait:.0f}s more; the "
                           "next run resumes")
        self.waits += 1
        log.info("Linear rate limit nearly spent; waiting %.1fs", wait)
        self._sleep(wait)
        self._state.clear()

    def _refill(self, name: str, need: float) -> float:
        limit, remaining, reset = self._state[name]
        if remaining >= need:
            return 0.0
        until_full = reset - self._clock()
        if until_full <= 0 or limit <= remaining:
            return 0.0
        rate = (limit - remaining) / until_full  # points per second
        return min(until_full, (need - remaining) / rate)


def _url(config: Mapping[str, Any], key: str, default: str) -> str:
    url = (config.get(key) or default).rstrip("/")
    if not _URL.match(url):
        raise ConfigValidationError(f"{key} {url!r} must be an http(s) URL")
    return url


class LinearClient(RestClient):
    def __init__(self, config: Mapping[str, Any], logger: logging.Logger):
        base = _url(config, "base_url", DEFAULT_BASE_URL)
        self.pacer = BucketPacer(max_wait=float(config.get("max_rate_limit_wait") or 900))
        http = HttpClient(
            classify=classify, retry=retry_policy_from(config), pacers=[self.pacer],
            timeout=float(config.get("request_timeout") or 300),
            headers={"User-Agent": "tenantsync-tap-linear", "Content-Type": "application/json"},
            secrets=self._secrets, logger=logger)
        super().__init__(http, base)
        self._config_secrets = tuple(config.get(k) for k in
                                     ("client_secret", "refresh_token", "api_key"))
        if config.get("refresh_token"):
            missing = [k for k in ("client_id", "client_secret") if not config.get(k)]
            if missing:
                raise ConfigValidationError(
                    f"refresh_token is set but {' and '.join(missing)} missing")
            self.auth: RefreshTokenAuth | ApiKey = RefreshTokenAuth(
                http=http, token_url=base + TOKEN_PATH, client_id=config["client_id"],
                client_secret=config["client_secret"],
                refresh_token=stored_refresh_token(config, config["refresh_token"]),
                origin_token=config["refresh_token"],
                provider=f"Linear (connection {fingerprint(config['refresh_token'])})",
                sinks=token_sinks_from(config))
        elif config.get("api_key"):
            self.auth = ApiKey(config["api_key"], "Linear")
        else:
            raise ConfigValidationError(
                "no credentials: set client_id, client_secret and refresh_token (OAuth app) "
                "or api_key")
        http.auth = self.auth

    def _secrets(self) -> tuple[str | None, ...]:
        return self._config_secrets + self.auth.secrets()

    def fetch(self, obj: RestObject, call: Call) -> Page:
        """A page; GraphQL errors in a 200 answer fail it (no partial pages)."""
        self.pacer.next_cost = complexity(obj.name)
        page = super().fetch(obj, call)
        code, message = _error(page.body)
        if code is not None or message:
            raise FatalHttpError(f"POST /graphql ({obj.name}): {code or 'error'}: {message}",
                                 status=200, code=code)
        return page
