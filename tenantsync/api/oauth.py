"""Managed authentication: `/oauth/connect` -> the provider's consent page ->
`/oauth/callback` -> token exchange -> connection stored encrypted -> redirect to
`return_url` with the outcome. Magic links (`/links/{id}`) start the same flow once.

The `state` is signed, bound to application, customer, provider and return URL, expiring and
single-use (tenantsync.api.state). These routes take no API key (a browser follows them), but
a flow starts only from a connect session or magic link a key holder issued, or from
Supaglue's query form where the application turned it on (tenantsync.api.connect_sessions);
an existing connection is replaced only when the issuer asked for that.
"""

from __future__ import annotations

import html
from typing import Any
from urllib.parse import urlencode

import httpx
from fastapi import APIRouter, Query
from fastapi.responses import HTMLResponse, RedirectResponse
from sqlalchemy import select
from sqlalchemy.orm import Session

from tenantsync import providers
from tenantsync.api import state as signed_state
from tenantsync.api.connect_sessions import Grant, from_query, from_session
from tenantsync.api.errors import ApiError, bad_request, not_found
from tenantsync.api.mgmt import connection_created
from tenantsync.api.models import MagicLink
from tenantsync.api.service import Config, DbSession, ServiceConfig, rerender
from tenantsync.controller import crypto
from tenantsync.controller.credentials import keep_observed
from tenantsync.controller.models import Connection, Provider, utcnow
from tenantsync.controller.registry import Registry, RegistryError

router = APIRouter(tags=["managed authentication"])
TOKEN_TIMEOUT_SECONDS = 30.0


def _oauth_spec(name: str) -> providers.OAuth2 | None:
    """The provider's OAuth2 declaration (tenantsync.providers), None if it has none."""
    spec = providers.find(name)
    return spec.oauth if spec is not None else None


def _spec(provider: Provider) -> providers.OAuth2:
    if provider.auth_type != "oauth2":
        raise bad_request(f"provider {provider.name!r} uses {provider.auth_type}: create its "
                          "connection with POST /mgmt/v2/customers/{customer_id}/connections")
    spec = _oauth_spec(provider.name)
    if spec is None:
        available = [s.name for s in providers.all_specs() if s.oauth is not None]
        raise bad_request(f"managed OAuth is not available for provider {provider.name!r} "
                          f"(available: {', '.join(available)})")
    return spec


def _bases(provider: Provider, spec: providers.OAuth2,
           login_url: str | None) -> tuple[str, str]:
    """(authorize base, token base). A login URL must be one the provider declares (e.g.
    Salesforce's production or sandbox) or its configured one: a free URL would send the
    code to anyone's server."""
    configured = (provider.settings or {}).get(spec.base_setting)
    if login_url:
        allowed = {*spec.login_urls.values(), *([configured] if configured else [])}
        if not spec.login_urls or login_url.rstrip("/") not in allowed:
            raise bad_request(f"login_url {login_url!r} is not allowed (use "
                              f"{' or '.join(sorted(allowed))})")
        base = login_url.rstrip("/")
        return base, base
    if configured:
        return str(configured).rstrip("/"), str(configured).rstrip("/")
    return spec.base(spec.authorize_url), spec.base(spec.token_url)


def _client(provider: Provider) -> dict[str, str]:
    if not provider.sealed_credentials:
        raise bad_request(f"provider {provider.name!r} has no OAuth client credentials")
    return crypto.unseal(provider.sealed_credentials)


def _check_return_url(url: str) -> str:
    if not url.startswith(("https://", "http://")) or any(c in url for c in "\r\n\x00"):
        raise bad_request("return_url must be an absolute http(s) URL")
    return url


def authorize_redirect(s: Session, cfg: ServiceConfig, grant: Grant,
                       login_url: str | None = None, scope: str | None = None,
                       link_id: str | None = None) -> str:
    app_id, customer_id, provider_name = (grant.application_id, grant.customer_id,
                                          grant.provider_name)
    reg = Registry(s, app_id)
    try:
        reg.customer(customer_id)
        provider = reg.provider(provider_name)
    except RegistryError as exc:
        raise not_found(str(exc)) from None
    spec = _spec(provider)
    authorize_base, token_base = _bases(provider, spec, login_url)
    client = _client(provider)
    scopes = scope or " ".join(provider.scopes or spec.scopes)
    token = signed_state.sign({"app": app_id, "customer": customer_id,
                               "provider": provider_name, "return_url": grant.return_url,
                               "token_base": token_base, "link": link_id,
                               "replace": grant.replace},
                              cfg.state_ttl_seconds)
    query = {"response_type": "code", "client_id": client["client_id"],
             "redirect_uri": f"{cfg.public_url}/oauth/callback", "scope": scopes,
             "state": token}
    return f"{authorize_base}{spec.authorize_path}?{urlencode(query)}"


@router.get("/oauth/connect", response_class=RedirectResponse, status_code=302)
def connect(*, connect_session: str | None = Query(None, max_length=8192),
            application_id: str | None = Query(None, min_length=1, max_length=128),
            customer_id: str | None = Query(None, min_length=1, max_length=256),
            provider_name: str | None = Query(None, min_length=1, max_length=64),
            return_url: str | None = Query(None, min_length=1, max_length=2048),
            login_url: str | None = Query(None, max_length=2048),
            scope: str | None = Query(None, max_length=2048), s: DbSession, cfg: Config):
    """Send the customer's browser to the provider's consent page: with a connect session
    a key holder created, or Supaglue's query form where the application allows it."""
    if connect_session:
        grant = from_session(s, connect_session)
    else:
        grant = from_query(s, application_id, customer_id, provider_name,
                           return_url and _check_return_url(return_url))
    url = authorize_redirect(s, cfg, grant, login_url, scope)
    return RedirectResponse(url, status_code=302)


def _outcome(return_url: str, params: dict[str, str]) -> RedirectResponse:
    joiner = "&" if "?" in return_url else "?"
    return RedirectResponse(return_url + joiner + urlencode(params), status_code=302)


def exchange_code(spec: providers.OAuth2, token_url: str, client: dict[str, str], code: str,
                  redirect_uri: str) -> dict[str, Any]:
    """The token endpoint's answer, or ApiError naming what the provider said (no secret)."""
    grant = {"grant_type": "authorization_code", "code": code, "redirect_uri": redirect_uri}
    if spec.grant_in_query:  # the grant in the query, the client as HTTP Basic, no body
        request = {"params": {**grant, "client_id": client["client_id"]},
                   "auth": (client["client_id"], client.get("client_secret", ""))}
    else:
        request = {"data": {**grant, "client_id": client["client_id"],
                            "client_secret": client.get("client_secret", "")}}
    try:
        answer = httpx.post(token_url, timeout=TOKEN_TIMEOUT_SECONDS,
                            headers={"accept": "application/json"}, **request)
    except httpx.HTTPError as exc:
        raise ApiError(502, "Token exchange failed",
                       f"cannot reach the provider's token endpoint: {type(exc).__name__}"
                       ) from None
    try:
        body = answer.json()
    except ValueError:
        body = {}
    if not answer.is_success or not all(body.get(k) for k in spec.secrets):
        reason = body.get("error") or body.get("status") or f"HTTP {answer.status_code}"
        raise ApiError(502, "Token exchange failed", f"the provider refused the "
                       f"authorization code: {reason}")
    return body


@router.get("/oauth/callback", response_class=RedirectResponse, status_code=302)
def callback(*, state: str = Query(..., min_length=1, max_length=8192), code: str | None = None,
             error: str | None = None, error_description: str | None = None,
             s: DbSession, cfg: Config):
    """The provider sends the browser back here with a code; store the connection."""
    try:
        payload = signed_state.verify(state)
        signed_state.consume(s, payload)
        s.commit()
    except signed_state.StateError as exc:
        raise ApiError(400, "Invalid OAuth state", str(exc)) from None
    return_url, link_id = payload["return_url"], payload.get("link")
    base = {"customer_id": payload["customer"], "provider_name": payload["provider"]}
    reg = Registry(s, payload["app"])
    try:
        if error or not code:
            raise ApiError(400, "Authorization refused",
                           error or "the provider returned no authorization code")
        try:
            provider = reg.provider(payload["provider"])
            reg.customer(payload["customer"])
        except RegistryError as exc:
            raise not_found(str(exc)) from None
        spec = _spec(provider)
        existing = reg.s.scalar(select(Connection).where(
            Connection.customer_pk == reg.customer(payload["customer"]).id,
            Connection.provider_id == provider.id))
        if existing is not None and not payload.get("replace"):
            raise ApiError(409, "Connection exists", f"customer {payload['customer']!r} is "
                           f"already connected to {provider.name!r}; the application must "
                           "issue a link that replaces it")
        tokens = exchange_code(spec, payload["token_base"] + spec.token_path,
                               _client(provider), code, f"{cfg.public_url}/oauth/callback")
        doc = {"customer_id": payload["customer"], "provider_name": provider.name,
               "type": "oauth2", **{k: tokens[k] for k in spec.secrets},
               **spec.token_settings(tokens)}
        if spec.login_urls:  # where its tokens refresh
            doc[spec.base_setting] = payload["token_base"]
        conn = reg.upsert_connection(doc)
        keep_observed(conn, tokens=tokens)
        connection_created(reg, conn)
        _finish_link(s, link_id, "consumed")
        s.commit()
        rerender(s, cfg, [(reg.app_id, payload["customer"])])
    except ApiError as exc:
        s.rollback()
        _finish_link(s, link_id, "failed")
        s.commit()
        return _outcome(return_url, {**base, "result": "ERROR", "error": exc.title,
                                     "error_description": exc.detail})
    return _outcome(return_url, {**base, "result": "SUCCESS",
                                 "connection": "replaced" if existing else "created"})


# --- magic links ----------------------------------------------------------------------------

def _finish_link(s: Session, link_id: str | None, status: str) -> None:
    if link_id and (row := s.get(MagicLink, link_id)) is not None:
        row.status = status


_CHOOSE = """<!DOCTYPE html><html><head><meta charset="utf-8"><title>Connect {label}</title>
</head><body><h1>Connect your {label}</h1>
{choices}</body></html>"""
_CHOICE = '<p><a id="{name}" href="{base}?environment={name}">{title}</a></p>'


def _choose_page(provider_name: str, spec: providers.OAuth2, base: str) -> HTMLResponse:
    """Which of the provider's login URLs (environments) to connect through."""
    label = html.escape(providers.get(provider_name).label or provider_name)
    choices = "\n".join(_CHOICE.format(name=html.escape(n), base=html.escape(base),
                                       title=html.escape(n.title())) for n in spec.login_urls)
    return HTMLResponse(_CHOOSE.format(label=label, choices=choices))


@router.get("/links/{link_id}", response_model=None)
def magic_link(*, link_id: str, environment: str | None = None, s: DbSession,
               cfg: Config) -> HTMLResponse | RedirectResponse:
    """A magic link: single-use, expiring; starts the OAuth flow for its customer."""
    row = s.get(MagicLink, link_id)
    if row is None:
        raise not_found("no such link")
    if row.status != "new":
        raise ApiError(410, "Link already used", "this link was already used: ask for a new one")
    if row.expires_at < utcnow():
        raise ApiError(410, "Link expired", "this link has expired: ask for a new one")
    login_url = None
    spec = _oauth_spec(row.provider_name)
    if spec is not None and spec.login_urls:
        provider = Registry(s, row.application_id).provider(row.provider_name, missing_ok=True)
        configured = ((provider.settings or {}).get(spec.base_setting) if provider else None)
        if environment is None and not configured:
            return _choose_page(row.provider_name, spec, f"/links/{link_id}")
        if environment is not None:
            if environment not in spec.login_urls:
                raise bad_request("environment must be "
                                  + " or ".join(repr(n) for n in spec.login_urls))
            login_url = spec.login_urls[environment]
    grant = Grant(row.application_id, row.customer_id, row.provider_name, row.return_url,
                  row.replace)
    url = authorize_redirect(s, cfg, grant, login_url, link_id=row.id)
    row.status = "consumed"  # single use: the link cannot start a second flow
    s.commit()
    return RedirectResponse(url, status_code=302)
