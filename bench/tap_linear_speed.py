"""tap-linear against its GraphQL twin's serving limit: records/s, API calls and complexity
points per 10,000 records, side by side in one run.

    .venv/bin/python bench/tap_linear_speed.py --issues 50000 --changes 5000

The twin holds `--issues` issues. Rows:
1. a bare client (one requests.Session, the JSON body decoded and nothing else) posting the
   tap's own issues query (250 a page, Linear's largest) and following `endCursor`, after one
   untimed warm-up pass: the twin's serving limit on this machine (every query parsed,
   validated, costed and executed by graphql-core);
2. tap-linear's full sync of `issues` in-process to a file;
3. an incremental sync after `--changes` issues were updated.
The twin's hourly buckets are raised for the run (Linear's documented 250,000 complexity
points an hour would stop a large sync within minutes; the points column says how many an
account spends). Violations are the twin's own count.
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
from tap_linear.objects import PAGE_SIZE, query
from tap_linear.sandbox import LinearSandbox
from tap_linear.sandbox.limits import RateLimits
from tap_linear.tap import TapLinear

RAISED = RateLimits(requests=10**7, complexity=10**10)


def bare(sb: LinearSandbox) -> dict:
    """Every issue through the tap's query, as plainly as a client can read it."""
    session = requests.Session()
    session.headers["Authorization"] = sb.mint_api_key()
    body = {"query": query("issues"), "variables": {"first": PAGE_SIZE}}
    records = calls = 0
    started = time.perf_counter()
    while True:
        page = msgspec.json.decode(session.post(f"{sb.base_url}/graphql", json=body,
                                                timeout=600).content)["data"]["issues"]
        calls += 1
        records += len(page["nodes"])
        if not page["pageInfo"]["hasNextPage"]:
            break
        body["variables"]["after"] = page["pageInfo"]["endCursor"]
    return {"seconds": time.perf_counter() - started, "records": records, "calls": calls}


def sync(config: dict, catalog: dict, state: dict | None) -> dict:
    tap = TapLinear(config=config, catalog=catalog, state=state)
    return {**run_to_file(tap), "calls": tap.client.http.requests_made}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--issues", type=int, default=50_000)
    parser.add_argument("--changes", type=int, default=5_000)
    args = parser.parse_args()

    started = time.perf_counter()
    rows = []
    with LinearSandbox(records=100, seed=1, counts={"issue": args.issues}, tls=False,
                       rate_limits=RAISED, enforce_rate_limit=True) as sb:
        print(f"twin with {args.issues} issues ready in {time.perf_counter() - started:.1f}s",
              flush=True)
        bare(sb)  # warm-up: the store's pages are cached for both contenders alike
        sb.accounting.reset()
        rows.append(("bare client, same queries (serving limit)", {**bare(sb), **_spent(sb)}))
        config = {"api_key": sb.mint_api_key(), "base_url": sb.base_url,
                  "standard_objects": ["issues"]}
        catalog = TapLinear(config=config).catalog_dict
        sb.accounting.reset()
        full = sync(config, catalog, None)
        rows.append(("tap-linear full", {**full, **_spent(sb)}))
        sb.advance_clock(60)
        ids = [doc["id"] for doc, _ in sb.all_records("issues")[:args.changes]]
        for rid in ids:
            sb.update("issues", rid, {"title": "Benchmarked"})
        sb.accounting.reset()
        incremental = sync(config, catalog, full["state"])
        rows.append((f"tap-linear incremental, {len(ids):,} changed",
                     {**incremental, **_spent(sb)}))

    print()
    print("| run | records | seconds | records/s | API calls | calls per 10k records | "
          "complexity points | points per 10k records | violations |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for label, r in rows:
        per = 10_000 / max(r["records"], 1)
        print(f"| {label} | {r['records']:,} | {r['seconds']:.1f} | "
              f"{r['records'] / r['seconds']:,.0f} | {r['calls']:,} | {r['calls'] * per:.0f} | "
              f"{r['points']:,} | {r['points'] * per:,.0f} | {r['violations']} |")


def _spent(sb: LinearSandbox) -> dict:
    snapshot = sb.accounting.snapshot()
    return {"points": snapshot["quota"]["used"],
            "violations": snapshot["rate_limit_violations"]}


if __name__ == "__main__":
    main()
