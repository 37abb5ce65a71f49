"""tap-linear against its twin: full then incremental syncs equal to the twin's nodes
(archived ones flagged deleted), API-key and OAuth connections (rotated refresh tokens kept),
Linear's rate-limit buckets paced without a violation or stopping the run cleanly."""

from __future__ import annotations

import pytest
import requests

from tap_linear.objects import OBJECTS, PAGE_SIZE, complexity, query
from tap_linear.sandbox import LinearSandbox
from tap_linear.sandbox.limits import RateLimits
from tap_linear.tests.helpers import raw, run_tap


@pytest.fixture
def lin():
    with LinearSandbox(records=1000, seed=5, tls=False) as sb:
        yield sb


def _key_config(sb, **extra) -> dict:
    return {"api_key": sb.mint_api_key(), "base_url": sb.base_url, **extra}


def _nodes(sb, obj: str) -> dict[str, tuple[dict, bool]]:
    return {doc["id"]: (doc, deleted) for doc, deleted in sb.all_records(obj)}


def test_full_then_incremental_syncs_equal_the_twin(lin):
    config = _key_config(lin)
    first = run_tap(config)
    for obj in OBJECTS:
        assert {k: raw(r) for k, r in first.by_id(obj).items()} == \
            {k: doc for k, (doc, _) in _nodes(lin, obj).items()}, obj
        assert first.versions[obj], obj  # a first sync is full: ACTIVATE_VERSION

    lin.advance_clock(5)
    created = lin.create("issues", {"title": "New issue"})
    issue = next(iter(_nodes(lin, "issues")))
    lin.delete("issues", issue)  # archived: Linear's soft delete
    comment = next(iter(_nodes(lin, "comments")))
    lin.update("comments", comment, {"body": "edited"})
    second = run_tap(config, first.state)

    def changed(obj):  # beyond the records at the bookmark's instant (gte: read again)
        mark = first.state["bookmarks"][obj]["replication_key_value"]
        return {k for k, r in second.by_id(obj).items() if r["updatedAt"] != mark}

    assert changed("issues") == {created["id"], issue}
    archived = second.by_id("issues")[issue]
    assert archived["_supaglue_is_deleted"] is True and archived["archivedAt"]
    assert archived["_supaglue_last_modified_at"].startswith(archived["updatedAt"][:19])
    assert raw(second.by_id("issues")[created["id"]]) == lin.get_record("issues", created["id"])
    assert changed("comments") == {comment}
    assert changed("users") == changed("teams") == changed("projects") == set()
    assert not second.versions["issues"]  # incremental: no new version


def test_oauth_refresh_tokens_rotate_and_the_store_keeps_the_new_one(lin, tmp_path):
    config = {"client_id": lin.client_id, "client_secret": lin.client_secret,
              "refresh_token": lin.mint_refresh_token(), "base_url": lin.base_url,
              "standard_objects": ["teams"], "token_store_path": str(tmp_path / "tokens")}
    assert run_tap(config).by_id("teams")
    refused = requests.post(lin.base_url + "/oauth/token", data={
        "grant_type": "refresh_token", "refresh_token": config["refresh_token"],
        "client_id": lin.client_id, "client_secret": lin.client_secret}, timeout=30)
    assert refused.status_code == 400 and refused.json()["error"] == "invalid_grant"
    again = run_tap(config)  # the stored rotation, not the spent configured token
    assert again.by_id("teams") and not again.tap.stop_reason


def test_api_key_is_the_whole_authorization_header(lin):
    key = lin.mint_api_key()
    query = {"query": "{ viewer { id name } }"}
    url = lin.base_url + "/graphql"
    ok = requests.post(url, json=query, headers={"Authorization": key}, timeout=30)
    assert ok.status_code == 200 and ok.json()["data"]["viewer"]["name"]
    bearer = requests.post(url, json=query, headers={"Authorization": f"Bearer {key}"},
                           timeout=30)
    assert bearer.status_code == 401
    assert bearer.json()["errors"][0]["extensions"]["code"] == "AUTHENTICATION_ERROR"


def test_the_taps_complexity_estimate_is_what_the_twin_charges(lin):
    key = lin.mint_api_key()
    for obj in OBJECTS:
        charged = requests.post(lin.base_url + "/graphql", headers={"Authorization": key},
                                json={"query": query(obj), "variables": {"first": PAGE_SIZE}},
                                timeout=30)
        assert charged.status_code == 200, charged.text
        assert int(charged.headers["X-Complexity"]) == complexity(obj), obj
        assert int(charged.headers["X-RateLimit-Complexity-Remaining"]) < 250_000


def test_rate_limit_buckets_are_paced_without_violations():
    """Buckets that one sync overdraws (an hour shortened to 3 s): the tap waits for the
    refill the headers announce; the twin refuses nothing and counts no violation."""
    limits = RateLimits(requests=50, complexity=4_000, window=3.0)
    with LinearSandbox(records=1000, seed=5, tls=False, rate_limits=limits,
                       enforce_rate_limit=True) as sb:
        run = run_tap(_key_config(sb))
        assert run.tap.client.pacer.waits >= 1
        assert sb.accounting.snapshot()["rate_limit_violations"] == 0
        assert {obj: len(run.by_id(obj)) for obj in OBJECTS} == \
            {obj: len(_nodes(sb, obj)) for obj in OBJECTS}


def test_a_long_refill_stops_the_run_cleanly_and_the_next_resumes():
    limits = RateLimits(requests=50, complexity=4_000, window=3600.0)
    with LinearSandbox(records=1000, seed=5, tls=False, rate_limits=limits,
                       enforce_rate_limit=True) as sb:
        config = _key_config(sb, max_rate_limit_wait=1)
        first = run_tap(config)
        assert first.tap.stop_reason and "rate limit" in first.tap.stop_reason
        done = {obj for obj in OBJECTS if first.by_id(obj)}
        assert done and done != set(OBJECTS)
        sb.meter.limits = RateLimits(window=3600.0)  # an hour later
        sb.meter._buckets.clear()
        second = run_tap(config, first.state)
        for obj in set(OBJECTS) - done:
            assert len(second.by_id(obj)) == len(_nodes(sb, obj)), obj
        assert sb.accounting.snapshot()["rate_limit_violations"] == 0
