"""tap-salesforce against the Salesforce sandbox: exact full syncs, incremental changes and
deletes, strategies, catalogs, Bulk API 2.0, rotated tokens."""

from __future__ import annotations

import json
import os
import stat
import threading
import time

import pytest

from tenantsync.tapkit.errors import AuthError
from tenantsync.tapkit.key_order import jsonb_order
from tests.taps import sinks
from tests.taps.conftest import rest_rows, run_tap, tap_config

RAW = ["Account", "Contact", "Task", "User", "AccountHistory"]
COMMON = ["account", "contact", "lead", "opportunity", "user"]


def data_keys(record: dict) -> list[str]:
    return [k for k in record if not k.startswith("_sdc_")]


def test_full_sync_equals_the_org_exactly(sf_shared):
    sb = sf_shared
    run = run_tap(tap_config(sb, standard_objects=RAW, custom_objects=["Invoice__c"],
                             common_objects=COMMON))
    for sobject, stream in [*((o, o) for o in RAW), ("Invoice__c", "custom__Invoice__c")]:
        records = run.records[stream]
        expected = rest_rows(sb, sobject, data_keys(records[0]))
        assert len(records) == sb.count(sobject, include_deleted=True) == len(expected)
        got = {r["Id"]: r for r in records}
        for rid, row in expected.items():
            record = dict(got[rid])
            deleted_at = record.pop("_sdc_deleted_at", None)
            assert record == row, (stream, rid)
            # deleted rows carry the Singer delete marker, live ones do not
            assert bool(deleted_at) == bool(row.get("IsDeleted")), (stream, rid)
        assert run.versions[stream] and len(run.versions[stream]) == 1
    # the org holds records in its recycle bin, and the tap marked them deleted
    assert any(r.get("_sdc_deleted_at") for o in RAW for r in run.records[o])

    for name, sobject in (("crm_accounts", "Account"), ("crm_contacts", "Contact"),
                          ("crm_leads", "Lead"), ("crm_opportunities", "Opportunity"),
                          ("crm_users", "User")):
        records = run.records[name]
        expected = rest_rows(sb, sobject, list(records[0]["raw_data"]))
        assert {r["id"]: r["raw_data"] for r in records} == expected
        for r in records:
            raw = r["raw_data"]
            assert r["is_deleted"] == bool(raw.get("IsDeleted"))
            assert r["last_modified_at"][:23] == raw["SystemModstamp"][:23]
            if name == "crm_opportunities":
                assert r["status"] == ("WON" if raw["IsWon"] else
                                       "LOST" if raw["IsClosed"] else "OPEN")
                assert r["amount"] == raw["Amount"] and r["account_id"] == raw["AccountId"]
            if name == "crm_accounts":
                kinds = [a["address_type"] for a in r["addresses"]]
                assert ("billing" in kinds) == bool(raw["BillingCity"] or raw["BillingStreet"])
                assert r["owner_id"] == raw["OwnerId"] and r["name"] == raw["Name"]
            if name == "crm_contacts":
                assert r["email_addresses"] == ([{"email_address": raw["Email"],
                                                  "email_address_type": "primary"}]
                                                if raw["Email"] else [])
    final = run.state["bookmarks"]["Account"]
    assert final["tenantsync"] == {"full_sync_version": None, "incrementals_since_full": 0}


def test_incremental_sync_returns_exactly_the_changed_and_deleted_records(sf):
    config = tap_config(sf, standard_objects=["Account"], common_objects=["account"])
    first = run_tap(config)
    bookmark = first.state["bookmarks"]["Account"]["replication_key_value"]
    # re-read: records in the bookmark's second (`>=`, and SOQL datetimes have no fraction),
    # except those at the bookmark itself, which the bookmark remembers as sent
    at_bookmark = {r["Id"] for r in first.records["Account"]
                   if r["SystemModstamp"][:19] == bookmark[:19]
                   and r["SystemModstamp"] != bookmark}

    sf.advance_clock(3600)
    live = [r["Id"] for r in first.records["Account"] if not r["IsDeleted"]]
    sf.update("Account", live[0], {"Name": "Renamed Inc."})
    sf.update("Account", live[1], {"NumberOfEmployees": 4321})
    sf.delete("Account", live[2])
    created = sf.create("Account", {"Name": "Brand New Co"})["Id"]

    second = run_tap(config, state=first.state)
    changed = {live[0], live[1], live[2], created}
    assert set(second.ids("Account")) == changed | at_bookmark
    assert set(second.ids("crm_accounts")) == changed | at_bookmark
    got = {r["Id"]: r for r in second.records["Account"]}
    assert got[live[0]]["Name"] == "Renamed Inc."
    assert got[live[1]]["NumberOfEmployees"] == 4321
    assert got[live[2]]["IsDeleted"] is True and got[live[2]]["_sdc_deleted_at"]
    common = {r["id"]: r for r in second.records["crm_accounts"]}
    assert common[live[2]]["is_deleted"] is True and common[created]["name"] == "Brand New Co"
    assert not second.versions  # incremental: no delete sweep
    progress = second.state["bookmarks"]["Account"]["tenantsync"]
    assert progress == {"full_sync_version": None, "incrementals_since_full": 1}


def test_full_sync_every_two_incrementals_runs_full_on_the_fourth_run(sf):
    config = tap_config(sf, standard_objects=["Account"], full_sync_every_n_incrementals=2)
    state, kinds = None, []
    for _ in range(4):
        run = run_tap(config, state=state)
        state = run.state
        kinds.append("full" if run.versions.get("Account") else "incremental")
        if kinds[-1] == "full":
            assert len(run.records["Account"]) == sf.count("Account", include_deleted=True)
    assert kinds == ["full", "incremental", "incremental", "full"]


def test_full_only_sweeps_every_run_with_a_new_version(sf):
    config = tap_config(sf, custom_objects=["Invoice__c"],
                        sync_strategy="full only")
    first = run_tap(config)
    second = run_tap(config, state=first.state)
    total = sf.count("Invoice__c", include_deleted=True)
    for run in (first, second):
        assert len(run.records["custom__Invoice__c"]) == total
    assert first.versions["custom__Invoice__c"] != second.versions["custom__Invoice__c"]


def test_a_catalog_run_makes_no_describe_calls_and_selects_only_chosen_fields(sf):
    config = tap_config(sf, standard_objects=["Account"], common_objects=["opportunity"])
    from tap_salesforce.tap import TapSalesforce

    catalog = TapSalesforce(config=config).catalog_dict
    for entry in catalog["streams"]:
        for md in entry["metadata"]:
            crumb = md["breadcrumb"]
            if entry["tap_stream_id"] == "Account" and crumb and \
                    crumb[-1] not in ("Name", "Industry") and \
                    md["metadata"].get("inclusion") != "automatic":
                md["metadata"]["selected"] = False
    sf.accounting.reset()
    run = run_tap(config, catalog=catalog)
    requests = sf.accounting.snapshot()["requests"]
    assert "sobjects" not in requests and "composite.batch" not in requests
    assert {tuple(sorted(r)) for r in run.records["Account"] if not r["IsDeleted"]} == \
        {("Id", "Industry", "IsDeleted", "Name", "SystemModstamp")}
    assert len(run.records["crm_opportunities"]) == sf.count("Opportunity", include_deleted=True)


def test_bulk2_returns_the_same_records_as_rest(sf):
    objects = {"standard_objects": ["Account", "Task"], "custom_objects": ["Invoice__c"],
               "common_objects": ["opportunity"]}
    rest = run_tap(tap_config(sf, api_type="rest", **objects))
    sf.accounting.reset()
    bulk = run_tap(tap_config(sf, api_type="bulk2", **objects))
    assert "queryAll" not in sf.accounting.snapshot()["requests"]
    for stream in ("Account", "Task", "custom__Invoice__c", "crm_opportunities"):
        assert bulk.records[stream] == rest.records[stream], stream
        assert bulk.versions[stream]
    for run in (rest, bulk):  # keys in jsonb's order, so PostgreSQL's parse skips its sort
        rows = [data_keys(r) for s in ("Account", "Task", "custom__Invoice__c")
                for r in run.records[s]]
        rows += [list(r["raw_data"]) for r in run.records["crm_opportunities"]]
        assert all(keys == jsonb_order(keys) for keys in rows)


def abort_jobs(sb, how_many: int, stop: threading.Event) -> None:
    """Abort the next `how_many` Bulk jobs through the API as they appear, as an admin would
    (a failed job looks the same to the tap), then let later jobs complete."""
    import requests

    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {sb.mint_access_token()}"
    jobs_url = f"{sb.base_url}/services/data/v61.0/jobs/query"
    aborted: set[str] = set()
    while not stop.is_set() and len(aborted) < how_many:
        for job in session.get(jobs_url).json()["records"]:
            if job["id"] not in aborted and job["state"] in ("UploadComplete", "InProgress"):
                session.patch(f"{jobs_url}/{job['id']}", json={"state": "Aborted"})
                aborted.add(job["id"])
        time.sleep(0.01)
    sb.bulk_polls = 2


@pytest.mark.parametrize("failures", [1, 2])
def test_a_failed_bulk_job_is_retried_then_rest_takes_over(sf, failures):
    sf.bulk_polls = 10**9  # jobs stay InProgress until the helper aborts them
    stop = threading.Event()
    helper = threading.Thread(target=abort_jobs, args=(sf, failures, stop), daemon=True)
    helper.start()
    try:
        run = run_tap(tap_config(sf, api_type="bulk2", standard_objects=["Account"]))
    finally:
        stop.set()
        helper.join()
    requests = sf.accounting.snapshot()["requests"]
    assert requests["bulk2.create"] == 2
    assert ("queryAll" in requests) == (failures == 2)
    assert sorted(run.ids("Account")) == sorted(rest_rows(sf, "Account", ["Id"]))


def test_bulk_refused_for_an_object_falls_back_to_rest(sf):
    sf.faults.add("status", status=400, path=r"/jobs/query$", method="POST", count=1)
    run = run_tap(tap_config(sf, api_type="bulk2", custom_objects=["Invoice__c"]))
    assert sorted(run.ids("custom__Invoice__c")) == sorted(rest_rows(sf, "Invoice__c", ["Id"]))


def test_rotated_refresh_tokens_reach_the_file_store_and_the_callback(sf, tmp_path):
    sf.oauth.rotate_refresh_tokens = True
    store = tmp_path / "tokens.json"
    sinks.RECEIVED.clear()
    config = tap_config(sf, standard_objects=["User"], token_store_path=str(store),
                        token_sink="tests.taps.sinks:keep")
    first = run_tap(config)
    saved = json.loads(store.read_text())
    assert stat.S_IMODE(os.stat(store).st_mode) == 0o600
    assert saved["refresh_token"] != config["refresh_token"]
    assert saved["instance_url"] == sf.base_url
    assert [u.refresh_token for u in sinks.RECEIVED] == [saved["refresh_token"]]

    # The configured token was rotated away: alone it no longer works ...
    with pytest.raises(AuthError, match="invalid_grant"):
        run_tap({k: v for k, v in config.items() if k not in ("token_store_path", "token_sink")})
    # ... but the next run with the same configuration reads the store and succeeds.
    sf.advance_clock(60)
    changed = first.records["User"][0]["Id"]
    sf.update("User", changed, {"Title": "Rotated"})
    second = run_tap(config, state=first.state)
    assert [r["Id"] for r in second.records["User"]] == [changed]
    assert json.loads(store.read_text())["refresh_token"] != saved["refresh_token"]


def test_start_date_bounds_the_first_full_sync(sf):
    every = rest_rows(sf, "Account", ["Id", "SystemModstamp"])
    stamps = sorted(r["SystemModstamp"] for r in every.values())
    start = stamps[len(stamps) // 2]
    run = run_tap(tap_config(sf, standard_objects=["Account"],
                             start_date=start[:19] + "Z"))
    assert set(run.ids("Account")) == {rid for rid, r in every.items()
                                       if r["SystemModstamp"][:19] >= start[:19]}


def test_access_token_mode_works_and_says_what_to_do_once_it_expires(sf):
    config = {"access_token": sf.mint_access_token(), "instance_url": sf.base_url,
              "standard_objects": ["User"], "backoff_base_seconds": 0.01}
    assert len(run_tap(config).records["User"]) == sf.count("User")
    sf.oauth.expire_access_tokens()
    with pytest.raises(AuthError, match="configure client_id, client_secret and refresh_token"):
        run_tap(config)


def test_settings_come_from_environment_variables(sf, monkeypatch):
    from tap_salesforce.tap import TapSalesforce

    config = tap_config(sf)
    for key in ("client_id", "client_secret", "refresh_token", "login_url"):
        monkeypatch.setenv(f"TAP_SALESFORCE_{key.upper()}", config[key])
    monkeypatch.setenv("TAP_SALESFORCE_CUSTOM_OBJECTS", '["Invoice__c"]')
    tap = TapSalesforce(config={}, parse_env_config=True)
    assert [s["tap_stream_id"] for s in tap.catalog_dict["streams"]] == ["custom__Invoice__c"]


def test_a_stream_forced_to_full_table_in_the_catalog_is_full_every_run(sf):
    from tap_salesforce.tap import TapSalesforce

    config = tap_config(sf, standard_objects=["Account", "User"])
    catalog = TapSalesforce(config=config).catalog_dict
    for entry in catalog["streams"]:
        if entry["tap_stream_id"] == "Account":
            entry["replication_method"] = "FULL_TABLE"
            root = next(md for md in entry["metadata"] if md["breadcrumb"] == [])
            root["metadata"]["forced-replication-method"] = "FULL_TABLE"
    first = run_tap(config, catalog=catalog)
    second = run_tap(config, catalog=catalog, state=first.state)
    assert len(second.records["Account"]) == sf.count("Account", include_deleted=True)
    assert second.versions["Account"] and second.versions["Account"] != first.versions["Account"]
    assert not second.versions.get("User")  # the other stream went incremental


def test_an_untrusted_certificate_fails_at_once_and_says_so(sf):
    from tenantsync.tapkit.errors import FatalHttpError

    config = tap_config(sf, login_url=sf.https_base_url, standard_objects=["User"])
    with pytest.raises(FatalHttpError, match="TLS failed") as info:
        run_tap(config)
    assert "gave up" not in str(info.value)  # not retried: a certificate does not heal
