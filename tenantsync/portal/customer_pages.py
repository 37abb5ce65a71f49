"""Customers (search, paging, create, delete), each customer's connections (connect through a
magic link, disconnect) and connection sync configs, through the API's route functions."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter
from sqlalchemy import func, or_, select

from tenantsync.api import link_routes, mgmt, shapes, sync_routes
from tenantsync.controller.models import Connection, Customer, Provider, Sync
from tenantsync.portal.web import (
    PAGE_SIZE,
    Action,
    Failed,
    Missing,
    Page,
    body,
    field,
    optional,
    redirect,
)

router = APIRouter()


def _customers_page(ctx, q: str, page: int, status: int = 200, error: Failed | None = None,
                    form=None):
    query = select(Customer).where(Customer.application_id == ctx.app_id)
    if q:
        like = f"%{q.replace('%', '').replace('_', '')}%"
        query = query.where(or_(Customer.customer_id.ilike(like), Customer.name.ilike(like),
                                Customer.email.ilike(like)))
    total = ctx.s.scalar(select(func.count()).select_from(query.subquery()))
    rows = list(ctx.s.scalars(query.order_by(Customer.customer_id)
                              .offset((page - 1) * PAGE_SIZE).limit(PAGE_SIZE)))
    counts = dict(ctx.s.execute(
        select(Connection.customer_pk, func.count()).where(
            Connection.customer_pk.in_([r.id for r in rows])).group_by(Connection.customer_pk)
    ).all()) if rows else {}
    return ctx.render("customers.html", status, q=q, page=page, total=total,
                      pages=max(1, -(-total // PAGE_SIZE)), error=error, form=form or {},
                      customers=[{**shapes.customer(r), "connections": counts.get(r.id, 0)}
                                 for r in rows])


@router.get("/customers")
def customers(ctx: Page, q: str = "", page: int = 1):
    return _customers_page(ctx, q.strip()[:256], max(1, page))


@router.post("/customers")
def create_customer(ctx: Action):
    doc = {"customer_id": field(ctx, "customer_id"), "name": optional(ctx, "name"),
           "email": optional(ctx, "email")}
    try:
        ctx.call(mgmt.upsert_customer, body=body(mgmt.CustomerIn, doc))
    except Failed as exc:
        return _customers_page(ctx, "", 1, exc.status, exc, ctx.form)
    return redirect("/portal/customer", "customer saved", id=doc["customer_id"])


def _customer_page(ctx, customer_id: str, status: int = 200, error: Failed | None = None,
                   link: dict | None = None):
    shape = ctx.call(mgmt.get_customer, customer_id=customer_id)
    syncs = dict(ctx.s.execute(ctx.reg.of_tenants(select(Provider.name, Sync.paused),
                                                  customer_id)).all())
    own = {c.provider.name: c.sync_config or {}
           for c in ctx.reg.customer(customer_id).connections}
    return ctx.render("customer.html", status, customer=shape, syncs=syncs, own=own,
                      providers=[p.name for p in ctx.reg.providers()
                                 if p.auth_type == "oauth2"],
                      error=error, link=link)


@router.get("/customer")
def customer(ctx: Page, id: str):
    return _customer_page(ctx, id)


@router.post("/customer/delete")
def delete_customer(ctx: Action):
    customer_id = field(ctx, "customer_id")
    try:
        ctx.call(mgmt.delete_customer, customer_id=customer_id)
    except Failed as exc:
        return _customer_page(ctx, customer_id, exc.status, exc)
    return redirect("/portal/customers", f"customer {customer_id} deleted")


@router.post("/customer/magic-link")
def magic_link(ctx: Action):
    """A magic link for this customer; the customer comes back to this page when done."""
    customer_id = field(ctx, "customer_id")
    return_url = f"{ctx.cfg.public_url}/portal/customer?{urlencode({'id': customer_id})}"
    doc = {"customer_id": customer_id, "provider_name": field(ctx, "provider_name"),
           "return_url": return_url}
    try:
        link = ctx.call(link_routes.create_magic_link,
                        body=body(link_routes.MagicLinkIn, doc))
    except Failed as exc:
        return _customer_page(ctx, customer_id, exc.status, exc)
    return _customer_page(ctx, customer_id, link=link)


@router.post("/customer/disconnect")
def disconnect(ctx: Action):
    customer_id, provider = field(ctx, "customer_id"), field(ctx, "provider_name")
    ctx.call(mgmt.delete_connection, customer_id=customer_id, provider_name=provider)
    return redirect("/portal/customer", f"{provider} disconnected", id=customer_id)


def _connection_sync_config_doc(ctx) -> dict[str, Any]:
    doc: dict[str, Any] = {}
    if schema := optional(ctx, "schema"):
        doc["destination_config"] = {"type": "postgres", "schema": schema}
    for kind in ("standard", "custom"):
        names = field(ctx, f"{kind}_objects").replace(",", " ").split()
        if names:
            doc[f"{kind}_objects"] = [{"object": n} for n in names]
    return doc


@router.post("/customer/connection-sync-config")
def connection_sync_config(ctx: Action):
    customer_id, provider = field(ctx, "customer_id"), field(ctx, "provider_name")
    ctx.call(mgmt.get_connection, customer_id=customer_id, provider_name=provider)
    doc = _connection_sync_config_doc(ctx)
    try:
        if doc:
            ctx.call(sync_routes.put_connection_sync_config, customer_id=customer_id,
                     provider_name=provider,
                     body=body(sync_routes.ConnectionSyncConfigIn, doc))
        else:
            ctx.call(sync_routes.delete_connection_sync_config, customer_id=customer_id,
                     provider_name=provider)
    except Missing:  # nothing to clear: it follows the sync config already
        return redirect("/portal/customer", "it follows the sync config", id=customer_id)
    except Failed as exc:
        return _customer_page(ctx, customer_id, exc.status, exc)
    return redirect("/portal/customer", "connection sync config saved", id=customer_id)
