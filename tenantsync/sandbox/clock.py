"""The sandbox clock: the time a twin stamps on records it creates, changes or deletes.

It starts at a fixed instant (so the same seed gives the same data), then runs with real time,
and tests can jump it forward with `advance`. `stamp()` never returns the same instant twice, so
two mutations in a row always have distinct, increasing modified times (clients compare them).
"""

from __future__ import annotations

import threading
import time
from datetime import datetime, timedelta, timezone

DEFAULT_START = datetime(2025, 1, 1, tzinfo=timezone.utc)
_MS = timedelta(milliseconds=1)


def parse_instant(value: str | datetime) -> datetime:
    """An aware UTC datetime from an ISO-8601 string (``Z`` or offset) or a datetime."""
    if isinstance(value, datetime):
        moment = value
    else:
        try:
            moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError as exc:
            raise ValueError(f"not an ISO-8601 datetime: {value!r}") from exc
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(timezone.utc)


class Clock:
    """Sandbox time = start + real time elapsed since creation + every `advance`."""

    def __init__(self, start: str | datetime | None = None, *, ticking: bool = True):
        self.start = parse_instant(start) if start is not None else DEFAULT_START
        self._ticking = ticking
        self._origin = time.monotonic()
        self._offset = timedelta(0)
        self._last = self.start - _MS
        self._lock = threading.Lock()

    def now(self) -> datetime:
        elapsed = time.monotonic() - self._origin if self._ticking else 0.0
        return self.start + timedelta(seconds=elapsed) + self._offset

    def advance(self, seconds: float) -> datetime:
        """Jump forward (never backward: sandbox records must not travel into the past)."""
        if seconds < 0:
            raise ValueError(f"the sandbox clock only moves forward, got seconds={seconds}")
        with self._lock:
            self._offset += timedelta(seconds=seconds)
        return self.now()

    def stamp(self) -> datetime:
        """The current instant at millisecond precision, strictly after any earlier stamp."""
        with self._lock:
            now = self.now()
            now = now.replace(microsecond=now.microsecond // 1000 * 1000)
            if now <= self._last:
                now = self._last + _MS
            self._last = now
            return now
