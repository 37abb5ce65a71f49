"""This checkout measured against another (--baseline DIR, e.g. an export of the previous
main): each run in a fresh process with that checkout's packages first on sys.path, the two
alternating, so the machine's drift falls on both."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def cpu_us(checkout: Path, subpaths: list[str], child: str, *args: str) -> float:
    """Run the `child` source in a fresh process with the checkout's `subpaths` first on
    sys.path; the last thing it prints is CPU microseconds per record."""
    paths = [str(checkout / p) for p in subpaths]
    out = subprocess.run(
        [sys.executable, "-c", f"import sys; sys.path[:0] = {paths!r}\n{child}", *args],
        capture_output=True, text=True, check=True).stdout
    return float(out.split()[-1])


def alternate(measure: Callable[[Path], float], baseline: Path | None,
              rounds: int = 3) -> dict[str, list[float]]:
    """`measure(checkout)` for this checkout and the baseline, in turn, `rounds` times."""
    sides = {"this checkout": ROOT}
    if baseline:
        sides["baseline"] = baseline.resolve()
    figures: dict[str, list[float]] = {name: [] for name in sides}
    for _ in range(rounds):
        for name, checkout in sides.items():
            figures[name].append(measure(checkout))
    return figures
