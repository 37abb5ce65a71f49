"""Records synced per day as a server-rendered SVG bar chart (no chart library, no CDN)."""

from __future__ import annotations

from collections.abc import Iterable
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
