"""Salesforce OAuth 2.0: the web server flow (consent page), the token endpoint and identity.

Token responses carry `access_token`, `signature` (base64 HMAC-SHA256 of `id + issued_at` keyed
with the client secret), `scope`, `instance_url` (this sandbox), `id` (the identity URL),
`token_type` and `issued_at` (epoch milliseconds, a string), and never `expires_in`. A refresh
token comes back from the code grant, and from a refresh only when rotation is on.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import html
from urllib.parse import urlencode

from tenantsync.sandbox.oauth import AccessToken, OAuthError
from tenantsync.sandbox.server import Request, Response, Route

# OAuthError reason -> (error, error_description) as Salesforce words them
TOKEN_ERRORS = {
    "invalid_client": ("invalid_client", "invalid client credentials"),
    "invalid_code": ("invalid_grant", "expired authorization code"),
    "invalid_refresh_token": ("invalid_grant", "expired access/refresh token"),
    "redirect_mismatch": ("redirect_uri_mismatch", "redirect_uri must match configuration"),
    "unsupported_grant_type": ("unsupported_grant_type", "grant type not supported"),
    "invalid_request": ("invalid_request", "missing required parameter"),
}
_CONSENT = """<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>Allow Access?</title></head>
<body>
<h1>Allow Access?</h1>
<p><b>{client}</b> is asking to access your Salesforce data ({scope}) as {user}.</p>
<form method="POST" action="/services/oauth2/authorize">
{hidden}
<button type="submit" name="decision" value="Allow" id="oaapprove">Allow</button>
<button type="submit" name="decision" value="Deny" id="oadeny">Deny</button>
</form>
</body></html>
"""
_PASSED_ON = ("response_type", "client_id", "redirect_uri", "state", "scope")


class OAuthEndpoints:
    def auth_routes(self) -> list[Route]:
        return [
            Route("GET", r"/services/oauth2/authorize/?", self.authorize_page,
                  "oauth.authorize", public=True),
            Route("POST", r"/services/oauth2/authorize/?", self.authorize_decision,
                  "oauth.decision", public=True),
            Route("POST", r"/services/oauth2/token/?", self.token_endpoint, "oauth.token",
                  public=True),
            Route("POST", r"/services/oauth2/revoke/?", self.revoke_endpoint, "oauth.revoke",
                  public=True),
            Route("GET", r"/id/(?P<org>00D[A-Za-z0-9]{12,15})/(?P<user>005[A-Za-z0-9]{12,15})/?",
                  self.identity, "identity"),
        ]

    def _identity_url(self, request: Request, user: str) -> str:
        return f"{request.base_url}/id/{self.org_id}/{user}"

    def _auth_error_page(self, error: str, description: str) -> Response:
        text = (f"<!DOCTYPE html><html><body><h1>OAuth Error</h1><p>error={html.escape(error)}"
                f"</p><p>{html.escape(description)}</p></body></html>")
        return Response(400, text, content_type="text/html;charset=UTF-8")

    def authorize_page(self, request: Request) -> Response:
        args = {k: request.arg(k) for k in _PASSED_ON}
        if args["response_type"] != "code":
            return self._auth_error_page("unsupported_response_type",
                                         "response type not supported")
        try:
            client = self.oauth.check_redirect(args["client_id"], args["redirect_uri"])
        except OAuthError as exc:
            error = "invalid_client_id" if exc.reason == "invalid_client" else \
                TOKEN_ERRORS[exc.reason][0]
            return self._auth_error_page(error, exc.detail)
        hidden = "\n".join(f'<input type="hidden" name="{k}" value="{html.escape(v)}">'
                           for k, v in args.items() if v is not None)
        page = _CONSENT.format(client=html.escape(client.client_id[:24]),
                               scope=html.escape(args["scope"] or "api refresh_token"),
                               user=html.escape(self.oauth.default_user), hidden=hidden)
        return Response(200, page, content_type="text/html;charset=UTF-8")

    def authorize_decision(self, request: Request) -> Response:
        form = request.form()
        try:
            self.oauth.check_redirect(form.get("client_id"), form.get("redirect_uri"))
        except OAuthError as exc:
            return self._auth_error_page(TOKEN_ERRORS[exc.reason][0], exc.detail)
        redirect = form["redirect_uri"]
        params: dict[str, str] = {}
        if form.get("decision") == "Allow":
            params["code"] = self.oauth.issue_code(form["client_id"], redirect,
                                                   form.get("scope") or "api refresh_token")
        else:
            params.update(error="access_denied",
                          error_description="end-user denied authorization")
        if form.get("state") is not None:
            params["state"] = form["state"]
        joiner = "&" if "?" in redirect else "?"
        return Response(302, b"", content_type=None,
                        headers={"Location": redirect + joiner + urlencode(params)})

    def token_endpoint(self, request: Request) -> Response:
        form = {**{k: v[0] for k, v in request.query.items()}, **request.form()}
        client_id, secret = form.get("client_id"), form.get("client_secret")
        basic = request.bearer("Basic")
        if basic:
            try:
                client_id, _, secret = base64.b64decode(basic).decode().partition(":")
            except (ValueError, UnicodeDecodeError):
                return self._token_error("invalid_client", form)
        grant_type = form.get("grant_type")
        try:
            if grant_type == "authorization_code":
                access, refresh = self.oauth.exchange_code(client_id, secret, form.get("code"),
                                                           form.get("redirect_uri"))
            elif grant_type == "refresh_token":
                access, refresh = self.oauth.refresh(client_id, secret,
                                                     form.get("refresh_token"),
                                                     require_secret=False)
            else:
                raise OAuthError("unsupported_grant_type")
        except OAuthError as exc:
            if exc.reason == "invalid_client" and self.oauth.client(client_id) is None:
                return self._reply({"error": "invalid_client_id",
                                    "error_description": "client identifier invalid"},
                                   400, form)
            return self._token_error(exc.reason, form)
        return self._reply(self._token_body(request, access, refresh, secret or ""), 200, form)

    def _token_body(self, request: Request, access: AccessToken, refresh: str | None,
                    secret: str) -> dict:
        issued = str(int(access.issued_at.timestamp() * 1000))
        identity = self._identity_url(request, access.grant.user)
        client = self.oauth.client(access.grant.client_id)
        key = (client.client_secret if client else secret).encode()
        signature = base64.b64encode(hmac.new(key, (identity + issued).encode(),
                                              hashlib.sha256).digest()).decode()
        body = {"access_token": access.token}
        if refresh is not None:
            body["refresh_token"] = refresh
        body.update({"signature": signature, "scope": access.grant.scope or
                     "refresh_token api full", "instance_url": request.base_url,
                     "id": identity, "token_type": "Bearer", "issued_at": issued})
        return body

    def _token_error(self, reason: str, form: dict) -> Response:
        error, description = TOKEN_ERRORS[reason]
        return self._reply({"error": error, "error_description": description}, 400, form)

    def _reply(self, body: dict, status: int, form: dict) -> Response:
        if form.get("format") == "urlencoded":
            return Response(status, urlencode(body),
                            content_type="application/x-www-form-urlencoded")
        return Response.json(body, status)

    def revoke_endpoint(self, request: Request) -> Response:
        form = {**{k: v[0] for k, v in request.query.items()}, **request.form()}
        value = form.get("token") or ""
        if not (self.oauth.revoke_refresh_tokens(value) or self.oauth.revoke_access_token(value)):
            return Response.json({"error": "unsupported_token_type",
                                  "error_description": "this token type is not supported"},
                                 400)
        return Response(200, b"", content_type=None)

    def identity(self, request: Request) -> Response:
        user_id = request.params["user"]
        if request.params["org"] != self.org_id or user_id != request.state.get("user_id"):
            return Response(403, "Bad_Id", content_type="text/plain")
        user = self._load(self.objects["User"], user_id, allow_deleted=True)
        base = request.base_url
        return Response.json({
            "id": self._identity_url(request, user_id), "asserted_user": True,
            "user_id": user_id, "organization_id": self.org_id, "username": user["Username"],
            "nick_name": user["Alias"], "display_name": user["Name"], "email": user["Email"],
            "email_verified": True, "first_name": user["FirstName"],
            "last_name": user["LastName"], "timezone": user["TimeZoneSidKey"],
            "active": user["IsActive"], "user_type": "STANDARD", "language": "en_US",
            "locale": "en_US", "utcOffset": 0, "last_modified_date": user["LastModifiedDate"],
            "is_app_installed": True,
            "urls": {"rest": f"{base}/services/data/v{{version}}/",
                     "sobjects": f"{base}/services/data/v{{version}}/sobjects/",
                     "query": f"{base}/services/data/v{{version}}/query/",
                     "profile": f"{base}/{user_id}"},
        })
