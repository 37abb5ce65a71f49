"""Eight tenants syncing at once into one PostgreSQL, through eight `tenantsync run`
processes (each a `meltano run` with its tap and target): four Salesforce orgs and four
HubSpot portals whose record ids overlap (ids derive from the generated world), full syncs
creating the tables concurrently, then incremental syncs. No deadlock, no failure, and every
tenant's rows equal its own sandbox exactly."""

from __future__ import annotations

import sqlite3
import threading
from contextlib import ExitStack

import pytest

from tap_hubspot.sandbox import HubSpotSandbox
from tap_hubspot.sandbox.ratelimit import RateLimits
from tap_salesforce.sandbox import SalesforceSandbox
from tenantsync.controller.runner import SYSTEM_DIR
from tests.proof.harness import Tenant
from tests.proof.scenarios import concurrent_syncs

pytestmark = pytest.mark.slow


def test_eight_tenants_at_once_each_exact(deploy):
    with ExitStack() as stack:
        tenants = []
        for i in range(4):
            sb = stack.enter_context(SalesforceSandbox(records=1_500, seed=100 + i))
            tenants.append(Tenant(f"sf-customer-{i}", "salesforce", sb))
            hs = stack.enter_context(HubSpotSandbox(records=1_000, seed=200 + i,
                                                    rate_limits=RateLimits(burst=1_000_000)))
            tenants.append(Tenant(f"hs-customer-{i}", "hubspot", hs))
        d = deploy(tenants)
        report = concurrent_syncs(d, rounds=2)
        assert report.records > 8 * 600
        # the orgs share record ids, yet each tenant holds its own version of them
        shared = set.intersection(*({r[0] for r in d.rows(t, "Account")}
                                    for t in tenants if t.provider == "salesforce"))
        assert shared


def test_a_run_waits_out_a_busy_meltano_system_database(deploy):
    """Concurrent runs share Meltano's SQLite system database and heartbeat into it every
    second. One run holding its write lock for longer than SQLite's default 5 s wait (as
    happens with many tenants on a loaded machine) must delay the others, not fail them."""
    with SalesforceSandbox(records=600, seed=7) as sb:
        tenant = Tenant("busy-db", "salesforce", sb)
        d = deploy([tenant])
        released = threading.Event()

        def hold_lock(role: str, _pid: int) -> None:
            if role != "tap":
                return
            busy = sqlite3.connect(d.root / SYSTEM_DIR / "meltano.db", timeout=60,
                                   isolation_level=None, check_same_thread=False)
            busy.execute("BEGIN EXCLUSIVE")  # from the tap's start: every later write waits

            def release() -> None:
                busy.execute("ROLLBACK")
                busy.close()
                released.set()
            threading.Timer(8.0, release).start()

        outcome = d.run(tenant, on_start=hold_lock)
        assert released.is_set()
        assert outcome.code == 0, outcome.output[-3000:]
        assert not d.check_exact(tenant)
