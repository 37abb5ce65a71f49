"""tap-hubspot against the HubSpot sandbox: discovery, full and incremental syncs, deletes,
associations, search lag, faults, auth."""

from __future__ import annotations

import json
import re

import pytest
from singer_sdk.exceptions import ConfigValidationError

from tap_hubspot.client import TOKEN_REFRESH_MARGIN_SECONDS
from tap_hubspot.objects import opportunity_mapping, stage_outcome
from tap_hubspot.sandbox import HubSpotSandbox
from tap_hubspot.sandbox.ratelimit import RateLimits
from tap_hubspot.tap import TapHubSpot
from tenantsync.tapkit.errors import AuthError
from tests.taps.hubspot_fixtures import (
    assert_matches_sandbox,
    oauth_config,
    run_tap,
    sandbox_records,
)

OBJECTS = {"common_objects": ["account", "contact", "opportunity", "user"],
           "standard_objects": ["contact", "company", "deal", "owner"],
           "custom_objects": ["pets"]}


@pytest.fixture
def hs():
    with HubSpotSandbox(records=200, seed=11) as sandbox:
        yield sandbox


def _stream_names(config: dict) -> list[str]:
    return sorted(s["tap_stream_id"] for s in TapHubSpot(config=config).catalog_dict["streams"])


# --- discovery ------------------------------------------------------------------------------

def test_discovery_offers_what_the_portal_has(hs):
    names = _stream_names(oauth_config(hs))
    assert names == sorted([
        "call", "communication", "company", "contact", "deal", "email", "line_item", "meeting",
        "note", "owner", "postal_mail", "product", "quote", "task", "ticket", "custom__pets",
        "crm_accounts", "crm_contacts", "crm_opportunities", "crm_users"])
    # Every property of the properties API is in the schema.
    catalog = TapHubSpot(config=oauth_config(hs)).catalog_dict
    contact = next(s for s in catalog["streams"] if s["tap_stream_id"] == "contact")
    expected = {p["name"] for p in hs.portal.types.properties["contacts"].wire()}
    assert expected <= set(contact["schema"]["properties"])
    assert contact["replication_key"] == "lastmodifieddate"
    assert contact["key_properties"] == ["id"]


def test_discovery_sees_a_new_property(hs):
    hs.add_field("contacts", "favorite_color", "enumeration", options=["red", "blue"])
    hs.update("contacts", "51", {"favorite_color": "red"})
    config = oauth_config(hs, standard_objects=["contact"])
    run = run_tap(config)
    assert run.by_id("contact")["51"]["favorite_color"] == "red"


@pytest.mark.parametrize(("setting", "message"), [
    ({"common_objects": ["lead"]}, "'lead' is not supported by HubSpot"),
    ({"common_objects": ["invoice"]}, "common object 'invoice' is not one of"),
    ({"standard_objects": ["widget"]}, "standard object 'widget' is not a HubSpot standard"),
    ({"standard_objects": ["postal_mail"]}, "this HubSpot portal does not offer it"),
    ({"custom_objects": ["cars"]}, "custom object(s) 'cars' not found"),
])
def test_discovery_refuses_what_it_cannot_sync(hs, setting, message):
    # a portal without postal mail (HubSpot answers its properties with 404 there)
    hs.faults.add("status", status=404, path="/crm/v3/properties/postal_mail")
    with pytest.raises(ConfigValidationError, match=re.escape(message)):
        TapHubSpot(config=oauth_config(hs, **setting)).discover_streams()


def test_plural_and_alias_names_are_accepted(hs):
    config = oauth_config(hs, standard_objects=["companies", "line_items"])
    assert _stream_names(config) == ["company", "line_item"]


# --- full sync ------------------------------------------------------------------------------

def test_full_sync_equals_sandbox_content(hs):
    hs.delete("contacts", "52")
    run = run_tap(oauth_config(hs, **OBJECTS))
    for stream, obj in (("contact", "contacts"), ("company", "companies"), ("deal", "deals"),
                        ("custom__pets", "p_pets")):
        live, archived = sandbox_records(hs, obj), sandbox_records(hs, obj, archived=True)
        records = run.by_id(stream)
        assert set(records) == set(live) | set(archived)
        assert len(run.records(stream)) == len(records)  # each record once
        for rid, doc in {**live, **archived}.items():
            assert_matches_sandbox(records[rid], doc)
        assert len(run.activate_versions(stream)) == 1
    deleted = run.by_id("contact")["52"]
    assert deleted["_supaglue_is_deleted"] is True
    assert deleted["_sdc_deleted_at"] == deleted["_supaglue_last_modified_at"] \
        == hs.get_record("contacts", "52")["archivedAt"]
    # Owners: raw and common.
    assert {o["id"] for o in run.records("owner")} == {o["id"] for o in hs.portal.owners}


def test_common_objects_are_mapped(hs):
    run = run_tap(oauth_config(hs, **OBJECTS))
    contacts = sandbox_records(hs, "contacts")
    for record in run.records("crm_contacts"):
        props = contacts[record["id"]]["properties"]
        companies = hs.portal.associated(hs.portal.resolve("contacts"), [int(record["id"])],
                                         hs.portal.resolve("companies")).get(int(record["id"]))
        assert record["first_name"] == props.get("firstname")
        assert record["last_name"] == props.get("lastname")
        assert record["owner_id"] == props.get("hubspot_owner_id")
        assert record["account_id"] == (str(companies[0]) if companies else None)
        assert record["raw_data"]["_associations"]["company"] == [str(c) for c in
                                                                  companies or ()]
        emails = [e["email_address"] for e in record["email_addresses"]]
        assert emails == [v for v in (props.get("email"), props.get("work_email")) if v]
        assert record["is_deleted"] is False
    deal_props = {p["name"]: p for p in hs.portal.types.properties["deals"].wire()}
    stage_labels = {o["value"]: o["label"] for o in deal_props["dealstage"]["options"]}
    deals = sandbox_records(hs, "deals")
    statuses = set()
    for record in run.records("crm_opportunities"):
        props = deals[record["id"]]["properties"]
        assert record["stage"] == stage_labels[props["dealstage"]]
        assert record["pipeline"] == "Sales Pipeline"
        expected = ("WON" if props.get("hs_is_closed_won") == "true" else
                    "LOST" if props.get("hs_is_closed") == "true" else "OPEN")
        assert record["status"] == expected
        assert record["amount"] == (float(props["amount"]) if props.get("amount") else None)
        statuses.add(record["status"])
    assert len(statuses) > 1  # the sample exercises more than one status
    users = {u["id"]: u for u in run.records("crm_users")}
    for owner in hs.portal.owners:
        assert users[owner["id"]]["email"] == owner["email"]
        assert users[owner["id"]]["is_active"] is (not owner["archived"])


def test_associations_to_fetch_adds_associations(hs):
    config = oauth_config(hs, standard_objects=["contact"],
                          associations_to_fetch={"contacts": ["pets"]})
    run = run_tap(config)
    portal = hs.portal
    linked = portal.associated(portal.resolve("contacts"),
                               [int(i) for i in sandbox_records(hs, "contacts")],
                               portal.resolve("p_pets"))
    assert linked  # the sample has contact -> pet links
    for record in run.records("contact"):
        assert record["_associations"]["pets"] == [str(i) for i in
                                                   linked.get(int(record["id"]), [])]


def test_properties_beyond_the_url_budget_are_read_by_batch(hs):
    names = [f"custom_field_with_a_long_descriptive_name_{i:03d}" for i in range(200)]
    for name in names:
        hs.add_field("companies", name, "string")
    company = next(iter(sandbox_records(hs, "companies")))
    hs.update("companies", company, {names[0]: "first", names[-1]: "last"})
    run = run_tap(oauth_config(hs, standard_objects=["company"]))
    record = run.by_id("company")[company]
    assert (record[names[0]], record[names[-1]]) == ("first", "last")
    batch_reads = hs.accounting.snapshot()["requests"].get("crm.objects.batch_read", 0)
    assert batch_reads >= 1
    for rid, doc in sandbox_records(hs, "companies").items():
        assert_matches_sandbox(run.by_id("company")[rid], doc)


# --- incremental ----------------------------------------------------------------------------

def _incremental_config(hs, **kw):
    return oauth_config(hs, **{"standard_objects": ["contact"], "common_objects": ["contact"],
                               "lookback_seconds": 0, **kw})


def test_incremental_returns_exactly_changed_and_archived(hs):
    config = _incremental_config(hs)
    first = run_tap(config)
    bookmark = first.state["bookmarks"]["contact"]["replication_key_value"]
    at_bookmark = {rid for rid, r in first.by_id("contact").items()
                   if r["lastmodifieddate"] == bookmark}
    hs.advance_clock(60)
    created = hs.create("contacts", {"email": "new@example.com", "firstname": "New"})["id"]
    hs.update("contacts", "53", {"firstname": "Changed"})
    hs.update("contacts", "54", {"lastname": "Also changed"})
    hs.delete("contacts", "55")
    second = run_tap(config, state=first.state)
    ids = set(second.by_id("contact"))
    assert ids == {created, "53", "54", "55"} | at_bookmark
    assert second.activate_versions("contact") == []  # incremental: no delete sweep
    records = second.by_id("contact")
    assert records["53"]["firstname"] == "Changed"
    assert records["55"]["_supaglue_is_deleted"] is True
    assert records[created]["_associations"] == {"company": []}
    common = second.by_id("crm_contacts")
    assert common["55"]["is_deleted"] is True
    assert common["55"]["last_modified_at"].startswith(
        hs.get_record("contacts", "55")["archivedAt"][:23])
    assert common["53"]["first_name"] == "Changed"
    for rid in ("53", "54", created):
        assert_matches_sandbox(records[rid], hs.get_record("contacts", rid))
    # Nothing changed since: the records of the bookmark's own instant were sent already (the
    # bookmark remembers them), so the next run sends only archived records archived at or
    # after it (archiving does not move the search bookmark).
    third = run_tap(config, state=second.state)
    newest = second.state["bookmarks"]["contact"]["replication_key_value"]
    assert any(r["lastmodifieddate"] == newest for r in records.values())
    assert set(third.by_id("contact")) == {
        rid for rid, r in records.items() if (r.get("archivedAt") or "") >= newest}


def test_full_sync_every_n_incrementals(hs):
    config = _incremental_config(hs, full_sync_every_n_incrementals=1)
    runs = [run_tap(config)]
    for _ in range(3):
        runs.append(run_tap(config, state=runs[-1].state))
    fulls = [bool(r.activate_versions("contact")) for r in runs]
    assert fulls == [True, False, True, False]


def test_change_inside_search_lag_is_picked_up_next_run():
    with HubSpotSandbox(records=200, seed=5) as hs:
        first = run_tap(_incremental_config(hs, lookback_seconds=120))
        hs.advance_clock(10)
        hs.set_search_lag(30)
        hs.update("contacts", "60", {"firstname": "Lagging"})  # not searchable for 30 s
        hs.set_search_lag(0)
        hs.update("contacts", "61", {"firstname": "Visible"})  # newer, searchable now
        second = run_tap(_incremental_config(hs, lookback_seconds=120), state=first.state)
        assert "61" in second.by_id("contact") and "60" not in second.by_id("contact")
        hs.advance_clock(60)  # the index catches up with contact 60
        without = run_tap(_incremental_config(hs, lookback_seconds=0), state=second.state)
        assert "60" not in without.by_id("contact")  # what a tap without lookback loses
        third = run_tap(_incremental_config(hs, lookback_seconds=120), state=second.state)
        assert third.by_id("contact")["60"]["firstname"] == "Lagging"


@pytest.mark.parametrize(("calls", "live_pages_left"), [(3, 1), (4, 0)])
def test_full_sync_stopped_by_the_quota_resumes_with_its_version(calls, live_pages_left):
    limits = RateLimits(daily=100)
    with HubSpotSandbox(records=600, seed=2, rate_limits=limits) as hs:
        config = {"access_token": hs.mint_private_app_token(), "base_url": hs.base_url,
                  "standard_objects": ["contact"], "quota_max_percent": calls}
        catalog = TapHubSpot(config={**config, "quota_max_percent": 90}).catalog_dict
        hs.accounting.reset()
        # The high-water search and `calls - 1` of the three list pages, then `calls`% of the
        # daily quota is used: stop (in the live pass, or just after its last page).
        stopped = run_tap(config, catalog=catalog)
        assert stopped.tap.stop_reason and "quota_max_percent" in stopped.tap.stop_reason
        assert stopped.activate_versions("contact") == []
        progress = stopped.state["bookmarks"]["contact"]
        version = progress["tenantsync"]["full_sync_version"]
        assert version
        assert progress["hubspot_full_sync"]["archived"] is (live_pages_left == 0)
        hs.accounting.reset()
        resumed = run_tap({**config, "quota_max_percent": 90}, catalog=catalog,
                          state=stopped.state)
        assert resumed.activate_versions("contact") == [version]
        seen = set(stopped.by_id("contact")) | set(resumed.by_id("contact"))
        assert seen == set(sandbox_records(hs, "contacts"))
        assert not set(stopped.by_id("contact")) & set(resumed.by_id("contact"))
        list_calls = hs.accounting.snapshot()["requests"]["crm.objects.list"]
        assert list_calls == live_pages_left + 1  # the rest of the live pass, then archived
        bookmark = resumed.state["bookmarks"]["contact"]
        assert bookmark["tenantsync"]["full_sync_version"] is None
        assert "hubspot_full_sync" not in bookmark
        newest = max(d["properties"]["lastmodifieddate"]
                     for d in sandbox_records(hs, "contacts").values())
        assert bookmark["replication_key_value"] == newest


# --- faults and auth ------------------------------------------------------------------------

def test_injected_429_and_5xx_are_survived_with_exact_data(hs):
    config = oauth_config(hs, **OBJECTS)
    clean = run_tap(config)
    hs.faults.add("status", status=429, retry_after=1, path="/crm/v3/objects/contacts", count=2)
    hs.faults.add("status", status=503, path="/crm/v3/objects/deals", count=2)
    hs.faults.add("status", status=502, path="/crm/v3/owners", count=1)
    hs.faults.add("reset", path="/crm/v3/objects/companies", count=1)
    faulty = run_tap(config)
    for stream in ("contact", "company", "deal", "custom__pets", "crm_contacts", "crm_users"):
        assert faulty.by_id(stream) == clean.by_id(stream), stream
    assert faulty.tap.client.pacer.rate_limited == 2
    assert hs.accounting.snapshot()["rate_limit_violations"] == 0


def test_expired_access_token_is_refreshed_once(hs):
    config = oauth_config(hs, standard_objects=["contact"])
    catalog = TapHubSpot(config=config).catalog_dict
    hs.faults.add("status", status=401, path="/crm/v3/objects/contacts", count=1)
    run = run_tap(config, catalog=catalog)
    assert set(run.by_id("contact")) == set(sandbox_records(hs, "contacts")) | set(
        sandbox_records(hs, "contacts", archived=True))
    assert run.tap.client.auth.refreshes == 2  # first use, then once after the 401


def test_access_token_is_renewed_five_minutes_before_expiry(hs):
    config = oauth_config(hs, standard_objects=["contact"])
    tap = TapHubSpot(config=config)
    auth = tap.client.auth
    auth.refresh()
    lifetime = auth.token_response["expires_in"]
    remaining = auth._expires_at - auth._clock()
    assert lifetime - TOKEN_REFRESH_MARGIN_SECONDS - 5 < remaining <= \
        lifetime - TOKEN_REFRESH_MARGIN_SECONDS


def test_revoked_refresh_token_ends_the_run_with_a_clear_error(hs):
    config = oauth_config(hs, standard_objects=["contact"])
    catalog = TapHubSpot(config=config).catalog_dict
    hs.oauth.revoke_refresh_tokens()
    before = hs.accounting.snapshot()["requests"].get("oauth.token", 0)
    with pytest.raises(AuthError) as caught:
        run_tap(config, catalog=catalog)
    message = str(caught.value)
    assert "HubSpot (connection" in message and "refused the refresh token" in message
    assert "Re-authorize" in message
    assert config["refresh_token"] not in message and config["client_secret"] not in message
    assert hs.accounting.snapshot()["requests"]["oauth.token"] - before == 1  # no retry loop


def test_private_app_token(hs):
    config = {"access_token": hs.mint_private_app_token(), "base_url": hs.base_url,
              "standard_objects": ["company"]}
    run = run_tap(config)
    assert set(run.by_id("company")) == set(sandbox_records(hs, "companies"))


def test_rotated_refresh_token_goes_to_the_token_store(hs, tmp_path):
    store = tmp_path / "tokens.json"
    config = oauth_config(hs, standard_objects=["owner"], token_store_path=str(store))
    hs.oauth.rotate_refresh_tokens = True
    run_tap(config)
    stored = json.loads(store.read_text())
    assert stored["refresh_token"] != config["refresh_token"]
    # The next run logs in with the stored token (the configured one is dead now).
    run = run_tap(config)
    assert {o["id"] for o in run.records("owner")} == {o["id"] for o in hs.portal.owners}


def test_429_without_retry_after_waits_out_the_policy_window():
    limits = RateLimits(interval_seconds=1)
    with HubSpotSandbox(records=200, seed=4, rate_limits=limits) as hs:
        config = oauth_config(hs, standard_objects=["company"])
        clean = run_tap(config)
        hs.faults.add("status", status=429, path=r"/crm/v3/objects/companies$", count=1)
        run = run_tap(config)
        assert run.by_id("company") == clean.by_id("company")
        pacer = run.tap.client.pacer
        assert pacer.rate_limited == 1 and pacer.waited >= 0.9


def test_pacing_keeps_a_run_inside_enforced_limits():
    limits = RateLimits(burst=20, interval_seconds=2, search_per_second=5)
    with HubSpotSandbox(records=600, seed=8, rate_limits=limits,
                        enforce_rate_limit=True) as hs:
        config = oauth_config(hs, **OBJECTS)
        first = run_tap(config)
        hs.update("contacts", "51", {"firstname": "Paced"})
        second = run_tap(config, state=first.state)
        assert second.by_id("contact")["51"]["firstname"] == "Paced"
        for run in (first, second):
            assert run.tap.client.pacer.rate_limited == 0
        snapshot = hs.accounting.snapshot()
        assert snapshot["rate_limit_violations"] == 0, snapshot["violations"]
        assert snapshot["statuses"].get("429") is None


def test_objects_without_scopes_are_skipped_in_discovery_or_refused_when_asked_for(hs):
    hs.faults.add("status", status=403, path="/crm/v3/properties/tickets", count=2)
    names = _stream_names(oauth_config(hs))
    assert "ticket" not in names and "company" in names
    with pytest.raises(ConfigValidationError, match="'ticket': the connection lacks its scopes"):
        TapHubSpot(config=oauth_config(hs, standard_objects=["ticket"])).discover_streams()


@pytest.mark.parametrize(("props", "expected"), [
    ({"hs_is_closed_won": "true", "hs_is_closed": "true", "dealstage": "s1"}, "WON"),
    ({"hs_is_closed_won": "false", "hs_is_closed": "true", "dealstage": "s3"}, "LOST"),
    ({"hs_is_closed_won": "false", "hs_is_closed": "false", "dealstage": "s2"}, "OPEN"),
    ({"dealstage": "s1"}, "WON"),  # no calculated flags: the stage's pipeline metadata
    ({"dealstage": "s2"}, "LOST"),
    ({"dealstage": "s3"}, "OPEN"),
    ({"dealstage": "unknown"}, "OPEN"),
])
def test_deal_status_from_flags_or_stage_metadata(props, expected):
    outcomes = {s: stage_outcome(m) for s, m in {
        "s1": {"isClosed": "true", "probability": "1.0"},
        "s2": {"isClosed": "true", "probability": "0.0"},
        "s3": {"isClosed": "false", "probability": "0.4"}}.items()}
    mapping = opportunity_mapping({"s1": "Won it"}, {}, outcomes)
    record = {"id": "1", "hs_lastmodifieddate": "2024-01-01T00:00:00.000Z", "archived": False,
              **props}
    common = mapping.to_common(record)
    assert common["status"] == expected
    assert common["stage"] == ("Won it" if props["dealstage"] == "s1" else props["dealstage"])


@pytest.mark.parametrize(("setting", "message"), [
    ({"lookback_seconds": -5}, "lookback_seconds"),
    ({"quota_max_percent": 0}, "quota_max_percent"),
    ({"base_url": "ftp://example"}, "base_url"),
    ({"refresh_token": None, "client_id": None}, "no credentials"),
])
def test_bad_settings_are_refused_with_the_setting_named(hs, setting, message):
    config = {k: v for k, v in oauth_config(hs, **setting).items() if v is not None}
    with pytest.raises(ConfigValidationError) as caught:
        TapHubSpot(config=config).discover_streams()
    assert message in str(caught.value) + " ".join(getattr(caught.value, "errors", []))


def test_daily_limit_429_stops_the_run_cleanly():
    # OAuth calls carry no daily headers, so only HubSpot's 429 DAILY can tell.
    limits = RateLimits(daily=4)
    with HubSpotSandbox(records=600, seed=6, rate_limits=limits, enforce_rate_limit=True) as hs:
        config = oauth_config(hs, standard_objects=["contact"])
        catalog = TapHubSpot(config=oauth_config(hs, standard_objects=["contact"])
                             ).catalog_dict  # uses one call of the day
        run = run_tap(config, catalog=catalog)
        assert "DAILY" in run.tap.stop_reason
        assert run.activate_versions("contact") == []
        progress = run.state["bookmarks"]["contact"]
        assert progress["tenantsync"]["full_sync_version"]  # kept for the next run
        assert len(run.records("contact")) == 200  # high-water search + two list pages
        assert hs.accounting.snapshot()["statuses"]["429"] == 1  # no retrying into it


def test_token_expired_on_the_server_clock_is_renewed_on_its_401(hs):
    config = oauth_config(hs, standard_objects=["company"])
    catalog = TapHubSpot(config=config).catalog_dict
    tap = TapHubSpot(config=config, catalog=catalog)
    tap.client.auth.refresh()
    hs.advance_clock(31 * 60)  # the access token dies on HubSpot's side only
    before = hs.accounting.snapshot()["statuses"].get("401", 0)
    records = list(tap.streams["company"].get_records(None))
    assert {r["id"] for r in records} == set(sandbox_records(hs, "companies"))
    assert hs.accounting.snapshot()["statuses"]["401"] - before == 1
    assert tap.client.auth.refreshes == 2


def test_deselected_properties_are_not_requested(hs):
    config = oauth_config(hs, standard_objects=["contact"])
    catalog = TapHubSpot(config=config).catalog_dict
    entry = catalog["streams"][0]
    for meta in entry["metadata"]:
        if meta["breadcrumb"] in (["properties", "firstname"], ["properties", "email"]):
            meta["metadata"]["selected"] = False
    run = run_tap(config, catalog=catalog)
    records = run.records("contact")
    assert records and all("firstname" not in r and "email" not in r for r in records)
    assert all("lastname" in r and "lastmodifieddate" in r for r in records)
    schema = next(m for m in run.messages if m["type"] == "SCHEMA")["schema"]
    assert "firstname" not in schema["properties"]


def test_stream_maps_apply(hs):
    config = oauth_config(hs, standard_objects=["company"],
                          stream_maps={"company": {"name": None,
                                                   "name_upper": "name.upper() if name else None"}})
    run = run_tap(config)
    companies = sandbox_records(hs, "companies")
    records = run.by_id("company")
    assert set(records) == set(companies)
    for rid, record in records.items():
        assert "name" not in record
        assert record["name_upper"] == companies[rid]["properties"]["name"].upper()
