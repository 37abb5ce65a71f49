"""target-postgres's CPU per record on its main thread: reading, decoding and formatting the
COPY lines, with the writes to Postgres left out (the sink's set-up and batch write do
nothing), so the figure is the target's own parsing cost and not the server's.

    .venv/bin/python bench/target_main_thread.py [--records N] [--batch] [--baseline DIR]

With --batch, the records come in JSON Lines batch files of 10,000 (BATCH messages), as the
projects tenantsync renders send them, instead of RECORD lines.

With --baseline, another checkout's target (e.g. a worktree of the previous main) is measured
in its own process, alternating with this one. Prints CPU microseconds per record, three runs
of each; the records are bench/target_postgres_speed.py's Salesforce-Account-like ones.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.checkouts import alternate, cpu_us

BATCH_SIZE = 10_000  # records a batch file, as rendered (tenantsync.controller.render)

# Run in a child process with the checkout's packages first on sys.path.
CHILD = """
import io, json, random, shutil, sys, tempfile, time
from pathlib import Path
from target_postgres_speed import make_record
from target_postgres import sink
from target_postgres.target import TargetPostgres

n, batch = int(sys.argv[1]), sys.argv[2] == "batch"
rnd = random.Random(1)
schema = {"type": "SCHEMA", "stream": "Account", "key_properties": ["Id"],
          "bookmark_properties": ["LastModifiedDate"], "schema": {"type": "object",
          "properties": {"Id": {"type": "string"},
                         "LastModifiedDate": {"type": ["string", "null"],
                                              "format": "date-time"}}}}
records = [json.dumps(make_record(i, rnd)) for i in range(n)]
if batch:  # BATCH_SIZE records a file (the target leaves them: removed at the end)
    files = Path(tempfile.mkdtemp(prefix="batches-"))
    messages = []
    for start in range(0, n, BATCH_SIZE):
        path = files / f"{start}.jsonl"
        path.write_text("".join(r + "\\n" for r in records[start:start + BATCH_SIZE]))
        messages.append(json.dumps({"type": "BATCH", "stream": "Account", "manifest": [
            path.as_uri()], "encoding": {"format": "jsonl", "compression": "none"}}))
else:
    messages = ['{"type": "RECORD", "stream": "Account", "record": ' + r + "}"
                for r in records]
text = "".join(line + "\\n" for line in [json.dumps(schema), *messages])
sink.SupaglueSink.setup = lambda self: None
sink.SupaglueSink._write = lambda self, *args, **kwargs: None
config = {"application_id": "a", "customer_id": "c", "provider_name": "salesforce",
          "sqlalchemy_url": "postgresql://unused/unused", "parallel_writes": 1}
began = time.process_time()
TargetPostgres(config=config).listen(io.StringIO(text))
print(f"{(time.process_time() - began) / n * 1e6:.2f}")
if batch:
    shutil.rmtree(files)
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--records", type=int, default=50_000)
    parser.add_argument("--batch", action="store_true",
                        help="records in batch files (BATCH messages), not RECORD lines")
    parser.add_argument("--baseline", type=Path, help="another checkout, measured alternately")
    args = parser.parse_args()
    child = f"BATCH_SIZE = {BATCH_SIZE}\n{CHILD}"
    figures = alternate(lambda checkout: cpu_us(
        checkout, ["bench", ".", "targets", "kit"], child, str(args.records),
        "batch" if args.batch else "lines"), args.baseline)
    for name, values in figures.items():
        print(f"{name:15s} {' / '.join(f'{v:.1f}' for v in values)} us of CPU per record "
              f"(main thread, {args.records:,} records in "
              f"{'batch files' if args.batch else 'RECORD lines'}, writes left out)")


if __name__ == "__main__":
    main()
