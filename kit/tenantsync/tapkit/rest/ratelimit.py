"""A pacer that keeps a tap inside the window a provider reports in its rate-limit headers."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import requests

from tenantsync.tapkit.pacing import UsageParser

log = logging.getLogger("tenantsync.tapkit.rest")


@dataclass(frozen=True)
class RateLimitHeaders:
    """Header names of a provider's burst window (`remaining` requests, window `reset` in
    seconds, or at an epoch with `reset_is_epoch`) and of its daily budget, if it reports one
    (`budget_limit`, `budget_remaining`, for a QuotaGuard)."""

    remaining: str = "X-RateLimit-Remaining"
    reset: str = "X-RateLimit-Reset"
    reset_is_epoch: bool = False
    budget_limit: str | None = None
    budget_remaining: str | None = None

    def budget(self) -> UsageParser:
        """(used, limit) of the daily budget from a response's headers, for QuotaGuard."""
        def usage(headers: Mapping[str, str]) -> tuple[int, int] | None:
            if not (self.budget_limit and self.budget_remaining):
                return None
            try:
                limit = int(float(headers[self.budget_limit]))
                remaining = int(float(headers[self.budget_remaining]))
            except (KeyError, ValueError):
                return None
            return max(0, limit - remaining), limit
        return usage


class HeaderPacer:
    """Before a request: if the last response left fewer than `reserve` requests in the window,
    wait until the window resets (at most `max_wait` seconds; with `skip_longer`, a longer
    wait is not begun: the provider's 429 then says what to do, e.g. stop for the hour)."""

    def __init__(self, headers: RateLimitHeaders, *, reserve: int = 1, max_wait: float = 60.0,
                 skip_longer: bool = False, clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], None] = time.sleep):
        self.headers = headers
        self.reserve = reserve
        self.max_wait = max_wait
        self.skip_longer = skip_longer
        self._clock, self._sleep = clock, sleep
        self._resume_at: float | None = None
        self.waits = 0

    def before_request(self) -> None:
        if self._resume_at is None:
            return
        wait = self._resume_at - self._clock()
        self._resume_at = None
        if wait > self.max_wait and self.skip_longer:
            return
        if wait > 0:
            self.waits += 1
            log.debug("rate window nearly spent; waiting %.2fs", wait)
            self._sleep(min(wait, self.max_wait))

    def after_response(self, response: requests.Response) -> None:
        h = self.headers
        try:
            remaining = int(float(response.headers[h.remaining]))
            reset = float(response.headers[h.reset])
        except (KeyError, ValueError):
            return
        if remaining >= self.reserve:
            self._resume_at = None
            return
        seconds = reset - time.time() if h.reset_is_epoch else reset
        self._resume_at = self._clock() + max(0.0, seconds)
