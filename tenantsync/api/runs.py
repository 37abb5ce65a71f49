"""What a finished run means for webhooks (the controller runner's finish hook, for runs the
CLI and the service's `_trigger` start), and background runs for `_trigger`: every run sends
`sync.complete`; a run that failed because the provider refused the credentials
(tapkit's AuthError, `invalid_grant`) pauses its sync and sends `sync.paused`, as Supaglue's
auto-pause did (retrying a revoked grant every period only burns quota and fills logs)."""

from __future__ import annotations

import logging
import re
import threading
from pathlib import Path
from typing import TYPE_CHECKING

from tenantsync.api import shapes, webhooks
from tenantsync.controller import db, render, runner
from tenantsync.controller.models import SyncRun
from tenantsync.controller.registry import Registry

if TYPE_CHECKING:
    from tenantsync.api.service import ServiceConfig

log = logging.getLogger(__name__)
AUTH_FAILURE = re.compile(r"\bAuthError\b|invalid_grant|BAD_REFRESH_TOKEN|"
                          r"no longer authenticated", re.I)
_running: set[tuple[str, str, str]] = set()
_served: set[str] = set()  # registry URLs a service in this process manages
_lock = threading.Lock()


def is_auth_failure(run: SyncRun) -> bool:
    return run.status == "FAILURE" and bool(AUTH_FAILURE.search(run.error or ""))


def after_run(reg: Registry, run: SyncRun, project: Path | None = None) -> None:
    """The runner's finish hook: record the webhooks a finished run implies, pause the sync on
    revoked credentials (and re-render: a paused sync's schedule becomes @manual). A failure
    here is logged, never turned into a failed sync. Only runs of a registry that a service
    in this process serves are concerned (the hook is process-wide)."""
    if _url(reg) not in _served:
        return
    try:
        sync = run.sync
        conn = sync.connection
        base = {"connection_id": str(conn.id), "customer_id": conn.customer.customer_id,
                "provider_name": conn.provider.name, "sync_id": str(sync.id)}
        result = {"run_id": str(run.id),
                  "result": "SUCCESS" if run.status == "SUCCESS" else "ERROR",
                  **({"error_message": run.error} if run.error else {})}
        # one per object the run read, as Supaglue's per-object syncs finished
        for index, item in enumerate(shapes.run_items(run)):
            webhooks.emit(reg.s, reg.app_id, "sync.complete", {
                **base, **result, "type": "object",
                "sync_id": shapes.object_sync_id(sync.id, item["object_type"], item["object"]),
                "history_id": f"{run.id}:{index}", "object_type": item["object_type"],
                "object": item["object"], "num_records_synced": item.get("num_records")})
        pause = is_auth_failure(run) and not sync.paused
        if pause:
            sync.paused = True
            webhooks.emit(reg.s, reg.app_id, "sync.paused", {
                **base, "type": "connection", "run_id": str(run.id),
                "pause_reason": "Connection no longer authenticated: the provider refused the "
                                "credentials; reconnect the customer, then resume the sync"})
        reg.s.commit()
        if pause and project is not None:
            render.render(reg.s, project, [(reg.app_id, conn.customer.customer_id)])
    except Exception as exc:  # the run itself is recorded already
        reg.s.rollback()
        log.warning("run %s: webhooks not recorded: %s", run.id, exc)


def _url(reg: Registry) -> str:
    return reg.s.get_bind().url.render_as_string(hide_password=False)


def install(registry_url: str) -> None:
    """Hook `after_run` into the controller's runner (idempotent) for one registry: the runs
    this process starts on it send webhooks and pause on revoked credentials."""
    _served.add(db.engine(registry_url).url.render_as_string(hide_password=False))
    if after_run not in runner.ON_FINISH:
        runner.ON_FINISH.append(after_run)


def run_now(cfg: ServiceConfig, app_id: str, customer_id: str, provider: str,
            echo=log.info) -> SyncRun:
    """One sync through the controller's runner (whose finish hook sends the webhooks)."""
    install(cfg.registry_url)
    with db.session(cfg.registry_url) as s:
        return runner.run_sync(Registry(s, app_id), customer_id, provider, cfg.project,
                               echo=echo)


def start_in_background(cfg: ServiceConfig, app_id: str, customer_id: str,
                        provider: str) -> bool:
    """Start a run unless this sync already has one running here; True when started."""
    key = (app_id, customer_id, provider)
    with _lock:
        if key in _running:
            return False
        _running.add(key)

    def work() -> None:
        try:
            run_now(cfg, app_id, customer_id, provider)
        except Exception as exc:
            log.warning("triggered run of %s x %s failed to start: %s", customer_id, provider,
                        exc)
        finally:
            with _lock:
                _running.discard(key)

    threading.Thread(target=work, name=f"run-{customer_id}-{provider}", daemon=True).start()
    return True
