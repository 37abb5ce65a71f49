"""tap-gong against its twin's serving limit: records/s and API calls per 10,000 records, side
by side in one run.

    .venv/bin/python bench/tap_gong_speed.py --calls 10000 --changes 300

The twin holds `--calls` calls (100 a page, fixed by Gong). Rows:
1. a bare client (one requests.Session, msgspec decoding) reading the same `/v2/calls` pages
   without pacing, after one untimed warm-up pass, on a twin without limits: its serving limit;
2. tap-gong's full sync of each object in-process to a file, under Gong's 3 calls a second
   (enforced; the tap paces itself, Gong sends no rate headers);
3. an incremental sync of `call` after `--changes` new calls.
Violations are the twin's own count (requests beyond 3 a second).
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
from tap_gong.sandbox import GongSandbox
from tap_gong.tap import TapGong
from tenantsync.sandbox.twinkit import Limits

UNLIMITED = Limits(burst=10**9, window=1.0, daily_budget=None, limit_header=None,
                   remaining_header=None, reset_header=None)


def bare(sb: GongSandbox) -> dict:
    session = requests.Session()
    key, secret = sb.mint_access_key()
    session.auth = (key, secret)
    params: dict = {}
    records = calls = 0
    started = time.perf_counter()
    while True:
        body = msgspec.json.decode(session.get(f"{sb.base_url}/v2/calls", params=params,
                                               timeout=600).content)
        calls += 1
        records += len(body["calls"])
        cursor = body["records"].get("cursor")
        if not cursor:
            break
        params["cursor"] = cursor
    return {"seconds": time.perf_counter() - started, "records": records, "calls": calls}


def sync(sb: GongSandbox, objects: list[str], state: dict | None = None) -> dict:
    key, secret = sb.mint_access_key()
    tap = TapGong(config={"access_key": key, "access_key_secret": secret,
                          "api_base_url": sb.base_url, "standard_objects": objects},
                  state=state)
    sb.accounting.reset()
    out = run_to_file(tap)
    return {**out, "calls": tap.client.http.requests_made,
            "violations": sb.accounting.snapshot()["rate_limit_violations"]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=10_000)
    parser.add_argument("--changes", type=int, default=300)
    args = parser.parse_args()
    rows = []
    with GongSandbox(records=args.calls, seed=1, tls=False, limits=UNLIMITED) as sb:
        bare(sb)  # warm-up
        rows.append(("bare client, /v2/calls unpaced (serving limit)",
                     {**bare(sb), "violations": "-"}))
    with GongSandbox(records=args.calls, seed=1, tls=False, enforce_rate_limit=True) as sb:
        states = {}
        for obj in ("call", "detailedCall", "callTranscript"):
            result = sync(sb, [obj])
            states[obj] = result["state"]
            rows.append((f"tap-gong full, {obj} (3 calls/s)", result))
        sb.advance_clock(60)
        for step in range(args.changes):
            sb.create("call", {"title": f"Benchmarked {step}"})
        rows.append((f"tap-gong incremental, call, {args.changes} new",
                     sync(sb, ["call"], states["call"])))
    print()
    print("| run | records | seconds | records/s | API calls | calls per 10k records | "
          "violations |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for label, r in rows:
        print(f"| {label} | {r['records']:,} | {r['seconds']:.1f} | "
              f"{r['records'] / r['seconds']:,.0f} | {r['calls']:,} | "
              f"{r['calls'] * 10_000 / max(r['records'], 1):.0f} | {r['violations']} |")


if __name__ == "__main__":
    main()
