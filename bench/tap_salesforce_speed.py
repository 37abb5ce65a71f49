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
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import msgspec
import requests

from tap_salesforce.sandbox import SalesforceSandbox

# The tap's own peak RSS (VmHWM of its address space; getrusage would also count the pages
# of this big parent that the forked child shared before exec).
_RUN_TAP = """
import atexit, re, sys
def peak():
    status = open("/proc/self/status").read()
    sys.stderr.write("VmHWM " + re.search(r"VmHWM:\\s+(\\d+)", status).group(1) + "\\n")
atexit.register(peak)
from tap_salesforce.tap import TapSalesforce
TapSalesforce.cli()
"""


def run_tap(sb: SalesforceSandbox, workdir: Path, **settings) -> tuple[float, int, float, float]:
    """Wall seconds of one tap run, the calls it made, its CPU seconds and peak RSS in MB."""
    config = {"client_id": sb.client_id, "client_secret": sb.client_secret,
              "refresh_token": sb.mint_refresh_token(), "login_url": sb.base_url, **settings}
    path = workdir / "config.json"
    path.write_text(json.dumps(config))
    sb.accounting.reset()
    start = time.perf_counter()
    with open(os.devnull, "wb") as devnull, open(workdir / "stderr", "w+") as err:
        proc = subprocess.Popen([sys.executable, "-c", _RUN_TAP, "--config", str(path)],
                                stdout=devnull, stderr=err)
        _, status, usage = os.wait4(proc.pid, 0)
        seconds = time.perf_counter() - start
        err.seek(0)
        log = err.read()
    if status != 0:
        raise SystemExit(f"tap failed:\n{log[-2000:]}")
    peak_kb = int(re.findall(r"VmHWM (\d+)", log)[-1])
    return (seconds, sb.accounting.snapshot()["total_requests"],
            usage.ru_utime + usage.ru_stime, peak_kb / 1024)


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
