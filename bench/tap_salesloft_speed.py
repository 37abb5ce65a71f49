"""tap-salesloft against its twin's serving limit: records/s and API calls per 10,000 records,
side by side in one run.

    .venv/bin/python bench/tap_salesloft_speed.py --people 30000 --changes 3000

The twin holds `--people` people (page numbers, 100 per page: the maximum). Rows:
1. a bare client (one requests.Session, the JSON body decoded and nothing else) reading every
   page by number (`sort_by=updated_at`, ASC), after one untimed warm-up pass: the twin's
   serving limit on this machine, and what deep pages cost (the team's minute, in cost units);
2. tap-salesloft's full sync of `people` in-process to a file, under the team's limit (600 per
   minute, enforced): after page 100 it starts again from the last `updated_at`, so every
   request costs 1;
3. an incremental sync (`updated_at[gte]=<bookmark>`) after `--changes` people were updated.
Violations are the twin's own count (cost beyond the team's minute).
"""

from __future__ import annotations

import argparse
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))

import msgspec
import requests

from bench.tap_to_file import run_to_file
from tap_salesloft.sandbox import SalesloftSandbox
from tap_salesloft.tap import TapSalesloft
from tenantsync.sandbox.twinkit import Limits

PAGE = 100
UNPRICED = Limits(burst=10**9, window=60.0, per_token=False,
                  limit_header="x-ratelimit-limit-per-minute",
                  remaining_header="x-ratelimit-remaining-minute", reset_header=None)


def bare(sb: SalesloftSandbox) -> dict:
    """Every person, page by page, as plainly as a client can read them; the cost units the
    pages were priced at (deep pages cost more)."""
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {sb.mint_access_token()}"
    params = {"per_page": PAGE, "page": 1, "sort_by": "updated_at", "sort_direction": "ASC"}
    records = calls = cost = 0
    started = time.perf_counter()
    while True:
        response = session.get(f"{sb.base_url}/v2/people", params=params, timeout=600)
        body = msgspec.json.decode(response.content)
        calls += 1
        cost += int(response.headers["x-ratelimit-endpoint-cost"])
        records += len(body["data"])
        nxt = body["metadata"]["paging"]["next_page"]
        if not nxt:
            break
        params["page"] = nxt
    return {"seconds": time.perf_counter() - started, "records": records, "calls": calls,
            "cost": cost}


def sync(config: dict, state: dict | None = None) -> dict:
    tap = TapSalesloft(config=config, state=state)
    return {**run_to_file(tap), "calls": tap.client.requests_made}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=30_000)
    parser.add_argument("--changes", type=int, default=3_000)
    args = parser.parse_args()

    rows = []
    # the bare client reads deep pages: on an unpriced twin, or the minute would stop it
    with SalesloftSandbox(records=100, seed=1, counts={"contact": args.people}, tls=False,
                          limits=UNPRICED) as sb:
        bare(sb)
        sb.accounting.reset()
        rows.append(("bare client, page numbers (serving limit)", {**bare(sb), "violations": 0}))
    with SalesloftSandbox(records=100, seed=1, counts={"contact": args.people},
                          enforce_rate_limit=True, tls=False) as sb:
        _count_costs(sb)
        config = {"client_id": sb.client_id, "client_secret": sb.client_secret,
                  "refresh_token": sb.oauth.mint_refresh_token(sb.client_id),
                  "base_url": sb.base_url, "oauth_url": sb.base_url,
                  "standard_objects": ["people"]}
        full = sync(config)
        rows.append(("tap-salesloft full", {**full, **_spent(sb, full)}))
        sb.advance_clock(60)
        for doc, _ in sb.all_records("people")[:args.changes]:
            sb.update("people", str(doc["id"]), {"title": "Benchmarked"})
        sb.accounting.reset()
        sb.costs.clear()
        incremental = sync(config, full["state"])
        rows.append((f"tap-salesloft incremental, {args.changes:,} changed",
                     {**incremental, **_spent(sb, incremental)}))

    print()
    print("| run | records | seconds | records/s | API calls | calls per 10k records | "
          "cost units | violations |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    for label, r in rows:
        print(f"| {label} | {r['records']:,} | {r['seconds']:.1f} | "
              f"{r['records'] / r['seconds']:,.0f} | {r['calls']:,} | "
              f"{r['calls'] * 10_000 / max(r['records'], 1):.0f} | {r['cost']:,} | "
              f"{r['violations']} |")


def _spent(sb: SalesloftSandbox, run: dict) -> dict:
    cost = sum(sb.costs)
    sb.costs.clear()
    return {"cost": cost, "violations": sb.accounting.snapshot()["rate_limit_violations"]}


def _count_costs(sb: SalesloftSandbox) -> None:
    """Tally what the twin charges each API request (its `burst_cost`)."""
    sb.costs = []
    price = sb.burst_cost

    def counted(request):
        cost = price(request)
        sb.costs.append(cost)
        return cost
    sb.burst_cost = counted


if __name__ == "__main__":
    main()
