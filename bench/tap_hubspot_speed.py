"""tap-hubspot alone against the HubSpot sandbox: records/s and API calls per 10,000 records,
full versus incremental.

    .venv/bin/python bench/tap_hubspot_speed.py --contacts 200000 --changes 20000

The sandbox holds `--contacts` contacts (each associated with companies, as generated). The
tap syncs the raw `contact` stream (every property, company associations) to a file:
1. a full sync under a Free portal's limits (100 requests / 10 s, search 5/s), as a customer's
   first run would;
2. the same full sync with the burst limit raised out of the way (the tap learns the limit from
   X-HubSpot-RateLimit-Max), to show what the tap itself costs;
3. an incremental sync after `--changes` contacts were updated (search API, paced to 4/s).
Rate-limit violations are the sandbox's own count (requests beyond a window).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))

from bench.tap_to_file import run_to_file
from tap_hubspot.sandbox import HubSpotSandbox
from tap_hubspot.sandbox.ratelimit import RateLimits
from tap_hubspot.tap import TapHubSpot


def sync(config: dict, catalog: dict, state: dict | None) -> dict:
    """One in-process tap run writing to a file; its figures and last state."""
    tap = TapHubSpot(config=config, catalog=catalog, state=state)
    run = run_to_file(tap)
    calls = tap.client.requests_made
    return {**run, "calls": calls, "records_per_s": run["records"] / run["seconds"],
            "calls_per_10k": calls * 10_000 / max(run["records"], 1),
            "paced_s": tap.client.pacer.waited}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--contacts", type=int, default=200_000)
    parser.add_argument("--changes", type=int, default=20_000)
    args = parser.parse_args()

    rows = []
    for label, limits in (("full, Free-portal limits", RateLimits()),
                          ("full, burst limit out of the way", RateLimits(burst=1_000_000))):
        started = time.perf_counter()
        with HubSpotSandbox(records=100, seed=1, counts={"contact": args.contacts},
                            rate_limits=limits) as hs:
            print(f"sandbox with {args.contacts} contacts ready in "
                  f"{time.perf_counter() - started:.1f}s", flush=True)
            config = {"client_id": hs.client_id, "client_secret": hs.client_secret,
                      "refresh_token": hs.mint_refresh_token(), "base_url": hs.base_url,
                      "standard_objects": ["contact"]}
            catalog = TapHubSpot(config=config).catalog_dict
            hs.accounting.reset()
            full = sync(config, catalog, None)
            full["violations"] = hs.accounting.snapshot()["rate_limit_violations"]
            rows.append((label, full))
            print(label, {k: v for k, v in full.items() if k != "state"}, flush=True)
            if limits.burst == RateLimits().burst:
                continue
            hs.advance_clock(60)
            ids = [d["id"] for d in (json.loads(x) for x in hs.portal.page(
                hs.portal.resolve("contacts"), 0, args.changes, False)[0])]
            for rid in ids:
                hs.update("contacts", rid, {"jobtitle": "Benchmarked"})
            hs.accounting.reset()
            incremental = sync({**config, "lookback_seconds": 0}, catalog, full["state"])
            incremental["violations"] = hs.accounting.snapshot()["rate_limit_violations"]
            label = f"incremental, {len(ids)} changed"
            rows.append((label, incremental))
            print(label, {k: v for k, v in incremental.items() if k != "state"}, flush=True)

    print()
    print("| run | records | seconds | records/s | API calls | calls per 10k records | "
          "paced s | violations |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    for label, r in rows:
        print(f"| {label} | {r['records']:,} | {r['seconds']:.1f} | {r['records_per_s']:,.0f} | "
              f"{r['calls']:,} | {r['calls_per_10k']:.0f} | {r['paced_s']:.1f} | "
              f"{r['violations']} |")


if __name__ == "__main__":
    main()
