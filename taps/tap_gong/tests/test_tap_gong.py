"""tap-gong against its twin: both kinds of connection (access key; OAuth with the account's
API host from the token response and the grant in the query), incremental reads by the call's
start, an empty window (Gong's 404) read as no rows, and the daily limit stopping cleanly."""

from __future__ import annotations

import io
import json
from contextlib import redirect_stdout

import pytest

from tap_gong.sandbox import GongSandbox
from tap_gong.spec import SPEC
from tap_gong.tap import TapGong
from tenantsync.sandbox.twinkit import Limits

FAST = {"backoff_base_seconds": 0.01, "requests_per_second": 50}


def run(config: dict, state: dict | None = None) -> tuple[dict[str, list], dict]:
    buf = io.TextIOWrapper(io.BytesIO(), encoding="utf-8")
    with redirect_stdout(buf):
        tap = TapGong(config=config, state=state)
        tap.sync_all()
    buf.seek(0)
    records: dict[str, list] = {}
    last = {}
    for line in buf.read().splitlines():
        m = json.loads(line)
        if m["type"] == "RECORD":
            records.setdefault(m["stream"], []).append(m["record"])
        elif m["type"] == "STATE":
            last = m["value"]
    return records, last


@pytest.fixture
def gong():
    with GongSandbox(records=230, seed=2, tls=False,
                     limits=Limits(burst=50, window=1.0, daily_budget=10_000,
                                   limit_header=None, remaining_header=None,
                                   reset_header=None)) as sb:
        yield sb


def test_access_key_then_incremental_reads_the_new_calls_only(gong):
    key, secret = gong.mint_access_key()
    config = {"access_key": key, "access_key_secret": secret, "api_base_url": gong.base_url,
              **FAST}
    records, state = run(config)
    for obj in SPEC.twin.objects:
        want = SPEC.twin.records(gong, obj)
        got = {str(r.get("id") or r.get("callId")): r for r in records[obj]}
        assert set(got) == set(want), obj
        assert all(got[k][f] == v for k, (fields, _) in want.items()
                   for f, v in fields.items()), obj
    gong.advance_clock(60)
    SPEC.twin.mutate(gong, 0)
    again, _ = run(config, state)
    # the bound is inclusive: the newest call of the first run is read again with the new one
    assert {r["title"] for r in again["call"]} >= {"New call 0 (renamed)"}
    assert len(again["call"]) <= 2 and len(again["detailedCall"]) <= 2
    assert len(again["callTranscript"]) == 231  # full only


def test_oauth_reads_the_api_host_from_the_token_response(gong):
    config = {**SPEC.twin.tap_config(gong), **FAST}
    assert "api_base_url" not in config  # the tap learns it from api_base_url_for_customer
    records, _ = run({**config, "standard_objects": ["call"]})
    assert len(records["call"]) == 230
    assert gong.accounting.snapshot()["requests"].get("oauth.token") == 1


def test_an_empty_window_is_gongs_404_read_as_no_rows(gong):
    key, secret = gong.mint_access_key()
    records, _ = run({"access_key": key, "access_key_secret": secret, **FAST,
                      "api_base_url": gong.base_url, "start_date": "2031-01-01T00:00:00Z",
                      "standard_objects": ["call", "detailedCall"]})
    assert records == {}


def test_the_daily_limit_stops_the_run_cleanly_with_its_bookmarks():
    limits = Limits(burst=50, window=1.0, daily_budget=2, limit_header=None,
                    remaining_header=None, reset_header=None)
    with GongSandbox(records=250, seed=2, tls=False, limits=limits,
                     enforce_rate_limit=True) as sb:
        key, secret = sb.mint_access_key()
        records, state = run({"access_key": key, "access_key_secret": secret, **FAST,
                              "api_base_url": sb.base_url, "standard_objects": ["call"]})
    assert len(records["call"]) == 200  # two pages, then the day's 429 (Retry-After: hours)
    assert state["bookmarks"]["call"]["replication_key_value"]
