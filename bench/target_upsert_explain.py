"""Where an upserted batch's time goes on the server: load N records with target-postgres, then
COPY one batch of 10,000 newer versions into the temp table and EXPLAIN (ANALYZE, BUFFERS) the
two-statement write (unchanged check, then merge) and the one-statement upsert, alternating,
each rolled back, so both meet the same table.

Usage: .venv/bin/python bench/target_upsert_explain.py [--records N] [--rounds R] [--plans]
"""

from __future__ import annotations

import argparse
import io
import json
import subprocess
import sys
import time
from pathlib import Path

import psycopg2

from tenantsync import embedded_pg
from tenantsync.contract import resolve

sys.path.insert(0, str(Path(__file__).resolve().parent))
from target_postgres_speed import target_command, write_singer_file

from target_postgres import rows, tables

PARAMS = {"app": "app", "provider": "salesforce", "customer": "cust", "object_name": None}


def batch_rows(path: Path, spec) -> bytes:
    """The batch's COPY data for the temp table, as target-postgres writes it (binary)."""
    out = [rows.HEADER]
    fields = rows.row_header(1 + len(spec.record_cols))
    with path.open() as f:
        for seq, line in enumerate(f):
            msg = json.loads(line)
            if msg["type"] == "RECORD":
                r = msg["record"]
                out.append(fields + rows.bigint(seq) + rows.object_fields(
                    r["Id"], r["SystemModstamp"], False, rows.json_text(r)))
    return b"".join([*out, rows.TRAILER])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--records", type=int, default=200_000)
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--plans", action="store_true", help="print the plans, not only times")
    args = parser.parse_args()
    spec = tables.spec_for(resolve("Account", "salesforce"))
    with embedded_pg.scratch("tenantsync-explain-") as (work, uri):
        full, newer = work / "full.singer", work / "newer.singer"
        write_singer_file(full, args.records)
        write_singer_file(newer, 20_000, changed=True)  # every other record: 10,000
        cfg = work / "config.json"
        cfg.write_text(json.dumps({"application_id": "app", "customer_id": "cust",
                                   "provider_name": "salesforce", "sqlalchemy_url": uri,
                                   "schema": "s"}))
        with full.open() as f:
            subprocess.run([*target_command(None), "--config", str(cfg)], stdin=f, check=True,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        data = batch_rows(newer, spec)
        ways = {"two statements": (("unchanged", tables.unchanged_sql("s", spec)),
                                   ("merge", tables.merge_sql("s", spec, dedupe=False))),
                "one statement": (("upsert", tables.upsert_sql("s", spec, dedupe=False)),)}
        conn = psycopg2.connect(uri)
        with conn.cursor() as cur:
            cur.execute("SET TIME ZONE 'UTC'")
            tables.create_temp_table(cur, spec)
            conn.commit()
            for _ in range(args.rounds):
                for way, statements in ways.items():
                    began = time.perf_counter()
                    cur.copy_expert(tables.copy_sql(spec), io.BytesIO(data))
                    parts = [f"COPY into temp {(time.perf_counter() - began) * 1000:.0f} ms"]
                    for name, statement in statements:
                        cur.execute("EXPLAIN (ANALYZE, BUFFERS) " + statement.as_string(conn),
                                    PARAMS)
                        plan = [r[0] for r in cur.fetchall()]
                        if args.plans:
                            print(f"--- {way}: {name}\n" + "\n".join(plan))
                        parts.append(f"{name} {plan[-1].split(': ')[1]}")
                    print(f"{way:15} " + "; ".join(parts), flush=True)
                    conn.rollback()
        conn.close()


if __name__ == "__main__":
    main()
