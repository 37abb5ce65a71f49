"""The HubSpot API as tap-hubspot uses it (provider-apis.md §2), over one tapkit HttpClient:
OAuth refresh (or a private-app token), paced requests, and HubSpot's error shapes."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator, Mapping, Sequence
from typing import Any
from urllib.parse import quote

import msgspec
import requests
from singer_sdk.exceptions import ConfigValidationError

from tap_hubspot.pacing import HubSpotPacer, daily_usage
from tenantsync.tapkit.errors import FatalHttpError
from tenantsync.tapkit.http import Disposition, HttpClient, Verdict
from tenantsync.tapkit.oauth import RefreshTokenAuth, StaticTokenAuth
from tenantsync.tapkit.pacing import QuotaGuard
from tenantsync.tapkit.settings import retry_policy_from, stored_refresh_token, token_sinks_from
from tenantsync.tapkit.tokens import fingerprint

DEFAULT_BASE_URL = "https://api.hubapi.com"
TOKEN_PATH = "/oauth/v3/token"  # noqa: S105 (a URL path, not a secret)
TOKEN_REFRESH_MARGIN_SECONDS = 300  # refresh five minutes before expires_in runs out
LIST_PAGE_SIZE = 100  # list endpoint maximum
SEARCH_PAGE_SIZE = 200  # search endpoint maximum
BATCH_READ_SIZE = 100
ASSOCIATION_BATCH_SIZE = 1000
OWNERS_PAGE_SIZE = 500
# Room for `properties=` in a list URL: HubSpot answers 414 past roughly 8 KB of URL. The
# properties that do not fit are read with one batch read per page (POST body, no limit).
URL_PROPERTIES_BUDGET = 6000


def error_of(response: requests.Response) -> tuple[str | None, str]:
    """(category or policy, message) from HubSpot's error envelope."""
    try:
        body = msgspec.json.decode(response.content)
    except msgspec.DecodeError:
        return None, " ".join(response.text.split())[:300]
    if not isinstance(body, dict):
        return None, str(body)[:300]
    code = body.get("policyName") or body.get("category") or body.get("status")
    message = body.get("message") or body.get("error_description") or ""
    return (str(code) if code else None), str(message)


def classify(response: requests.Response) -> Verdict:
    status = response.status_code
    if status < 300:
        return Verdict(Disposition.OK)
    code, message = error_of(response)
    if status == 401:
        return Verdict(Disposition.REAUTH, code, message)
    if status == 429:
        # The daily quota will not come back within this run; burst windows pass in seconds.
        return Verdict(Disposition.STOP if code == "DAILY" else Disposition.RETRY, code, message)
    if status in (408, 423) or status >= 500:
        return Verdict(Disposition.RETRY, code, message)
    return Verdict(Disposition.FATAL, code, message)


def split_properties(names: Sequence[str], budget: int = URL_PROPERTIES_BUDGET
                     ) -> tuple[list[str], list[str]]:
    """(properties that fit in a list URL, the rest)."""
    used, head = 0, []
    for i, name in enumerate(names):
        used += len(quote(name)) + 1
        if used > budget:
            return head, list(names[i:])
        head.append(name)
    return head, []


class HubSpotClient:
    def __init__(self, config: Mapping[str, Any], logger: logging.Logger):
        self.log = logger
        self.base_url = (config.get("base_url") or DEFAULT_BASE_URL).rstrip("/")
        if not re.match(r"^https?://[^/\s]+", self.base_url):
            raise ConfigValidationError(f"base_url {self.base_url!r} must be an http(s) URL")
        self.pacer = HubSpotPacer()
        quota = float(config.get("quota_max_percent") or 90)
        self.http = HttpClient(
            classify=classify, retry=retry_policy_from(config),
            pacers=[self.pacer, QuotaGuard(quota, daily_usage, "HubSpot")],
            timeout=float(config.get("request_timeout") or 300),
            headers={"User-Agent": "tenantsync-tap-hubspot", "Accept": "application/json"},
            secrets=self._secrets, logger=logger)
        self._config_secrets = tuple(config.get(k) for k in
                                     ("client_secret", "refresh_token", "access_token"))
        if config.get("refresh_token"):
            missing = [k for k in ("client_id", "client_secret") if not config.get(k)]
            if missing:
                raise ConfigValidationError(
                    f"refresh_token is set but {' and '.join(missing)} missing")
            # Errors name the connection by fingerprint: enough to find it, useless to steal.
            self.connection = f"HubSpot (connection {fingerprint(config['refresh_token'])})"
            self.auth: RefreshTokenAuth | StaticTokenAuth = RefreshTokenAuth(
                http=self.http, token_url=self.base_url + TOKEN_PATH,
                client_id=config["client_id"], client_secret=config["client_secret"],
                refresh_token=stored_refresh_token(config, config["refresh_token"]),
                origin_token=config["refresh_token"], provider=self.connection,
                sinks=token_sinks_from(config), extra_keys=("hub_id",),
                expiry_margin_seconds=TOKEN_REFRESH_MARGIN_SECONDS)
        elif config.get("access_token"):
            self.connection = f"HubSpot (private app {fingerprint(config['access_token'])})"
            self.auth = StaticTokenAuth(config["access_token"], self.connection)
        else:
            raise ConfigValidationError(
                "no credentials: set client_id, client_secret and refresh_token (OAuth app) "
                "or access_token (private app)")
        self.http.auth = self.auth

    def _secrets(self) -> tuple[str | None, ...]:
        return self._config_secrets + self.auth.secrets()

    @property
    def requests_made(self) -> int:
        return self.http.requests_made

    def close(self) -> None:
        self.http.close()

    def get(self, path: str, params: Any = None) -> Any:
        return self.http.request("GET", self.base_url + path, params=params)

    def post(self, path: str, body: Any) -> Any:
        return self.http.request("POST", self.base_url + path, json=body)

    # --- metadata ------------------------------------------------------------------------

    def properties(self, api: str) -> list[dict]:
        return self.get(f"/crm/v3/properties/{api}")["results"]

    def schemas(self) -> list[dict]:
        """Custom object schemas (with their properties), every page."""
        out: list[dict] = []
        params: dict[str, Any] = {}
        while True:
            body = self.get("/crm/v3/schemas", params)
            out.extend(body.get("results") or [])
            after = ((body.get("paging") or {}).get("next") or {}).get("after")
            if not after:
                return out
            params = {"after": after}

    def pipelines(self, api: str) -> list[dict] | None:
        """The object's pipelines and stages, or None where the portal has no pipelines API."""
        try:
            return self.get(f"/crm/v3/pipelines/{api}")["results"]
        except FatalHttpError as exc:
            if exc.status in (400, 404):
                return None
            raise

    # --- records -------------------------------------------------------------------------

    def list_page(self, api: str, *, after: str | None, properties: Sequence[str],
                  associations: Sequence[str], archived: bool) -> tuple[list[dict], str | None]:
        """One page of the list endpoint (id order) with every property asked for: those that
        do not fit in the URL come from one batch read of the page's ids."""
        head, rest = split_properties(properties)
        params: list[tuple[str, str]] = [("limit", str(LIST_PAGE_SIZE)),
                                         ("archived", str(archived).lower())]
        if head:
            params.append(("properties", ",".join(head)))
        if associations:
            params.append(("associations", ",".join(associations)))
        if after:
            params.append(("after", after))
        body = self.get(f"/crm/v3/objects/{api}", params)
        results = body.get("results") or []
        if rest and results:
            extra = self.batch_read(api, [r["id"] for r in results], rest, archived=archived)
            for record in results:
                record["properties"].update((extra.get(record["id"]) or {}).get("properties")
                                            or dict.fromkeys(rest))
        after = ((body.get("paging") or {}).get("next") or {}).get("after")
        return results, after

    def batch_read(self, api: str, ids: Sequence[str], properties: Sequence[str], *,
                   archived: bool = False) -> dict[str, dict]:
        out: dict[str, dict] = {}
        for start in range(0, len(ids), BATCH_READ_SIZE):
            body = self.http.request(
                "POST", f"{self.base_url}/crm/v3/objects/{api}/batch/read",
                params={"archived": str(archived).lower()},
                json={"inputs": [{"id": i} for i in ids[start:start + BATCH_READ_SIZE]],
                      "properties": list(properties)})
            out.update((r["id"], r) for r in body.get("results") or [])
        return out

    def search(self, api: str, body: dict) -> dict:
        with self.pacer.search():
            return self.post(f"/crm/v3/objects/{api}/search", body)

    def associations(self, from_api: str, to_api: str, ids: Sequence[str]
                     ) -> dict[str, list[str]]:
        """Associated ids per record id (v4 batch read); records without any are left out."""
        out: dict[str, list[str]] = {}
        for start in range(0, len(ids), ASSOCIATION_BATCH_SIZE):
            body = self.post(f"/crm/v4/associations/{from_api}/{to_api}/batch/read",
                             {"inputs": [{"id": i} for i in
                                         ids[start:start + ASSOCIATION_BATCH_SIZE]]})
            for result in body.get("results") or []:
                out[str(result["from"]["id"])] = [str(t["toObjectId"])
                                                  for t in result.get("to") or []]
        return out

    def owners(self, archived: bool) -> Iterator[list[dict]]:
        params: dict[str, Any] = {"limit": OWNERS_PAGE_SIZE, "archived": str(archived).lower()}
        while True:
            body = self.get("/crm/v3/owners", params)
            yield body.get("results") or []
            after = ((body.get("paging") or {}).get("next") or {}).get("after")
            if not after:
                return
            params = {**params, "after": after}
