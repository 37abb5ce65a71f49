"""Webhooks (register, deliveries and their status, delete) and API keys (create: shown once;
revoke)."""

from __future__ import annotations

from fastapi import APIRouter
from sqlalchemy import select

from tenantsync.api import keys, link_routes, webhooks
from tenantsync.api.models import ApiKey, Event, WebhookDelivery, WebhookEndpoint
from tenantsync.portal.web import Action, Failed, Missing, Page, body, field, redirect

router = APIRouter()
DELIVERIES_SHOWN = 50


def _webhooks_page(ctx, status: int = 200, error: Failed | None = None, form=None,
                   secret: str | None = None):
    deliveries = ctx.s.execute(
        select(WebhookDelivery, Event.type, WebhookEndpoint.url)
        .join(Event, Event.id == WebhookDelivery.event_id)
        .join(WebhookEndpoint, WebhookEndpoint.id == WebhookDelivery.endpoint_id)
        .where(WebhookEndpoint.application_id == ctx.app_id)
        .order_by(WebhookDelivery.id.desc()).limit(DELIVERIES_SHOWN)).all()
    return ctx.render("webhooks.html", status, webhooks=ctx.call(link_routes.list_webhooks),
                      deliveries=deliveries, event_types=webhooks.EVENT_TYPES, error=error,
                      form=form or {}, secret=secret)


@router.get("/webhooks")
def webhooks_page(ctx: Page):
    return _webhooks_page(ctx)


@router.post("/webhooks")
def create_webhook(ctx: Action):
    chosen = ctx.form.get("event_types", [])
    doc = {"url": field(ctx, "url"),
           "event_types": [chosen] if isinstance(chosen, str) else chosen}
    try:
        made = ctx.call(link_routes.create_webhook, body=body(link_routes.WebhookIn, doc))
    except Failed as exc:
        return _webhooks_page(ctx, exc.status, exc, ctx.form)
    return _webhooks_page(ctx, secret=made["secret"])  # shown once, never again


@router.post("/webhooks/{webhook_id}/delete")
def delete_webhook(ctx: Action, webhook_id: str):
    ctx.call(link_routes.delete_webhook, webhook_id=webhook_id)
    return redirect("/portal/webhooks", "webhook deleted")


def _keys_page(ctx, new_key: str | None = None):
    rows = ctx.s.scalars(select(ApiKey).where(ApiKey.application_id == ctx.app_id)
                         .order_by(ApiKey.id))
    return ctx.render("api_keys.html", keys=list(rows), new_key=new_key)


@router.get("/api-keys")
def api_keys(ctx: Page):
    return _keys_page(ctx)


@router.post("/api-keys")
def create_api_key(ctx: Action):
    key = keys.create_key(ctx.s, ctx.app_id)
    ctx.s.commit()
    return _keys_page(ctx, new_key=key)  # the only time it is readable


@router.post("/api-keys/revoke")
def revoke_api_key(ctx: Action):
    prefix = field(ctx, "prefix")
    if not keys.revoke(ctx.s, prefix, ctx.app_id):
        raise Missing(f"no active API key {prefix!r}")
    ctx.s.commit()
    return redirect("/portal/api-keys", "API key revoked")
