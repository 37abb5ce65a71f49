"""How fast the Salesforce twin generates and serves records.

    .venv/bin/python bench/sandbox_speed.py [--records 200000] [--seed 1]

Prints: world generation + load rate; REST query paging rate (every field: spliced from the
store; a few fields: projected), for a full scan and for the tap-style incremental window
(`WHERE SystemModstamp >= X ORDER BY SystemModstamp`); Bulk 2.0 CSV rate (6 fields, and every
field but the compound ones, as tap-salesforce asks). The client is one
requests.Session over plain http on 127.0.0.1 (keep-alive), so the figures include the client.
"""

from __future__ import annotations

import argparse
import re
import time

import requests

from tap_salesforce.sandbox import SalesforceSandbox
from tap_salesforce.sandbox.schema import COMPOUND

V = "/services/data/v61.0"


NEXT = re.compile(rb'"nextRecordsUrl":"([^"]+)"')


def page_all(session: requests.Session, base: str, soql: str) -> int:
    """Follow nextRecordsUrl, parsing each page as JSON (what a tap does)."""
    body = session.get(f"{base}{V}/queryAll", params={"q": soql}, timeout=600).json()
    n = len(body["records"])
    while not body["done"]:
        body = session.get(base + body["nextRecordsUrl"], timeout=600).json()
        n += len(body["records"])
    return n


def page_all_raw(session: requests.Session, base: str, soql: str) -> int:
    """Follow nextRecordsUrl without parsing the pages: the server's share of the work."""
    size = 0
    r = session.get(f"{base}{V}/queryAll", params={"q": soql}, timeout=600)
    while True:
        size += len(r.content)
        m = NEXT.search(r.content, 0, 300)
        if m is None:
            return int(re.match(rb'\{"totalSize":(\d+)', r.content).group(1))
        r = session.get(base + m.group(1).decode(), timeout=600)


def bulk_all(session: requests.Session, base: str, soql: str) -> int:
    job = session.post(f"{base}{V}/jobs/query", json={"operation": "queryAll", "query": soql},
                       timeout=600).json()["id"]
    while session.get(f"{base}{V}/jobs/query/{job}", timeout=600).json()["state"] != \
            "JobComplete":
        pass
    n, locator = 0, None
    while locator != "null":
        params = {"maxRecords": 50000, **({"locator": locator} if locator else {})}
        r = session.get(f"{base}{V}/jobs/query/{job}/results", params=params, timeout=600)
        n += int(r.headers["Sforce-NumberOfRecords"])
        locator = r.headers["Sforce-Locator"]
    return n


def recent_window(sb, session: requests.Session) -> None:
    """An incremental sync's query when 1% of the rows changed: the index makes it cheap."""
    n = sb.store.count("Contact")
    cutoff = sb.store.conn().execute('SELECT modstamp FROM "Contact" ORDER BY modstamp DESC '
                                     "LIMIT 1 OFFSET ?", [n // 100]).fetchone()[0]
    literal = cutoff[:19] + "Z"
    start = time.perf_counter()
    body = session.get(f"{sb.base_url}{V}/queryAll", timeout=600, params={
        "q": f"SELECT Id, SystemModstamp FROM Contact WHERE SystemModstamp >= {literal} "
             "ORDER BY SystemModstamp ASC"}).json()
    took = time.perf_counter() - start
    print(f"{'REST incremental window over the newest 1% of ' + format(n, ',') + ' Contacts':<68}"
          f" {body['totalSize']:>9,} records {took * 1000:6.1f}ms (whole request)")


def timed(label: str, fn, *args) -> None:
    start = time.perf_counter()
    n = fn(*args)
    took = time.perf_counter() - start
    print(f"{label:<68} {n:>9,} records {took:7.2f}s {n / took:>10,.0f} records/s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--records", type=int, default=200_000)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()

    start = time.perf_counter()
    sb = SalesforceSandbox(records=args.records, seed=args.seed, api_quota=10**9).start()
    took = time.perf_counter() - start
    total = sum(sb.store.count(name) for name in sb.objects)
    print(f"{'generate + load the world into SQLite':<68} {total:>9,} records {took:7.2f}s "
          f"{total / took:>10,.0f} records/s")
    try:
        session = requests.Session()
        session.headers["Authorization"] = f"Bearer {sb.mint_access_token()}"
        contact = sb.objects["Contact"]
        every = ", ".join(f.name for f in contact.fields)
        few = "Id, FirstName, LastName, Email, AccountId, SystemModstamp"
        since = "2024-01-01T00:00:00Z"
        window = (f"SELECT {every} FROM Contact WHERE SystemModstamp >= {since} "
                  "ORDER BY SystemModstamp ASC")
        for label, fetch in (("pages read raw", page_all_raw), ("pages parsed", page_all)):
            timed(f"REST queryAll Contact, every field (spliced), {label}", fetch, session,
                  sb.base_url, f"SELECT {every} FROM Contact")
            timed(f"REST queryAll Contact, 6 fields (projected), {label}", fetch, session,
                  sb.base_url, f"SELECT {few} FROM Contact")
            timed(f"REST queryAll Contact, SystemModstamp window, {label}", fetch, session,
                  sb.base_url, window)
        recent_window(sb, session)
        timed("Bulk 2.0 queryAll CSV, Contact, 6 fields", bulk_all, session, sb.base_url,
              f"SELECT {few} FROM Contact")
        flat = ", ".join(f.name for f in contact.fields if f.type not in COMPOUND)
        timed("Bulk 2.0 queryAll CSV, Contact, every field (as tap-salesforce)", bulk_all,
              session, sb.base_url, f"SELECT {flat} FROM Contact")
        acct = sb.accounting.snapshot()
        print(f"requests: {acct['total_requests']}, records served: "
              f"{acct['total_records_served']:,}")
    finally:
        sb.stop()


if __name__ == "__main__":
    main()
