"""tap-apollo against its twin: full syncs equal to the twin's data, the engagement common
objects (sequence states from contacts' memberships), deletes swept by a pass read to its
end and not by one the display limit cut, Apollo's windows paced or stopping cleanly, and the
API key kept out of requests' URLs and bodies."""

from __future__ import annotations

import io
import json
from collections import defaultdict
from contextlib import redirect_stdout

import pytest

from tap_apollo.objects import OBJECTS
from tap_apollo.sandbox import ApolloSandbox
from tap_apollo.tap import TapApollo

COMMON = ["account", "contact", "user", "sequence", "mailbox", "sequence_state"]


def sync(tap: TapApollo) -> list[str]:
    """The tap's output lines (it writes bytes to stdout's buffer)."""
    buf = io.TextIOWrapper(io.BytesIO(), encoding="utf-8")
    with redirect_stdout(buf):
        tap.sync_all()
        tap.client.http.close()
    buf.seek(0)
    return [line for line in buf.read().splitlines() if line.strip()]


def run_tap(config: dict, state: dict | None = None):
    tap = TapApollo(config=config, state=state)
    records, versions, last = defaultdict(list), defaultdict(list), {}
    for line in sync(tap):
        m = json.loads(line)
        if m["type"] == "RECORD":
            records[m["stream"]].append(m["record"])
        elif m["type"] == "ACTIVATE_VERSION":
            versions[m["stream"]].append(m["version"])
        elif m["type"] == "STATE":
            last = m["value"]
    return records, versions, last, tap


def live(sb, obj: str) -> dict[str, dict]:
    return {doc["id"]: doc for doc, deleted in sb.all_records(obj) if not deleted}


def raw(record: dict) -> dict:
    return {k: v for k, v in record.items() if not k.startswith(("_sdc_", "_supaglue_"))}


@pytest.fixture
def ap():
    with ApolloSandbox(records=400, seed=4, tls=False) as sb:
        yield sb


def config(sb, **more) -> dict:
    return {"api_key": sb.mint_api_key(), "base_url": sb.base_url,
            "backoff_base_seconds": 0.01, **more}


def test_full_syncs_equal_the_twin_and_sweep_deletes(ap):
    cfg = config(ap, standard_objects=list(OBJECTS), common_objects=COMMON)
    records, versions, state, _ = run_tap(cfg)
    for obj in OBJECTS:
        assert {r["id"]: raw(r) for r in records[obj]} == live(ap, obj), obj
        assert versions[obj], obj  # a full pass read to its end: ACTIVATE_VERSION (sweep)
    contacts = live(ap, "contacts")
    memberships = {s["id"]: (c["id"], s) for c in contacts.values()
                   for s in c["contact_campaign_statuses"]}
    states = {r["id"]: r for r in records["engagement_sequence_states"]}
    assert set(states) == set(memberships)
    for sid, (cid, s) in memberships.items():
        assert (states[sid]["contact_id"], states[sid]["sequence_id"],
                states[sid]["mailbox_id"], states[sid]["state"]) == (
            cid, s["emailer_campaign_id"], s["send_email_from_email_account_id"], s["status"])
    contact = next(r for r in records["engagement_contacts"] if r["phone_numbers"])
    source = contacts[contact["id"]]
    assert contact["email_addresses"] == [{"email_address": source["email"],
                                           "email_address_type": "primary"}]
    assert {p["phone_number_type"] for p in contact["phone_numbers"]} <= {"work", "mobile"}
    assert contact["address"]["city"] == source["city"]
    assert contact["open_count"] == 0 and contact["account_id"] == source["account_id"]
    users = {r["id"]: r for r in records["engagement_users"]}
    assert {u: (r["first_name"], r["last_name"]) for u, r in users.items()} == {
        u["id"]: (u["first_name"], u["last_name"]) for u in live(ap, "users").values()}

    gone = next(iter(contacts))
    ap.delete("contacts", gone)
    made = ap.create("contacts", {"first_name": "Ada", "email": "ada@example.com"})
    again, versions2, _, _ = run_tap(cfg, state)
    ids = {r["id"] for r in again["contacts"]}
    assert made["id"] in ids and gone not in ids  # read whole again; the sweep removes gone
    assert versions2["contacts"] and versions2["contacts"][0] != versions["contacts"][0]


def test_a_search_cut_by_the_display_limit_is_not_swept(monkeypatch):
    """Apollo displays 500 pages of a search: a pass that could not read every record emits
    no ACTIVATE_VERSION, so the unread ones are not swept as deleted."""
    import tap_apollo.objects as objects
    import tap_apollo.sandbox.twin as twin
    import tap_apollo.streams as streams

    for module in (objects, twin, streams):
        monkeypatch.setattr(module, "MAX_PAGES", 2)
    with ApolloSandbox(records=1000, seed=1, tls=False) as sb:
        records, versions, _, _ = run_tap(config(sb, standard_objects=["contacts",
                                                                       "accounts"]))
        assert len(records["contacts"]) == 200 < len(live(sb, "contacts"))
        assert not versions["contacts"]
        assert versions["accounts"] and len(records["accounts"]) == len(live(sb, "accounts"))


def test_the_minute_window_is_paced_and_a_spent_hour_stops_cleanly():
    with ApolloSandbox(records=900, seed=2, tls=False, enforce_rate_limit=True) as sb:
        sb.windows.limits.update(minute=2, hour=1_000)
        waits = []
        cfg = config(sb, standard_objects=["contacts"])
        tap = TapApollo(config=cfg)
        tap.client.pacer._sleep = lambda s: (waits.append(s), sb.windows._windows.clear())
        sync(tap)
        assert waits and all(50 < w <= 61 for w in waits)  # until the minute window reopens
        assert sb.accounting.snapshot()["rate_limit_violations"] == 0

        sb.windows._windows.clear()
        sb.windows.limits.update(minute=200, hour=1)
        records, versions, state, tap = run_tap(cfg)
        assert tap.stop_reason and "hourly" in tap.stop_reason
        assert len(records["contacts"]) == 100 and not versions["contacts"]
        assert state["bookmarks"]["contacts"]["rest_full_sync"]["next"]  # resumes at page 2
        assert sb.accounting.snapshot()["rate_limit_violations"] == 0


def test_over_the_hour_apollo_answers_plain_text_and_the_tap_stops():
    with ApolloSandbox(records=900, seed=2, tls=False, enforce_rate_limit=True) as sb:
        cfg = config(sb, standard_objects=["accounts"])
        sb.windows.limits.update(hour=1)
        sb.windows.charge("accounts.search")  # another client spent the hour
        records, _, _, tap = run_tap(cfg)
        assert not records["accounts"]
        assert "times per hour" in tap.stop_reason


def test_the_key_is_sent_in_the_header_only_and_the_twin_takes_all_three_forms(ap):
    import functools

    import requests

    post = functools.partial(requests.post, timeout=10)
    key = ap.mint_api_key()
    url = f"{ap.base_url}/v1/contacts/search"
    assert post(url, json={"api_key": key, "per_page": 1}).status_code == 200
    assert post(url, params={"api_key": key}, json={}).status_code == 200
    r = post(url, headers={"X-Api-Key": key}, json={"page": 2, "per_page": 3})
    body = r.json()
    assert r.status_code == 200 and body["pagination"]["page"] == "2"  # a string, as Apollo
    assert len(body["contacts"]) == 3 and r.headers["x-minute-requests-left"]
    bad = post(url, headers={"X-Api-Key": "nope"}, json={})
    assert bad.status_code == 401 and "x-minute-requests-left" not in bad.headers
    assert post(url, headers={"X-Api-Key": key},
                         json={"per_page": 101}).status_code == 400
    assert post(url, headers={"X-Api-Key": key},
                         json={"page": 501}).status_code == 422
