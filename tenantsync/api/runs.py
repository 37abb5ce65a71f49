"""Runs the service starts (`_trigger`) and what a finished run means for webhooks: every run
sends `sync.complete`; a run that failed because the provider refused the credentials
(tapkit's AuthError, `invalid_grant`) pauses its sync and sends `sync.paused`, as Supaglue's
auto-pause did (retrying a revoked grant every period only burns quota and fills logs)."""

from __future__ import annotations

import logging
import re
import threading

from tenantsync.api import webhooks
from tenantsync.api.service import ServiceConfig
from tenantsync.controller import db, runner
from tenantsync.controller.models import SyncRun
from tenantsync.controller.registry import Registry

log = logging.getLogger(__name__)
AUTH_FAILURE = re.compile(r"\bAuthError\b|invalid_grant|BAD_REFRESH_TOKEN|"
                          r"no longer authenticated", re.I)
_running: set[tuple[str, str, str]] = set()
_lock = threading.Lock()


def is_auth_failure(run: SyncRun) -> bool:
    return run.status == "FAILURE" and bool(AUTH_FAILURE.search(run.error or ""))


def after_run(reg: Registry, run: SyncRun) -> None:
    """Record the webhooks a finished run implies (and pause on revoked credentials)."""
    sync = run.sync
    conn = sync.connection
    base = {"connection_id": str(conn.id), "customer_id": conn.customer.customer_id,
            "provider_name": conn.provider.name, "sync_id": str(sync.id)}
    result = {"run_id": str(run.id), "result": "SUCCESS" if run.status == "SUCCESS" else "ERROR",
              "num_records_synced": run.num_records, "type": "connection"}
    if run.error:
        result["error_message"] = run.error
    webhooks.emit(reg.s, reg.app_id, "sync.complete", {**base, **result})
    if is_auth_failure(run) and not sync.paused:
        sync.paused = True
        webhooks.emit(reg.s, reg.app_id, "sync.paused", {
            **base, "type": "connection", "run_id": str(run.id),
            "pause_reason": "Connection no longer authenticated: the provider refused the "
                            "credentials; reconnect the customer, then resume the sync"})
    reg.s.commit()


def run_now(cfg: ServiceConfig, app_id: str, customer_id: str, provider: str,
            echo=log.info) -> SyncRun:
    """One sync through the controller's runner, then its webhooks."""
    with db.session(cfg.registry_url) as s:
        reg = Registry(s, app_id)
        run = runner.run_sync(reg, customer_id, provider, cfg.project, echo=echo)
        after_run(reg, run)
        if run.sync.paused:
            from tenantsync.api.service import rerender

            rerender(s, cfg)  # a paused sync's schedule becomes @manual
        return run


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
