"""HubSpot's OAuth endpoints (provider-apis.md §2.1) over the framework's `OAuthRegistry`.

- `GET /oauth/authorize` consent page; approving redirects to `redirect_uri?code=..&state=..`
  (on HubSpot this page lives on app.hubspot.com; the twin serves it on its own host);
- `POST /oauth/v1/token` (also `/oauth/v3/token`, `/oauth/2026-03/token`), form-encoded,
  grants `authorization_code` and `refresh_token`; errors as `{"status": "BAD_REFRESH_TOKEN",
  "message", "correlationId", "error", "error_description"}` with 400;
- `GET /oauth/v1/access-tokens/{token}` (introspection), `DELETE /oauth/v1/refresh-tokens/{token}`.

Refresh tokens do not rotate on HubSpot: a refresh answers with the same refresh token.
"""

from __future__ import annotations

import html
from typing import TYPE_CHECKING
from urllib.parse import urlencode

from tap_hubspot.sandbox.errors import correlation_id, error
from tap_hubspot.sandbox.world import USER_BASE
from tenantsync.sandbox.oauth import AccessToken, OAuthError
from tenantsync.sandbox.server import BadRequest, Request, Response, Route

if TYPE_CHECKING:
    from tap_hubspot.sandbox.sandbox import HubSpotSandbox

ACCESS_TOKEN_SECONDS = 1800
DEFAULT_SCOPES = ("oauth", "crm.objects.contacts.read", "crm.objects.companies.read",
                  "crm.objects.deals.read", "crm.objects.owners.read", "crm.schemas.custom.read",
                  "tickets", "e-commerce")

# OAuthError reason -> (HubSpot status, message, OAuth error, error description)
_ERRORS = {
    "invalid_refresh_token": ("BAD_REFRESH_TOKEN", "missing or unknown refresh token",
                              "invalid_grant", "refresh token is invalid, expired or revoked"),
    "invalid_code": ("BAD_AUTH_CODE", "missing or unknown auth code", "invalid_grant",
                     "auth code is invalid, expired or already used"),
    "invalid_client": ("BAD_CLIENT_ID", "missing or unknown client id", "invalid_client",
                       "client authentication failed"),
    "redirect_mismatch": ("BAD_REDIRECT_URI", "redirect_uri does not match", "invalid_grant",
                          "redirect_uri does not match the authorization request"),
    "unsupported_grant_type": ("BAD_GRANT_TYPE", "grant_type must be authorization_code or "
                               "refresh_token", "unsupported_grant_type",
                               "unsupported grant type"),
    "invalid_request": ("BAD_REQUEST", "missing a required parameter", "invalid_request",
                        "missing a required parameter"),
}

_PAGE = """<!doctype html>
<html><head><meta charset="utf-8"><title>Connect to HubSpot (sandbox)</title></head>
<body>
<h1>Connect {client} to HubSpot portal {portal}</h1>
<p>The app asks for: {scopes}</p>
<form method="post" action="/oauth/authorize">
{hidden}
<button type="submit" name="decision" value="approve">Connect app</button>
<button type="submit" name="decision" value="deny">Cancel</button>
</form>
</body></html>
"""


def _oauth_error(exc: OAuthError) -> Response:
    status, message, err, description = _ERRORS[exc.reason]
    if exc.reason == "invalid_client" and "secret" in exc.detail:
        status, message = "BAD_CLIENT_SECRET", "client secret is incorrect"
    return Response.json({"status": status, "message": message,
                          "correlationId": correlation_id(), "error": err,
                          "error_description": description}, 400)


def _refused(exc: OAuthError) -> Response:
    page = f"<!doctype html><p>Authorization failed: {html.escape(exc.reason)}</p>"
    return Response(400, page, content_type="text/html;charset=UTF-8")


def _redirect(uri: str, params: dict[str, str]) -> Response:
    joiner = "&" if "?" in uri else "?"
    return Response(302, b"", content_type=None,
                    headers={"Location": uri + joiner + urlencode(params)})


class OAuthApi:
    def __init__(self, sandbox: HubSpotSandbox):
        self.sb = sandbox

    def routes(self) -> list[Route]:
        return [
            Route("GET", r"/oauth/authorize", self.consent, "oauth.authorize", public=True),
            Route("POST", r"/oauth/authorize", self.decide, "oauth.authorize", public=True),
            Route("POST", r"/oauth/(?:v1|v3|2026-03)/token", self.token, "oauth.token",
                  public=True),
            Route("GET", r"/oauth/v1/access-tokens/(?P<token>[^/]+)", self.access_token_info,
                  "oauth.access_token_info", public=True),
            Route("DELETE", r"/oauth/v1/refresh-tokens/(?P<token>[^/]+)", self.revoke,
                  "oauth.refresh_token_revoke", public=True),
        ]

    def _scopes(self, scope: str) -> list[str]:
        return scope.split() if scope else list(DEFAULT_SCOPES)

    def consent(self, request: Request) -> Response:
        args = {k: request.arg(k) or "" for k in ("client_id", "redirect_uri", "scope", "state")}
        try:
            self.sb.oauth.check_redirect(args["client_id"], args["redirect_uri"])
        except OAuthError as exc:
            return _refused(exc)
        hidden = "\n".join(f'<input type="hidden" name="{k}" value="{html.escape(v)}">'
                           for k, v in args.items())
        page = _PAGE.format(client=html.escape(args["client_id"]), portal=self.sb.portal_id,
                            scopes=html.escape(", ".join(self._scopes(args["scope"]))),
                            hidden=hidden)
        return Response(200, page, content_type="text/html;charset=UTF-8")

    def decide(self, request: Request) -> Response:
        try:
            form = request.form()
        except BadRequest:
            form = {}
        client_id, redirect_uri = form.get("client_id"), form.get("redirect_uri")
        try:
            self.sb.oauth.check_redirect(client_id, redirect_uri)
        except OAuthError as exc:
            return _refused(exc)
        state = {"state": form["state"]} if form.get("state") else {}
        if form.get("decision") != "approve":
            return _redirect(redirect_uri, {"error": "access_denied", **state})
        code = self.sb.oauth.issue_code(client_id, redirect_uri, form.get("scope", ""))
        return _redirect(redirect_uri, {"code": code, **state})

    def token(self, request: Request) -> Response:
        try:
            form = request.form()
        except BadRequest:
            return _oauth_error(OAuthError("invalid_request", "body is not form-encoded"))
        grant = form.get("grant_type")
        try:
            if grant == "authorization_code":
                access, refresh = self.sb.oauth.exchange_code(
                    form.get("client_id"), form.get("client_secret"), form.get("code"),
                    form.get("redirect_uri"))
            elif grant == "refresh_token":
                access, rotated = self.sb.oauth.refresh(
                    form.get("client_id"), form.get("client_secret"), form.get("refresh_token"))
                refresh = rotated or form["refresh_token"]
            else:
                raise OAuthError("unsupported_grant_type", str(grant))
        except OAuthError as exc:
            return _oauth_error(exc)
        return Response.json({
            "token_type": "bearer", "access_token": access.token, "refresh_token": refresh,
            "expires_in": self._lifetime(access), "hub_id": self.sb.portal_id,
            "user_id": USER_BASE, "scopes": self._scopes(access.grant.scope),
            "token_use": "access_token"})

    @staticmethod
    def _lifetime(access: AccessToken) -> int:
        if access.expires_at is None:
            return ACCESS_TOKEN_SECONDS
        return round((access.expires_at - access.issued_at).total_seconds())

    def _expires_in(self, access: AccessToken) -> int:
        if access.expires_at is None:
            return ACCESS_TOKEN_SECONDS
        return max(0, int((access.expires_at - self.sb.clock.now()).total_seconds()))

    def access_token_info(self, request: Request) -> Response:
        token = request.params["token"]
        entry = self.sb.oauth.peek(token)
        if entry is None or entry.revoked or self._expires_in(entry) <= 0:
            return error(404, "access token not found or expired", "OBJECT_NOT_FOUND")
        return Response.json({
            "token": token, "user": entry.grant.user, "hub_domain": self.sb.hub_domain,
            "scopes": self._scopes(entry.grant.scope), "hub_id": self.sb.portal_id,
            "app_id": self.sb.app_id, "expires_in": self._expires_in(entry),
            "user_id": USER_BASE, "token_type": "access"})

    def revoke(self, request: Request) -> Response:
        if self.sb.oauth.revoke_refresh_tokens(request.params["token"]) == 0:
            return error(404, "refresh token not found", "OBJECT_NOT_FOUND")
        return Response(204, b"", content_type=None)
