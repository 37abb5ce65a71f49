"""The Intercom API as tap-intercom uses it, over one tapkit HttpClient: an access token that
never expires (OAuth apps get one at install, private apps have one; no refresh), the
`Intercom-Version` header, Intercom's error envelope (`{"type": "error.list", "errors":
[{"code", "message"}]}`) and its rate limits, paced from `X-RateLimit-Remaining` /
`X-RateLimit-Reset` (epoch seconds) on every response. A second scroll while one is open is a
400 `scroll_exists`: retried until the open one ends or expires (a minute idle).
Documentation: developers.intercom.com (authentication, versioning, rate limiting, errors)."""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from typing import Any

import msgspec
import requests
from singer_sdk.exceptions import ConfigValidationError

from tenantsync.tapkit.errors import AuthError
from tenantsync.tapkit.http import Disposition, HttpClient, Verdict
from tenantsync.tapkit.oauth import StaticTokenAuth
from tenantsync.tapkit.rest import HeaderPacer, RateLimitHeaders, RestClient
from tenantsync.tapkit.settings import retry_policy_from

DEFAULT_API_URL = "https://api.intercom.io"
DEFAULT_VERSION = "2.11"
HEADERS = RateLimitHeaders("X-RateLimit-Remaining", "X-RateLimit-Reset", reset_is_epoch=True)
RETRIED_CODES = ("scroll_exists",)
_URL = re.compile(r"^https?://[^/\s]+")


def error_of(response: requests.Response) -> tuple[str | None, str]:
    """(code, message) of Intercom's first error."""
    try:
        first = (msgspec.json.decode(response.content).get("errors") or [{}])[0]
        return first.get("code"), str(first.get("message") or "")
    except (msgspec.DecodeError, AttributeError, IndexError, TypeError):
        return None, " ".join(response.text.split())[:300]


def classify(response: requests.Response) -> Verdict:
    status = response.status_code
    if status < 300:
        return Verdict(Disposition.OK)
    code, message = error_of(response)
    if status == 401:
        return Verdict(Disposition.REAUTH, code, message)
    if status in (408, 429) or status >= 500 or code in RETRIED_CODES:
        return Verdict(Disposition.RETRY, code, message)
    return Verdict(Disposition.FATAL, code, message)


class IntercomToken(StaticTokenAuth):
    def refresh(self) -> None:
        raise AuthError("Intercom refused the access token (the app was uninstalled or the "
                        "token revoked): connect the workspace again")


class IntercomClient(RestClient):
    def __init__(self, config: Mapping[str, Any], logger: logging.Logger):
        self.log = logger
        token = config.get("access_token")
        if not token:
            raise ConfigValidationError("no credentials: set access_token (Intercom's tokens "
                                        "never expire; there is no refresh token)")
        url = (config.get("api_url") or DEFAULT_API_URL).rstrip("/")
        if not _URL.match(url):
            raise ConfigValidationError(f"api_url {url!r} must be an http(s) URL")
        self.auth = IntercomToken(token, "Intercom")
        http = HttpClient(
            auth=self.auth, classify=classify, retry=retry_policy_from(config),
            pacers=[HeaderPacer(HEADERS)], timeout=float(config.get("request_timeout") or 300),
            headers={"User-Agent": "tenantsync-tap-intercom", "Accept": "application/json",
                     "Intercom-Version": str(config.get("intercom_version")
                                             or DEFAULT_VERSION)},
            secrets=lambda: (token, config.get("client_secret")), logger=logger)
        super().__init__(http, url)
