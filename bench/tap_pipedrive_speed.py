"""tap-pipedrive against its twin's serving limit: records/s and API calls per 10,000 records,
side by side in one run.

    .venv/bin/python bench/tap_pipedrive_speed.py --persons 200000 --changes 20000

The twin holds `--persons` persons (API v2, cursor paging, 500 per page: the maximum). Rows:
1. a bare client (one requests.Session, the JSON body decoded and nothing else) reading the
   same pages the tap's full sync reads (sorted by update_time), after one untimed warm-up
   pass: the twin's serving limit on this machine;
2. tap-pipedrive's full sync of the `persons` stream (custom fields resolved by name) in-process
   to a file, under a Professional plan's OAuth burst limit (320 requests / 2 s, enforced);
3. an incremental sync after `--changes` persons were updated.
Violations are the twin's own count (requests beyond the burst window); tokens are the daily
budget the run spent (Pipedrive charges a v2 list page 10 tokens).
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
from tap_pipedrive.sandbox import PipedriveSandbox
from tap_pipedrive.tap import TapPipedrive

PAGE = 500


def bare(sb: PipedriveSandbox) -> dict:
    """Every person through the v2 list, as plainly as a client can read it (msgspec decoding,
    as the tap's)."""
    session = requests.Session()
    session.headers["x-api-token"] = sb.mint_api_token()
    params = {"limit": PAGE, "sort_by": "update_time", "sort_direction": "asc"}
    records = calls = 0
    started = time.perf_counter()
    while True:
        body = msgspec.json.decode(session.get(f"{sb.base_url}/api/v2/persons", params=params,
                                               timeout=600).content)
        calls += 1
        records += len(body["data"] or [])
        cursor = body["additional_data"].get("next_cursor")
        if not cursor:
            break
        params["cursor"] = cursor
    seconds = time.perf_counter() - started
    return {"seconds": seconds, "records": records, "calls": calls}


def sync(config: dict, catalog: dict, state: dict | None) -> dict:
    """One in-process tap run writing to a file; its figures and last state."""
    tap = TapPipedrive(config=config, catalog=catalog, state=state)
    return {**run_to_file(tap), "calls": tap.client.requests_made}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--persons", type=int, default=200_000)
    parser.add_argument("--changes", type=int, default=20_000)
    args = parser.parse_args()

    started = time.perf_counter()
    rows = []
    with PipedriveSandbox(records=100, seed=1, counts={"contact": args.persons},
                          enforce_rate_limit=True, tls=False) as sb:
        print(f"twin with {args.persons} persons ready in {time.perf_counter() - started:.1f}s",
              flush=True)
        bare(sb)  # warm-up: the twin's store pages are cached for both contenders alike
        sb.accounting.reset()
        rows.append(("bare client, same pages (serving limit)", {
            **bare(sb), **_spent(sb)}))
        config = {"client_id": sb.client_id, "client_secret": sb.client_secret,
                  "refresh_token": sb.mint_refresh_token(), "oauth_url": sb.base_url,
                  "standard_objects": ["persons"]}
        catalog = TapPipedrive(config=config).catalog_dict
        sb.accounting.reset()
        full = sync(config, catalog, None)
        rows.append(("tap-pipedrive full", {**full, **_spent(sb)}))
        sb.advance_clock(60)
        ids = [doc["id"] for doc, _ in sb.all_records("persons")[:args.changes]]
        for rid in ids:
            sb.update("persons", str(rid), {"job_title": "Benchmarked"})
        sb.accounting.reset()
        incremental = sync(config, catalog, full["state"])
        rows.append((f"tap-pipedrive incremental, {len(ids):,} changed",
                     {**incremental, **_spent(sb)}))

    print()
    print("| run | records | seconds | records/s | API calls | calls per 10k records | "
          "tokens | violations |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    for label, r in rows:
        print(f"| {label} | {r['records']:,} | {r['seconds']:.1f} | "
              f"{r['records'] / r['seconds']:,.0f} | {r['calls']:,} | "
              f"{r['calls'] * 10_000 / max(r['records'], 1):.0f} | {r['tokens']:,} | "
              f"{r['violations']} |")


def _spent(sb: PipedriveSandbox) -> dict:
    snapshot = sb.accounting.snapshot()
    return {"tokens": snapshot["quota"]["used"], "violations": snapshot["rate_limit_violations"]}


if __name__ == "__main__":
    main()
