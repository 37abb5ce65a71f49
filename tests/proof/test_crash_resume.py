"""Crash-resume through the whole pipeline, beyond what the conformance suite
(tests/conformance/test_resilience.py) checks for every provider: the controller's own
recovery from a SIGKILLed meltano."""

from __future__ import annotations

import pytest

from tap_salesforce.sandbox import SalesforceSandbox
from tests.proof.harness import Tenant

pytestmark = pytest.mark.slow


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
