"""HubSpot twin rate limits: headers, 429s per policy, per-token windows, violation counting,
and injected faults in HubSpot's error shapes."""

from __future__ import annotations

import time

import pytest
import requests

from tap_hubspot.sandbox import HubSpotSandbox
from tap_hubspot.sandbox.ratelimit import RateLimits

LIST = "/crm/v3/objects/contacts?limit=1"
SEARCH = "/crm/v3/objects/contacts/search"


def _get(hs, token, path=LIST):
    return requests.get(hs.base_url + path, headers={"Authorization": f"Bearer {token}"},
                        timeout=10)


def _search(hs, token):
    return requests.post(hs.base_url + SEARCH, json={"limit": 1},
                         headers={"Authorization": f"Bearer {token}"}, timeout=10)


@pytest.fixture
def strict():
    limits = RateLimits(burst=4, interval_seconds=1, search_per_second=2, daily=1000)
    with HubSpotSandbox(records=50, enforce_rate_limit=True, rate_limits=limits) as hs:
        yield hs


def test_headers_on_every_call_daily_ones_only_for_private_apps():
    with HubSpotSandbox(records=50) as hs:
        private = hs.mint_private_app_token()
        first, second = _get(hs, private), _get(hs, private)
        h = second.headers
        assert h["X-HubSpot-RateLimit-Max"] == "100"
        assert h["X-HubSpot-RateLimit-Interval-Milliseconds"] == "10000"
        assert (first.headers["X-HubSpot-RateLimit-Remaining"], h["X-HubSpot-RateLimit-Remaining"]
                ) == ("99", "98")
        assert h["X-HubSpot-RateLimit-Daily"] == "250000"
        assert h["X-HubSpot-RateLimit-Daily-Remaining"] == "249998"
        oauth = _get(hs, hs.mint_access_token()).headers
        assert oauth["X-HubSpot-RateLimit-Remaining"] == "99"  # its own window
        assert "X-HubSpot-RateLimit-Daily" not in oauth


def test_burst_limit_answers_429_and_counts_impatient_clients(strict):
    token = strict.mint_private_app_token()
    assert [_get(strict, token).status_code for _ in range(4)] == [200] * 4
    assert _get(strict, strict.mint_private_app_token()).status_code == 200  # per token
    refused = _get(strict, token)
    assert refused.status_code == 429
    body = refused.json()
    assert (body["policyName"], body["errorType"]) == ("TEN_SECONDLY_ROLLING", "RATE_LIMIT")
    assert refused.headers["Retry-After"] == "1"
    assert refused.headers["X-HubSpot-RateLimit-Remaining"] == "0"
    assert strict.accounting.snapshot()["rate_limit_violations"] == 1
    assert _get(strict, token).status_code == 429  # did not wait for Retry-After
    assert strict.accounting.snapshot()["rate_limit_violations"] == 2
    time.sleep(1.05)  # what Retry-After asked for
    assert _get(strict, token).status_code == 200
    assert strict.accounting.snapshot()["rate_limit_violations"] == 2


def test_search_has_its_own_per_second_limit(strict):
    token = strict.mint_private_app_token()
    assert [_search(strict, token).status_code for _ in range(2)] == [200, 200]
    refused = _search(strict, token)
    assert refused.status_code == 429 and refused.json()["policyName"] == "SECONDLY"
    assert _get(strict, token).status_code == 200  # the burst window is separate


def test_daily_limit():
    with HubSpotSandbox(records=50, enforce_rate_limit=True,
                        rate_limits=RateLimits(daily=3)) as hs:
        token = hs.mint_private_app_token()
        assert [_get(hs, token).status_code for _ in range(3)] == [200] * 3
        refused = _get(hs, token)
        assert refused.status_code == 429
        assert refused.json()["policyName"] == "DAILY"
        assert "Retry-After" not in refused.headers


def test_unenforced_limits_serve_but_count_violations():
    with HubSpotSandbox(records=50, rate_limits=RateLimits(burst=3)) as hs:
        token = hs.mint_private_app_token()
        answers = [_get(hs, token) for _ in range(5)]
        assert [a.status_code for a in answers] == [200] * 5
        assert answers[-1].headers["X-HubSpot-RateLimit-Remaining"] == "0"
        snap = hs.accounting.snapshot()
        assert snap["rate_limit_violations"] == 2
        assert "TEN_SECONDLY_ROLLING" in snap["violations"][0]


def test_injected_faults_use_hubspot_error_shapes():
    with HubSpotSandbox(records=50) as hs:
        token = hs.mint_private_app_token()
        hs.faults.add("status", status=429, retry_after=2, path="/crm/v3/objects/contacts")
        hs.faults.add("status", status=503, path="/crm/v3/objects/contacts")
        limited = _get(hs, token)
        assert limited.status_code == 429 and limited.headers["Retry-After"] == "2"
        assert limited.json()["policyName"] == "TEN_SECONDLY_ROLLING"
        unavailable = _get(hs, token)
        assert unavailable.status_code == 503
        body = unavailable.json()
        assert body["status"] == "error" and body["correlationId"]
        assert _get(hs, token).status_code == 200
        assert hs.accounting.snapshot()["rate_limit_violations"] == 2  # both came too early
