"""`HubSpotSandbox`: the HubSpot twin on the sandbox framework.

```python
with HubSpotSandbox(records=1000, seed=7) as hs:
    token = hs.mint_private_app_token()      # or hs.mint_refresh_token() for OAuth
    HubSpot(access_token=token, host=hs.base_url).crm.contacts.basic_api.get_page()
    hs.update("contacts", "51", {"firstname": "Ada"})   # mutations by HubSpot type names
```

Auth: OAuth access tokens (30 minutes on the sandbox clock; expired -> 401
EXPIRED_AUTHENTICATION) or private-app tokens (static). Rate limits per token (see
`ratelimit.py`); with `enforce_rate_limit=True` a request beyond them gets HubSpot's 429, else it
is served and only counted as a violation. Every response to an authenticated call carries the
`X-HubSpot-RateLimit-*` headers; the Daily ones only for private-app tokens, as on HubSpot.
"""

from __future__ import annotations

import secrets
import uuid
from datetime import timedelta

from tap_hubspot.sandbox.crm_api import CrmApi
from tap_hubspot.sandbox.errors import error, rate_limited
from tap_hubspot.sandbox.legacy_api import LegacyApi
from tap_hubspot.sandbox.oauth_api import ACCESS_TOKEN_SECONDS, OAuthApi
from tap_hubspot.sandbox.portal import Portal
from tap_hubspot.sandbox.ratelimit import MESSAGES, RateLimiter, RateLimits
from tap_hubspot.sandbox.write_api import WriteApi
from tenantsync.sandbox.server import BadRequest, Request, Response, Route, Sandbox

DEFAULT_PORTAL_ID = 24_681_357
SEARCH_ROUTES = frozenset({"crm.objects.search"})
_FAULT_CATEGORIES = {500: "INTERNAL_ERROR", 502: "BAD_GATEWAY", 503: "SERVICE_UNAVAILABLE",
                     504: "GATEWAY_TIMEOUT", 401: "INVALID_AUTHENTICATION",
                     403: "MISSING_SCOPES", 404: "OBJECT_NOT_FOUND"}


def _iso(moment) -> str:
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


class HubSpotSandbox(Sandbox):
    provider = "hubspot"
    rate_window = None  # HubSpot's windows are per token: judged by RateLimiter, not accounting
    access_lifetime = timedelta(seconds=ACCESS_TOKEN_SECONDS)
    public_hosts = ("api.hubapi.com",)

    def __init__(self, *, portal_id: int = DEFAULT_PORTAL_ID,
                 rate_limits: RateLimits | None = None, search_lag: float = 0.0, **kwargs):
        """`search_lag`: seconds (sandbox clock) before a write shows in search results;
        `rate_limits`: burst, search and daily limits; other arguments as `Sandbox`."""
        self.portal_id = portal_id
        self.app_id = 1_000_000 + portal_id % 1_000_000
        self.hub_domain = f"portal-{portal_id}.sandbox.hubspot.example"
        limits = rate_limits or RateLimits()
        self.quota_limit = limits.daily  # the daily limit is the accounting's quota
        super().__init__(**kwargs)
        self.limiter = RateLimiter(limits)
        self.portal = Portal(self.store, self.clock, portal_id=portal_id,
                             created_at=self.world.start, search_lag=search_lag)
        self.private_app_tokens: set[str] = set()
        self._crm, self._oauth_api = CrmApi(self.portal), OAuthApi(self)
        self._more = (WriteApi(self._crm), LegacyApi(self._crm))

    # -- framework hooks -----------------------------------------------------------------------

    def routes(self) -> list[Route]:
        return [*self._oauth_api.routes(), *self._crm.routes(),
                *(route for api in self._more for route in api.routes())]

    def populate(self) -> None:
        self.portal.load(self.world, self.seed)

    def new_token(self, kind: str) -> str:
        if kind == "access":  # HubSpot access tokens are opaque, ~200 chars, starting "C"
            return "CN" + secrets.token_urlsafe(120)
        return str(uuid.uuid4())  # refresh tokens, codes, client ids and secrets are UUIDs

    def before(self, request: Request) -> Response | None:
        token = request.bearer()
        private = token in self.private_app_tokens
        if not private:
            refused = self._check_oauth(token)
            if refused is not None:
                return refused
        lim = self.limiter.limits
        verdict = self.limiter.check(token, search=request.route.name in SEARCH_ROUTES,
                                     enforce=self.enforce_rate_limit)
        policy, retry_after = verdict.policy, verdict.retry_after
        used = self.accounting.quota_used()
        if used >= lim.daily:
            policy, retry_after = "DAILY", None
        headers = {"X-HubSpot-RateLimit-Interval-Milliseconds": str(int(lim.interval_seconds
                                                                        * 1000)),
                   "X-HubSpot-RateLimit-Max": str(lim.burst),
                   "X-HubSpot-RateLimit-Remaining": str(verdict.remaining)}
        if policy is not None:
            if request.admission.violation is None:  # not already counted (Retry-After)
                self.accounting.violation(f"{request.route.name}: beyond HubSpot's {policy} "
                                          "limit")
            if self.enforce_rate_limit:
                refused = rate_limited(policy, MESSAGES[policy], retry_after)
                refused.headers.update(headers)
                return refused
        used = self.accounting.use_quota()
        if private:  # OAuth-authenticated calls do not get the daily headers
            headers["X-HubSpot-RateLimit-Daily"] = str(lim.daily)
            headers["X-HubSpot-RateLimit-Daily-Remaining"] = str(max(lim.daily - used, 0))
        request.state["rate_headers"] = headers
        return None

    def _check_oauth(self, token: str | None) -> Response | None:
        if self.oauth.use(token) is not None:
            return None
        entry = self.oauth.peek(token) if token else None
        if entry is None:
            return error(401, "Authentication credentials not found. This API supports OAuth "
                         "2.0 authentication and you can find more details at "
                         "https://developers.hubspot.com/docs/methods/auth/oauth-overview",
                         "INVALID_AUTHENTICATION")
        now = self.clock.now()
        expired_at = min(entry.expires_at or now, now)
        ago = int((now - expired_at).total_seconds())
        return error(401, f"The OAuth token used to make this call expired {ago} second(s) ago.",
                     "EXPIRED_AUTHENTICATION", context={"expire time": [_iso(expired_at)]})

    def after(self, request: Request, response: Response) -> None:
        response.headers.update(request.state.get("rate_headers", {}))

    def error_response(self, status: int, *, retry_after: float | None = None) -> Response:
        if status == 429:
            seconds = None if retry_after is None else max(1, round(retry_after))
            return rate_limited("TEN_SECONDLY_ROLLING", MESSAGES["TEN_SECONDLY_ROLLING"],
                                seconds)
        if status == 405:
            return error(405, "Method not allowed on this endpoint", "VALIDATION_ERROR")
        headers = {"Retry-After": f"{retry_after:g}"} if retry_after is not None else {}
        return error(status, "internal error" if status == 500 else f"HTTP {status}",
                     _FAULT_CATEGORIES.get(status, "INTERNAL_ERROR"), headers=headers)

    def malformed(self, request: Request, exc: BadRequest) -> Response:
        return error(400, f"Invalid input JSON on line 1: {exc}", "VALIDATION_ERROR")

    def not_found(self, request: Request) -> Response:
        return error(404, f"Unable to route {request.method} {request.path}", "OBJECT_NOT_FOUND")

    def info(self) -> dict:
        return {**super().info(), "portal_id": self.portal_id,
                "search_lag": self.portal.search_lag,
                "objects": {name: self.portal.count(t)
                            for name, t in self.portal.types.types.items()}}

    # -- mutations (framework API and /_sandbox/ control endpoints) ----------------------------

    def get_record(self, obj: str, record_id: str) -> dict:
        doc = self.portal.get(self.portal.resolve(obj), str(record_id))
        if doc is None:
            raise KeyError(f"no {obj} record with id {record_id!r}")
        return doc

    def create(self, obj: str, fields: dict) -> dict:
        return self.portal.create(obj, fields)

    def update(self, obj: str, record_id: str, fields: dict) -> dict:
        return self.portal.update(obj, str(record_id), fields)

    def delete(self, obj: str, record_id: str) -> None:
        """Archive the record, as HubSpot's DELETE does (`archived=true` lists it)."""
        self.portal.archive(obj, str(record_id))

    def restore(self, obj: str, record_id: str) -> dict:
        return self.portal.restore(obj, str(record_id))

    def add_field(self, obj: str, name: str, type: str, **options) -> dict:
        return self.portal.add_property(obj, name, type, **options)

    def associate(self, obj: str, record_id: str, to_obj: str, to_id: str) -> None:
        self.portal.associate(obj, str(record_id), to_obj, str(to_id))

    # -- auth and behaviour for tests ----------------------------------------------------------

    def mint_private_app_token(self) -> str:
        """A static private-app token (no expiry, daily rate-limit headers)."""
        token = f"pat-na1-{uuid.uuid4()}"
        self.private_app_tokens.add(token)
        return token

    def revoke_private_app_token(self, token: str) -> None:
        self.private_app_tokens.discard(token)

    def set_search_lag(self, seconds: float) -> None:
        """How long (sandbox seconds) writes take to show in search; applies to new writes."""
        if seconds < 0:
            raise ValueError(f"search lag must not be negative, got {seconds}")
        self.portal.search_lag = seconds
