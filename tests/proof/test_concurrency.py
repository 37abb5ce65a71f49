"""Eight tenants syncing at once into one PostgreSQL, through eight `tenantsync run`
processes (each a `meltano run` with its tap and target): four Salesforce orgs and four
HubSpot portals whose record ids overlap (ids derive from the generated world), full syncs
creating the tables concurrently, then incremental syncs. No deadlock, no failure, and every
tenant's rows equal its own sandbox exactly."""

from __future__ import annotations

from contextlib import ExitStack

import pytest

from tenantsync.sandbox.hubspot import HubSpotSandbox
from tenantsync.sandbox.hubspot.ratelimit import RateLimits
from tenantsync.sandbox.salesforce import SalesforceSandbox
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
