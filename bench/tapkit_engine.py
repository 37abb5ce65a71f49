"""tapkit's engine CPU per record: a TapkitStream over ready-built records (pages of 50,000
Salesforce-Account-like rows with ascending watermarks), RECORD lines to /dev/null, so the
figure is the engine's and the writer's work, not a provider's reading or parsing.

    .venv/bin/python bench/tapkit_engine.py [--records N] [--baseline DIR]

With --baseline, another checkout's engine (e.g. an export of the previous main) is measured
in its own process, alternating with this one. Prints CPU microseconds per record, three runs
of each.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.checkouts import alternate, cpu_us

PAGE = 50_000  # records a page, as a Salesforce Bulk API 2.0 results page holds

# Run in a child process with the checkout's packages first on sys.path.
CHILD = """
import os, resource, sys
from singer_sdk import typing as th
from tenantsync.tapkit.settings import COMMON_SETTINGS
from tenantsync.tapkit.stream import TapkitStream, TapkitTap

n = int(sys.argv[1])
rows = [{"Id": f"001{i:015d}", "Name": f"Account {i}", "Industry": "Energy",
         "AnnualRevenue": i * 10.5, "IsDeleted": False,
         "LastModifiedDate": f"2024-01-{1 + i // 86400 % 28:02d}T{i // 3600 % 24:02d}:"
                             f"{i // 60 % 60:02d}:{i % 60:02d}.000+0000"} for i in range(n)]
schema = th.PropertiesList(
    th.Property("Id", th.StringType), th.Property("Name", th.StringType),
    th.Property("Industry", th.StringType), th.Property("AnnualRevenue", th.NumberType),
    th.Property("IsDeleted", th.BooleanType),
    th.Property("LastModifiedDate", th.DateTimeType)).to_dict()


class Rows(TapkitStream):
    def fetch_pages(self, plan):
        for start in range(0, n, PAGE):
            yield iter(rows[start:start + PAGE])


class Tap(TapkitTap):
    name = "tap-bench"
    config_jsonschema = th.PropertiesList(*COMMON_SETTINGS).to_dict()

    def discover_streams(self):
        return [Rows(self, name="Account", schema=schema, key="Id",
                     replication_key="LastModifiedDate")]


sys.stdout = open(os.devnull, "w")  # the tap's output
before = resource.getrusage(resource.RUSAGE_SELF)
Tap(config={}).sync_all()
after = resource.getrusage(resource.RUSAGE_SELF)
sys.stdout = sys.__stdout__
cpu = after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime
print(f"{cpu / n * 1e6:.2f}")
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--records", type=int, default=500_000)
    parser.add_argument("--baseline", type=Path, help="another checkout, measured alternately")
    args = parser.parse_args()
    child = f"PAGE = {PAGE}\n{CHILD}"
    figures = alternate(lambda checkout: cpu_us(checkout, ["kit", "."], child,
                                                str(args.records)), args.baseline)
    for name, values in figures.items():
        print(f"{name:15s} {' / '.join(f'{v:.2f}' for v in values)} us of CPU per record "
              f"(engine and writer, {args.records:,} records in pages of {PAGE:,})")


if __name__ == "__main__":
    main()
