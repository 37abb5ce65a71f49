"""End to end: a Salesforce org -> `tenantsync run` -> `meltano run` -> tap-salesforce ->
target-postgres -> PostgreSQL, every standard object of the org; then 1% of the records
changed and an incremental sync; then, on the same records, the tap alone (to a file) and the
target alone (from that file), and both through a plain pipe, with RECORD lines and with the
BATCH files tenantsync's rendered projects use. That is round 1; each further round (--rounds,
2 by default) runs the end-to-end full sync once more, into a new project and schema, then the
tap alone, the target alone and the BATCH pipe again, so that each round's ratios compare runs
made minutes apart on this shared machine (round 1's end-to-end run comes right after the org
is built, on a new server and project). Each phase loads tables of its own, dropped once it is
measured, and starts when no autovacuum worker runs (none pays for vacuuming what an earlier
one loaded). Prints records/s, peak RSS and CPU seconds of meltano, tap and target, and the
machine's, the twin's and PostgreSQL's CPU; for each round, end to end / slower alone, the
BATCH pipe / slower alone and end to end - BATCH pipe (what `tenantsync run` and meltano add
to the same tap and target), with the medians over rounds; and the CPU floor (round 1's
end-to-end busy core-seconds over the cores: no schedule of that work on this machine finishes
sooner); with --profile, py-spy samples meltano, the tap and the target during the first
full sync and the hottest functions of each are printed (self time, % of samples).

    .venv/bin/python bench/end_to_end.py --records 1100000 --profile [--rounds 3]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import random
import statistics
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

import psutil
import psycopg2

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.tap_process import hottest
from tap_salesforce.sandbox import SalesforceSandbox
from tenantsync import embedded_pg
from tenantsync.contract import slug
from tenantsync.controller import render
from tests.proof.harness import Deployment, Tenant

OBJECTS = ("Account", "Contact", "Lead", "Opportunity", "OpportunityContactRole", "Task",
           "Event", "Campaign", "Case", "User")
BIN = Path(sys.executable).parent


def profile(role: str, pid: int, out: Path, procs: list) -> None:
    if role in ("meltano", "tap", "target"):
        path = out / f"{role}-{pid}.txt"
        procs.append((role, path, subprocess.Popen(
            [str(BIN / "py-spy"), "record", "--pid", str(pid), "--format", "raw", "--rate",
             "50", "--nonblocking", "-o", str(path)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)))


def measured(*cmds: list[str], stdin=None, stdout=None) -> list[dict]:
    """Run a pipeline of processes (each one's stdout into the next one's stdin); for each,
    the pipeline's seconds, its own peak RSS (VmHWM, MB) and CPU seconds."""
    began = time.monotonic()
    procs: list[psutil.Popen] = []
    for i, cmd in enumerate(cmds):
        last = i == len(cmds) - 1
        procs.append(psutil.Popen(cmd, stdin=procs[-1].stdout if procs else stdin,
                                  stdout=stdout if last else subprocess.PIPE,
                                  stderr=subprocess.DEVNULL))
        if i:
            procs[-2].stdout.close()  # the next process holds it now
    usage = [{"peak_rss_mb": 0.0, "cpu_s": 0.0} for _ in procs]
    while any(p.poll() is None for p in procs):
        for proc, u in zip(procs, usage, strict=True):
            try:
                status = Path(f"/proc/{proc.pid}/status").read_text()
                u["peak_rss_mb"] = max(u["peak_rss_mb"],
                                       int(status.split("VmHWM:")[1].split()[0]) / 1024)
                t = proc.cpu_times()
                u["cpu_s"] = max(u["cpu_s"], t.user + t.system)
            except (psutil.Error, OSError, IndexError):
                pass
        time.sleep(0.25)
    seconds = time.monotonic() - began
    for cmd, proc in zip(cmds, procs, strict=True):
        if proc.returncode != 0:
            raise SystemExit(f"{cmd[0]} failed with {proc.returncode}")
    return [{**u, "seconds": seconds, "peak_rss_mb": round(u["peak_rss_mb"])} for u in usage]


def cpu_now() -> tuple[float, ...]:
    """Busy core-seconds of the whole machine, CPU seconds of this process (the twin), and of
    PostgreSQL (every `postgres` process, with the backends that ended counted in the
    postmaster's children); then the machine's idle core-seconds waiting on I/O, and those its
    hypervisor gave to other machines (steal, counted busy)."""
    t = psutil.cpu_times()
    own = psutil.Process().cpu_times()
    # Linux counts guest time inside user time as well: leave it out so nothing counts twice.
    idle = t.idle + sum(getattr(t, f, 0.0) for f in ("iowait", "guest", "guest_nice"))
    server = 0.0
    for proc in psutil.process_iter(["name"]):
        if proc.info["name"] == "postgres":
            with contextlib.suppress(psutil.Error):
                c = proc.cpu_times()
                server += c.user + c.system + c.children_user + c.children_system
    return (sum(t) - idle, own.user + own.system, server, getattr(t, "iowait", 0.0),
            getattr(t, "steal", 0.0))


def where(began: tuple[float, ...], seconds: float) -> str:
    """What the machine spent between `began` and now: it says whether the cores were full,
    and whether idle ones waited on the disk."""
    busy, own, server, iowait, steal = (b - a for a, b in zip(began, cpu_now(), strict=True))
    cores = psutil.cpu_count()
    return (f"  machine: {busy:.1f} of {cores * seconds:.1f} core-s busy ({cores} cores; "
            f"{steal:.1f} of them stolen by the hypervisor), {iowait:.1f} idle waiting on I/O; "
            f"the twin {own:.1f} CPU s, PostgreSQL {server:.1f}")


def quiet(uri: str, limit: float = 120.0) -> tuple[float, ...]:
    """Wait until no autovacuum worker runs, then `cpu_now()` to measure a phase from: each
    phase starts on a quiet server, so that none pays for vacuuming or analyzing what an
    earlier phase loaded."""
    until = time.monotonic() + limit
    conn = psycopg2.connect(uri)
    conn.autocommit = True  # a transaction would see one snapshot of the statistics
    try:
        with conn.cursor() as cur:
            while time.monotonic() < until:
                cur.execute("SELECT count(*) FROM pg_stat_activity "
                            "WHERE backend_type = 'autovacuum worker'")
                if not cur.fetchone()[0]:
                    break
                time.sleep(0.5)
    finally:
        conn.close()
    return cpu_now()


def change(d: Deployment, tenant: Tenant, share: float, rng: random.Random) -> int:
    """Update `share` of the live records of every object (new SystemModstamp)."""
    sb = tenant.sandbox
    sb.advance_clock(60)
    changed = 0
    for obj in d.objects["salesforce"]:
        ids = [r[0] for r in d.query(
            f'SELECT _supaglue_id FROM {{schema}}."salesforce_{slug(obj)}" '
            "WHERE NOT _supaglue_is_deleted")]
        for rid in rng.sample(ids, int(len(ids) * share)):
            sb.update(obj, rid, {})
            changed += 1
    return changed


def report(label: str, records: int, seconds: float, usage: dict) -> None:
    parts = [f"{label}: {records:,} records in {seconds:.1f} s = {records / seconds:,.0f}/s"]
    for role in ("meltano", "tap", "target"):
        if role in usage:
            u = usage[role]
            parts.append(f"{role} {u['peak_rss_mb']:.0f} MB peak, {u['cpu_s']:.1f} CPU s")
        parts.append("")
    print("; ".join(p for p in parts if p), flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--records", type=int, default=1_100_000,
                        help="world size (its standard objects hold ~91%% of it)")
    parser.add_argument("--change", type=float, default=0.01)
    parser.add_argument("--profile", action="store_true")
    parser.add_argument("--seed", type=int, default=4)
    parser.add_argument("--rounds", type=int, default=2,
                        help="end-to-end runs, each with the tap and target alone measured "
                             "after it (the first also with the incremental run and the pipes)")
    args = parser.parse_args()
    with embedded_pg.scratch("end-to-end-") as (tmp, uri):
        began = time.monotonic()
        with SalesforceSandbox(records=args.records, seed=args.seed,
                               db_path=str(tmp / "org.db")) as sb:
            print(f"world of {args.records:,} built in {time.monotonic() - began:.0f} s",
                  flush=True)
            tenant = Tenant("acme", "salesforce", sb)
            spies: list = []
            lock = threading.Lock()

            def on_start(role: str, pid: int) -> None:
                with lock:
                    profile(role, pid, tmp, spies)

            def end_to_end(label: str, project: Path, profiled: bool = False
                           ) -> tuple[Deployment, float, int, float]:
                """A full sync of the org by `tenantsync run` into a new project and schema:
                (deployment, seconds, records, the machine's busy core-seconds)."""
                d = Deployment(project, uri, f"e2e_{uuid.uuid4().hex[:8]}", [tenant],
                               objects={"salesforce": OBJECTS})
                mark = quiet(uri)
                full = d.run(tenant, sample=True, on_start=on_start if profiled else None)
                busy = cpu_now()[0] - mark[0]
                assert full.code == 0, full.output[-3000:]
                records = sum(full.records.values())
                report(label, records, full.seconds, full.usage)
                print(where(mark, full.seconds), flush=True)
                return d, full.seconds, records, busy

            d, first, full_records, first_busy = end_to_end(
                "full sync, end to end", tmp / "project", args.profile)
            for role, path, spy in spies:
                spy.wait(timeout=120)
                if path.exists() and path.stat().st_size:
                    print(f"  py-spy {role} (self time, % of samples): {hottest(path)}")

            changed = change(d, tenant, args.change, random.Random(args.seed))
            inc = d.run(tenant, sample=True)
            assert inc.code == 0, inc.output[-3000:]
            inc_records = sum(inc.records.values())
            report(f"incremental after {changed:,} changes", inc_records, inc.seconds,
                   inc.usage)
            print(f"  incremental / full: {inc_records / full_records:.2%} of the records, "
                  f"{inc.seconds / first:.2%} of the time", flush=True)
            d.drop()  # each phase below works on its own tables alone

            # The same records, each side alone: the tap to a file, the target from it.
            cfg = {"client_id": sb.client_id, "client_secret": sb.client_secret,
                   "refresh_token": sb.mint_refresh_token(), "login_url": sb.base_url,
                   "standard_objects": list(OBJECTS)}
            (tmp / "tap.json").write_text(json.dumps(cfg))
            tap_cmd = [str(BIN / "tap-salesforce"), "--config", str(tmp / "tap.json")]
            singer = tmp / "records.singer"
            schemas = []

            def target_cmd(label: str, **settings) -> list[str]:
                schemas.append(f"{label}_{uuid.uuid4().hex[:8]}")
                path = tmp / f"target-{label}.json"
                path.write_text(json.dumps({
                    "application_id": "bench", "customer_id": label,
                    "provider_name": "salesforce", "sqlalchemy_url": uri,
                    "schema": schemas[-1], **settings}))
                return [str(BIN / "target-postgres"), "--config", str(path)]

            def drop_schemas() -> None:
                for schema in schemas:
                    d.schema = schema
                    d.drop()
                schemas.clear()

            def each_alone() -> tuple[float, int]:
                """The tap alone into `singer`, then the target alone from it: the slower's
                seconds, and the records."""
                mark = quiet(uri)
                with open(singer, "wb") as out:
                    tap, = measured(tap_cmd, stdout=out)
                with open(singer, "rb") as src:
                    lines = sum(1 for line in src if b'"type":"RECORD"' in line[:40])
                print(f"tap alone: {lines:,} records in {tap['seconds']:.1f} s = "
                      f"{lines / tap['seconds']:,.0f}/s; {tap['peak_rss_mb']} MB peak, "
                      f"{tap['cpu_s']:.1f} CPU s ({singer.stat().st_size / 1e6:,.0f} MB of "
                      "Singer)", flush=True)
                print(where(mark, tap["seconds"]), flush=True)
                mark = quiet(uri)
                with open(singer, "rb") as src:
                    target, = measured(target_cmd("alone"), stdin=src,
                                       stdout=subprocess.DEVNULL)
                print(f"target alone: {lines:,} records in {target['seconds']:.1f} s = "
                      f"{lines / target['seconds']:,.0f}/s; {target['peak_rss_mb']} MB peak, "
                      f"{target['cpu_s']:.1f} CPU s", flush=True)
                print(where(mark, target["seconds"]), flush=True)
                drop_schemas()
                return max(tap["seconds"], target["seconds"]), lines

            slower, lines = each_alone()

            # What meltano's relay costs: the same full sync through a plain pipe, with
            # RECORD lines and with BATCH files as the rendered projects have them.
            batch_cfg = {**cfg, "batch_pending_files": render.BATCH_PENDING_FILES,
                         "batch_config": {**render.BATCH_CONFIG, "storage": {
                             "root": str(tmp / "batches")}}}
            (tmp / "tap-batch.json").write_text(json.dumps(batch_cfg))
            batch_tap = [str(BIN / "tap-salesforce"), "--config", str(tmp / "tap-batch.json")]
            pipes = {"RECORD lines": lambda: (tap_cmd, target_cmd("piped")),
                     "BATCH files": lambda: (batch_tap, target_cmd(
                         "batched", delete_batch_files=True))}

            def piped(label: str) -> float:
                """The full sync through a plain pipe without tenantsync and meltano: seconds."""
                mark = quiet(uri)
                piped_tap, piped_target = measured(*pipes[label](), stdout=subprocess.DEVNULL)
                seconds = piped_tap["seconds"]
                print(f"tap | target, no meltano, {label}: {lines:,} records in "
                      f"{seconds:.1f} s = {lines / seconds:,.0f}/s; tap "
                      f"{piped_tap['peak_rss_mb']} MB peak, {piped_tap['cpu_s']:.1f} CPU s; "
                      f"target {piped_target['peak_rss_mb']} MB peak, "
                      f"{piped_target['cpu_s']:.1f} CPU s", flush=True)
                print(where(mark, seconds), flush=True)
                drop_schemas()
                return seconds

            records_pipe, batch_pipe = piped("RECORD lines"), piped("BATCH files")
            print(f"end to end / slower alone: {first / slower:.2f}x the time; "
                  f"tap | target (RECORD lines) / slower alone: {records_pipe / slower:.2f}x; "
                  f"tap | target (BATCH files) / slower alone: {batch_pipe / slower:.2f}x; "
                  f"end to end - BATCH pipe: {first - batch_pipe:.1f} s", flush=True)
            # The first run above came straight after the org was built, on a new server and a
            # new project (Meltano's system database created, no WAL to recycle): once more,
            # after the others, as a deployment's next tenant would run; each further round
            # measures the tap and the target alone again, minutes from its end-to-end run,
            # as this shared machine's speed drifts.
            ratios, pipe_ratios = [first / slower], [batch_pipe / slower]
            added = [first - batch_pipe]
            for round_ in range(2, args.rounds + 1):
                again_d, again, _, _ = end_to_end(
                    f"round {round_}: full sync, end to end, again after the runs above",
                    tmp / f"project-{round_}")
                again_d.drop()
                slower = each_alone()[0]
                batch_pipe = piped("BATCH files")
                ratios.append(again / slower)
                pipe_ratios.append(batch_pipe / slower)
                added.append(again - batch_pipe)
                print(f"round {round_}: end to end / slower alone: {ratios[-1]:.2f}x; BATCH "
                      f"pipe / slower alone: {pipe_ratios[-1]:.2f}x; end to end - BATCH pipe: "
                      f"{added[-1]:.1f} s", flush=True)
            for label, values, unit in (("end to end / slower alone", ratios, "x"),
                                        ("BATCH pipe / slower alone", pipe_ratios, "x"),
                                        ("end to end - BATCH pipe", added, " s")):
                print(f"{label}, each round: {', '.join(f'{v:.2f}{unit}' for v in values)}; "
                      f"median {statistics.median(values):.2f}{unit}", flush=True)
            # No schedule of that work finishes sooner than its CPU over the cores: the twin's
            # (the provider's stand-in) included, which in production runs elsewhere. Against
            # the first round's slower alone.
            floor = first_busy / psutil.cpu_count()
            print(f"CPU floor of the first end-to-end run: {first_busy:.1f} busy core-s / "
                  f"{psutil.cpu_count()} cores = {floor:.1f} s, {floor / slower:.2f}x the slower "
                  f"alone", flush=True)


if __name__ == "__main__":
    main()
