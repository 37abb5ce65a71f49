"""Crash-resume through the whole pipeline: `tenantsync run` -> `meltano run` -> tap ->
target-postgres, with meltano, the tap or the target SIGKILLed at random points of a full
sync (and changes made to the org between runs). The run that finally finishes leaves the
destination exactly equal to the sandbox, having read only what was not yet committed.
The large variant is bench/crash_resume.py."""

from __future__ import annotations

import pytest

from tap_hubspot.sandbox import HubSpotSandbox
from tap_hubspot.sandbox.ratelimit import RateLimits
from tap_salesforce.sandbox import SalesforceSandbox
from tests.proof.harness import Tenant
from tests.proof.scenarios import crash_resume

pytestmark = pytest.mark.slow


def _check(report) -> None:
    interrupted = [k for k in report.kills if k[2] != 0]
    assert len(interrupted) >= 2, report.kills  # the kills landed mid-sync
    assert report.runs_to_finish == 1
    # resumed, not restarted: the finishing run read a fraction of the org
    assert report.final_read < report.total / 2, report


def test_salesforce_sync_survives_three_sigkills(deploy):
    with SalesforceSandbox(records=40_000, seed=5) as sb:
        tenant = Tenant("acme", "salesforce", sb)
        _check(crash_resume(deploy([tenant]), tenant, kills=3, seed=1))


def test_hubspot_sync_survives_three_sigkills(deploy):
    with HubSpotSandbox(records=20_000, seed=5,
                        rate_limits=RateLimits(burst=1_000_000)) as hs:
        tenant = Tenant("acme", "hubspot", hs)
        _check(crash_resume(deploy([tenant]), tenant, kills=3, seed=2))


def test_a_killed_meltano_does_not_block_the_next_run(deploy):
    """Meltano leaves the job of a SIGKILLed `meltano run` RUNNING in its system database and
    refuses the state ID for 5 minutes; the controller, which knows no run of its own is in
    progress, runs the next one anyway."""
    with SalesforceSandbox(records=8_000, seed=6) as sb:
        tenant = Tenant("acme", "salesforce", sb)
        d = deploy([tenant])
        killed = d.run(tenant, kill_role="meltano", kill_when=lambda: d.row_count(tenant) > 0)
        assert (killed.killed, killed.code) == ("meltano", 1)
        after = d.run(tenant)
        assert after.code == 0, after.output[-2000:]
        assert d.check_exact(tenant) == []
