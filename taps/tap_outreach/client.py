"""The Outreach API as tap-outreach uses it, over one tapkit HttpClient: OAuth 2 refresh
grant (client credentials in the form; Outreach rotates refresh tokens, the new one goes to the
token store / sinks), the JSON:API error envelope (`{"errors": [{"id", "title", "detail"}]}`)
and the per-user hourly limit (10,000 requests per hour): `x-ratelimit-remaining` /
`x-ratelimit-reset` (epoch seconds) pace the requests; a 429 whose window resets within a few
minutes is waited out, a spent hour stops the run cleanly (every bookmark in the last STATE).
Documentation: developers.outreach.io/api/oauth/ and .../api/making-requests/ (rate limiting,
errors)."""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Mapping
from typing import Any

import msgspec
import requests
from singer_sdk.exceptions import ConfigValidationError

from tenantsync.tapkit.http import Disposition, HttpClient, Verdict
from tenantsync.tapkit.oauth import RefreshTokenAuth
from tenantsync.tapkit.rest import HeaderPacer, RateLimitHeaders, RestClient
from tenantsync.tapkit.settings import retry_policy_from, stored_refresh_token, token_sinks_from
from tenantsync.tapkit.tokens import fingerprint

DEFAULT_BASE_URL = "https://api.outreach.io"
API = "/api/v2"
TOKEN_PATH = "/oauth/token"  # noqa: S105 (a URL path)
HEADERS = RateLimitHeaders("x-ratelimit-remaining", "x-ratelimit-reset", reset_is_epoch=True)
WAIT_AT_MOST = 300.0  # a window resetting later than this is the hour spent: stop cleanly
_URL = re.compile(r"^https?://[^/\s]+$")


def _message(response: requests.Response) -> str:
    try:
        errors = msgspec.json.decode(response.content).get("errors") or []
        first = errors[0] if errors and isinstance(errors[0], dict) else {}
        return " ".join(str(first.get(k)) for k in ("id", "title", "detail") if first.get(k))
    except (msgspec.DecodeError, AttributeError):
        return " ".join(response.text.split())[:300]


def classify(response: requests.Response) -> Verdict:
    status = response.status_code
    if status < 300:
        return Verdict(Disposition.OK)
    message = _message(response)
    if status == 401:
        return Verdict(Disposition.REAUTH, "unauthorized", message)
    if status == 429:
        try:
            wait = float(response.headers["x-ratelimit-reset"]) - time.time()
        except (KeyError, ValueError):
            wait = 0.0
        if wait > WAIT_AT_MOST:
            return Verdict(Disposition.STOP, "hourly_limit", message)
        return Verdict(Disposition.RETRY, "rate_limit", message)
    if status in (408,) or status >= 500:
        return Verdict(Disposition.RETRY, None, message)
    return Verdict(Disposition.FATAL, None, message)


class OutreachClient(RestClient):
    def __init__(self, config: Mapping[str, Any], logger: logging.Logger):
        self.log = logger
        missing = [k for k in ("client_id", "client_secret", "refresh_token")
                   if not config.get(k)]
        if missing:
            raise ConfigValidationError(f"missing settings: {', '.join(missing)} (Outreach "
                                        "connects through OAuth only)")
        base = str(config.get("base_url") or DEFAULT_BASE_URL).rstrip("/")
        if not _URL.match(base):
            raise ConfigValidationError(f"base_url {base!r} must be an http(s) URL without a "
                                        "path (e.g. https://api.outreach.io)")
        http = HttpClient(
            classify=classify, retry=retry_policy_from(config),
            pacers=[HeaderPacer(HEADERS, max_wait=WAIT_AT_MOST, skip_longer=True)],
            timeout=float(config.get("request_timeout") or 300),
            headers={"User-Agent": "tenantsync-tap-outreach",
                     "Accept": "application/vnd.api+json"},
            secrets=self._secrets, logger=logger)
        super().__init__(http, base + API)
        self.auth = RefreshTokenAuth(
            http=http, token_url=base + TOKEN_PATH, client_id=config["client_id"],
            client_secret=config["client_secret"],
            refresh_token=stored_refresh_token(config, config["refresh_token"]),
            origin_token=config["refresh_token"],
            provider=f"Outreach (connection {fingerprint(config['refresh_token'])})",
            sinks=token_sinks_from(config))
        self._config_secrets = (config.get("client_secret"), config.get("refresh_token"))
        http.auth = self.auth

    def _secrets(self) -> tuple[str | None, ...]:
        return self._config_secrets + self.auth.secrets()

    @property
    def requests_made(self) -> int:
        return self.http.requests_made
