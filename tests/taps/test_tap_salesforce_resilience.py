"""tap-salesforce under stress: injected faults, a SIGKILL mid-run, the daily quota, the API-call
budget, and the switch to Bulk API 2.0 for large objects."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys

import pytest

from tap_salesforce.sandbox import SalesforceSandbox
from tenantsync.tapkit.errors import FatalHttpError
from tests.taps.conftest import parse, rest_rows, run_tap, tap_config

BIG = 10_000


@pytest.fixture(scope="module")
def sf_big():
    """An org with 10,000 Accounts (five REST pages); tests reset faults, quota and counters."""
    with SalesforceSandbox(records=200, seed=3, counts={"company": BIG}) as sb:
        yield sb


@pytest.fixture
def big(sf_big):
    sf_big.faults.clear()
    sf_big.accounting.reset()
    sf_big.quota_limit = 100_000
    yield sf_big
    sf_big.faults.clear()
    sf_big.quota_limit = 100_000


def tap_subprocess(config: dict, tmp_path, state: dict | None = None) -> subprocess.Popen:
    (tmp_path / "config.json").write_text(json.dumps(config))
    args = [sys.executable, "-m", "tap_salesforce.tap", "--config", str(tmp_path / "config.json")]
    if state is not None:
        (tmp_path / "state.json").write_text(json.dumps(state))
        args += ["--state", str(tmp_path / "state.json")]
    return subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def test_injected_faults_are_survived_with_exact_data(sf):
    objects = {"standard_objects": ["Account", "Contact", "Task"],
               "common_objects": ["opportunity"]}
    specs = [
        {"kind": "status", "status": 429, "retry_after": 0.2, "path": r"/queryAll$", "count": 2},
        {"kind": "status", "status": 500, "path": r"/queryAll$", "count": 1},
        {"kind": "status", "status": 503, "path": r"/composite/batch$", "count": 1},
        {"kind": "status", "status": 502, "path": r"/oauth2/token$", "count": 1},
        {"kind": "reset", "path": r"/queryAll$", "count": 1},
        {"kind": "truncate", "path": r"/queryAll$", "count": 2},
        {"kind": "truncate", "path": r"/sobjects$", "count": 1},
        {"kind": "slow", "delay": 1.5, "path": r"/queryAll$", "count": 1},
    ]
    for spec in specs:
        sf.faults.add(**spec)
    sf.oauth.expire_access_tokens_after(4)  # every session dies after four calls
    run = run_tap(tap_config(sf, request_timeout=1.0, **objects))
    assert all(rule["fired"] == rule["count"] for rule in sf.faults.rules())
    snapshot = sf.accounting.snapshot()
    assert snapshot["rate_limit_violations"] == 0  # Retry-After was honoured
    assert snapshot["requests"]["oauth.token"] >= 4  # sessions were renewed

    sf.oauth.expire_access_tokens_after(None)
    for sobject in objects["standard_objects"]:
        expected = rest_rows(sf, sobject, [k for k in run.records[sobject][0]
                                           if not k.startswith("_sdc_")])
        assert {r["Id"]: {k: v for k, v in r.items() if k != "_sdc_deleted_at"}
                for r in run.records[sobject]} == expected
    assert sorted(run.ids("crm_opportunities")) == sorted(rest_rows(sf, "Opportunity", ["Id"]))


def test_a_killed_run_resumes_from_its_last_state_without_loss(big, tmp_path):
    config = tap_config(big, standard_objects=["Account"], api_type="rest")
    big.faults.add("slow", path=r"/query/", delay=5, count=1)  # the second page hangs
    proc = tap_subprocess(config, tmp_path)
    lines = []
    for line in proc.stdout:
        lines.append(line)
        msg = json.loads(line)
        if msg["type"] == "STATE" and \
                msg["value"]["bookmarks"].get("Account", {}).get("replication_key_value"):
            break
    os.kill(proc.pid, signal.SIGKILL)
    proc.communicate()
    big.faults.clear()  # the hang may not have been reached before the kill
    killed = parse(lines)
    assert 0 < len(killed.records["Account"]) < BIG
    version = killed.state["bookmarks"]["Account"]["tenantsync"]["full_sync_version"]
    assert version and not killed.versions

    resumed = run_tap(config, state=killed.state)
    everything = set(rest_rows(big, "Account", ["Id"]))
    assert set(killed.ids("Account")) | set(resumed.ids("Account")) == everything
    assert resumed.versions["Account"] == [version]  # the sweep keeps the original version
    # resumed from the bookmark, not from the start: only records of the bookmark's second
    # (SOQL datetimes have no fraction) are read again
    repeated = set(killed.ids("Account")) & set(resumed.ids("Account"))
    mark = killed.state["bookmarks"]["Account"]["replication_key_value"]
    assert repeated == {r["Id"] for r in killed.records["Account"]
                        if r["SystemModstamp"][:19] == mark[:19]}


def test_quota_guard_stops_cleanly_with_exit_0_and_the_next_run_resumes(big, tmp_path):
    big.quota_limit = 10  # describe 2 calls + 3 pages reach 50%: stop before the 4th page
    config = tap_config(big, standard_objects=["Account", "Contact"], quota_max_percent=50)
    proc = tap_subprocess(config, tmp_path)
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 0
    assert "Sync stopped early" in err and "quota_max_percent=50" in err
    stopped = parse(out.splitlines())
    assert len(stopped.records["Account"]) == 6000 and not stopped.records["Contact"]
    assert not stopped.versions
    account = stopped.state["bookmarks"]["Account"]
    assert account["tenantsync"]["full_sync_version"]
    assert big.accounting.snapshot()["quota"]["used"] == 5
    for secret in (config["client_secret"], config["refresh_token"]):
        assert secret not in err

    big.quota_limit = 100_000
    resumed = run_tap(config, state=stopped.state)
    assert set(stopped.ids("Account")) | set(resumed.ids("Account")) == \
        set(rest_rows(big, "Account", ["Id"]))
    assert resumed.versions["Account"] == [account["tenantsync"]["full_sync_version"]]
    assert len(resumed.records["Contact"]) == big.count("Contact", include_deleted=True)


def test_request_limit_exceeded_stops_cleanly_and_keeps_the_state(sf):
    from tap_salesforce.tap import TapSalesforce

    config = tap_config(sf, standard_objects=["Account", "Contact"], quota_max_percent=100)
    catalog = TapSalesforce(config=config).catalog_dict
    first = run_tap(config, catalog=catalog)
    sf.quota_limit = sf.accounting.quota_used()  # another integration used the rest today
    second = run_tap(config, catalog=catalog, state=first.state)
    assert not second.records and not second.versions
    assert second.state == first.state  # nothing lost: the next run starts from here
    assert sf.accounting.snapshot()["statuses"].get("403") == 1  # one refused call, no more


def test_api_calls_per_10000_records_stay_within_budget(big):
    rest = run_tap(tap_config(big, standard_objects=["Account"], api_type="rest"))
    assert len(rest.records["Account"]) == BIG
    calls = big.accounting.snapshot()["requests"]
    # one token, one global describe, one composite describe, 5 pages of 2,000 records
    assert calls == {"oauth.token": 1, "sobjects": 1, "composite.batch": 1, "queryAll": 1,
                     "query.more": 4}

    big.accounting.reset()
    bulk = run_tap(tap_config(big, standard_objects=["Account"], api_type="bulk2"))
    assert bulk.records["Account"] == rest.records["Account"]
    calls = big.accounting.snapshot()["requests"]
    # one job, two status polls, one results page of up to 50,000 records
    assert calls == {"oauth.token": 1, "sobjects": 1, "composite.batch": 1, "bulk2.create": 1,
                     "bulk2.status": 2, "bulk2.results": 1}


def test_auto_switches_to_bulk_after_the_first_page_of_a_large_object(big):
    run = run_tap(tap_config(big, standard_objects=["Account"], api_type="auto",
                             bulk_threshold=5000))
    calls = big.accounting.snapshot()["requests"]
    assert calls["queryAll"] == 1 and "query.more" not in calls and calls["bulk2.create"] == 1
    ids = run.ids("Account")
    assert set(ids) == set(rest_rows(big, "Account", ["Id"]))
    # the first REST page is not read again, apart from records at the bookmark
    assert len(ids) - BIG == len(ids) - len(set(ids)) < 50


def test_queries_salesforce_times_out_are_read_in_date_windows(sf):
    """An org that times out any query selecting more than 10 rows (QUERY_TIMEOUT): the tap
    reads every object in halved date windows, exactly, and its bookmark resumes from there."""
    objects = {"standard_objects": ["Account", "Contact"], "common_objects": ["opportunity"]}
    expected = {o: rest_rows(sf, o, ["Id", "SystemModstamp"]) for o in ("Account", "Contact")}
    sf.query_timeout_rows = 10
    try:
        run = run_tap(tap_config(sf, **objects))
        timeouts = sf.accounting.snapshot()["statuses"].get("400", 0)
        for sobject, rows in expected.items():
            got = {r["Id"]: r["SystemModstamp"] for r in run.records[sobject]}
            assert got == {i: r["SystemModstamp"] for i, r in rows.items()}
        assert len(run.records["crm_opportunities"]) == sf.count("Opportunity",
                                                                include_deleted=True)
        assert timeouts > 0  # the windows were needed
        # incremental from the bookmark: one change, read without re-reading everything
        sf.advance_clock(60)
        changed = next(iter(expected["Account"]))
        sf.update("Account", changed, {"Name": "Windowed Ltd"})
        again = run_tap(tap_config(sf, **objects), state=run.state)
        assert [r["Id"] for r in again.records["Account"]][-1] == changed
        assert len(again.records["Account"]) < 5
    finally:
        sf.query_timeout_rows = None


def test_a_query_that_times_out_even_over_a_minute_fails_clearly(sf):
    sf.query_timeout_rows = 0  # every query that selects anything times out
    try:
        with pytest.raises(FatalHttpError, match="timed out the query even over the minute"):
            run_tap(tap_config(sf, standard_objects=["Account"]))
    finally:
        sf.query_timeout_rows = None
