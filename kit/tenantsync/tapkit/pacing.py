"""Pacers for HttpClient: keep a tap inside a provider's rate window and its daily quota."""

from __future__ import annotations

import collections
import logging
import time
from collections.abc import Callable, Mapping

import requests

from tenantsync.tapkit.errors import StopSync

log = logging.getLogger("tenantsync.tapkit.pacing")

# Pauses shorter than this are routine pacing, not worth a line.
WAIT_WORTH_SAYING = 0.5


def announce_wait(seconds: float, reason: str) -> None:
    """One structured line per pause worth seeing, `waiting <s>s: <reason>`: whoever runs the
    tap (tenantsync's progress display) shows from it what a sync is waiting on."""
    if seconds >= WAIT_WORTH_SAYING:
        log.info("waiting %.1fs: %s", seconds, reason)


# Reads (used, limit) of the daily quota from a response's headers, or None if absent.
UsageParser = Callable[[Mapping[str, str]], "tuple[int, int] | None"]


class QuotaGuard:
    """Stop the run cleanly before the provider's daily API usage passes `max_percent`.

    The last usage the provider reported is checked before each request, so the page already
    fetched is still emitted and the run stops before spending the next call.
    """

    def __init__(self, max_percent: float, usage: UsageParser, provider: str = "provider"):
        if not 0 < max_percent <= 100:
            raise ValueError(f"quota_max_percent must be in (0, 100], got {max_percent!r}")
        self.max_percent = max_percent
        self._usage = usage
        self._provider = provider
        self.used: int | None = None
        self.limit: int | None = None

    def before_request(self) -> None:
        if self.used is None or not self.limit:
            return
        percent = 100.0 * self.used / self.limit
        if percent >= self.max_percent:
            raise StopSync(
                f"{self._provider} API usage is {self.used}/{self.limit} ({percent:.1f}%), at or "
                f"above quota_max_percent={self.max_percent:g}; stopping before the next call")

    def after_response(self, response: requests.Response) -> None:
        usage = self._usage(response.headers)
        if usage is not None:
            self.used, self.limit = usage


class RateWindow:
    """At most `max_requests` per sliding `per_seconds` window: sleep instead of earning 429s."""

    def __init__(self, max_requests: int, per_seconds: float,
                 clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], None] = time.sleep):
        if max_requests < 1 or per_seconds <= 0:
            raise ValueError("a rate window needs max_requests >= 1 and per_seconds > 0")
        self.max_requests = max_requests
        self.per_seconds = per_seconds
        self._clock = clock
        self._sleep = sleep
        self._sent: collections.deque[float] = collections.deque()

    def before_request(self) -> None:
        now = self._clock()
        while self._sent and now - self._sent[0] >= self.per_seconds:
            self._sent.popleft()
        if len(self._sent) >= self.max_requests:
            wait = self.per_seconds - (now - self._sent[0])
            if wait > 0:
                announce_wait(wait, f"rate window full ({self.max_requests} requests per "
                                    f"{self.per_seconds:g}s)")
                self._sleep(wait)
            self._sent.popleft()
            now = self._clock()
        self._sent.append(now)

    def after_response(self, response: requests.Response) -> None:
        pass
