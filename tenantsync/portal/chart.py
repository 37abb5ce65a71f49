"""Records synced per day as a server-rendered SVG bar chart (no chart library, no CDN)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Hashable, Iterable
from datetime import date, timedelta
from typing import Any

WIDTH, HEIGHT, PAD = 640, 180, 28


def records_per_day(rows: Iterable[tuple[Any, Any]], first: date, days: int) -> dict[str, Any]:
    """Bars for `days` days from `first` (rows: (day, records); the day as a date or its ISO
    text, as the database returns it). Returns what templates/_chart.html draws."""
    totals = {str(day)[:10]: int(n or 0) for day, n in rows}
    series = [(d.isoformat(), totals.get(d.isoformat(), 0))
              for d in (first + timedelta(days=i) for i in range(days))]
    peak = max((n for _, n in series), default=0) or 1
    slot = (WIDTH - 2 * PAD) / days
    bars = []
    for i, (day, n) in enumerate(series):
        h = (HEIGHT - 2 * PAD) * n / peak
        bars.append({"x": round(PAD + i * slot + slot * 0.1, 1), "w": round(slot * 0.8, 1),
                     "y": round(HEIGHT - PAD - h, 1), "h": round(h, 1), "day": day, "n": n,
                     "label": day[5:] if i % 2 == 0 else ""})
    return {"width": WIDTH, "height": HEIGHT, "pad": PAD, "bars": bars, "peak": peak,
            "total": sum(n for _, n in series)}


class TtlCache:
    """Values kept `seconds` after they were computed (a small dict: one per key asked)."""

    def __init__(self, seconds: float):
        self.seconds, self._values, self._lock = seconds, {}, threading.Lock()

    def get(self, key: Hashable, compute: Callable[[], Any]) -> Any:
        now = time.monotonic()
        with self._lock:
            self._values = {k: v for k, v in self._values.items() if v[0] > now}
            if key in self._values:
                return self._values[key][1]
        value = compute()
        with self._lock:
            self._values[key] = (now + self.seconds, value)
        return value
