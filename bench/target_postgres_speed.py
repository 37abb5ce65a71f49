"""target-postgres throughput, side by side on the same records and the same Postgres:

  (a) raw COPY of the same rows into an equivalent table, in text and in binary format (the
      one target-postgres writes): the physical limit ("of raw": of the binary COPY);
  (b) tenantsync's target-postgres (COPY into a temp table + one merge per batch);
  (b') the same with a customer's field mapping (`_supaglue_mapped_data` of 4 schema fields and
       2 additional ones, one nested);
  (c) MeltanoLabs target-postgres (`meltanolabs-target-postgres`, its own virtualenv) upserting
      on the same key;
  (d) with --baseline DIR: the target-postgres of another checkout (e.g. an export of main), so
      before and after run side by side.

For (b) and (d) also: a full re-sync of the unchanged records (seconds, WAL bytes written and
table growth, against the first load's), and an upsert-heavy incremental batch (half the
records, each changed with a newer last-modified time).

Usage: .venv/bin/python bench/target_postgres_speed.py [--records N] [--skip-meltanolabs]
           [--baseline DIR]
Prints records/s and peak RSS of each, and the ratios.
"""

from __future__ import annotations

import argparse
import datetime as dt
import io
import json
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psycopg2

from tenantsync import embedded_pg

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
MELTANOLABS_VENV = HERE / ".venv-meltanolabs"
MELTANOLABS_VERSION = "0.8.1"

WORDS = ("acme globex initech umbrella stark wayne wonka tyrell cyberdyne hooli pied piper "
         "vandelay soylent massive dynamic aperture black mesa").split()
STAGES = ("Prospecting", "Qualification", "Needs Analysis", "Closed Won", "Closed Lost")
INDUSTRIES = ("Technology", "Finance", "Healthcare", "Retail", "Energy", "Media")
MAPPING = {"fields": {"name": "Name", "revenue": "AnnualRevenue", "industry": "Industry",
                      "employees": "NumberOfEmployees"},
           "additional_fields": {"tier": "Tier__c", "city": "BillingAddress.city"}}


def make_record(i: int, rnd: random.Random) -> dict:
    """A Salesforce-Account-like record: ~40 fields of strings, numbers, booleans, dates, JSON."""
    base = dt.datetime(2020, 1, 1, tzinfo=dt.timezone.utc) + dt.timedelta(minutes=i)
    name = f"{rnd.choice(WORDS).title()} {rnd.choice(WORDS).title()} {i}"
    rec = {
        "Id": f"001{i:015d}",
        "IsDeleted": False,
        "Name": name,
        "Type": rnd.choice(("Customer", "Prospect", "Partner")),
        "ParentId": None if i % 5 else f"001{i // 5:015d}",
        "BillingAddress": {"street": f"{rnd.randint(1, 9999)} Main St", "city": "Springfield",
                           "state": "CA", "postalCode": f"{rnd.randint(10000, 99999)}",
                           "country": "US"},
        "BillingStreet": f"{rnd.randint(1, 9999)} Main St",
        "BillingCity": "Springfield", "BillingState": "CA",
        "BillingPostalCode": f"{rnd.randint(10000, 99999)}", "BillingCountry": "US",
        "Phone": f"+1-555-{rnd.randint(1000000, 9999999)}",
        "Fax": None,
        "Website": f"https://www.{name.split()[0].lower()}.example.com",
        "Industry": rnd.choice(INDUSTRIES),
        "AnnualRevenue": round(rnd.uniform(1e5, 1e9), 2),
        "NumberOfEmployees": rnd.randint(1, 100_000),
        "Description": " ".join(rnd.choice(WORDS) for _ in range(rnd.randint(5, 30))),
        "OwnerId": f"005{rnd.randint(1, 500):015d}",
        "CreatedDate": base.isoformat(timespec="milliseconds"),
        "CreatedById": f"005{rnd.randint(1, 500):015d}",
        "LastModifiedDate": (base + dt.timedelta(days=3)).isoformat(timespec="milliseconds"),
        "LastModifiedById": f"005{rnd.randint(1, 500):015d}",
        "SystemModstamp": (base + dt.timedelta(days=3)).isoformat(timespec="milliseconds"),
        "LastActivityDate": (base + dt.timedelta(days=10)).date().isoformat(),
        "Rating": rnd.choice(("Hot", "Warm", "Cold", None)),
        "AccountSource": rnd.choice(("Web", "Partner", "Event")),
        "Active__c": rnd.random() > 0.2,
        "Tier__c": rnd.randint(1, 4),
        "Score__c": round(rnd.random() * 100, 3),
        "StageHint__c": rnd.choice(STAGES),
        "Tags__c": ";".join(rnd.sample(WORDS, 3)),
        "Sic": str(rnd.randint(1000, 9999)),
        "TickerSymbol": None,
        "Ownership": rnd.choice(("Public", "Private")),
        "IsCustomerPortal": rnd.random() > 0.5,
        "Jigsaw": None,
        "CleanStatus": "Pending",
        "DunsNumber": str(rnd.randint(10**8, 10**9 - 1)),
        "YearStarted": str(rnd.randint(1900, 2020)),
        "attributes": {"type": "Account", "url": f"/services/data/v61.0/sobjects/Account/{i}"},
    }
    return rec


def write_singer_file(path: Path, n: int, changed: bool = False) -> None:
    """N records; `changed`: every other one of them, each a newer version (an incremental
    batch that updates existing rows)."""
    rnd = random.Random(42)
    props = {k: {} for k in make_record(0, rnd)}
    schema = {"type": "SCHEMA", "stream": "Account", "key_properties": ["Id"],
              "bookmark_properties": ["SystemModstamp"],
              "schema": {"type": "object", "properties": props}}
    with path.open("w") as f:
        f.write(json.dumps(schema) + "\n")
        for i in range(n):
            rec = make_record(i, rnd)
            if changed:
                if i % 2:
                    continue
                rec["Description"] += " changed"
                rec["SystemModstamp"] = rec["LastModifiedDate"] = "2030-01-01T00:00:00.000+0000"
            f.write(json.dumps({"type": "RECORD", "stream": "Account", "record": rec}) + "\n")
            if (i + 1) % 10_000 == 0:
                f.write(json.dumps({"type": "STATE", "value": {"bookmarks": {"Account": {
                    "replication_key_value": rec["SystemModstamp"]}}}}) + "\n")


def peak_rss_mb(pid: int) -> int | None:
    """VmHWM of a live process (its peak RSS since exec; ru_maxrss would include the RSS of the
    parent at fork time)."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) // 1024
    except OSError:
        return None
    return None


def run_measured(cmd: list[str], stdin_path: Path) -> tuple[float, int]:
    """Run a command with a file on stdin; return (seconds, peak RSS in MB of that process)."""
    with stdin_path.open("rb") as stdin, tempfile.TemporaryFile() as stderr:
        start = time.perf_counter()
        proc = subprocess.Popen(cmd, stdin=stdin, stdout=subprocess.DEVNULL, stderr=stderr)
        peak = 0
        while proc.poll() is None:
            peak = max(peak, peak_rss_mb(proc.pid) or 0)
            time.sleep(0.05)
        elapsed = time.perf_counter() - start
        if proc.returncode != 0:
            stderr.seek(0)
            tail = stderr.read()[-3000:].decode(errors="replace")
            raise RuntimeError(f"{cmd[0]} failed ({proc.returncode}):\n{tail}")
    return elapsed, peak


def raw_copy(uri: str, singer_path: Path, n: int, binary: bool) -> float:
    """COPY the same rows (pre-formatted, outside the timing) into an equivalent table, in
    text format or in binary (the format target-postgres writes, its own row encoding)."""
    from target_postgres import rows as fmt

    stamp = fmt.row_header(9) + b"".join(map(fmt.text_field, ("app", "salesforce", "cust")))
    buf = io.BytesIO()
    buf.write(fmt.HEADER if binary else b"")
    with singer_path.open() as f:
        for msg in map(json.loads, f):
            if msg["type"] != "RECORD":
                continue
            r, at = msg["record"], msg["record"]["SystemModstamp"]
            if binary:
                buf.write(stamp + fmt.text_field(r["Id"]) + 2 * fmt.timestamp_field(at, "")
                          + fmt.FALSE + fmt.json_field(r) + fmt.EMPTY_JSON)
            else:  # the records' strings hold no tab or newline: only JSON's backslashes
                raw = json.dumps(r, separators=(",", ":")).replace("\\", "\\\\")
                buf.write(f"app\tsalesforce\tcust\t{r['Id']}\t{at}\t{at}\tf\t{raw}\t{{}}\n"
                          .encode())
    buf.write(fmt.TRAILER if binary else b"")
    buf.seek(0)
    conn = psycopg2.connect(uri)
    with conn, conn.cursor() as cur:
        cur.execute("DROP TABLE IF EXISTS bench_raw.account")
        cur.execute("CREATE SCHEMA IF NOT EXISTS bench_raw")
        cur.execute("""CREATE TABLE bench_raw.account (
            _supaglue_application_id TEXT NOT NULL, _supaglue_provider_name TEXT NOT NULL,
            _supaglue_customer_id TEXT NOT NULL, _supaglue_id TEXT NOT NULL,
            _supaglue_emitted_at TIMESTAMP(3) NOT NULL,
            _supaglue_last_modified_at TIMESTAMP(3) NOT NULL,
            _supaglue_is_deleted BOOLEAN NOT NULL, _supaglue_raw_data JSONB NOT NULL,
            _supaglue_mapped_data JSONB NOT NULL,
            PRIMARY KEY (_supaglue_application_id, _supaglue_provider_name,
                         _supaglue_customer_id, _supaglue_id))""")
    start = time.perf_counter()
    with conn, conn.cursor() as cur:
        cur.copy_expert("COPY bench_raw.account FROM STDIN"
                        + (" (FORMAT binary)" if binary else ""), buf, size=1 << 20)
    elapsed = time.perf_counter() - start
    with conn.cursor() as cur:
        cur.execute("SELECT count(*) FROM bench_raw.account")
        assert cur.fetchone()[0] == n
    conn.close()
    return elapsed


def ensure_meltanolabs() -> Path:
    exe = MELTANOLABS_VENV / "bin" / "target-postgres"
    if not exe.exists():
        subprocess.run([sys.executable, "-m", "venv", str(MELTANOLABS_VENV)], check=True)
        subprocess.run([str(MELTANOLABS_VENV / "bin" / "pip"), "install", "-q",
                        f"meltanolabs-target-postgres=={MELTANOLABS_VERSION}"], check=True)
    return exe


def count_rows(uri: str, table: str) -> int:
    with psycopg2.connect(uri) as conn, conn.cursor() as cur:
        cur.execute(f"SELECT count(*) FROM {table}")
        return cur.fetchone()[0]


def wal_and_size(uri: str, table: str) -> tuple[int, int]:
    """(WAL position in bytes, total size of the table with its indexes and TOAST)."""
    with psycopg2.connect(uri) as conn, conn.cursor() as cur:
        cur.execute("SELECT pg_current_wal_lsn() - '0/0'::pg_lsn, "
                    "COALESCE(pg_total_relation_size(to_regclass(%s)), 0)", (table,))
        wal, size = cur.fetchone()
        return int(wal), int(size)


def target_command(checkout: Path | None) -> list[str]:
    """target-postgres of this repository, or of another checkout (its packages first)."""
    if checkout is None:
        return [str(ROOT / ".venv" / "bin" / "target-postgres")]
    paths = [str(checkout), str(checkout / "targets"), str(checkout / "taps")]
    return [str(ROOT / ".venv" / "bin" / "python"), "-c",
            f"import sys; sys.path[:0] = {paths!r}; "
            "from target_postgres.target import TargetPostgres; TargetPostgres.cli()"]


def run_ours(cmd: list[str], cfg: Path, files: dict[str, Path], uri: str, schema: str,
             n: int) -> dict[str, tuple]:
    """Initial full load, full re-sync of the same records, upsert-heavy incremental batch:
    {step: (seconds, peak RSS MB, WAL bytes, table growth bytes)}."""
    table = f"{schema}.salesforce_account"
    out = {}
    for step, path in files.items():
        wal0, size0 = wal_and_size(uri, table)
        secs, rss = run_measured([*cmd, "--config", str(cfg)], path)
        wal1, size1 = wal_and_size(uri, table)
        out[step] = (secs, rss, wal1 - wal0, size1 - size0)
        assert count_rows(uri, table) == n
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--records", type=int, default=200_000)
    parser.add_argument("--skip-meltanolabs", action="store_true")
    parser.add_argument("--baseline", type=Path,
                        help="another checkout whose target-postgres runs side by side")
    args = parser.parse_args()
    n = args.records

    with embedded_pg.scratch("tenantsync-bench-") as (work, uri):
        singer = work / "accounts.singer"
        write_singer_file(singer, n)
        upserts = work / "accounts-changed.singer"
        write_singer_file(upserts, n, changed=True)
        n_upserts = (n + 1) // 2
        size_mb = singer.stat().st_size / 1e6
        print(f"{n} records, {size_mb:.0f} MB of Singer messages; Postgres {uri}")
        results: dict[str, tuple[float, int | None]] = {}

        results["raw COPY, text"] = (raw_copy(uri, singer, n, binary=False), None)
        results["raw COPY, binary"] = (raw_copy(uri, singer, n, binary=True), None)
        raw_rate = n / results["raw COPY, binary"][0]  # "of raw": of the binary COPY

        def config(schema: str, **extra) -> Path:
            path = work / f"{schema}.json"
            path.write_text(json.dumps({"application_id": "app", "customer_id": "cust",
                                        "provider_name": "salesforce", "sqlalchemy_url": uri,
                                        "schema": schema, **extra}))
            return path

        files = {"full": singer, "re-sync": singer, "upserts": upserts}
        steps = {"tenantsync target-postgres": run_ours(
            target_command(None), config("bench_ours"), files, uri, "bench_ours", n)}
        if args.baseline:
            steps["baseline target-postgres"] = run_ours(
                target_command(args.baseline.resolve()), config("bench_base"), files, uri,
                "bench_base", n)
        for name, by_step in steps.items():
            results[name] = by_step["full"][:2]
        results["  with a field mapping"] = run_measured(
            [*target_command(None), "--config",
             str(config("bench_mapped", field_mappings={"Account": MAPPING}))], singer)
        assert count_rows(uri, "bench_mapped.salesforce_account") == n

        if not args.skip_meltanolabs:
            exe = ensure_meltanolabs()
            host = uri.split("host=")[1]
            mcfg = work / "meltanolabs.json"
            mcfg.write_text(json.dumps({
                "sqlalchemy_url": f"postgresql+psycopg://postgres@/postgres?host={host}",
                "default_target_schema": "bench_meltanolabs", "load_method": "upsert",
                "use_copy": True, "add_record_metadata": True}))
            results["MeltanoLabs target-postgres"] = run_measured(
                [str(exe), "--config", str(mcfg)], singer)
            assert count_rows(uri, 'bench_meltanolabs."Account"') == n

        print(f"\n{'initial full load':32} {'seconds':>8} {'records/s':>10} {'of raw':>7} "
              f"{'peak RSS MB':>12}")
        for name, (secs, rss) in results.items():
            print(f"{name:32} {secs:8.2f} {n / secs:10.0f} {n / secs / raw_rate:7.0%} "
                  f"{rss if rss is not None else '-':>12}")
        print(f"\n{'re-sync and upserts':32} {'re-sync s':>9} {'WAL MB':>7} {'of full':>8} "
              f"{'growth MB':>9} {'upserts rec/s':>13} {'of raw':>7} {'RSS MB':>7}")
        for name, by_step in steps.items():
            full, again, upd = by_step["full"], by_step["re-sync"], by_step["upserts"]
            print(f"{name:32} {again[0]:9.2f} {again[2] / 1e6:7.1f} {again[2] / full[2]:8.1%} "
                  f"{again[3] / 1e6:9.1f} {n_upserts / upd[0]:13.0f} "
                  f"{n_upserts / upd[0] / raw_rate:7.0%} {max(s[1] for s in by_step.values()):7}")
        wal = ", ".join(f"{k} {v['full'][2] / 1e6:.0f} MB" for k, v in steps.items())
        print(f"(first load WAL: {wal})")
        ours_s = results["tenantsync target-postgres"][0]
        if "MeltanoLabs target-postgres" in results:
            ratio = results["MeltanoLabs target-postgres"][0] / ours_s
            print(f"tenantsync vs MeltanoLabs: {ratio:.1f}x")


if __name__ == "__main__":
    main()
