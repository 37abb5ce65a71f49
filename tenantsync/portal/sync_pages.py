"""The overview, syncs (pause, resume, trigger, full refresh) and sync runs (filters, each
run's error and Meltano log tail). Lists refresh themselves while runs progress (static/
portal.js re-fetches their fragment)."""

from __future__ import annotations

from datetime import date, timedelta

from fastapi import APIRouter
from sqlalchemy import func, select
from sqlalchemy.orm import joinedload

from tenantsync.api import shapes, sync_routes
from tenantsync.api.errors import ApiError
from tenantsync.controller import render, runner
from tenantsync.controller.models import Customer, Provider, Sync, SyncRun, utcnow
from tenantsync.controller.registry import paused_objects, sync_objects
from tenantsync.portal import chart
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
STATES = ("healthy", "failing", "running", "paused", "never run")
LOG_TAIL_LINES = 80
CHART_DAYS = 14
FAILURES_SHOWN = 10
# The chart sums every run of two weeks (2,000 hourly syncs: 670,000 runs): the days before
# today are computed at most once a minute per application and process, today's every time.
_chart_cache = chart.TtlCache(seconds=60)
RUN_STATUSES = ("SUCCESS", "FAILURE", "IN_PROGRESS")


def _latest_runs():
    """Each sync's newest run id."""
    return (select(SyncRun.sync_id, func.max(SyncRun.id).label("run_id"))
            .group_by(SyncRun.sync_id).subquery())


def _state(paused: bool, status: str | None) -> str:
    if paused:
        return "paused"
    return {"SUCCESS": "healthy", "FAILURE": "failing", "IN_PROGRESS": "running"}.get(
        status or "", "never run")


@router.get("/")
def overview(ctx: Page):
    latest = _latest_runs()
    counts = dict.fromkeys(STATES, 0)
    for paused, status, n in ctx.s.execute(
            ctx.reg.of_tenants(select(Sync.paused, SyncRun.status, func.count())
                               .select_from(Sync)
                               .outerjoin(latest, latest.c.sync_id == Sync.id)
                               .outerjoin(SyncRun, SyncRun.id == latest.c.run_id))
            .group_by(Sync.paused, SyncRun.status)):
        counts[_state(paused, status)] += n
    failures, _ = _runs(ctx, {"status": "FAILURE"}, 1, FAILURES_SHOWN, count=False)
    today = utcnow().date()
    since = today - timedelta(days=CHART_DAYS - 1)
    per_day = [*_chart_cache.get((ctx.cfg.registry_url, ctx.app_id, since),
                                 lambda: _records_per_day(ctx, since, today)),
               *_records_per_day(ctx, today, None)]
    return ctx.render("overview.html", counts=counts, failures=failures,
                      chart=chart.records_per_day(per_day, since, CHART_DAYS))


def _records_per_day(ctx, since: date, until: date | None) -> list[tuple]:
    """(day, records) of the runs started from `since` up to `until` (excluded)."""
    day = func.date(SyncRun.started_at)
    query = ctx.reg.of_tenants(select(day, func.sum(SyncRun.num_records))
                               .select_from(SyncRun).join(Sync, SyncRun.sync_id == Sync.id)
                               ).where(SyncRun.started_at >= since)
    if until is not None:
        query = query.where(SyncRun.started_at < until)
    return ctx.s.execute(query.group_by(day)).all()


def _sync_rows(ctx, customer: str, provider: str, page: int):
    latest = _latest_runs()
    query = ctx.reg.of_tenants(
        select(Sync, Customer.customer_id, Provider.name, SyncRun)
        .options(joinedload(Sync.sync_config), joinedload(Sync.connection))
        .outerjoin(latest, latest.c.sync_id == Sync.id)
        .outerjoin(SyncRun, SyncRun.id == latest.c.run_id), customer or None, provider or None)
    total = ctx.s.scalar(select(func.count()).select_from(
        ctx.reg.of_tenants(select(Sync.id), customer or None, provider or None).subquery()))
    rows = ctx.s.execute(query.order_by(Customer.customer_id, Provider.name)
                         .offset((page - 1) * PAGE_SIZE).limit(PAGE_SIZE)).all()
    return [{"id": sync.id, "customer_id": cid, "provider_name": prov, "run": run,
             "state": _state(sync.paused, run.status if run else None),
             "full_refresh_next": bool((sync.args_for_next_run or {})
                                       .get("perform_full_refresh")),
             "objects": _objects(sync)}
            for sync, cid, prov, run in rows], total


def _objects(sync: Sync) -> list[dict]:
    """Supaglue's per-object syncs of a connection's sync, each paused or not."""
    held = paused_objects(sync)
    return [{"type": kind, "object": name, "paused": sync.paused or name in held.get(kind, ())}
            for kind, names in sync_objects(sync).items() for name in names]


@router.get("/syncs")
def syncs(ctx: Page, customer: str = "", provider: str = "", page: int = 1,
          fragment: bool = False):
    rows, total = _sync_rows(ctx, customer.strip(), provider.strip(), max(1, page))
    return ctx.render("_sync_rows.html" if fragment else "syncs.html", syncs=rows,
                      total=total, page=max(1, page), pages=max(1, -(-total // PAGE_SIZE)),
                      customer=customer, provider=provider,
                      providers=[p.name for p in ctx.reg.providers()])


ACTIONS = {"pause": sync_routes.pause_sync, "resume": sync_routes.resume_sync,
           "trigger": sync_routes.trigger_sync, "full-refresh": sync_routes.trigger_sync}


@router.post("/syncs/{action}")
def sync_action(ctx: Action, action: str):
    route = ACTIONS.get(action)
    if route is None:
        raise Missing(f"no sync action {action!r}")
    customer_id, provider = field(ctx, "customer_id"), field(ctx, "provider_name")
    # an object's own button names it as "<object type>:<object>"
    kind, _, name = (optional(ctx, "object_ref") or "").partition(":")
    one = {"object_type": kind, "object": name} if name else {}
    back = {"customer": field(ctx, "back_customer"), "provider": field(ctx, "back_provider")}
    try:  # without an object the action is the whole connection's
        action_body = body(sync_routes.SyncActionIn,
                           {**one, "perform_full_refresh": action == "full-refresh"})
        ctx.call(route, body=action_body, customer_id=customer_id, provider_name=provider)
    except Failed as exc:
        return redirect("/portal/syncs", exc.message, **back)
    what = f"{one['object']} of " if "object" in one else ""
    return redirect("/portal/syncs", f"{what}{customer_id} x {provider}: {action} done", **back)


def _runs(ctx, filters: dict[str, str], page: int, size: int = PAGE_SIZE, *,
          count: bool = True):
    """A page of the application's connection runs, newest first, and how many match
    (None unless `count`)."""
    query = ctx.reg.of_tenants(
        select(SyncRun, Customer.customer_id, Provider.name)
        .join(Sync, SyncRun.sync_id == Sync.id),
        filters.get("customer") or None, filters.get("provider") or None)
    if filters.get("status"):
        if filters["status"] not in RUN_STATUSES:
            raise Failed(400, f"status must be one of {', '.join(RUN_STATUSES)}; "
                              f"got {filters['status']!r}")
        query = query.where(SyncRun.status == filters["status"])
    for key, name, op in (("since", "start_timestamp", "__ge__"),
                          ("until", "end_timestamp", "__le__")):
        if (bound := shapes.parse_timestamp(filters.get(key) or None, name)) is not None:
            query = query.where(getattr(SyncRun.started_at, op)(bound))
    total = ctx.s.scalar(select(func.count()).select_from(
        query.with_only_columns(SyncRun.id).subquery())) if count else None
    rows = ctx.s.execute(query.order_by(SyncRun.id.desc())
                         .offset((page - 1) * size).limit(size)).all()
    return [_run(run, cid, prov) for run, cid, prov in rows], total


def _run(row: SyncRun, customer_id: str, provider: str) -> dict:
    return {"id": row.id, "customer_id": customer_id, "provider_name": provider,
            "status": row.status, "strategy": row.strategy, "started_at": row.started_at,
            "ended_at": row.ended_at, "num_records": row.num_records, "error": row.error,
            "records": row.records or {}, "objects": row.objects or []}


@router.get("/runs")
def runs(ctx: Page, customer: str = "", provider: str = "", status: str = "",
         since: str = "", until: str = "", page: int = 1, fragment: bool = False):
    filters = {"customer": customer.strip(), "provider": provider.strip(), "status": status,
               "since": since.strip(), "until": until.strip()}
    page = max(1, page)
    error = None
    try:
        try:
            found, total = _runs(ctx, filters, page)
        except ApiError as exc:  # a timestamp the API's parser refused
            raise Failed(exc.status, exc.detail) from None
    except Failed as exc:
        found, total, error = [], 0, exc
    return ctx.render("_run_rows.html" if fragment else "runs.html", 400 if error else 200,
                      runs=found, total=total, page=page,
                      pages=max(1, -(-total // PAGE_SIZE)), filters=filters, error=error,
                      providers=[p.name for p in ctx.reg.providers()])


@router.get("/runs/{run_id}")
def run(ctx: Page, run_id: str):
    found = ctx.s.execute(ctx.reg.of_tenants(
        select(SyncRun, Customer.customer_id, Provider.name)
        .join(Sync, SyncRun.sync_id == Sync.id)).where(
        SyncRun.id == (int(run_id) if run_id.isdigit() and len(run_id) < 18 else -1))).first()
    if found is None:
        raise Missing(f"no sync run with id {run_id!r}")
    row = found[0]
    (view,) = ctx.reg.sync_views(row.sync_id)
    log = runner.run_log(ctx.cfg.project, render.sync_name(view), row.id)
    tail = log.read_text(errors="replace").splitlines()[-LOG_TAIL_LINES:] \
        if log.exists() else []
    return ctx.render("run.html", run=_run(*found), log_tail=tail)
