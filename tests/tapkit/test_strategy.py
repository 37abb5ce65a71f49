"""Sync strategies decided from the stream's own state, run after run."""

from __future__ import annotations

import pytest

from tenantsync.tapkit.strategy import (
    FULL_ONLY,
    FULL_THEN_INCREMENTAL,
    STATE_KEY,
    Strategy,
    begin,
    complete,
    plan_sync,
)

RK = "SystemModstamp"


def run(state, strategy, now, bookmark=None, interrupted=False):
    """One run of a stream: plan, begin, emit (bookmark), complete unless interrupted."""
    plan = plan_sync(state, strategy, replication_key=RK, now_ms=now)
    begin(state, plan)
    if bookmark is not None:
        state["replication_key"], state["replication_key_value"] = RK, bookmark
    if not interrupted:
        complete(state, plan)
    return plan


def test_full_then_incremental_with_a_full_every_two_incrementals():
    state, strategy = {}, Strategy(FULL_THEN_INCREMENTAL, 2)
    kinds = []
    for n in range(7):
        plan = run(state, strategy, now=1000 + n, bookmark=f"2024-01-0{n + 1}")
        kinds.append("F" if plan.full else "I")
    assert kinds == ["F", "I", "I", "F", "I", "I", "F"]


def test_incremental_reads_from_the_bookmark_forever_by_default():
    state = {}
    assert run(state, Strategy(), 1, bookmark="b1").full
    for _ in range(5):
        plan = run(state, Strategy(), 2, bookmark="b2")
        assert not plan.full and plan.resume_from in ("b1", "b2")
    assert state[STATE_KEY]["incrementals_since_full"] == 5


def test_full_only_always_starts_over_with_a_new_version():
    state = {}
    first = run(state, Strategy(FULL_ONLY), 100, bookmark="b1")
    second = run(state, Strategy(FULL_ONLY), 200, bookmark="b2")
    assert (first.full, first.version, first.resume_from) == (True, 100, None)
    assert (second.full, second.version, second.resume_from) == (True, 200, None)


def test_an_interrupted_full_sync_resumes_with_its_version_and_bookmark():
    state = {}
    run(state, Strategy(), 100, bookmark="b-mid", interrupted=True)
    assert state[STATE_KEY]["full_sync_version"] == 100
    resumed = run(state, Strategy(), 999, interrupted=True)  # interrupted again, no records
    assert (resumed.full, resumed.version, resumed.resume_from) == (True, 100, "b-mid")
    done = run(state, Strategy(), 2000, bookmark="b-end")
    assert (done.version, done.resume_from) == (100, "b-mid")
    assert state[STATE_KEY] == {"full_sync_version": None, "incrementals_since_full": 0}
    assert not run(state, Strategy(), 3000).full


def test_a_new_full_sync_drops_the_old_bookmark():
    state = {"replication_key": RK, "replication_key_value": "2030-01-01",
             STATE_KEY: {"incrementals_since_full": 3}}
    plan = plan_sync(state, Strategy(FULL_THEN_INCREMENTAL, 3), replication_key=RK, now_ms=5)
    begin(state, plan)
    assert plan.full and "replication_key_value" not in state


def test_a_changed_replication_key_means_a_full_sync():
    state = {"replication_key": "LastModifiedDate", "replication_key_value": "x"}
    assert plan_sync(state, Strategy(), replication_key=RK, now_ms=1).full


def test_streams_without_a_watermark_are_always_full():
    plan = plan_sync({}, Strategy(), replication_key=None, now_ms=7)
    assert plan.full and plan.version == 7


def test_bad_strategy_settings_are_named():
    with pytest.raises(ValueError, match="sync_strategy"):
        Strategy("sometimes")
    with pytest.raises(ValueError, match="full_sync_every_n_incrementals"):
        Strategy(FULL_ONLY, -1)
