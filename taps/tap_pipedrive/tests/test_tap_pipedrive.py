"""tap-pipedrive against its twin: full then incremental syncs equal to the twin's data (every
field, custom fields by name, deletes), common objects, API-token and OAuth connections
(api_domain from the token response, rotated tokens kept), limits paced or stopping cleanly."""

from __future__ import annotations

import json

import pytest

from tap_pipedrive.objects import OBJECTS
from tap_pipedrive.sandbox import PipedriveSandbox
from tap_pipedrive.sandbox.data import field_key
from tap_pipedrive.spec import SPEC
from tap_pipedrive.tests.helpers import live, oauth_config, raw, run_tap
from tenantsync.sandbox.twinkit import Limits

ALL = {"standard_objects": list(OBJECTS),
       "common_objects": ["account", "contact", "lead", "opportunity", "user"]}


@pytest.fixture
def pd():
    with PipedriveSandbox(records=300, seed=5, tls=False) as sb:
        yield sb


def test_full_then_incremental_syncs_equal_the_twin(pd):
    config = oauth_config(pd, **ALL)
    first = run_tap(config)
    for obj in OBJECTS:
        emitted = first.by_id(obj)
        assert {k: raw(r) for k, r in emitted.items()} == live(pd, obj), obj
        assert first.versions[obj], obj  # every first sync is full: ACTIVATE_VERSION
    forecast = field_key(5, "deal", "Forecast")
    deal = next(iter(first.by_id("deals").values()))
    assert deal["_custom_fields"] == {"Forecast": deal["custom_fields"][forecast]}
    assert "NPS" in first.by_id("persons")[str(1)]["_custom_fields"]

    pd.advance_clock(5)
    created = pd.create("deals", {"title": "New deal", "value": 5.0})
    pd.update("persons", "3", {"job_title": "CTO"})
    pd.delete("deals", "2")
    pd.delete("leads", next(iter(live(pd, "leads"))))
    second = run_tap(config, first.state)

    def changed(obj):
        """What the incremental run read beyond the records at the bookmark's instant
        (the bound is inclusive: those are read again)."""
        mark = first.state["bookmarks"][obj]["replication_key_value"]
        return {k for k, r in second.by_id(obj).items() if r["update_time"] != mark}

    deals = second.by_id("deals")
    assert changed("deals") == {str(created["id"]), "2"}  # what changed, deletes too
    assert deals["2"]["_supaglue_is_deleted"] is True and deals["2"]["is_deleted"] is True
    assert raw(deals[str(created["id"])]) == pd.get_record("deals", str(created["id"]))
    assert changed("persons") == {"3"}
    assert not second.versions["deals"] and not second.versions["persons"]
    # full-only objects are read whole again; the archived lead is gone: the sweep removes it
    assert {k: raw(r) for k, r in second.by_id("leads").items()} == live(pd, "leads")
    assert second.versions["leads"]
    opportunities = second.by_id("crm_opportunities")
    assert opportunities["2"]["is_deleted"] is True
    assert opportunities[str(created["id"])]["raw_data"]["title"] == "New deal"


def test_common_objects_follow_supaglues_mappings(pd):
    run = run_tap(oauth_config(pd, common_objects=ALL["common_objects"]))
    org = live(pd, "organizations")["1"]
    account = run.by_id("crm_accounts")["1"]
    assert account["name"] == org["name"] and account["owner_id"] == str(org["owner_id"])
    assert account["addresses"][0]["city"] == org["address"]["locality"]
    person = live(pd, "persons")["1"]
    contact = run.by_id("crm_contacts")["1"]
    assert contact["account_id"] == str(person["org_id"])
    assert contact["email_addresses"] == [{"email_address": person["emails"][0]["value"],
                                           "email_address_type": "primary"}]
    assert [p["phone_number_type"] for p in contact["phone_numbers"]] == ["primary", "mobile"]
    deal = live(pd, "deals")["1"]
    opportunity = run.by_id("crm_opportunities")["1"]
    assert opportunity["pipeline"] == "Sales pipeline" and opportunity["stage"]
    assert opportunity["status"] == {"won": "WON", "lost": "LOST"}.get(deal["status"], "OPEN")
    assert opportunity["amount"] == deal["value"]
    user = run.records["crm_users"][0]
    assert user["is_active"] in (True, False) and user["email"]
    lead = run.records["crm_leads"][0]
    assert lead["title"] and lead["is_deleted"] is False and lead["raw_data"]["id"] == lead["id"]


def test_api_token_connection_and_the_twins_documented_refusals(pd):
    import requests

    token = pd.mint_api_token()
    run = run_tap({"api_token": token, "api_domain": pd.base_url,
                   "standard_objects": ["deals", "users"]})
    assert len(run.records["deals"]) == len(live(pd, "deals"))
    http = requests.Session()
    url = pd.base_url + "/api/v2/deals"
    too_big = http.get(url, params={"api_token": token, "limit": 501}, timeout=10)
    assert too_big.status_code == 400 and too_big.json()["success"] is False
    assert http.get(url, params={"api_token": token, "sort_by": "title"},
                    timeout=10).status_code == 400
    served = http.get(url, params={"api_token": token}, timeout=10)
    window = SPEC.rate_limits(dict(served.headers))["other"]["per_2_seconds"]
    assert window["limit"] == pd.limits.burst and 0 <= window["remaining"] < pd.limits.burst
    refused = http.get(url, params={"api_token": "nope"}, timeout=10)
    assert refused.status_code == 401 and refused.json()["errorCode"] == 401
    pd.delete("deals", "1")
    listed = {d["id"] for d in http.get(url, params={"api_token": token, "limit": 500},
                                        timeout=10).json()["data"]}
    assert 1 not in listed  # deleted deals only with status=deleted (30 days)
    with_deleted = http.get(url, params={"api_token": token, "limit": 500,
                                         "status": "open,won,lost,deleted"}, timeout=10)
    assert 1 in {d["id"] for d in with_deleted.json()["data"]}
    pd.advance_clock(31 * 86400)
    later = http.get(url, params={"api_token": token, "status": "deleted"}, timeout=10)
    assert later.json()["data"] == []


def test_rotated_refresh_token_is_kept_and_api_domain_comes_from_the_token(pd, tmp_path):
    pd.oauth.rotate_refresh_tokens = True
    store = tmp_path / "tokens.json"
    config = oauth_config(pd, standard_objects=["stages"], token_store_path=str(store))
    assert "api_domain" not in config  # read from the token response
    run_tap(config)
    saved = json.loads(store.read_text())
    assert saved["refresh_token"] != config["refresh_token"]
    assert saved["api_domain"] == pd.base_url
    assert len(run_tap(config).records["stages"]) == 5  # the old token is dead; the kept one works


def test_burst_window_is_paced_without_a_single_violation():
    with PipedriveSandbox(records=1500, seed=2, tls=False, enforce_rate_limit=True,
                          limits=Limits(burst=4, window=1.0, daily_budget=10**6)) as sb:
        run = run_tap({**oauth_config(sb), **ALL})
        snapshot = sb.accounting.snapshot()
    assert len(run.records["persons"]) == 420 and len(run.records["notes"]) == 75
    assert snapshot["total_requests"] > 12  # more than three windows' worth
    assert snapshot["rate_limit_violations"] == 0 and "429" not in snapshot["statuses"]


def test_daily_budget_stops_the_run_cleanly_and_the_next_run_resumes():
    limits = Limits(burst=320, window=2.0, daily_budget=60)  # the fields call, then 4 pages
    with PipedriveSandbox(records=12_000, seed=4, tls=False, limits=limits,
                          counts={"lead": 0, "task": 0, "event": 0, "invoice": 0}) as sb:
        config = {**oauth_config(sb), "standard_objects": ["persons"]}
        first = run_tap(config)
        assert len(first.records["persons"]) == 2000 and not first.versions["persons"]
        assert sb.accounting.snapshot()["statuses"]["429"] == 1
        sb.accounting.reset()  # a new day
        second = run_tap(config, first.state)
        ids = {str(r["id"]) for r in first.records["persons"] + second.records["persons"]}
        assert ids == set(live(sb, "persons")) and second.versions["persons"]
