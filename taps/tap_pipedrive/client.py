"""The Pipedrive API as tap-pipedrive uses it, over one tapkit HttpClient: OAuth (refresh with
HTTP Basic client credentials; the token response names the company's `api_domain`) or an API
token (`x-api-token` header), Pipedrive's error envelope, and its rate limits: the burst window
read from `x-ratelimit-*`, and the daily token budget, whose 429 stops the run cleanly.
Documentation: developers.pipedrive.com (authorization, core-api-concepts-rate-limiting)."""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from typing import Any

import msgspec
import requests
from singer_sdk.exceptions import ConfigValidationError

from tenantsync.tapkit.http import Disposition, HttpClient, Verdict
from tenantsync.tapkit.oauth import RefreshTokenAuth
from tenantsync.tapkit.pacing import RateWindow
from tenantsync.tapkit.rest import HeaderPacer, RateLimitHeaders, RestClient
from tenantsync.tapkit.settings import retry_policy_from, stored_refresh_token, token_sinks_from
from tenantsync.tapkit.tokens import fingerprint

DEFAULT_API_DOMAIN = "https://api.pipedrive.com"
DEFAULT_OAUTH_URL = "https://oauth.pipedrive.com"
TOKEN_PATH = "/oauth/token"  # noqa: S105 (a URL path)
HEADERS = RateLimitHeaders("x-ratelimit-remaining", "x-ratelimit-reset")
_URL = re.compile(r"^https?://[^/\s]+")


def classify(response: requests.Response) -> Verdict:
    """A 429 with requests left in the burst window is the daily budget: stop until tomorrow
    (tap-pipedrive tells the two apart the same way)."""
    status = response.status_code
    if status < 300:
        return Verdict(Disposition.OK)
    try:
        body = msgspec.json.decode(response.content)
        message = str(body.get("error") or body.get("error_description") or "")
    except (msgspec.DecodeError, AttributeError):
        message = " ".join(response.text.split())[:300]
    if status == 401:
        return Verdict(Disposition.REAUTH, "unauthorized", message)
    if status == 429:
        try:
            remaining = int(response.headers.get("x-ratelimit-remaining", "0"))
        except ValueError:
            remaining = 0
        return Verdict(Disposition.STOP if remaining >= 1 else Disposition.RETRY,
                       "daily_budget" if remaining >= 1 else "rate_limit", message)
    if status in (408,) or status >= 500:
        return Verdict(Disposition.RETRY, None, message)
    return Verdict(Disposition.FATAL, None, message)


class StaticApiToken:
    """An API token in the `x-api-token` header (never in the URL, where logs keep it)."""

    def __init__(self, token: str):
        self._token = token
        self.token_response: Mapping[str, Any] = {}

    def secrets(self) -> tuple[str | None, ...]:
        return (self._token,)

    def apply(self, headers: dict[str, str]) -> None:
        headers["x-api-token"] = self._token

    def refresh(self) -> None:
        from tenantsync.tapkit.errors import AuthError

        raise AuthError("Pipedrive refused the configured api_token (revoked or wrong "
                        "company)")


def _url(config: Mapping[str, Any], key: str, default: str) -> str:
    url = (config.get(key) or default).rstrip("/")
    if not _URL.match(url):
        raise ConfigValidationError(f"{key} {url!r} must be an http(s) URL")
    return url


class PipedriveClient(RestClient):
    def __init__(self, config: Mapping[str, Any], logger: logging.Logger):
        self.log = logger
        self._api_domain = config.get("api_domain")
        if self._api_domain:
            _url(config, "api_domain", DEFAULT_API_DOMAIN)
        burst = int(config.get("requests_per_2_seconds") or 0)
        pacers: list = [HeaderPacer(HEADERS)]
        if burst:
            pacers.insert(0, RateWindow(burst, 2.0))
        http = HttpClient(
            classify=classify, retry=retry_policy_from(config), pacers=pacers,
            timeout=float(config.get("request_timeout") or 300),
            headers={"User-Agent": "tenantsync-tap-pipedrive", "Accept": "application/json"},
            secrets=self._secrets, logger=logger)
        super().__init__(http, self._api_domain or DEFAULT_API_DOMAIN)
        self._config_secrets = tuple(config.get(k) for k in
                                     ("client_secret", "refresh_token", "api_token"))
        if config.get("refresh_token"):
            missing = [k for k in ("client_id", "client_secret") if not config.get(k)]
            if missing:
                raise ConfigValidationError(
                    f"refresh_token is set but {' and '.join(missing)} missing")
            oauth_url = _url(config, "oauth_url", DEFAULT_OAUTH_URL)
            self.auth: RefreshTokenAuth | StaticApiToken = RefreshTokenAuth(
                http=http, token_url=oauth_url + TOKEN_PATH, client_id=config["client_id"],
                client_secret=config["client_secret"],
                refresh_token=stored_refresh_token(config, config["refresh_token"]),
                origin_token=config["refresh_token"],
                provider=f"Pipedrive (connection {fingerprint(config['refresh_token'])})",
                sinks=token_sinks_from(config), extra_keys=("api_domain",),
                basic_client_auth=True)
        elif config.get("api_token"):
            self.auth = StaticApiToken(config["api_token"])
        else:
            raise ConfigValidationError(
                "no credentials: set client_id, client_secret and refresh_token (OAuth app) "
                "or api_token")
        http.auth = self.auth

    def _secrets(self) -> tuple[str | None, ...]:
        return self._config_secrets + self.auth.secrets()

    def url(self, path: str) -> str:
        """Under the configured api_domain, else the one the OAuth token response named."""
        if "://" in path:
            return path
        if not self._api_domain and isinstance(self.auth, RefreshTokenAuth):
            if not self.auth.token_response:
                self.auth.refresh()
            domain = self.auth.token_response.get("api_domain")
            if domain:
                self._api_domain = str(domain).rstrip("/")
                self.base_url = self._api_domain
        return self.base_url + path

    @property
    def requests_made(self) -> int:
        return self.http.requests_made

    def get(self, path: str, params: Mapping[str, Any] | None = None) -> Any:
        return self.http.request("GET", self.url(path), params=params)
