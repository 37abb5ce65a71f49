"""tap-intercom against its twin's serving limit: records/s and API calls per 10,000 records,
side by side in one run.

    .venv/bin/python bench/tap_intercom_speed.py --contacts 50000 --changes 2000

The twin holds `--contacts` contacts (and companies, conversations from the same world). Rows:
1. a bare client (one requests.Session, msgspec decoding) reading the same contact search
   pages (150 a page, sorted by updated_at), after one untimed warm-up pass: the twin's
   serving limit on this machine;
2. tap-intercom's full sync of contacts (search), conversations (search) and companies
   (scroll, 50 a page) in-process to a file, paced by the X-RateLimit headers;
3. an incremental sync of contacts after `--changes` contacts were updated.
Violations are the twin's own count (requests beyond the 10-second window).
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
from tap_intercom.objects import SORTED
from tap_intercom.sandbox import IntercomSandbox
from tap_intercom.tap import TapIntercom


def bare(sb: IntercomSandbox) -> dict:
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {sb.mint_token()}"
    body = {**SORTED, "pagination": {"per_page": 150}}
    records = calls = 0
    started = time.perf_counter()
    while True:
        page = msgspec.json.decode(session.post(f"{sb.base_url}/contacts/search", json=body,
                                                timeout=600).content)
        calls += 1
        records += len(page["data"])
        following = (page["pages"].get("next") or {}).get("starting_after")
        if not following:
            break
        body["pagination"]["starting_after"] = following
    return {"seconds": time.perf_counter() - started, "records": records, "calls": calls,
            "violations": "-"}


def sync(sb: IntercomSandbox, objects: list[str], state: dict | None = None) -> dict:
    tap = TapIntercom(config={"access_token": sb.mint_token(), "api_url": sb.base_url,
                              "standard_objects": objects}, state=state)
    sb.accounting.reset()
    out = run_to_file(tap)
    return {**out, "calls": tap.client.http.requests_made,
            "violations": sb.accounting.snapshot()["rate_limit_violations"]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--contacts", type=int, default=50_000)
    parser.add_argument("--changes", type=int, default=2_000)
    args = parser.parse_args()
    rows = []
    with IntercomSandbox(records=round(args.contacts / 0.28), seed=1, tls=False,
                         enforce_rate_limit=True) as sb:
        bare(sb)  # warm-up
        rows.append(("bare client, contact search pages (serving limit)", bare(sb)))
        states = {}
        for obj in ("contact", "conversation", "company"):
            result = sync(sb, [obj])
            states[obj] = result["state"]
            rows.append((f"tap-intercom full, {obj}", result))
        sb.advance_clock(86_400)  # the next day: search compares dates
        for doc, _ in sb.all_records("contacts")[:args.changes]:
            sb.update("contacts", doc["id"], {"name": "Benchmarked"})
        rows.append((f"tap-intercom incremental, contact, {args.changes:,} changed",
                     sync(sb, ["contact"], states["contact"])))
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
