"""tap-salesforce alone, output to /dev/null, against a sandbox org of N Accounts.

Runs the tap as its own process (tap_salesforce.tap's CLI) for: the Account stream
over REST `queryAll`, over Bulk API 2.0, and the `crm_accounts` common stream over REST; and,
as the ceiling, the same REST pages fetched and parsed by a bare client (no tap). Prints
records/s, API calls per 10,000 records (the sandbox's own request counters), the tap
process's CPU seconds (how much of the wall time is the tap's own work; the sandbox serves
from this process, on the same cores) and its peak RSS.

    .venv/bin/python bench/tap_salesforce_speed.py --accounts 200000
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))

import msgspec
import requests

from bench import tap_process
from tap_salesforce.sandbox import SalesforceSandbox


def run_tap(sb: SalesforceSandbox, workdir: Path, **settings) -> tuple[float, int, float, float]:
    """Wall seconds of one tap run, the calls it made, its CPU seconds and peak RSS in MB."""
    config = {"client_id": sb.client_id, "client_secret": sb.client_secret,
              "refresh_token": sb.mint_refresh_token(), "login_url": sb.base_url, **settings}
    sb.accounting.reset()
    run = tap_process.run_tap("tap_salesforce.tap:TapSalesforce", config, workdir)
    return (run["seconds"], sb.accounting.snapshot()["total_requests"], run["cpu"],
            run["peak_mb"])


def bare_client(sb: SalesforceSandbox, fields: list[str]) -> tuple[float, int]:
    """The same queryAll pages, fetched and parsed with nothing else: the ceiling."""
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {sb.mint_access_token()}"
    soql = f"SELECT {', '.join(fields)} FROM Account ORDER BY SystemModstamp ASC"
    sb.accounting.reset()
    start = time.perf_counter()
    body = msgspec.json.decode(session.get(f"{sb.base_url}/services/data/v61.0/queryAll",
                                           params={"q": soql}).content)
    while not body["done"]:
        body = msgspec.json.decode(session.get(sb.base_url + body["nextRecordsUrl"]).content)
    return time.perf_counter() - start, sb.accounting.snapshot()["total_requests"], None, None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--accounts", type=int, default=200_000)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    n = args.accounts

    start = time.perf_counter()
    with SalesforceSandbox(records=200, seed=args.seed, counts={"company": n}) as sb, \
            tempfile.TemporaryDirectory() as tmp:
        print(f"sandbox: {sb.count('Account', include_deleted=True):,} Accounts loaded in "
              f"{time.perf_counter() - start:.1f}s")
        fields = [f.name for f in sb.sobject("Account").fields
                  if f.type not in ("address", "location", "base64")]
        rows = [("bare client: queryAll pages, parsed, in-process (ceiling)",
                 *bare_client(sb, fields))]
        for label, settings in [
            ("tap: Account, REST queryAll", {"standard_objects": ["Account"],
                                             "api_type": "rest"}),
            ("tap: Account, Bulk API 2.0", {"standard_objects": ["Account"],
                                            "api_type": "bulk2"}),
            ("tap: crm_accounts (common), REST", {"common_objects": ["account"],
                                                  "api_type": "rest"}),
        ]:
            rows.append((label, *run_tap(sb, Path(tmp), **settings)))

    print(f"\n{n:,} Accounts ({len(fields)} fields each)\n")
    print("| run | seconds | records/s | API calls | calls / 10,000 records | tap CPU s | "
          "peak RSS MB |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for label, seconds, calls, cpu, peak in rows:
        print(f"| {label} | {seconds:.2f} | {n / seconds:,.0f} | {calls} | "
              f"{calls * 10_000 / n:.2f} | {'-' if cpu is None else f'{cpu:.2f}'} | "
              f"{'-' if peak is None else f'{peak:.0f}'} |")


if __name__ == "__main__":
    main()
