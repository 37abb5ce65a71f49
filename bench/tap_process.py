"""One tap as its own process (its Singer CLI), output to /dev/null: wall seconds, CPU seconds
and peak RSS (the tap benchmarks' shared piece)."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

# The tap's own peak RSS (VmHWM of its address space; getrusage would also count the pages
# of this big parent that the forked child shared before exec).
_RUN_TAP = """
import atexit, importlib, re, sys
def peak():
    status = open("/proc/self/status").read()
    sys.stderr.write("VmHWM " + re.search(r"VmHWM:\\s+(\\d+)", status).group(1) + "\\n")
atexit.register(peak)
module, _, name = sys.argv.pop(1).partition(":")
getattr(importlib.import_module(module), name).cli()
"""


def tap_command(tap: str) -> list[str]:
    """The command line running `tap` ("package.module:TapClass") as its Singer CLI (add
    its arguments); it reports its peak RSS on stderr at exit."""
    return [sys.executable, "-c", _RUN_TAP, tap]


def timed_process(argv: list[str], **popen) -> tuple[int, float, float, float]:
    """Run `argv` to its end: exit status, wall seconds, the perf_counter at its exit and its
    CPU seconds (user + system of that process alone)."""
    start = time.perf_counter()
    proc = subprocess.Popen(argv, **popen)
    _, status, usage = os.wait4(proc.pid, 0)
    ended = time.perf_counter()
    return status, ended - start, ended, usage.ru_utime + usage.ru_stime


def run_tap(tap: str, config: dict, workdir: Path, *, prefix: tuple[str, ...] = ()) -> dict:
    """Run `tap` ("package.module:TapClass") with `config`: seconds, cpu (user + system s of
    the tap process), peak_mb and ended (its perf_counter at exit). `prefix` wraps the
    command (e.g. a profiler)."""
    path = workdir / "config.json"
    path.write_text(json.dumps(config))
    with open(os.devnull, "wb") as devnull, open(workdir / "stderr", "w+") as err:
        status, seconds, ended, cpu = timed_process(
            [*prefix, *tap_command(tap), "--config", str(path)], stdout=devnull, stderr=err)
        err.seek(0)
        log = err.read()
    if status != 0:
        raise SystemExit(f"{tap} failed:\n{log[-2000:]}")
    peaks = re.findall(r"VmHWM (\d+)", log)
    return {"seconds": seconds, "ended": ended, "cpu": cpu,
            "peak_mb": int(peaks[-1]) / 1024 if peaks else None}


def hottest(path: Path, top: int = 8) -> list[tuple[str, float]]:
    """Self time per function from py-spy's raw (collapsed) stacks, as % of samples."""
    self_time: Counter = Counter()
    total = 0
    for line in path.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        leaf = stack.split(";")[-1]
        self_time[leaf.split(" (")[0] + " (" + leaf.split("(")[-1].split(":")[0].rsplit("/", 1)[-1]
                  + ")"] += int(count)
        total += int(count)
    return [(name, round(100 * n / total, 1)) for name, n in self_time.most_common(top)]


def py_spy(out: Path) -> tuple[str, ...]:
    """A run_tap prefix sampling every thread of the tap with py-spy into `out` (raw stacks)."""
    return (str(Path(sys.executable).parent / "py-spy"), "record", "--format", "raw",
            "--rate", "200", "--threads", "-o", str(out), "--")
