"""One tenant's sync in a large registry: `tenantsync run` of one customer's Salesforce sync
when the registry holds N customers x 2 providers (every other connection a placeholder that
is never run), against the same sync in a one-customer registry. The run renders the whole
registry first and Meltano starts on the rendered project, so both grow with N.
(`bench/render_speed.py` times the render, `meltano schedule list` and run start-up alone.)

    .venv/bin/python bench/registry_scale.py --customers 1000
"""

from __future__ import annotations

import argparse
import sys
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tap_hubspot.sandbox import HubSpotSandbox
from tap_salesforce.sandbox import SalesforceSandbox
from tenantsync import embedded_pg
from tests.proof.harness import Deployment, Tenant


def add_customers(d: Deployment, count: int) -> None:
    """`count` more customers with a connection to both providers (never run)."""
    with d.registry() as reg:
        reg.apply({
            "customers": [{"customer_id": f"customer-{i:05d}"} for i in range(count)],
            "connections": [{"customer_id": f"customer-{i:05d}", "provider_name": p,
                             "type": "oauth2", "refresh_token": f"token-{i}-{p}",
                             **({"login_url": "https://login.invalid"} if p == "salesforce"
                                else {"base_url": "https://api.invalid"})}
                            for i in range(count) for p in ("salesforce", "hubspot")]})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--customers", type=int, default=1000)
    parser.add_argument("--records", type=int, default=2000, help="the synced org's world")
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    with embedded_pg.scratch("registry-scale-") as (tmp, uri), \
            SalesforceSandbox(records=args.records, seed=9) as sb, \
            HubSpotSandbox(records=100, seed=9) as hs:
        for customers in (1, args.customers):
            tenants = [Tenant("acme", "salesforce", sb), Tenant("acme", "hubspot", hs)]
            d = Deployment(tmp / f"project-{customers}", uri,
                           f"scale_{uuid.uuid4().hex[:8]}", tenants)
            if customers > 1:
                add_customers(d, customers - 1)
            times = []
            for i in range(args.runs):  # the first run is full, the later incremental
                sb.advance_clock(60)
                outcome = d.run(tenants[0])
                assert outcome.code == 0, outcome.output[-2000:]
                times.append((outcome.seconds, sum(outcome.records.values())))
                print(f"{customers:,} customer(s) x 2 providers, run {i + 1}: "
                      f"{outcome.seconds:.2f} s, {times[-1][1]:,} records", flush=True)
            d.drop()


if __name__ == "__main__":
    main()
