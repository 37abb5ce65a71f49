"""HubSpot's rate limits (provider-apis.md §2.3), per access token, in real time.

- TEN_SECONDLY_ROLLING: at most `burst` requests in any rolling `interval` (100 / 10 s on
  Free/Starter portals) per token;
- SECONDLY: the CRM search endpoints have their own limit, `search_per_second` per token; search
  requests do not also use up the burst window [U];
- DAILY: at most `daily` requests per portal per day, counted since the twin started or the
  last `reset_daily`.

Only requests that are let through use up a window, so a client that waits as told recovers.
Real time (not the sandbox clock) because clients back off in real time.
"""

from __future__ import annotations

import math
import threading
import time
from collections import defaultdict, deque
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class RateLimits:
    burst: int = 100
    interval_seconds: float = 10.0
    search_per_second: int = 5
    daily: int = 250_000

    def __post_init__(self):
        if min(self.burst, self.search_per_second, self.daily) < 1 or self.interval_seconds <= 0:
            raise ValueError(f"rate limits must be positive: {self}")


@dataclass(frozen=True)
class Verdict:
    policy: str | None  # None: let through; else the policy that refused it
    retry_after: int | None  # whole seconds, for a refused request
    headers: dict[str, str]


_MESSAGES = {
    "TEN_SECONDLY_ROLLING": "You have reached your ten_secondly_rolling limit.",
    "SECONDLY": "You have reached your secondly limit.",
    "DAILY": "You have reached your daily limit.",
}


def limit_message(policy: str) -> str:
    return _MESSAGES[policy]


class RateLimiter:
    def __init__(self, limits: RateLimits | None = None,
                 monotonic: Callable[[], float] = time.monotonic):
        self.limits = limits or RateLimits()
        self._now = monotonic
        self._lock = threading.Lock()
        self._burst: dict[str, deque[float]] = defaultdict(deque)
        self._search: dict[str, deque[float]] = defaultdict(deque)
        self._daily_used = 0

    def reset_daily(self) -> None:
        with self._lock:
            self._daily_used = 0

    @staticmethod
    def _trim(window: deque[float], horizon: float) -> None:
        while window and window[0] <= horizon:
            window.popleft()

    def check(self, token: str, *, search: bool, daily_headers: bool) -> Verdict:
        """Judge one request of `token`; counts it when it is let through."""
        lim = self.limits
        with self._lock:
            now = self._now()
            burst = self._burst[token]
            self._trim(burst, now - lim.interval_seconds)
            policy, retry_after = None, None
            if self._daily_used >= lim.daily:
                policy, retry_after = "DAILY", None
            elif search:
                window = self._search[token]
                self._trim(window, now - 1.0)
                if len(window) >= lim.search_per_second:
                    policy, retry_after = "SECONDLY", window[0] + 1.0 - now
                else:
                    window.append(now)
            elif len(burst) >= lim.burst:
                policy = "TEN_SECONDLY_ROLLING"
                retry_after = burst[0] + lim.interval_seconds - now
            else:
                burst.append(now)
            if policy is None:
                self._daily_used += 1
            headers = {
                "X-HubSpot-RateLimit-Interval-Milliseconds": str(int(lim.interval_seconds * 1000)),
                "X-HubSpot-RateLimit-Max": str(lim.burst),
                "X-HubSpot-RateLimit-Remaining": str(max(lim.burst - len(burst), 0)),
            }
            # OAuth-authenticated calls do not get the daily headers (HubSpot changelog).
            if daily_headers:
                headers["X-HubSpot-RateLimit-Daily"] = str(lim.daily)
                headers["X-HubSpot-RateLimit-Daily-Remaining"] = str(
                    max(lim.daily - self._daily_used, 0))
            seconds = None if retry_after is None else max(1, math.ceil(retry_after))
            return Verdict(policy, seconds, headers)
