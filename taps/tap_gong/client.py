"""The Gong API as tap-gong uses it, over one tapkit HttpClient: an access key and secret
(HTTP Basic) or OAuth (the refresh grant in the URL query with the app's credentials as HTTP
Basic; the token response names the account's API host, `api_base_url_for_customer`), Gong's
error envelope (`{"requestId", "errors": [...]}`, an empty result being a 404 "No calls
found ...") and its limits: 3 calls a second (paced here, Gong sends no rate headers) and
10,000 a day, whose 429 carries a Retry-After of hours: the run stops cleanly.
Documentation: help.gong.io (Gong API: authentication, limits)."""

from __future__ import annotations

import base64
import logging
import re
from collections.abc import Mapping
from typing import Any

import msgspec
import requests
from singer_sdk.exceptions import ConfigValidationError

from tenantsync.tapkit.errors import AuthError
from tenantsync.tapkit.http import Disposition, HttpClient, Verdict
from tenantsync.tapkit.oauth import RefreshTokenAuth
from tenantsync.tapkit.pacing import RateWindow
from tenantsync.tapkit.rest import RestClient
from tenantsync.tapkit.settings import retry_policy_from, stored_refresh_token, token_sinks_from
from tenantsync.tapkit.tokens import fingerprint

DEFAULT_API_URL = "https://api.gong.io"
DEFAULT_OAUTH_URL = "https://app.gong.io"
TOKEN_PATH = "/oauth2/generate-customer-token"  # noqa: S105 (a URL path)
API_HOST_KEY = "api_base_url_for_customer"
NO_CALLS = "No calls found corresponding to the provided filters"
# Gong's 3 calls per second, with a little slack: a request that leaves late must not
# arrive inside the previous second's window
WINDOW_SECONDS = 1.1
_URL = re.compile(r"^https?://[^/\s]+")


def _errors(response: requests.Response) -> str:
    try:
        body = msgspec.json.decode(response.content)
        errors = body.get("errors") or []
        return "; ".join(e if isinstance(e, str) else str(e.get("message", e)) for e in errors)
    except (msgspec.DecodeError, AttributeError):
        return " ".join(response.text.split())[:300]


def classify(response: requests.Response) -> Verdict:
    """404 "No calls found ..." is an empty page; 429 and 5xx are retried (a Retry-After
    longer than the policy's maximum, the daily limit's, stops the run cleanly)."""
    status = response.status_code
    if status < 300:
        return Verdict(Disposition.OK)
    message = _errors(response)
    if status == 404 and NO_CALLS in message:
        return Verdict(Disposition.OK)
    if status == 401:
        return Verdict(Disposition.REAUTH, "unauthorized", message)
    if status in (408, 429) or status >= 500:
        return Verdict(Disposition.RETRY, "rate_limit" if status == 429 else None, message)
    return Verdict(Disposition.FATAL, None, message)


class AccessKey:
    """An access key and its secret as HTTP Basic."""

    def __init__(self, key: str, secret: str):
        self._pair = base64.b64encode(f"{key}:{secret}".encode()).decode()
        self._secrets = (key, secret, self._pair)
        self.token_response: Mapping[str, Any] = {}

    def secrets(self) -> tuple[str | None, ...]:
        return self._secrets

    def apply(self, headers: dict[str, str]) -> None:
        headers["Authorization"] = f"Basic {self._pair}"

    def refresh(self) -> None:
        raise AuthError("Gong refused the configured access_key / access_key_secret (revoked, "
                        "or the key has no API access)")


def _url(config: Mapping[str, Any], key: str, default: str) -> str:
    url = (config.get(key) or default).rstrip("/")
    if not _URL.match(url):
        raise ConfigValidationError(f"{key} {url!r} must be an http(s) URL")
    return url


class GongClient(RestClient):
    def __init__(self, config: Mapping[str, Any], logger: logging.Logger):
        self.log = logger
        self._api_url = _url(config, "api_base_url", DEFAULT_API_URL) \
            if config.get("api_base_url") else None
        per_second = int(config.get("requests_per_second") or 3)
        http = HttpClient(
            classify=classify, retry=retry_policy_from(config),
            pacers=[RateWindow(per_second, WINDOW_SECONDS)],
            timeout=float(config.get("request_timeout") or 300),
            headers={"User-Agent": "tenantsync-tap-gong", "Accept": "application/json"},
            secrets=self._secrets, logger=logger)
        super().__init__(http, self._api_url or DEFAULT_API_URL)
        self._config_secrets = tuple(config.get(k) for k in (
            "client_secret", "refresh_token", "access_key", "access_key_secret"))
        if config.get("refresh_token"):
            missing = [k for k in ("client_id", "client_secret") if not config.get(k)]
            if missing:
                raise ConfigValidationError(
                    f"refresh_token is set but {' and '.join(missing)} missing")
            self.auth: RefreshTokenAuth | AccessKey = RefreshTokenAuth(
                http=http, token_url=_url(config, "oauth_url", DEFAULT_OAUTH_URL) + TOKEN_PATH,
                client_id=config["client_id"], client_secret=config["client_secret"],
                refresh_token=stored_refresh_token(config, config["refresh_token"]),
                origin_token=config["refresh_token"],
                provider=f"Gong (connection {fingerprint(config['refresh_token'])})",
                sinks=token_sinks_from(config), extra_keys=(API_HOST_KEY,),
                grant_in_query=True)
        elif config.get("access_key") and config.get("access_key_secret"):
            self.auth = AccessKey(config["access_key"], config["access_key_secret"])
        else:
            raise ConfigValidationError(
                "no credentials: set access_key and access_key_secret, or client_id, "
                "client_secret and refresh_token (OAuth app)")
        http.auth = self.auth

    def _secrets(self) -> tuple[str | None, ...]:
        return self._config_secrets + self.auth.secrets()

    def url(self, path: str) -> str:
        """Under the configured api_base_url, else the host the OAuth token response named
        (an EU or APAC account's tokens are refused on another host)."""
        if "://" in path:
            return path
        if not self._api_url and isinstance(self.auth, RefreshTokenAuth):
            if not self.auth.token_response:
                self.auth.refresh()
            host = self.auth.token_response.get(API_HOST_KEY)
            if host:
                self._api_url = self.base_url = str(host).rstrip("/")
        return self.base_url + path
