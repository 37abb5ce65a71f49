"""Fault storm at scale: a Salesforce org and a HubSpot portal (Free-portal rate limits,
enforced) synced through `tenantsync run` -> `meltano run` -> tap -> target-postgres while the
sandbox answers 10% of API calls with 429 + Retry-After and 5% with 5xx, resets connections,
truncates bodies, fails the token endpoint now and then and kills access tokens after 40
calls. A full sync, changes, an incremental sync; after each the destination must equal the
sandbox exactly (raises if not). Prints the faults that fired and the violations counted.

    .venv/bin/python bench/fault_storm.py --records 100000
"""

from __future__ import annotations

import argparse
import sys
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tenantsync import embedded_pg, providers
from tests.proof.harness import Deployment, Tenant
from tests.proof.scenarios import fault_storm


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--records", type=int, default=100_000, help="world size")
    parser.add_argument("--providers", default=",".join(s.name for s in providers.with_twins()),
                        help="registered providers with a twin (default: all)")
    parser.add_argument("--seed", type=int, default=3)
    args = parser.parse_args()
    with embedded_pg.scratch("fault-storm-") as (tmp, uri):
        for provider in args.providers.split(","):
            began = time.monotonic()
            with providers.get(provider).twin.start("storm", records=args.records,
                                                    seed=args.seed) as sandbox:
                print(f"{provider}: world built in {time.monotonic() - began:.1f} s", flush=True)
                tenant = Tenant("acme", provider, sandbox)
                d = Deployment(tmp / provider, uri, f"storm_{uuid.uuid4().hex[:8]}", [tenant])
                r = fault_storm(d, tenant)
                d.drop()
            print(f"{provider}: full + incremental, {r.records:,} records written of "
                  f"{r.total:,}, {r.requests:,} API requests, faults fired {r.injected}, "
                  f"rate-limit violations {r.violations}, {r.seconds:.0f} s; destination == "
                  "sandbox: exact after each run", flush=True)


if __name__ == "__main__":
    main()
