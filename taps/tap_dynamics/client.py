"""The Dataverse Web API as tap-dynamics uses it, over one tapkit HttpClient: Microsoft Entra
ID's refresh grant scoped to the organization (`https://<org>.crm.dynamics.com/.default`),
the OData headers with `Prefer: odata.maxpagesize` (and the formatted-value annotations,
setting `include_formatted_values`), Dataverse's error envelope
(`{"error": {"code", "message"}}`) and its service protection limits (per user, 6,000 requests
per 300 s: paced by a window of our own; a 429's `Retry-After` is honoured).
Documentation: learn.microsoft.com/power-apps/developer/data-platform/webapi/
(compose-http-requests-handle-errors, query-data-web-api) and .../api-limits;
learn.microsoft.com/entra/identity-platform/v2-oauth2-auth-code-flow."""

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
from tenantsync.tapkit.rest import RestClient
from tenantsync.tapkit.settings import retry_policy_from, stored_refresh_token, token_sinks_from
from tenantsync.tapkit.tokens import fingerprint

DEFAULT_LOGIN_URL = "https://login.microsoftonline.com"
API = "/api/data/v9.2"
PAGE_SIZE = 1000  # Supaglue's odata.maxpagesize (the API's cap is 5,000)
LIMIT = (6000, 300.0)  # service protection: requests per sliding window (seconds), per user
# asks for `<field>@OData.Community.Display.V1.FormattedValue` (kept in the raw record)
FORMATTED_VALUES = 'odata.include-annotations="OData.Community.Display.V1.FormattedValue"'
_URL = re.compile(r"^https?://[^/\s]+$")


def classify(response: requests.Response) -> Verdict:
    status = response.status_code
    if status < 300:
        return Verdict(Disposition.OK)
    try:
        error = msgspec.json.decode(response.content).get("error") or {}
        message = str(error.get("message") or error) if isinstance(error, dict) else str(error)
    except (msgspec.DecodeError, AttributeError):
        message = " ".join(response.text.split())[:300]
    if status == 401:
        return Verdict(Disposition.REAUTH, "unauthorized", message)
    if status == 429:
        return Verdict(Disposition.RETRY, "rate_limit", message)
    if status in (408,) or status >= 500:
        return Verdict(Disposition.RETRY, None, message)
    return Verdict(Disposition.FATAL, None, message)


def _url(config: Mapping[str, Any], key: str, default: str | None = None) -> str:
    url = str(config.get(key) or default or "").rstrip("/")
    if not _URL.match(url):
        raise ConfigValidationError(f"{key} {url!r} must be an http(s) URL without a path "
                                    "(e.g. https://contoso.crm.dynamics.com)")
    return url


class DynamicsClient(RestClient):
    def __init__(self, config: Mapping[str, Any], logger: logging.Logger):
        self.log = logger
        self.annotations = (FORMATTED_VALUES if config.get("include_formatted_values", True)
                            else None)
        missing = [k for k in ("instance_url", "client_id", "client_secret", "refresh_token")
                   if not config.get(k)]
        if missing:
            raise ConfigValidationError(f"missing settings: {', '.join(missing)}")
        instance = _url(config, "instance_url")
        size = int(config.get("page_size") or PAGE_SIZE)
        http = HttpClient(
            classify=classify, retry=retry_policy_from(config),
            pacers=[RateWindow(int(config.get("requests_per_5_minutes") or LIMIT[0]),
                               LIMIT[1])],
            timeout=float(config.get("request_timeout") or 300),
            headers={"User-Agent": "tenantsync-tap-dynamics", "Accept": "application/json",
                     "OData-MaxVersion": "4.0", "OData-Version": "4.0",
                     "Prefer": self.prefer(f"odata.maxpagesize={size}")},
            secrets=self._secrets, logger=logger)
        super().__init__(http, instance + API)
        login = _url(config, "login_url", DEFAULT_LOGIN_URL)
        tenant = config.get("tenant") or "organizations"
        self.auth = RefreshTokenAuth(
            http=http, token_url=f"{login}/{tenant}/oauth2/v2.0/token",
            client_id=config["client_id"], client_secret=config["client_secret"],
            refresh_token=stored_refresh_token(config, config["refresh_token"]),
            origin_token=config["refresh_token"],
            provider=f"Dynamics 365 (connection {fingerprint(config['refresh_token'])})",
            sinks=token_sinks_from(config),
            form={"scope": f"{instance}/.default offline_access"})
        self._config_secrets = (config.get("client_secret"), config.get("refresh_token"))
        http.auth = self.auth

    def prefer(self, *preferences: str) -> str:
        """A `Prefer` header: the given preferences and the annotations asked for."""
        return ",".join(p for p in (*preferences, self.annotations) if p)

    def _secrets(self) -> tuple[str | None, ...]:
        return self._config_secrets + self.auth.secrets()

    @property
    def requests_made(self) -> int:
        return self.http.requests_made

    def get(self, path: str, params: Mapping[str, Any] | None = None) -> Any:
        return self.http.request("GET", self.url(path), params=params)
