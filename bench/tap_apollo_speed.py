"""tap-apollo against its twin: records/s, API calls per 10,000 records, and each Apollo
endpoint's calls against its hourly quota, for a full sync at the demo's size and a larger one,
side by side in one run.

    .venv/bin/python bench/tap_apollo_speed.py --sizes 300 60000

Each size is the twin's world size (`records`: 28% contacts, 14% accounts, sequences,
mailboxes, memberships). The tap syncs, in-process to a file, every standard object and every
engagement common object (contacts are searched twice: as contacts and for the sequence states
inside them), on the Professional plan's limits, enforced: 200 / 400 / 2,000 calls per minute
/ hour / day per endpoint. "busiest endpoint" is the endpoint with the most calls in its hour
window (the twin's own count), against the 400 allowed; violations are the twin's count of
requests beyond any window.
"""

from __future__ import annotations

import argparse
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))

from bench.tap_to_file import run_to_file
from tap_apollo.common import COMMON_OBJECTS
from tap_apollo.objects import OBJECTS
from tap_apollo.sandbox import ApolloSandbox
from tap_apollo.tap import TapApollo


def full_sync(size: int) -> dict:
    with ApolloSandbox(records=size, seed=1, enforce_rate_limit=True, tls=False) as sb:
        config = {"api_key": sb.mint_api_key(), "base_url": sb.base_url,
                  "standard_objects": list(OBJECTS), "common_objects": list(COMMON_OBJECTS)}
        tap = TapApollo(config=config)
        result = run_to_file(tap)
        hourly = {endpoint: w["hour"] for endpoint, w in sb.windows.used().items()}
        busiest = max(hourly, key=hourly.get)
        return {**result, "calls": tap.client.requests_made, "busiest": busiest,
                "busiest_calls": hourly[busiest], "quota": sb.windows.limits["hour"],
                "violations": sb.accounting.snapshot()["rate_limit_violations"],
                "waits": tap.client.pacer.waits}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[300, 60_000])
    args = parser.parse_args()
    rows = [(size, full_sync(size)) for size in args.sizes]
    print()
    print("| world size | records | seconds | records/s | API calls | calls per 10k records | "
          "busiest endpoint: calls / hourly quota | minute waits | violations |")
    print("|---:|---:|---:|---:|---:|---:|---|---:|---:|")
    for size, r in rows:
        print(f"| {size:,} | {r['records']:,} | {r['seconds']:.1f} | "
              f"{r['records'] / r['seconds']:,.0f} | {r['calls']:,} | "
              f"{r['calls'] * 10_000 / max(r['records'], 1):.0f} | {r['busiest']}: "
              f"{r['busiest_calls']} / {r['quota']} | {r['waits']} | {r['violations']} |")


if __name__ == "__main__":
    main()
