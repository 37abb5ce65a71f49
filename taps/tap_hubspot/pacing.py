"""Pacing for HubSpot's rate limits (provider-apis.md §2.3), so that a normal run never gets 429.

- Burst (TEN_SECONDLY_ROLLING): a rolling window per app and portal. The window's size and
  length are learned from `X-HubSpot-RateLimit-Max` / `-Interval-Milliseconds`; the tap keeps
  its own sliding window a little below it, and waits when the server reports
  `X-HubSpot-RateLimit-Remaining` nearly used up (other clients share the budget).
- Search (SECONDLY): the CRM search endpoints have their own, lower limit (5/s per account);
  search calls additionally go through a window of `search_per_second`.
- After a 429 the pacer holds every request until the refusing policy's window has passed
  (HttpClient also honours Retry-After); DAILY ends the run cleanly (see client.classify).
"""

from __future__ import annotations

import collections
import contextlib
import logging
import time
from collections.abc import Callable, Iterator, Mapping

import requests

from tenantsync.tapkit.pacing import announce_wait

log = logging.getLogger("tap_hubspot.pacing")

DEFAULT_BURST = 100  # Free/Starter portals; raised from the headers
DEFAULT_INTERVAL = 10.0
SEARCH_PER_SECOND = 4  # documented: 5 per second; one spare for clock skew and latency
# Spare capacity in the burst window: network jitter, and the server's own accounting.
BURST_SPARE_SHARE, BURST_SPARE_MIN = 0.1, 5
SLACK = 1.05  # stretch windows slightly: server and client clocks time requests differently


def _int(headers: Mapping[str, str], name: str) -> int | None:
    value = headers.get(name)
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None


class _Window:
    """At most `size` requests in any `seconds` (sliding, by send time)."""

    def __init__(self, size: int, seconds: float):
        self.size, self.seconds = size, seconds
        self.sent: collections.deque[float] = collections.deque()

    def wait(self, now: float) -> float:
        """Seconds until one more request fits."""
        while self.sent and now - self.sent[0] >= self.seconds * SLACK:
            self.sent.popleft()
        if len(self.sent) < self.size:
            return 0.0
        return self.sent[len(self.sent) - self.size] + self.seconds * SLACK - now


class HubSpotPacer:
    """A tapkit Pacer for every HubSpot request; `with pacer.search():` around search calls."""

    def __init__(self, *, search_per_second: int = SEARCH_PER_SECOND,
                 clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], None] = time.sleep):
        self._clock, self._sleep = clock, sleep
        self.burst = _Window(self._usable(DEFAULT_BURST), DEFAULT_INTERVAL)
        self.searches = _Window(search_per_second, 1.0)
        self._searching = False
        self._server_remaining: int | None = None
        self._hold_until = 0.0
        self.waited = 0.0  # seconds spent waiting (reported by the benchmark)
        self.rate_limited = 0  # 429s received

    @staticmethod
    def _usable(limit: int) -> int:
        return max(1, limit - max(BURST_SPARE_MIN, int(limit * BURST_SPARE_SHARE)))

    @contextlib.contextmanager
    def search(self) -> Iterator[None]:
        self._searching = True
        try:
            yield
        finally:
            self._searching = False

    def before_request(self) -> None:
        while True:
            now = self._clock()
            wait = max(self._hold_until - now, self.burst.wait(now),
                       self.searches.wait(now) if self._searching else 0.0)
            if wait <= 0 and self._server_remaining is not None and \
                    self._server_remaining <= BURST_SPARE_MIN and self.burst.sent:
                # Others are using this portal's budget too: let our oldest call age out.
                wait = self.burst.sent[0] + self.burst.seconds * SLACK - now
                self._server_remaining = None  # re-learn from the next response
            if wait <= 0:
                break
            self.waited += wait
            announce_wait(wait, "HubSpot rate limit window (burst or search per second)")
            self._sleep(wait)
        now = self._clock()
        self.burst.sent.append(now)
        if self._searching:
            self.searches.sent.append(now)

    def after_response(self, response: requests.Response) -> None:
        headers = response.headers
        limit = _int(headers, "X-HubSpot-RateLimit-Max")
        interval = _int(headers, "X-HubSpot-RateLimit-Interval-Milliseconds")
        if limit and limit > 0 and self._usable(limit) != self.burst.size:
            self.burst.size = self._usable(limit)
        if interval and interval > 0:
            self.burst.seconds = interval / 1000
        self._server_remaining = _int(headers, "X-HubSpot-RateLimit-Remaining")
        if response.status_code == 429:
            self.rate_limited += 1
            if "Retry-After" in headers:
                return  # HttpClient waits exactly as told
            policy = self._policy(response)
            window = 1.0 if policy == "SECONDLY" else self.burst.seconds
            self._hold_until = self._clock() + window
            log.warning("HubSpot rate limit %s reached without Retry-After; holding requests "
                        "for the policy's window (%.1fs)", policy or "(unnamed)", window)

    @staticmethod
    def _policy(response: requests.Response) -> str | None:
        try:
            body = response.json()
        except ValueError:
            return None
        return body.get("policyName") if isinstance(body, dict) else None


def daily_usage(headers: Mapping[str, str]) -> tuple[int, int] | None:
    """(used, limit) of the daily quota; OAuth calls carry no Daily headers (then None)."""
    limit = _int(headers, "X-HubSpot-RateLimit-Daily")
    remaining = _int(headers, "X-HubSpot-RateLimit-Daily-Remaining")
    if not limit or remaining is None:
        return None
    return limit - remaining, limit
