"""Crash-resume at scale: a Salesforce org (and a HubSpot portal) synced through `tenantsync
run` -> `meltano run` -> tap -> target-postgres, with meltano, the tap or the target
SIGKILLed at random points `--kills` times (changes made to the org between runs), then one
run that finishes. Prints the kills, the records the finishing run read vs the total, and
whether the destination equals the sandbox exactly (it raises if not).

    .venv/bin/python bench/crash_resume.py --records 300000 --kills 10
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
from tests.proof.scenarios import crash_resume


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--records", type=int, default=300_000,
                        help="world size (the synced objects hold about 64%% of it)")
    parser.add_argument("--kills", type=int, default=10)
    parser.add_argument("--providers", default=",".join(s.name for s in providers.with_twins()),
                        help="registered providers with a twin (default: all)")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    with embedded_pg.scratch("crash-resume-") as (tmp, uri):
        for provider in args.providers.split(","):
            began = time.monotonic()
            with providers.get(provider).twin.start("crash", records=args.records,
                                                    seed=args.seed) as sandbox:
                print(f"{provider}: world built in {time.monotonic() - began:.1f} s", flush=True)
                tenant = Tenant("acme", provider, sandbox)
                d = Deployment(tmp / provider, uri, f"crash_{uuid.uuid4().hex[:8]}", [tenant])
                report = crash_resume(d, tenant, kills=args.kills, seed=args.seed)
                d.drop()
            print(f"{provider}: {len(report.kills)} kills (role, rows awaited, exit code): "
                  f"{report.kills}")
            interrupted = sum(1 for k in report.kills if k[2] != 0)
            print(f"{provider}: {interrupted}/{len(report.kills)} kills interrupted a run; "
                  f"finished in {report.runs_to_finish} run(s); final run read "
                  f"{report.final_read:,} of {report.total:,} records "
                  f"({100 * report.final_read / report.total:.2f}%); "
                  f"{report.seconds:.0f} s in all; destination == sandbox: exact", flush=True)


if __name__ == "__main__":
    main()
