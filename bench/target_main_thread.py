"""target-postgres's CPU per record on its main thread: reading, decoding and formatting the
COPY lines, with the writes to Postgres left out (the sink's set-up and batch write do
nothing), so the figure is the target's own parsing cost and not the server's.

    .venv/bin/python bench/target_main_thread.py [--records N] [--baseline DIR]

With --baseline, another checkout's target (e.g. a worktree of the previous main) is measured
in its own process, alternating with this one. Prints CPU microseconds per record, three runs
of each; the records are bench/target_postgres_speed.py's Salesforce-Account-like ones.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# Run in a child process with the checkout's packages first on sys.path.
CHILD = """
import io, json, random, sys, time
from target_postgres_speed import make_record
from target_postgres import sink
from target_postgres.target import TargetPostgres

n = int(sys.argv[1])
rnd = random.Random(1)
schema = {"type": "SCHEMA", "stream": "Account", "key_properties": ["Id"],
          "bookmark_properties": ["LastModifiedDate"], "schema": {"type": "object",
          "properties": {"Id": {"type": "string"},
                         "LastModifiedDate": {"type": ["string", "null"],
                                              "format": "date-time"}}}}
text = "".join(json.dumps(m) + "\\n" for m in [schema, *(
    {"type": "RECORD", "stream": "Account", "record": make_record(i, rnd)} for i in range(n))])
sink.SupaglueSink.setup = lambda self: None
sink.SupaglueSink._write = lambda self, *args, **kwargs: None
config = {"application_id": "a", "customer_id": "c", "provider_name": "salesforce",
          "sqlalchemy_url": "postgresql://unused/unused", "parallel_writes": 1}
began = time.process_time()
TargetPostgres(config=config).listen(io.StringIO(text))
print(f"{(time.process_time() - began) / n * 1e6:.2f}")
"""


def measure(checkout: Path, records: int) -> float:
    """One run in a fresh process: CPU microseconds per record."""
    paths = [str(checkout / "bench"), str(checkout), str(checkout / "targets"),
             str(checkout / "kit")]
    out = subprocess.run(
        [sys.executable, "-c", f"import sys; sys.path[:0] = {paths!r}\n{CHILD}", str(records)],
        capture_output=True, text=True, check=True).stdout
    return float(out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--records", type=int, default=50_000)
    parser.add_argument("--baseline", type=Path, help="another checkout, measured alternately")
    args = parser.parse_args()
    sides = {"this checkout": ROOT}
    if args.baseline:
        sides["baseline"] = args.baseline.resolve()
    figures: dict[str, list[float]] = {name: [] for name in sides}
    for _ in range(3):
        for name, checkout in sides.items():
            figures[name].append(measure(checkout, args.records))
    for name, values in figures.items():
        print(f"{name:15s} {' / '.join(f'{v:.1f}' for v in values)} us of CPU per record "
              f"(main thread, {args.records:,} records, writes left out)")


if __name__ == "__main__":
    main()
