"""Sync strategies, decided by the tap from its own Singer state.

Nothing outside the tap (Meltano, Airflow, a plain pipe) needs to know which run is full: each
stream's bookmark carries a small `tenantsync` entry,

    {"full_sync_version": <epoch ms when the running full sync began, or null>,
     "incrementals_since_full": <completed incremental runs since the last full sync>}

next to singer-sdk's `replication_key` / `replication_key_value`.

- A full sync reads everything (from `start_date` if set) in watermark order and, when it
  completes, the stream emits ACTIVATE_VERSION with `full_sync_version`. Interrupted, it keeps
  that version and its bookmark, and the next run resumes it (`>=` the bookmark).
- `full then incremental` (default): full first, then incremental from the bookmark; with
  `full_sync_every_n_incrementals = N > 0`, after N completed incremental runs the next run is
  full again (run 1 full, runs 2..N+1 incremental, run N+2 full, ...).
- `full only`: every run is a full sync.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

FULL_ONLY = "full only"
FULL_THEN_INCREMENTAL = "full then incremental"
STRATEGIES = (FULL_THEN_INCREMENTAL, FULL_ONLY)
STATE_KEY = "tenantsync"


@dataclass(frozen=True)
class Strategy:
    name: str = FULL_THEN_INCREMENTAL
    full_every_n_incrementals: int = 0  # 0: never force a full sync after the first

    def __post_init__(self) -> None:
        if self.name not in STRATEGIES:
            raise ValueError(f"sync_strategy must be one of {', '.join(map(repr, STRATEGIES))}; "
                             f"got {self.name!r}")
        if not isinstance(self.full_every_n_incrementals, int) or \
                self.full_every_n_incrementals < 0:
            raise ValueError("full_sync_every_n_incrementals must be an integer >= 0; got "
                             f"{self.full_every_n_incrementals!r}")


@dataclass(frozen=True)
class SyncPlan:
    full: bool
    version: int | None  # full syncs: the ACTIVATE_VERSION value
    resume_from: Any  # watermark to read from (inclusive), None: from the beginning
    reason: str


def plan_sync(stream_state: dict, strategy: Strategy, *, replication_key: str | None,
              now_ms: int) -> SyncPlan:
    """What this run of one stream does, from the stream's state alone."""
    progress = stream_state.get(STATE_KEY) or {}
    bookmark = (stream_state.get("replication_key_value")
                if replication_key and stream_state.get("replication_key") == replication_key
                else None)
    running = progress.get("full_sync_version")
    if running is not None:
        return SyncPlan(True, int(running), bookmark, "resuming an interrupted full sync")
    if not replication_key:
        return SyncPlan(True, now_ms, None, "no watermark field: every sync is full")
    if strategy.name == FULL_ONLY:
        return SyncPlan(True, now_ms, None, "strategy 'full only'")
    if bookmark is None:
        return SyncPlan(True, now_ms, None, "no bookmark yet: initial full sync")
    done = int(progress.get("incrementals_since_full") or 0)
    if strategy.full_every_n_incrementals and done >= strategy.full_every_n_incrementals:
        return SyncPlan(True, now_ms, None,
                        f"{done} incremental syncs since the last full sync")
    return SyncPlan(False, None, bookmark, "incremental from the bookmark")


def begin(stream_state: dict, plan: SyncPlan) -> None:
    """Record the plan before the first record, so an interruption can be resumed."""
    progress = stream_state.setdefault(STATE_KEY, {})
    progress.setdefault("incrementals_since_full", 0)
    if plan.full:
        progress["full_sync_version"] = plan.version
        if plan.resume_from is None:
            # A new full sync starts from the beginning; the old bookmark would both restart
            # it in the wrong place and fail the sortedness check of the first records.
            stream_state.pop("replication_key_value", None)


def complete(stream_state: dict, plan: SyncPlan) -> None:
    """Mark the run's plan done (after its last record and, for a full sync, ACTIVATE_VERSION)."""
    progress = stream_state.setdefault(STATE_KEY, {})
    if plan.full:
        progress["full_sync_version"] = None
        progress["incrementals_since_full"] = 0
    else:
        progress["incrementals_since_full"] = int(progress.get("incrementals_since_full") or 0) + 1
