"""The portal's pages and actions over HTTP (the browser test covers the story end to end):
validation messages beside fields, search and paging, connections, sync actions, run filters,
webhooks and API keys shown once."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from tenantsync.controller.models import SyncRun, utcnow
from tenantsync.portal.chart import TtlCache, records_per_day


def beside(page: str, name: str) -> str:
    """The validation message inside the label of field `name` ('' if none)."""
    label = re.search(rf'<label[^>]*>[^<]*<(?:input|select|textarea) name="{name}".*?</label>',
                      page, re.S).group(0)
    found = re.search(r'<span class="field-error">([^<]*)</span>', label)
    return found.group(1) if found else ""


@pytest.fixture(scope="module")
def setup(service):
    with service.client(service.key_a) as api:
        api.post("/mgmt/v2/providers", json={"name": "salesforce", "config": {
            "oauth": {"credentials": {"oauth_client_id": "cid", "oauth_client_secret": "cs"}}}})
        api.post("/mgmt/v2/destinations", json={"name": "hosted", "type": "supaglue"})
        api.post("/mgmt/v2/sync_configs", json={
            "provider_name": "salesforce", "destination_name": "hosted",
            "config": {"default_config": {"period_ms": 3_600_000},
                       "standard_objects": [{"object": "Account"}, {"object": "Contact"}]}})
        for n in range(120):
            api.put("/mgmt/v2/customers", json={"customer_id": f"c{n:03d}",
                                                "name": f"Customer {n}"})
        for cid in ("c000", "c001"):
            api.post(f"/mgmt/v2/customers/{cid}/connections", json={
                "provider_name": "salesforce", "type": "oauth2", "refresh_token": "r",
                "instance_url": "https://x.example"})
    return service


def test_validation_messages_sit_beside_their_fields(setup, browser_a):
    browser_a.get("/portal/sync-configs")
    r = browser_a.post("/portal/sync-configs", {
        "provider_name": "salesforce", "destination_name": "hosted", "strategy": "sometimes",
        "period_minutes": "x", "standard_objects": "Account"})
    assert r.status_code == 400
    assert "valid integer" in beside(r.text, "period_minutes")
    assert "full then incremental" in beside(r.text, "strategy")
    assert beside(r.text, "name") == ""
    # a refusal of the route itself (one sync config per provider) is shown on the page
    r = browser_a.post("/portal/sync-configs", {
        "provider_name": "salesforce", "destination_name": "hosted", "period_minutes": "30"})
    assert r.status_code == 409 and "already has a sync config" in r.text


def test_customers_search_and_paging(setup, browser_a):
    first = browser_a.get("/portal/customers").text
    assert "(120)" in first and "page 1 of 3" in first and "c049" in first and "c050" not in first
    third = browser_a.get("/portal/customers?page=3").text
    assert "c119" in third and "c000" not in third
    found = browser_a.get("/portal/customers", params={"q": "Customer 11"}).text
    assert sorted(set(re.findall(r">(c\d{3})<", found))) == [
        "c011", "c110", "c111", "c112", "c113", "c114", "c115", "c116", "c117", "c118", "c119"]


def test_customer_connections_and_delete(setup, browser_a):
    page = browser_a.get("/portal/customer?id=c000").text
    assert 'data-provider="salesforce"' in page
    r = browser_a.post("/portal/customer/magic-link", {"customer_id": "c000",
                                                       "provider_name": "salesforce"})
    link = re.search(r'id="magic-link" href="([^"]+)"', r.text).group(1)
    assert link.startswith(setup.url + "/links/")
    r = browser_a.post("/portal/customer/connection-sync-config", {
        "customer_id": "c000", "provider_name": "salesforce", "schema": "c000_data"})
    assert r.status_code == 400 and "only a postgres destination" in r.text  # the rule's
    r = browser_a.post("/portal/customer/connection-sync-config", {
        "customer_id": "c000", "provider_name": "salesforce", "standard_objects": "Contact"})
    assert r.status_code == 303
    with setup.client(setup.key_a) as api:
        own = api.get("/mgmt/v2/connection_sync_configs",
                      headers={"x-customer-id": "c000", "x-provider-name": "salesforce"}).json()
    assert own == {"standard_objects": [{"object": "Contact"}]}
    # delete asks first, and the API's rule holds: connections go first
    assert "data-confirm=\"Delete customer c001?\"" in browser_a.get(
        "/portal/customer?id=c001").text
    refused = browser_a.post("/portal/customer/delete", {"customer_id": "c001"})
    assert refused.status_code == 409 and "still has connections" in refused.text
    assert browser_a.post("/portal/customer/disconnect", {
        "customer_id": "c001", "provider_name": "salesforce"}).status_code == 303
    assert browser_a.post("/portal/customer/delete", {"customer_id": "c001"}
                          ).status_code == 303
    assert browser_a.get("/portal/customer?id=c001").status_code == 404


def test_sync_actions_and_runs(setup, browser_a):
    browser_a.get("/portal/syncs")
    form = {"customer_id": "c000", "provider_name": "salesforce"}
    assert browser_a.post("/portal/syncs/full-refresh", form).status_code == 303
    assert "full refresh next" in browser_a.get("/portal/syncs?fragment=1").text
    assert browser_a.post("/portal/syncs/pause", form).status_code == 303
    refused = browser_a.post("/portal/syncs/trigger", form)
    assert "paused" in refused.headers["location"]  # the route's refusal, as a message
    assert "state-paused" in browser_a.get("/portal/syncs?customer=c000").text
    assert browser_a.post("/portal/syncs/resume", form).status_code == 303
    # one object's sync pauses alone (Supaglue's syncs are per object)
    one = {**form, "object_ref": "standard:Contact"}
    assert browser_a.post("/portal/syncs/pause", one).status_code == 303
    with setup.client(setup.key_a) as api:
        paused = {s["object"]: s["paused"] for s in api.get(
            "/mgmt/v2/syncs", params={"customer_id": "c000"}).json()["results"]}
    assert paused == {"Contact": True}  # c000 chose Contact only (its connection sync config)
    rows = browser_a.get("/portal/syncs?customer=c000&fragment=1").text
    assert 'data-object="Contact" data-action="resume"' in rows
    unknown = browser_a.post("/portal/syncs/pause", {**one, "object_ref": "standard:Nope"})
    assert unknown.status_code == 404
    assert browser_a.post("/portal/syncs/resume", one).status_code == 303

    with setup.session() as s:
        sync = setup.registry().sync("c000", "salesforce")
        s.add_all([SyncRun(sync_id=sync.id, status="FAILURE", strategy="auto",
                           error="AuthError: invalid_grant", num_records=0),
                   SyncRun(sync_id=sync.id, status="SUCCESS", strategy="full",
                           num_records=42, ended_at=utcnow())])
        s.commit()
        run_id = s.scalar(select(SyncRun.id).where(SyncRun.status == "SUCCESS"))
    failing = browser_a.get("/portal/runs", params={"status": "FAILURE"}).text
    assert "invalid_grant" in failing and ">42<" not in failing
    assert ">42<" in browser_a.get("/portal/runs", params={"customer": "c000",
                                                          "provider": "salesforce"}).text
    bad = browser_a.get("/portal/runs", params={"since": "yesterday"})
    assert bad.status_code == 400 and "start_timestamp must be an ISO-8601" in bad.text
    assert browser_a.get(f"/portal/runs/{run_id}").status_code == 200
    overview = browser_a.get("/portal/").text
    assert "invalid_grant" in overview and "Records synced" in overview


def test_webhook_secret_and_api_key_shown_once(setup, browser_a):
    browser_a.get("/portal/webhooks")
    refused = browser_a.post("/portal/webhooks", {"url": "http://10.0.0.1/hook"})
    assert refused.status_code == 400
    made = browser_a.post("/portal/webhooks", {"url": "http://127.0.0.1:9/hook",
                                               "event_types": ["sync.complete"]})
    secret = re.search(r'id="webhook-secret">([^<]+)<', made.text).group(1)
    assert secret not in browser_a.get("/portal/webhooks").text
    browser_a.get("/portal/api-keys")
    made = browser_a.post("/portal/api-keys")
    key = re.search(r'id="new-key">([^<]+)<', made.text).group(1)
    with setup.client(key) as api:
        assert api.get("/mgmt/v2/customers").status_code == 200
    assert key not in browser_a.get("/portal/api-keys").text


def test_chart_spreads_days_and_scales_to_the_peak():
    from datetime import date

    chart = records_per_day([("2024-01-02", 10), (date(2024, 1, 4), 40)], date(2024, 1, 1), 5)
    heights = [b["h"] for b in chart["bars"]]
    assert heights[0] == heights[2] == heights[4] == 0
    assert heights[3] == 4 * heights[1] > 0
    assert chart["total"] == 50 and chart["peak"] == 40


def test_the_chart_cache_keeps_a_value_for_its_lifetime_only():
    calls = []
    kept, expired = TtlCache(seconds=60), TtlCache(seconds=0)
    for cache in (kept, kept, expired, expired):
        cache.get("k", lambda: calls.append(1) or len(calls))
    assert len(calls) == 3  # once for the kept one, every time for the expired one
