"""The management API's magic links and webhook endpoints."""

from __future__ import annotations

import secrets
from datetime import timedelta
from typing import Literal

from fastapi import APIRouter, Response
from pydantic import Field
from sqlalchemy import select

from tenantsync.api import egress, shapes, webhooks
from tenantsync.api.errors import bad_request, not_found
from tenantsync.api.mgmt import Name, Strict, missing, row_by_id
from tenantsync.api.models import MagicLink, WebhookDelivery, WebhookEndpoint
from tenantsync.api.service import AppRegistry, Config, ServiceConfig
from tenantsync.controller import crypto
from tenantsync.controller.models import utcnow

router = APIRouter(prefix="/mgmt/v2", tags=["management"])


# --- magic links ----------------------------------------------------------------------------

class MagicLinkIn(Strict):
    customer_id: str = Name
    provider_name: str = Name
    return_url: str = Field(min_length=1, max_length=2048, pattern=r"^https?://[^\x00]+$")
    expiration_secs: int = Field(default=7 * 24 * 3600, ge=60, le=30 * 24 * 3600)
    replace: bool = False  # may replace the customer's existing connection


def magic_link_url(cfg: ServiceConfig, link_id: str) -> str:
    return f"{cfg.public_url}/links/{link_id}"


@router.post("/magic_links", status_code=201)
def create_magic_link(*, body: MagicLinkIn, reg: AppRegistry,
                      cfg: Config) -> dict:
    missing(reg.customer, body.customer_id)
    provider = missing(reg.provider, body.provider_name)
    if provider.auth_type != "oauth2":
        raise bad_request(f"provider {provider.name!r} uses {provider.auth_type}: import its "
                          "credentials with POST /customers/{customer_id}/connections")
    row = MagicLink(id=secrets.token_urlsafe(24), application_id=reg.app_id,
                    customer_id=body.customer_id, provider_name=body.provider_name,
                    return_url=body.return_url, status="new", replace=body.replace,
                    expires_at=utcnow() + timedelta(seconds=body.expiration_secs))
    reg.s.add(row)
    reg.s.commit()
    return shapes.magic_link(row, magic_link_url(cfg, row.id), provider.id)


@router.get("/magic_links")
def list_magic_links(*, reg: AppRegistry,
                     cfg: Config) -> list[dict]:
    rows = reg.s.scalars(select(MagicLink).where(MagicLink.application_id == reg.app_id)
                         .order_by(MagicLink.created_at))
    provider_ids = {p.name: p.id for p in reg.providers()}
    return [shapes.magic_link(r, magic_link_url(cfg, r.id), provider_ids.get(r.provider_name))
            for r in rows]


@router.delete("/magic_links/{link_id}", status_code=204)
def delete_magic_link(*, link_id: str, reg: AppRegistry) -> Response:
    row = reg.s.get(MagicLink, link_id)
    if row is None or row.application_id != reg.app_id:
        raise not_found(f"no magic link with id {link_id!r}")
    reg.s.delete(row)
    reg.s.commit()
    return Response(status_code=204)


# --- webhooks -------------------------------------------------------------------------------

class WebhookIn(Strict):
    url: str = Field(min_length=1, max_length=2048, pattern=r"^https?://[^\x00\s]+$")
    event_types: list[Literal[webhooks.EVENT_TYPES]] = Field(default_factory=list)  # type: ignore[valid-type]


def _webhook(row: WebhookEndpoint) -> dict:
    return {"id": str(row.id), "url": row.url, "event_types": row.event_types,
            "created_at": shapes.iso(row.created_at)}


@router.post("/webhooks", status_code=201)
def create_webhook(*, body: WebhookIn, reg: AppRegistry, cfg: Config) -> dict:
    try:
        egress.check(body.url, cfg.webhook_allowed_hosts)
    except egress.Refused as exc:
        raise bad_request(str(exc)) from None
    secret = webhooks.new_secret()
    reg.application()
    row = WebhookEndpoint(application_id=reg.app_id, url=body.url,
                          event_types=sorted(set(body.event_types)),
                          sealed_secret=crypto.seal({"secret": secret}))
    reg.s.add(row)
    reg.s.commit()
    return {**_webhook(row), "secret": secret}  # shown once: verify signatures with it


@router.get("/webhooks")
def list_webhooks(*, reg: AppRegistry) -> list[dict]:
    return [_webhook(r) for r in reg.s.scalars(
        select(WebhookEndpoint).where(WebhookEndpoint.application_id == reg.app_id)
        .order_by(WebhookEndpoint.id))]


@router.delete("/webhooks/{webhook_id}", status_code=204)
def delete_webhook(*, webhook_id: str, reg: AppRegistry) -> Response:
    row = row_by_id(reg.s, WebhookEndpoint, webhook_id)
    if row is None or row.application_id != reg.app_id:
        raise not_found(f"no webhook with id {webhook_id!r}")
    for delivery in reg.s.scalars(select(WebhookDelivery).where(
            WebhookDelivery.endpoint_id == row.id)):
        reg.s.delete(delivery)
    reg.s.delete(row)
    reg.s.commit()
    return Response(status_code=204)
