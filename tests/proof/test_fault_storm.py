"""A fault storm through the whole pipeline (`tenantsync run` -> `meltano run` -> tap ->
target-postgres): the sandbox answers 10% of API calls with 429 + Retry-After, 5% with 5xx,
resets connections, truncates bodies, fails the token endpoint now and then and kills every
access token after 40 calls. A full sync and an incremental one still leave the destination
exactly equal to the sandbox, and the tap never calls before a Retry-After elapsed or beyond
the portal's rate window. The large variant is bench/fault_storm.py."""

from __future__ import annotations

import pytest

from tap_hubspot.sandbox import HubSpotSandbox
from tap_salesforce.sandbox import SalesforceSandbox
from tests.proof.harness import Tenant
from tests.proof.scenarios import fault_storm

pytestmark = pytest.mark.slow
FAST_RETRIES = {"backoff_base_seconds": 0.1}  # Retry-After is still honoured as sent


def _check(report, kinds: int) -> None:
    assert report.runs == 2 and report.violations == 0
    assert report.injected["status 429"] > 0
    assert sum(1 for n in report.injected.values() if n) >= kinds, report.injected


def test_salesforce_sync_is_exact_under_a_fault_storm(deploy):
    # REST pages hold 2,000 records: a small org is few requests, so fewer kinds fire.
    with SalesforceSandbox(records=20_000, seed=8) as sb:
        tenant = Tenant("acme", "salesforce", sb)
        _check(fault_storm(deploy([tenant], tap_config=FAST_RETRIES), tenant), kinds=2)


def test_hubspot_sync_is_exact_under_a_fault_storm_within_free_portal_limits(deploy):
    with HubSpotSandbox(records=5_000, seed=8, enforce_rate_limit=True) as hs:
        tenant = Tenant("acme", "hubspot", hs)
        _check(fault_storm(deploy([tenant], tap_config=FAST_RETRIES), tenant), kinds=4)
