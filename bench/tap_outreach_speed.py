"""tap-outreach against its twin's serving limit: records/s and API calls per 10,000 records,
side by side in one run.

    .venv/bin/python bench/tap_outreach_speed.py --prospects 50000 --changes 5000

The twin holds `--prospects` prospects (JSON:API, `page[after]` cursors in `links.next`).
Rows:
1. a bare client (one requests.Session, the JSON body decoded and nothing else) reading the
   same pages the tap's full sync reads (`sort=updatedAt`, the tap's page size), after one
   untimed warm-up pass: the twin's serving limit on this machine;
2. tap-outreach's full sync of the `prospects` stream in-process to a file (flat records),
   under Outreach's hourly limit (10,000 requests per hour per user, enforced);
3. the same full sync at page[size]=1000 (Outreach's maximum, Supaglue's size);
4. an incremental sync (`filter[updatedAt]=<bookmark>..inf`) after `--changes` prospects were
   updated.
Violations are the twin's own count (requests beyond the hourly window).
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
from tap_outreach.objects import MAX_PAGE_SIZE, PAGE_SIZE
from tap_outreach.sandbox import OutreachSandbox
from tap_outreach.tap import TapOutreach


def bare(sb: OutreachSandbox) -> dict:
    """Every prospect through the list, following links.next as plainly as a client can."""
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {sb.mint_access_token()}"
    url: str | None = f"{sb.base_url}/api/v2/prospects?page%5Bsize%5D={PAGE_SIZE}" \
        "&count=false&sort=updatedAt"
    records = calls = 0
    started = time.perf_counter()
    while url:
        body = msgspec.json.decode(session.get(url, timeout=600).content)
        calls += 1
        records += len(body["data"])
        url = body["links"].get("next")
    return {"seconds": time.perf_counter() - started, "records": records, "calls": calls}


def sync(config: dict, state: dict | None = None) -> dict:
    """One in-process tap run writing to a file; its figures and last state."""
    tap = TapOutreach(config=config, state=state)
    return {**run_to_file(tap), "calls": tap.client.requests_made}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--prospects", type=int, default=50_000)
    parser.add_argument("--changes", type=int, default=5_000)
    args = parser.parse_args()

    started = time.perf_counter()
    rows = []
    with OutreachSandbox(records=100, seed=1, counts={"contact": args.prospects},
                         enforce_rate_limit=True, tls=False) as sb:
        print(f"twin with {args.prospects} prospects ready in "
              f"{time.perf_counter() - started:.1f}s", flush=True)
        bare(sb)  # warm-up: the twin's store pages are cached for both contenders alike
        sb.accounting.reset()
        rows.append(("bare client, same pages (serving limit)", {**bare(sb), **_spent(sb)}))
        config = {"client_id": sb.client_id, "client_secret": sb.client_secret,
                  "refresh_token": sb.oauth.mint_refresh_token(sb.client_id),
                  "base_url": sb.base_url, "standard_objects": ["prospects"]}
        for size in (PAGE_SIZE, MAX_PAGE_SIZE):
            sb.accounting.reset()
            full = sync({**config, "page_size": size})
            rows.append((f"tap-outreach full, page[size]={size}", {**full, **_spent(sb)}))
        sb.advance_clock(60)
        for doc, _ in sb.all_records("prospects")[:args.changes]:
            sb.update("prospects", str(doc["id"]), {"title": "Benchmarked"})
        sb.accounting.reset()
        incremental = sync({**config, "page_size": MAX_PAGE_SIZE}, full["state"])
        rows.append((f"tap-outreach incremental, {args.changes:,} changed",
                     {**incremental, **_spent(sb)}))

    print()
    print("| run | records | seconds | records/s | API calls | calls per 10k records | "
          "violations |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for label, r in rows:
        print(f"| {label} | {r['records']:,} | {r['seconds']:.1f} | "
              f"{r['records'] / r['seconds']:,.0f} | {r['calls']:,} | "
              f"{r['calls'] * 10_000 / max(r['records'], 1):.0f} | {r['violations']} |")


def _spent(sb: OutreachSandbox) -> dict:
    return {"violations": sb.accounting.snapshot()["rate_limit_violations"]}


if __name__ == "__main__":
    main()
