"""Per-server accounting: what a client asked for and whether it behaved.

Tests read it to assert API-call efficiency (requests per endpoint, records served, quota used)
and politeness (rate-limit violations: requests sent before a Retry-After elapsed, or beyond the
provider's rate window). Time here is real monotonic time, because clients back off in real time.
"""

from __future__ import annotations

import threading
import time
from collections import Counter, deque
from dataclasses import dataclass

_KEPT_VIOLATIONS = 100


@dataclass(frozen=True)
class RateWindow:
    """A provider's burst limit: at most `max_requests` in any `seconds`-long sliding window."""

    max_requests: int
    seconds: float


@dataclass(frozen=True)
class Admission:
    """What `Accounting.admit` learned about one request."""

    violation: str | None  # why this request was impolite, if it was
    over_rate: bool  # the request exceeds the rate window (a twin may answer 429)


class Accounting:
    def __init__(self, *, rate_window: RateWindow | None = None, quota_limit: int | None = None):
        self.rate_window = rate_window
        self.quota_limit = quota_limit
        self._lock = threading.Lock()
        self.reset()

    def reset(self) -> None:
        with self._lock:
            self._requests: Counter[str] = Counter()
            self._statuses: Counter[int] = Counter()
            self._records: Counter[str] = Counter()
            self._quota_used = 0
            self._violations: deque[str] = deque(maxlen=_KEPT_VIOLATIONS)
            self._violation_count = 0
            self._not_before = 0.0
            self._recent: deque[float] = deque()

    def admit(self, endpoint: str) -> Admission:
        """Count a request to `endpoint` and judge its timing."""
        now = time.monotonic()
        with self._lock:
            self._requests[endpoint] += 1
            violation = None
            if now < self._not_before:
                violation = (f"{endpoint}: sent {self._not_before - now:.3f}s before "
                             "the Retry-After elapsed")
            over_rate = False
            if self.rate_window is not None:
                horizon = now - self.rate_window.seconds
                while self._recent and self._recent[0] <= horizon:
                    self._recent.popleft()
                over_rate = len(self._recent) >= self.rate_window.max_requests
                self._recent.append(now)
                if over_rate and violation is None:
                    violation = (f"{endpoint}: more than {self.rate_window.max_requests} "
                                 f"requests in {self.rate_window.seconds:g}s")
            if violation is not None:
                self._violation_count += 1
                self._violations.append(violation)
            return Admission(violation, over_rate)

    def violation(self, reason: str) -> None:
        """Count a violation the twin judged itself (e.g. a per-token or per-endpoint window)."""
        with self._lock:
            self._violation_count += 1
            self._violations.append(reason)

    def backoff(self, seconds: float) -> None:
        """The server told the client to wait (Retry-After): requests before then are violations."""
        with self._lock:
            self._not_before = max(self._not_before, time.monotonic() + seconds)

    def use_quota(self, units: int = 1) -> int:
        """Charge the provider's quota; returns the quota used so far (including this charge)."""
        with self._lock:
            self._quota_used += units
            return self._quota_used

    def quota_used(self) -> int:
        with self._lock:
            return self._quota_used

    def served(self, endpoint: str, records: int, status: int) -> None:
        with self._lock:
            self._statuses[status] += 1
            if records:
                self._records[endpoint] += records

    def snapshot(self) -> dict:
        """Everything counted since the last reset, as plain JSON-able data."""
        with self._lock:
            return {
                "requests": dict(self._requests),
                "total_requests": sum(self._requests.values()),
                "statuses": {str(k): v for k, v in sorted(self._statuses.items())},
                "records_served": dict(self._records),
                "total_records_served": sum(self._records.values()),
                "quota": {"used": self._quota_used, "limit": self.quota_limit},
                "rate_limit_violations": self._violation_count,
                "violations": list(self._violations),
            }
