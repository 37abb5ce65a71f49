"""Linear's rate limits: leaky buckets per credential, one counting requests and one counting
complexity points, each refilling continuously over an hour (developers.linear.app, rate
limiting). Their state goes out on every response as `X-RateLimit-Requests-*` and
`X-RateLimit-Complexity-*` (resets in epoch milliseconds: when the bucket is full again)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass
class Bucket:
    capacity: float
    window: float  # seconds to refill from empty
    level: float = -1.0  # points left (-1: full on first use)
    at: float = field(default_factory=time.monotonic)

    def _refill(self, now: float) -> None:
        if self.level < 0:
            self.level = self.capacity
        self.level = min(self.capacity, self.level + (now - self.at) * self.capacity / self.window)
        self.at = now

    def take(self, points: float, now: float) -> bool:
        """Spend `points` if the bucket holds them."""
        self._refill(now)
        if points > self.level:
            return False
        self.level -= points
        return True

    def remaining(self, now: float) -> int:
        self._refill(now)
        return int(self.level)

    def reset_ms(self, now: float, wall: float) -> int:
        """When the bucket is full again, in epoch milliseconds."""
        self._refill(now)
        return int((wall + (self.capacity - self.level) * self.window / self.capacity) * 1000)


@dataclass(frozen=True)
class RateLimits:
    """Per credential and `window` (an hour; tests shorten it): `requests`, `complexity`
    points. A single query above `max_complexity` is refused whatever the buckets hold."""

    requests: int = 5_000
    complexity: int = 250_000
    max_complexity: int = 10_000
    window: float = 3600.0


class Meter:
    def __init__(self, limits: RateLimits, clock: Callable[[], float] = time.monotonic):
        self.limits = limits
        self._clock = clock
        self._buckets: dict[tuple[str, str], Bucket] = {}
        self._lock = threading.Lock()

    def _bucket(self, token: str, kind: str) -> Bucket:
        key = (token, kind)
        if key not in self._buckets:
            self._buckets[key] = Bucket(getattr(self.limits, kind), self.limits.window)
        return self._buckets[key]

    def take(self, token: str, kind: str, points: float) -> bool:
        with self._lock:
            return self._bucket(token, kind).take(points, self._clock())

    def headers(self, token: str | None, complexity: int | None) -> dict[str, str]:
        out = {} if complexity is None else {"X-Complexity": str(complexity)}
        if token is None:
            return out
        now, wall = self._clock(), time.time()
        with self._lock:
            for kind, label in (("requests", "Requests"), ("complexity", "Complexity")):
                bucket = self._bucket(token, kind)
                out[f"X-RateLimit-{label}-Limit"] = str(getattr(self.limits, kind))
                out[f"X-RateLimit-{label}-Remaining"] = str(bucket.remaining(now))
                out[f"X-RateLimit-{label}-Reset"] = str(bucket.reset_ms(now, wall))
        return out
