"""tap-dynamics against its twin's serving limit: records/s and requests per 10,000 records,
side by side in one run.

    .venv/bin/python bench/tap_dynamics_speed.py --accounts 100000 --changes 10000

The twin holds `--accounts` accounts (Dataverse Web API, `@odata.nextLink` paging, 5,000 per
page: the cap). Rows:
1. a bare client (one requests.Session, the JSON body decoded and nothing else) reading the
   same pages the tap's full sync reads (`$select`, `$orderby=modifiedon asc`), after one
   untimed warm-up pass: the twin's serving limit on this machine;
2. tap-dynamics' full sync of `accounts` in-process to a file (its change-tracking baseline
   included), under the service protection limit (6,000 requests / 300 s, enforced);
3. an incremental sync after `--changes` accounts were updated (the delta link).
Requests are the twin's own count (token requests included); violations its count of requests
beyond the service protection window.
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
from tap_dynamics.sandbox import DynamicsSandbox
from tap_dynamics.spec import SPEC
from tap_dynamics.tap import TapDynamics

PAGE = 5000


def bare(sb: DynamicsSandbox, select: str) -> dict:
    session = requests.Session()
    session.headers.update({"Authorization": f"Bearer {sb.oauth.mint_access_token()}",
                            "Prefer": f"odata.maxpagesize={PAGE}"})
    url, params = f"{sb.base_url}/api/data/v9.2/accounts", {
        "$select": select, "$orderby": "modifiedon asc"}
    records = 0
    started = time.perf_counter()
    while url:
        body = msgspec.json.decode(session.get(url, params=params, timeout=600).content)
        records += len(body["value"])
        url, params = body.get("@odata.nextLink"), None
    return {"seconds": time.perf_counter() - started, "records": records}


def sync(config: dict, catalog: dict, state: dict | None) -> dict:
    return run_to_file(TapDynamics(config=config, catalog=catalog, state=state))


def spent(sb: DynamicsSandbox) -> dict:
    snapshot = sb.accounting.snapshot()
    return {"requests": snapshot["total_requests"],
            "violations": snapshot["rate_limit_violations"]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--accounts", type=int, default=100_000)
    parser.add_argument("--changes", type=int, default=10_000)
    args = parser.parse_args()

    started = time.perf_counter()
    rows = []
    with DynamicsSandbox(records=100, seed=1, counts={"company": args.accounts},
                         enforce_rate_limit=True, tls=False) as sb:
        print(f"twin with {args.accounts} accounts ready in "
              f"{time.perf_counter() - started:.1f}s", flush=True)
        config = {**SPEC.twin.tap_config(sb), "standard_objects": ["accounts"],
                  "page_size": PAGE}
        catalog = TapDynamics(config=config).catalog_dict
        select = ",".join(catalog["streams"][0]["schema"]["properties"])
        select = ",".join(f for f in select.split(",") if not f.startswith("_s"))
        bare(sb, select)  # warm-up: the twin's store pages are cached for both alike
        sb.accounting.reset()
        rows.append(("bare client, same pages (serving limit)", {**bare(sb, select),
                                                                 **spent(sb)}))
        sb.accounting.reset()
        full = sync(config, catalog, None)
        rows.append(("tap-dynamics full", {**full, **spent(sb)}))
        sb.advance_clock(60)
        ids = [doc["accountid"] for doc, _ in sb.all_records("accounts")[:args.changes]]
        for rid in ids:
            sb.update("accounts", rid, {"name": "Benchmarked"})
        sb.accounting.reset()
        incremental = sync(config, catalog, full["state"])
        rows.append((f"tap-dynamics incremental (delta link), {len(ids):,} changed",
                     {**incremental, **spent(sb)}))

    print()
    print("| run | records | seconds | records/s | requests | requests per 10k records | "
          "violations |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for label, r in rows:
        print(f"| {label} | {r['records']:,} | {r['seconds']:.1f} | "
              f"{r['records'] / r['seconds']:,.0f} | {r['requests']:,} | "
              f"{r['requests'] * 10_000 / max(r['records'], 1):.1f} | {r['violations']} |")


if __name__ == "__main__":
    main()
