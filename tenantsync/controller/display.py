"""What a running sync shows while Meltano's log is followed (runner.Progress reads it): per
stream, records read and written, the rate, and what the sync waits on (a rate-limit pause,
a retry and its reason); then a summary per table.

Two views of the same facts: plain lines (logs, CI, Airflow, a pipe) and, on a terminal, a
live table drawn with rich. `TENANTSYNC_PROGRESS_SVG=<file>` also saves the terminal's
last frame and summary as SVG (the README's picture is one).
"""

from __future__ import annotations

import io
import os
import sys
from collections.abc import Callable, Iterable, Sequence
from typing import Any, Protocol

SVG_ENV = "TENANTSYNC_PROGRESS_SVG"
_COLUMNS = ("stream", "strategy", "read", "written", "deleted", "rate/s", "now")
_SUMMARY = ("table", "stream", "strategy", "read", "written", "deleted", "seconds", "rate/s")


def table(headers: Sequence[str], rows: Iterable[Sequence[Any]]) -> str:
    """Plain text columns (every CLI listing)."""
    rows = [[("" if v is None else str(v)) for v in row] for row in rows]
    widths = [max([len(h)] + [len(r[i]) for r in rows]) for i, h in enumerate(headers)]
    lines = ["  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)).rstrip()]
    lines += ["  ".join(v.ljust(w) for v, w in zip(r, widths, strict=True)).rstrip()
              for r in rows]
    return "\n".join(lines)


class Facts(Protocol):  # runner.Progress
    records: dict[str, int]
    strategies: dict[str, str]
    deleted: dict[str, int]
    read: dict[str, int]
    tables: dict[str, str]
    waiting: dict[str, str]
    seen: dict[str, tuple[float, float]]

    def rate(self, stream: str) -> float: ...


def _streams(facts: Facts) -> list[str]:
    return sorted({*facts.strategies, *facts.read, *facts.records, *facts.deleted} - {""})


def rows(facts: Facts) -> list[tuple]:
    """The live table: one row per stream."""
    return [(s, facts.strategies.get(s, ""), facts.read.get(s, ""), facts.records.get(s, 0),
             facts.deleted.get(s, ""), f"{facts.rate(s):,.0f}" if facts.rate(s) else "",
             facts.waiting.get(s, ""))
            for s in _streams(facts)]


def summary_rows(facts: Facts) -> list[tuple]:
    """The summary: one row per table written (streams that wrote nothing: table '-')."""
    out = []
    for s in sorted(_streams(facts), key=lambda s: (facts.tables.get(s, "-"), s)):
        first, last = facts.seen.get(s, (0.0, 0.0))
        out.append((facts.tables.get(s, "-"), s, facts.strategies.get(s, ""),
                    facts.read.get(s, ""), facts.records.get(s, 0), facts.deleted.get(s, 0),
                    f"{last - first:.1f}", f"{facts.rate(s):,.0f}"))
    return out


class LineView:
    """Plain lines: each piece of news as it comes, then the summary table."""

    def __init__(self, echo: Callable[[str], None]):
        self.echo = echo

    def update(self, facts: Facts, message: str | None) -> None:
        if message:
            self.echo(message)

    def close(self, facts: Facts) -> None:
        if _streams(facts):
            self.echo(table(_SUMMARY, summary_rows(facts)))


class LiveView:
    """A live table on the terminal (rich), redrawn as news comes; then the summary."""

    def __init__(self, label: str, file: Any = None):
        from rich.console import Console
        from rich.live import Live

        self.label = label
        self.console = Console(file=file or sys.stdout)
        self.live = Live(self._table(None), console=self.console, refresh_per_second=4,
                         transient=False)
        self.live.start()

    def _table(self, facts: Facts | None, headers: Sequence[str] = _COLUMNS,
               title: str | None = None) -> Any:
        from rich.table import Table

        grid = Table(title=title or self.label, title_justify="left")
        for name in headers:
            grid.add_column(name, justify="right" if name in
                            ("read", "written", "deleted", "rate/s", "seconds") else "left",
                            style="yellow" if name == "now" else None)
        for row in (summary_rows if headers is _SUMMARY else rows)(facts) if facts else []:
            grid.add_row(*(f"{v:,}" if isinstance(v, int) else str(v) for v in row))
        return grid

    def update(self, facts: Facts, message: str | None) -> None:
        if message:
            self.live.update(self._table(facts))

    def close(self, facts: Facts) -> None:
        self.live.update(self._table(facts), refresh=True)
        self.live.stop()
        if _streams(facts):
            self.console.print(self._table(facts, _SUMMARY, f"{self.label}: per table"))
        if os.environ.get(SVG_ENV):  # the last frame and the summary, as a picture
            from rich.console import Console

            shot = Console(record=True, width=self.console.width, file=io.StringIO())
            shot.print(self._table(facts))
            shot.print(self._table(facts, _SUMMARY, f"{self.label}: per table"))
            shot.save_svg(os.environ[SVG_ENV], title=f"tenantsync run {self.label}")


def open_view(echo: Callable[[str], None], label: str, live: bool) -> LineView | LiveView:
    """`live`: draw on the terminal (the CLI passes whether stdout is one)."""
    return LiveView(label) if live else LineView(echo)
