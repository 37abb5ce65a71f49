"""The Salesloft API as tap-salesloft uses it, over one tapkit HttpClient: OAuth 2 refresh
grant at accounts.salesloft.com (the refresh token rotates: the new one goes to the token store
/ sinks), the error bodies (`{"error": ...}`, 422 `{"errors": {field: [...]}}`) and the team's
cost limit (600 per minute, shared with every integration of the team): requests are paced by
a window of our own, `x-ratelimit-remaining-minute` slows the tap down when other integrations
spend the team's minute, and a 429 is retried after its `Retry-After`.
Documentation: developers.salesloft.com/docs/platform/api-basics/ (oauth-authentication,
rate-limits, pagination)."""

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
from tenantsync.tapkit.pacing import RateWindow
from tenantsync.tapkit.rest import RestClient
from tenantsync.tapkit.settings import retry_policy_from, stored_refresh_token, token_sinks_from
from tenantsync.tapkit.tokens import fingerprint

DEFAULT_BASE_URL = "https://api.salesloft.com"
DEFAULT_OAUTH_URL = "https://accounts.salesloft.com"
API = "/v2"
TOKEN_PATH = "/oauth/token"  # noqa: S105 (a URL path)
PER_MINUTE = 600  # the team's cost limit per minute
REMAINING = "x-ratelimit-remaining-minute"
_URL = re.compile(r"^https?://[^/\s]+$")


def classify(response: requests.Response) -> Verdict:
    status = response.status_code
    if status < 300:
        return Verdict(Disposition.OK)
    try:
        body = msgspec.json.decode(response.content)
        message = str(body.get("error") or body.get("errors") or body)
    except (msgspec.DecodeError, AttributeError):
        message = " ".join(response.text.split())[:300]
    if status == 401:
        return Verdict(Disposition.REAUTH, "unauthorized", message)
    if status in (408, 429) or status >= 500:
        return Verdict(Disposition.RETRY, "rate_limit" if status == 429 else None, message)
    return Verdict(Disposition.FATAL, None, message)


class TeamMinute:
    """Before a request: when the team's minute is nearly spent (other integrations share
    it), wait for it to roll over; Salesloft sends no reset time, so wait a slice of it."""

    def __init__(self, reserve: int = 5, pause: float = 5.0):
        self.reserve, self.pause = reserve, pause
        self._low = False

    def before_request(self) -> None:
        if self._low:
            self._low = False
            time.sleep(self.pause)

    def after_response(self, response: requests.Response) -> None:
        left = response.headers.get(REMAINING)
        self._low = left is not None and left.isdigit() and int(left) < self.reserve


def _url(config: Mapping[str, Any], key: str, default: str) -> str:
    url = str(config.get(key) or default).rstrip("/")
    if not _URL.match(url):
        raise ConfigValidationError(f"{key} {url!r} must be an http(s) URL without a path")
    return url


class SalesloftClient(RestClient):
    def __init__(self, config: Mapping[str, Any], logger: logging.Logger):
        self.log = logger
        missing = [k for k in ("client_id", "client_secret", "refresh_token")
                   if not config.get(k)]
        if missing:
            raise ConfigValidationError(f"missing settings: {', '.join(missing)}")
        per_minute = int(config.get("requests_per_minute") or PER_MINUTE)
        http = HttpClient(
            classify=classify, retry=retry_policy_from(config),
            pacers=[RateWindow(per_minute, 60.0), TeamMinute()],
            timeout=float(config.get("request_timeout") or 300),
            headers={"User-Agent": "tenantsync-tap-salesloft", "Accept": "application/json"},
            secrets=self._secrets, logger=logger)
        super().__init__(http, _url(config, "base_url", DEFAULT_BASE_URL) + API)
        self.auth = RefreshTokenAuth(
            http=http, token_url=_url(config, "oauth_url", DEFAULT_OAUTH_URL) + TOKEN_PATH,
            client_id=config["client_id"], client_secret=config["client_secret"],
            refresh_token=stored_refresh_token(config, config["refresh_token"]),
            origin_token=config["refresh_token"],
            provider=f"Salesloft (connection {fingerprint(config['refresh_token'])})",
            sinks=token_sinks_from(config))
        self._config_secrets = (config.get("client_secret"), config.get("refresh_token"))
        http.auth = self.auth

    def _secrets(self) -> tuple[str | None, ...]:
        return self._config_secrets + self.auth.secrets()

    @property
    def requests_made(self) -> int:
        return self.http.requests_made
