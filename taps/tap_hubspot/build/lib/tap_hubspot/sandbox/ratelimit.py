"""HubSpot's burst rate limits (provider-apis.md §2.3), per access token, in real time.

- TEN_SECONDLY_ROLLING: at most `burst` requests in any rolling `interval_seconds` per token
  (100 / 10 s on Free/Starter portals);
- SECONDLY: the CRM search endpoints have their own limit, `search_per_second` per token;
  search requests do not also use up the burst window [U].

The DAILY limit is the portal's quota, counted by the framework's accounting (see the twin).
When limits are enforced, a refused request does not use up a window, so a client that waits as
told recovers; when they are only observed, every request counts. Real time, not the sandbox
clock, because clients back off in real time.
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
    policy: str | None  # None: within the limits; else the policy the request exceeds
    retry_after: int | None  # whole seconds until the window has room again
    remaining: int  # requests left in the burst window


MESSAGES = {
    "TEN_SECONDLY_ROLLING": "You have reached your ten_secondly_rolling limit.",
    "SECONDLY": "You have reached your secondly limit.",
    "DAILY": "You have reached your daily limit.",
}


class RateLimiter:
    def __init__(self, limits: RateLimits, monotonic: Callable[[], float] = time.monotonic):
        self.limits = limits
        self._now = monotonic
        self._lock = threading.Lock()
        self._burst: dict[str, deque[float]] = defaultdict(deque)
        self._search: dict[str, deque[float]] = defaultdict(deque)

    @staticmethod
    def _trim(window: deque[float], horizon: float) -> None:
        while window and window[0] <= horizon:
            window.popleft()

    def check(self, token: str, *, search: bool, enforce: bool) -> Verdict:
        """Judge one request of `token` and count it (unless enforced and refused)."""
        lim = self.limits
        with self._lock:
            now = self._now()
            burst = self._burst[token]
            self._trim(burst, now - lim.interval_seconds)
            if search:
                window, size, span, policy = (self._search[token], lim.search_per_second, 1.0,
                                              "SECONDLY")
                self._trim(window, now - span)
            else:
                window, size, span, policy = burst, lim.burst, lim.interval_seconds, \
                    "TEN_SECONDLY_ROLLING"
            over = len(window) >= size
            if not (over and enforce):
                window.append(now)
            retry = max(1, math.ceil(window[0] + span - now)) if over else None
            return Verdict(policy if over else None, retry, max(lim.burst - len(burst), 0))
