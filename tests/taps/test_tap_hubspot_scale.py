"""tap-hubspot at scale against the sandbox (slow): an incremental window of more than 10,000
changes, and a 50,000-record sync inside HubSpot's rate limits."""

from __future__ import annotations

import pytest

from tap_hubspot.sandbox import HubSpotSandbox
from tap_hubspot.sandbox.ratelimit import RateLimits
from tests.taps.hubspot_fixtures import oauth_config, run_tap, sandbox_records

pytestmark = pytest.mark.slow


def test_incremental_window_of_more_than_10000_changes():
    # 13,000 contacts: the generated world gives ~1.7% of them the same modified instant (the
    # sandbox clock's start), more than a search page, so that instant is walked by id.
    with HubSpotSandbox(records=100, seed=41, counts={"contact": 13_000}) as hs:
        config = oauth_config(hs, standard_objects=["contact"], lookback_seconds=0)
        first = run_tap(config)
        bookmark = first.state["bookmarks"]["contact"]["replication_key_value"]
        at_bookmark = {rid for rid, r in first.by_id("contact").items()
                       if r["lastmodifieddate"] == bookmark}
        hs.advance_clock(60)
        changed = sorted(set(sandbox_records(hs, "contacts")) - at_bookmark, key=int)[:10_150]
        for rid in changed:
            hs.update("contacts", rid, {"jobtitle": "Changed"})
        hs.delete("contacts", changed[-1])
        hs.accounting.reset()
        second = run_tap(config, state=first.state)
        records = second.records("contact")
        by_id = {r["id"]: r for r in records}
        assert len(at_bookmark) > 200
        assert set(by_id) == set(changed) | at_bookmark
        assert all(by_id[rid]["jobtitle"] == "Changed" for rid in changed[:-1])
        assert by_id[changed[-1]]["_supaglue_is_deleted"] is True
        # Keyset paging: each record once (a page's boundary instant is not emitted twice),
        # and one search per 200 records (+ the instant walked by id, + the last page).
        assert len(records) == len(by_id)
        searches = hs.accounting.snapshot()["requests"]["crm.objects.search"]
        assert searches <= len(by_id) // 200 + 4
        snapshot = hs.accounting.snapshot()
        assert snapshot["rate_limit_violations"] == 0, snapshot["violations"]
        assert "400" not in snapshot["statuses"]


def test_50000_record_sync_without_rate_limit_violations():
    limits = RateLimits(burst=150)  # a Professional portal
    with HubSpotSandbox(records=100, seed=42, counts={"contact": 50_000},
                        rate_limits=limits) as hs:
        config = oauth_config(hs, standard_objects=["contact"], common_objects=["user"])
        run = run_tap(config)
        live = sandbox_records(hs, "contacts")
        assert len(live) >= 50_000
        assert set(run.by_id("contact")) == set(live)
        assert len(run.records("contact")) == len(live)
        snapshot = hs.accounting.snapshot()
        assert snapshot["rate_limit_violations"] == 0, snapshot["violations"]
        assert "429" not in snapshot["statuses"]
        assert run.tap.client.pacer.rate_limited == 0
