"""Providers, destinations and sync configs: forms whose actions are the Management API's
route functions (tenantsync.api.mgmt, tenantsync.api.sync_routes)."""

from __future__ import annotations

from typing import Any, get_args

from fastapi import APIRouter

from tenantsync import providers as specs
from tenantsync.api import destination_check, mgmt, shapes, sync_routes
from tenantsync.portal.web import Action, Failed, Page, body, field, optional, redirect

router = APIRouter()
STRATEGIES = ("full then incremental", "full only", "full refresh")
OBJECT_KINDS = ("common", "standard", "custom")
# What the provider route accepts, read from its own request model.
CHOICES = {"categories": get_args(mgmt.ProviderIn.model_fields["category"].annotation),
           "auth_kinds": get_args(mgmt.ProviderIn.model_fields["auth_type"].annotation)}


# --- providers ------------------------------------------------------------------------------

def _settings(text: str) -> dict[str, str]:
    out = {}
    for n, line in enumerate(text.splitlines(), 1):
        if line.strip():
            key, sep, value = line.partition("=")
            if not sep or not key.strip():
                raise Failed(400, "please correct the fields marked below",
                             {"config.settings": f"line {n}: write key=value"})
            out[key.strip()] = value.strip()
    return out


def _provider_doc(ctx) -> dict[str, Any]:
    creds = {"oauth_client_id": optional(ctx, "client_id"),
             "oauth_client_secret": optional(ctx, "client_secret")}  # empty: keep stored one
    return {"name": field(ctx, "name"), "category": field(ctx, "category") or "crm",
            "auth_type": field(ctx, "auth_type") or "oauth2",
            "config": {"settings": _settings(field(ctx, "settings")),
                       "oauth": {"oauth_scopes": field(ctx, "scopes").replace(",", " ").split(),
                                 "credentials": {k: v for k, v in creds.items() if v}}}}


def _providers_page(ctx, status: int = 200, error: Failed | None = None, form=None):
    return ctx.render("providers.html", status, providers=[
        shapes.provider(p) for p in ctx.reg.providers()], known=specs.names(), **CHOICES,
        error=error, form=form or {})


@router.get("/providers")
def providers(ctx: Page):
    return _providers_page(ctx)


@router.post("/providers")
def create_provider(ctx: Action):
    try:
        ctx.call(mgmt.create_provider, body=body(mgmt.ProviderIn, _provider_doc(ctx)))
    except Failed as exc:
        return _providers_page(ctx, exc.status, exc, ctx.form)
    return redirect("/portal/providers", f"provider {field(ctx, 'name')} created")


@router.get("/providers/{provider_id}")
def provider(ctx: Page, provider_id: str):
    shape = ctx.call(mgmt.get_provider, provider_id=provider_id)
    return ctx.render("provider.html", provider=shape, error=None, **CHOICES)


@router.post("/providers/{provider_id}")
def update_provider(ctx: Action, provider_id: str):
    shape = ctx.call(mgmt.get_provider, provider_id=provider_id)
    try:
        ctx.call(mgmt.update_provider, provider_id=provider_id,
                 body=body(mgmt.ProviderIn, {**_provider_doc(ctx), "name": shape["name"]}))
    except Failed as exc:
        return ctx.render("provider.html", exc.status, provider=shape, error=exc,
                          **CHOICES)
    return redirect(f"/portal/providers/{provider_id}", "provider saved")


@router.post("/providers/{provider_id}/delete")
def delete_provider(ctx: Action, provider_id: str):
    try:
        ctx.call(mgmt.delete_provider, provider_id=provider_id)
    except Failed as exc:
        return redirect(f"/portal/providers/{provider_id}", exc.message)
    return redirect("/portal/providers", "provider deleted")


# --- destinations ---------------------------------------------------------------------------

POSTGRES_FIELDS = ("host", "port", "database", "schema", "user", "password", "ssl_mode")


def _destination_doc(ctx, name: str | None = None) -> dict[str, Any]:
    kind = field(ctx, "type") or "postgres"
    doc: dict[str, Any] = {"name": name or field(ctx, "name"), "type": kind}
    if kind == "postgres":
        doc["config"] = {k: optional(ctx, k) for k in POSTGRES_FIELDS if optional(ctx, k)}
    return doc


def _destinations_page(ctx, status: int = 200, error: Failed | None = None, form=None,
                       check: dict | None = None):
    return ctx.render("destinations.html", status, destinations=[
        shapes.destination(d) for d in ctx.reg.destinations()], error=error, form=form or {},
        check=check)


@router.get("/destinations")
def destinations(ctx: Page):
    return _destinations_page(ctx)


@router.post("/destinations")
def create_destination(ctx: Action):
    try:
        ctx.call(mgmt.create_destination, body=body(mgmt.DestinationIn, _destination_doc(ctx)))
    except Failed as exc:
        return _destinations_page(ctx, exc.status, exc, ctx.form)
    return redirect("/portal/destinations", f"destination {field(ctx, 'name')} created")


@router.post("/destinations/{destination_id}/test")
def check_destination(ctx: Action, destination_id: str):
    answer = ctx.call(destination_check.check_destination, destination_id=destination_id)
    return _destinations_page(ctx, check={"id": destination_id, "ok": answer["success"],
                                          "text": answer["message"]})


# --- sync configs ---------------------------------------------------------------------------

def _objects(ctx, kind: str) -> list[dict[str, Any]]:
    """`Object` per line, or `Object: strategy` to override the default strategy."""
    out = []
    for line in field(ctx, f"{kind}_objects").splitlines():
        name, _, strategy = (part.strip() for part in line.partition(":"))
        if name:
            item: dict[str, Any] = {"object": name}
            if strategy:
                item["sync_strategy_override"] = {"strategy": strategy}
            out.append(item)
    return out


def _sync_config_doc(ctx) -> dict[str, Any]:
    period = field(ctx, "period_minutes")
    default: dict[str, Any] = {"strategy": field(ctx, "strategy") or None}
    if period:
        default["period_ms"] = int(period) * 60_000 if period.isdigit() else period
    return {"name": optional(ctx, "name"), "provider_name": field(ctx, "provider_name"),
            "destination_name": field(ctx, "destination_name"),
            "config": {"default_config": {k: v for k, v in default.items() if v is not None},
                       **{f"{k}_objects": _objects(ctx, k) for k in OBJECT_KINDS}}}


def _form_of(shape: dict[str, Any]) -> dict[str, str]:
    """A sync config's shape as the form's fields."""
    default = shape["config"]["default_config"]
    lines = {k: "\n".join(o["object"] + (f": {o['sync_strategy_override']['strategy']}"
                                         if (o.get("sync_strategy_override") or {})
                                         .get("strategy") else "")
                          for o in shape["config"][f"{k}_objects"]) for k in OBJECT_KINDS}
    return {"id": shape["id"], "name": shape.get("name") or "",
            "provider_name": shape["provider_name"],
            "destination_name": shape["destination_name"],
            "strategy": default.get("strategy", ""),
            "period_minutes": str(default["period_ms"] // 60_000) if default.get("period_ms")
            else "", **{f"{k}_objects": v for k, v in lines.items()}}


def _sync_configs_page(ctx, status: int = 200, error: Failed | None = None, form=None):
    return ctx.render("sync_configs.html", status, configs=[
        shapes.sync_config(c) for c in ctx.reg.sync_configs()],
        providers=[p.name for p in ctx.reg.providers()],
        destinations=[d.name for d in ctx.reg.destinations()], strategies=STRATEGIES,
        error=error, form=form or {})


@router.get("/sync-configs")
def sync_configs(ctx: Page, edit: str | None = None):
    form = _form_of(ctx.call(sync_routes.get_sync_config, sync_config_id=edit)) if edit \
        else None
    return _sync_configs_page(ctx, form=form)


@router.post("/sync-configs")
def save_sync_config(ctx: Action):
    config_id = optional(ctx, "id")
    try:
        doc = body(sync_routes.SyncConfigIn, _sync_config_doc(ctx))
        if config_id:
            ctx.call(sync_routes.update_sync_config, sync_config_id=config_id, body=doc,
                     force_delete_syncs=False)
        else:
            ctx.call(sync_routes.create_sync_config, body=doc)
    except Failed as exc:
        return _sync_configs_page(ctx, exc.status, exc, ctx.form)
    return redirect("/portal/sync-configs", "sync config saved")


@router.post("/sync-configs/{sync_config_id}/delete")
def delete_sync_config(ctx: Action, sync_config_id: str):
    try:
        ctx.call(sync_routes.delete_sync_config, sync_config_id=sync_config_id,
                 force_delete_syncs=field(ctx, "force") == "yes")
    except Failed as exc:
        return redirect("/portal/sync-configs", exc.message)
    return redirect("/portal/sync-configs", "sync config deleted")
