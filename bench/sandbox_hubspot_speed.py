"""How fast the HubSpot twin loads its world and serves list and search pages.

    .venv/bin/python bench/sandbox_hubspot_speed.py [--records 100000] [--seed 1]

Prints: world generation + load rate; list paging rate over every contact (default properties,
then 12 named properties, limit 100); search paging rate (limit 200) for the tap-style
incremental query (`lastmodifieddate GTE x`, sorted by it ascending) up to the 10,000-result
window, and for an unsorted filter on a non-indexed property. The client is one
requests.Session over plain http on 127.0.0.1 (keep-alive), so figures include the client.
Rate limits are observed, not enforced (the default), so they do not slow the run.
"""

from __future__ import annotations

import argparse
import time

import requests

from tap_hubspot.sandbox import HubSpotSandbox

PROPS = ("email,firstname,lastname,phone,jobtitle,company,city,country,lifecyclestage,"
         "hubspot_owner_id,createdate,lastmodifieddate")


def list_all(session: requests.Session, base: str, properties: str | None) -> int:
    params = {"limit": 100, **({"properties": properties} if properties else {})}
    n, after = 0, None
    while True:
        body = session.get(f"{base}/crm/v3/objects/contacts",
                           params={**params, **({"after": after} if after else {})},
                           timeout=600).json()
        n += len(body["results"])
        if "paging" not in body:
            return n
        after = body["paging"]["next"]["after"]


def search_all(session: requests.Session, base: str, body: dict) -> int:
    n, after = 0, "0"
    while True:
        page = session.post(f"{base}/crm/v3/objects/contacts/search",
                            json={**body, "after": after, "limit": 200}, timeout=600).json()
        n += len(page["results"])
        nxt = page.get("paging", {}).get("next", {}).get("after")
        if nxt is None or int(nxt) >= 10_000:
            return n
        after = nxt


def timed(label: str, fn, *args) -> None:
    start = time.perf_counter()
    n = fn(*args)
    took = time.perf_counter() - start
    print(f"{label:<58} {n:>9,} records {took:7.2f}s {n / took:>10,.0f} records/s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--records", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()

    start = time.perf_counter()
    hs = HubSpotSandbox(records=args.records, seed=args.seed).start()
    took = time.perf_counter() - start
    loaded = sum(hs.portal.count(t) for t in hs.portal.types.types.values())
    print(f"{'world -> HubSpot records (generate + load)':<58} {loaded:>9,} records "
          f"{took:7.2f}s {loaded / took:>10,.0f} records/s")
    try:
        session = requests.Session()
        session.headers["Authorization"] = f"Bearer {hs.mint_private_app_token()}"
        base = hs.base_url
        contacts = hs.portal.types.resolve("contacts")
        print(f"contacts: {hs.portal.count(contacts):,}")
        timed("list contacts, default properties, limit 100", list_all, session, base, None)
        timed("list contacts, 12 properties, limit 100", list_all, session, base, PROPS)
        incremental = {"filterGroups": [{"filters": [
            {"propertyName": "lastmodifieddate", "operator": "GTE", "value": "0"}]}],
            "sorts": [{"propertyName": "lastmodifieddate", "direction": "ASCENDING"}],
            "properties": PROPS.split(",")}
        timed("search lastmodifieddate GTE, sorted, 12 props, limit 200", search_all, session,
              base, incremental)
        by_stage = {"filterGroups": [{"filters": [
            {"propertyName": "lifecyclestage", "operator": "IN",
             "values": ["lead", "customer"]}]}], "properties": PROPS.split(",")}
        timed("search lifecyclestage IN (json filter), 12 props, limit 200", search_all,
              session, base, by_stage)
    finally:
        hs.stop()


if __name__ == "__main__":
    main()
