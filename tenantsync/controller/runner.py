"""`tenantsync run`: one sync through `meltano run`, recorded as a sync run.

The controller never moves data: it renders, then starts `meltano run <job>` with the
tenant's environment (the same one the schedule carries) plus what no file may hold (the
registry URL, the decryption key, the destination's password), follows the log for progress
and record counts, and writes the run's status, strategy, counts and error to the registry.
"""

from __future__ import annotations

import fcntl
import importlib.metadata
import json
import os
import re
import shutil
import subprocess
import sys
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from tenantsync import contract
from tenantsync.common_schema import COMMON_OBJECTS
from tenantsync.controller import (
    catalog_cache,
    crypto,
    db,
    display,
    render,
    run_lock,
    sync_project,
)
from tenantsync.controller.models import Destination, Sync, SyncRun, utcnow
from tenantsync.controller.registry import (
    Registry,
    RegistryError,
    SyncView,
    narrow,
    paused_objects,
    sync_objects,
)

# Meltano prefixes each plugin log line with the plugin's name. target-postgres logs each
# batch it committed (a STATE follows it): what a run wrote, even when it is killed later
# (the record_count METRIC comes at the end, or not at all from a killed target).
_COMMITTED = re.compile(r"\]\s+target-\S+\s+stream (\S+): merged (\d+) records into (\S+)")
_PLAN = re.compile(r"\]\s+tap-\S+\s+Stream (\S+): (full|incremental) sync\b")
_SWEEP = re.compile(r"\]\s+target-\S+\s+stream (\S+): full sync .* (\d+) unseen rows? "
                    r"marked deleted")
# What the tap read (singer-sdk's record_count counter, every second from tapkit's streams),
# and what it waits on: tapkit's pauses (`waiting 2.0s: <why>`) and HTTP retries.
_READ = re.compile(r"\]\s+tap-\S+\s+METRIC: (\{.*\"metric\":\"record_count\".*\})\s*$")
_WAIT = re.compile(r"\]\s+tap-\S+\s+waiting ([\d.]+)s: (.*?)\s*$")
_RETRY = re.compile(r"\]\s+tap-\S+\s+(.*; retry \d+/\d+) in ([\d.]+)s\s*$")
# target-postgres's one line for a destination that refused the connection (no traceback)
_REFUSED = re.compile(r"\]\s+target-\S+\s+(cannot connect to the destination .*?)\s*$")
_PLUGIN_LINE = re.compile(r"^\S+Z \[\w+\s*\]\s+(?:tap|target)-\S+\s+(.*?)\s*$")
_LOG_PREFIX = re.compile(r"^\S+Z \[\w+\s*\]\s+\S+\s+")
_ERROR_LEVEL = re.compile(r"^\S+Z \[error\s*\]")
_EXCEPTION = re.compile(r"^[\w.]*(?:Error|Exception|Exit)\b.*: \S")
# What a plugin raises when the other end of the pipe died: never the cause.
_CONSEQUENCES = ("BrokenPipeError", "ConnectionResetError")
ERROR_TAIL = 1500
INTERRUPTED = "interrupted: the process running it ended before recording the outcome"
TAIL_LINES = 40
KEEP_LOGS = 50  # whole Meltano logs kept per sync
# Called with (registry, finished run, project) after every run is recorded.
ON_FINISH: list[Callable[[Registry, SyncRun, Path], None]] = []


class RunError(Exception):
    pass


@dataclass
class Progress:
    """What the log says so far: records committed per stream (the target's batches) and the
    table they went to, records read (the tap's counters), the strategy the tap chose per
    stream, rows marked deleted by full-sync sweeps, and what each stream waits on."""

    records: dict[str, int] = field(default_factory=dict)
    strategies: dict[str, str] = field(default_factory=dict)
    deleted: dict[str, int] = field(default_factory=dict)
    read: dict[str, int] = field(default_factory=dict)
    tables: dict[str, str] = field(default_factory=dict)
    waiting: dict[str, str] = field(default_factory=dict)  # cleared by the stream's next news
    seen: dict[str, tuple[float, float]] = field(default_factory=dict)  # first, last (epoch s)
    reading: dict[str, tuple[float, float]] = field(default_factory=dict)  # plan, last read
    current: str = ""  # the stream the tap is reading (its retries and pauses are that one's)
    tail: deque[str] = field(default_factory=lambda: deque(maxlen=TAIL_LINES))
    plugin_error: str | None = None  # the last exception a tap or target raised

    def feed(self, line: str) -> str | None:
        """Take one log line; return a progress message worth showing, if any."""
        self.tail.append(line)
        if match := _COMMITTED.search(line):
            stream, count = match.group(1), int(match.group(2))
            self.records[stream] = self.records.get(stream, 0) + count
            self.tables[stream] = match.group(3).rstrip(".")
            return self._news(line, stream, f"{self.records[stream]} records written")
        elif match := _READ.search(line):
            metric = json.loads(match.group(1))
            stream = metric.get("tags", {}).get("stream", "")
            self.read[stream] = self.read.get(stream, 0) + int(metric.get("value", 0))
            self._note(self.reading, stream, line)
            return self._news(line, stream, f"{self.read[stream]} records read")
        elif match := _PLAN.search(line):
            self.current = match.group(1)
            self.strategies[self.current] = match.group(2)
            self._note(self.reading, self.current, line)
            return self._news(line, match.group(1), f"{match.group(2)} sync")
        elif match := _SWEEP.search(line):
            self.deleted[match.group(1)] = int(match.group(2))
            return self._news(line, match.group(1), f"{match.group(2)} rows marked deleted")
        elif match := _WAIT.search(line) or _RETRY.search(line):
            first, second = match.groups()
            seconds, why = (first, second) if match.re is _WAIT else (second, first)
            self._news(line, self.current)
            self.waiting[self.current] = f"waiting {float(seconds):.1f}s: {why}"
            return f"  {self.current or 'discovery'}: {self.waiting[self.current]}"
        elif (match := _REFUSED.search(line)) or (
                (match := _PLUGIN_LINE.match(line)) and _EXCEPTION.match(match.group(1))
                and not match.group(1).startswith(_CONSEQUENCES)):
            self.plugin_error = match.group(1)
        return None

    def _news(self, line: str, stream: str, what: str = "") -> str:
        """Note the time of a stream's news; its earlier wait is over."""
        self.waiting.pop(stream, None)
        self._note(self.seen, stream, line)
        return f"  {stream}: {what}{self._rate(stream) if 'records' in what else ''}"

    @staticmethod
    def _note(spans: dict[str, tuple[float, float]], stream: str, line: str) -> None:
        when = _stamp(line)
        if when is not None:
            spans[stream] = (spans.get(stream, (when, when))[0], when)

    def _rate(self, stream: str) -> str:
        rate = self.rate(stream)
        return f" ({rate:,.0f}/s)" if rate else ""

    def rate(self, stream: str) -> float:
        """Records per second: read over the time the tap read the stream (from its plan to
        its last count), else written over the time from the stream's first news to its last
        (taps that count nothing)."""
        spans, count = (self.reading, self.read[stream]) if self.read.get(stream) else \
            (self.seen, self.records.get(stream, 0))
        first, last = spans.get(stream, (0.0, 0.0))
        return count / (last - first) if last > first else 0.0

    def error(self, code: int) -> str:
        """One line for a failed run: the plugin's exception (its traceback may be far above
        the tail), else the last exception in the tail, else the last error logged."""
        lines = [_LOG_PREFIX.sub("", line).strip() for line in self.tail]
        # Meltano's own error-level lines, less its closing "Block run completed"
        logged = [text for line, text in zip(self.tail, lines, strict=True)
                  if _ERROR_LEVEL.search(line) and not text.endswith("run completed")]
        found = [self.plugin_error] if self.plugin_error else _raised(lines) or logged or \
            [line for line in lines if re.search(r"error|failed", line, re.I)] or lines[-1:]
        return f"meltano run exited with {code}: {(found[-1] if found else '')[:ERROR_TAIL]}"

    @property
    def strategy(self) -> str:
        kinds = set(self.strategies.values())
        return "full" if "full" in kinds else ("incremental" if kinds else "unknown")


def _stamp(line: str) -> float | None:
    """The epoch seconds of a log line's timestamp (`2026-12-04T17:52:12.421519Z ...`)."""
    try:
        return datetime.fromisoformat(line[:26]).replace(tzinfo=timezone.utc).timestamp()
    except ValueError:
        return None


def meltano_executable() -> str:
    beside = Path(sys.executable).with_name("meltano")
    found = str(beside) if beside.exists() else shutil.which("meltano")
    if not found:
        raise RunError("meltano is not installed in this environment (pip install meltano)")
    return found


def run_env(session: Session, view: SyncView, project: Path) -> dict[str, str]:
    """The meltano process's environment for one sync: the schedule's tenant env, and the
    secrets and locations that are never written to a file."""
    env = dict(os.environ)
    env.update(render.tenant_env(view))
    env[db.URL_ENV] = str(session.get_bind().url.render_as_string(hide_password=False))
    env[db.PROJECT_ENV] = str(project)
    env.setdefault("MELTANO_SEND_ANONYMOUS_USAGE_STATS", "false")
    env.update(sync_system_dir(project, render.sync_name(view)))
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
    dest = session.scalar(
        select(Destination).where(
            Destination.application_id == view.application_id,
            Destination.name == view.destination))
    if dest is not None and dest.sealed_credentials:
        for key, value in crypto.unseal(dest.sealed_credentials).items():
            env[render.DESTINATION_SECRET_ENV[key]] = str(value)
    if crypto.KEY_ENV not in env:
        raise RunError(f"{crypto.KEY_ENV} is not set: the tap cannot decrypt its credentials")
    return env


SYSTEM_DIR = sync_project.SYSTEM_DIR
SYSTEM_DB_BUSY_SECONDS = 120
CACHE_DIR_ENV = "TENANTSYNC_CACHE_DIR"
# Kept per sync: Meltano's generated plugin files. Shared: everything else in .meltano.
_PER_SYNC = {"run", "syncs", "meltano.db", "meltano.db-journal", "meltano.db-wal",
             "meltano.db-shm"}


def sync_system_dir(project: Path, sync: str) -> dict[str, str]:
    """The environment that gives one sync its own Meltano system directory.

    Meltano writes a plugin's config.json (the tenant's settings), catalog and state to
    `.meltano/run/<plugin>/`, one directory per plugin name, and deletes them after the run.
    Every tenant shares the plugins, so two tenants syncing at once would overwrite each
    other's files: runs fail on a vanished catalog, or a tap starts with the other tenant's
    config. Each sync runs with its own `.meltano/syncs/<sync>/` (installed plugins linked
    from the project's), and the project's system database (state, jobs) stays shared."""
    shared = project / SYSTEM_DIR
    own = shared / "syncs" / sync
    own.mkdir(parents=True, exist_ok=True)
    for entry in shared.iterdir():
        link = own / entry.name
        if entry.name not in _PER_SYNC and not link.exists():
            link.symlink_to(entry, target_is_directory=entry.is_dir())
    env = {"MELTANO_SYS_DIR_ROOT": str(own)}
    meltano_yml = project / "meltano.yml"
    configured = meltano_yml.exists() and "database_uri" in meltano_yml.read_text()
    if "MELTANO_DATABASE_URI" not in os.environ and not configured:
        # Every concurrent run heartbeats into this file each second; SQLite's default 5 s
        # wait for a busy database kills a run when several of them contend (database is
        # locked), so writers wait longer. Many tenants at once: put it on PostgreSQL.
        env["MELTANO_DATABASE_URI"] = (f"sqlite:///{shared / 'meltano.db'}"
                                       f"?timeout={SYSTEM_DB_BUSY_SECONDS}")
        # created from the sync's own one-job project: in the whole one, Meltano would read
        # every tenant's job first (three minutes at 100,000 syncs)
        _create_system_db(own / sync_project.PROJECT_DIR, shared / "meltano.db")
    return env


def _create_system_db(cwd: Path, path: Path) -> None:
    """Create the project's system database once, running Meltano in `cwd` (a project):
    concurrent first runs would each migrate it and all but one fail ("Cannot upgrade the
    system database"). A copy of the one made by an earlier project serves when there is one
    (see system_db_template)."""
    if path.exists():
        return
    with open(path.parent / "syncs" / ".create-db.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if path.exists():
            return
        template = system_db_template()
        if template is not None and _copy_atomically(template, path):
            return
        env = {**os.environ, "MELTANO_SYS_DIR_ROOT": str(path.parent),
               "MELTANO_SEND_ANONYMOUS_USAGE_STATS": "false"}
        done = subprocess.run([meltano_executable(), "upgrade", "database"], cwd=cwd,
                              env=env, capture_output=True, text=True)
        if done.returncode != 0:
            raise RunError(f"could not create Meltano's system database: "
                           f"{(done.stderr or done.stdout)[-ERROR_TAIL:]}")
        if template is not None:
            _copy_atomically(path, template)


def system_db_template() -> Path | None:
    """Where a freshly migrated, empty Meltano system database is kept for this Meltano
    version (TENANTSYNC_CACHE_DIR, else the user's cache directory; None without either): a
    new project's first run copies it instead of waiting about a second for `meltano upgrade
    database` (a Meltano process that imports itself to run its migrations). Every `meltano
    run` migrates the database it opens, so an out-of-date copy would only be brought up to
    date."""
    root = os.environ.get(CACHE_DIR_ENV)
    if not root:
        try:
            root = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "tenantsync"
        except RuntimeError:  # no home directory (a container user without one)
            return None
    return Path(root) / f"meltano-{importlib.metadata.version('meltano')}-system.db"


def _copy_atomically(source: Path, target: Path) -> bool:
    """Copy `source` to `target` as a whole or not at all; False when it cannot be done."""
    try:
        target.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        render.write_atomic(target, source.read_bytes())  # an empty system database: 86 KB
        return True
    except OSError:
        return False


def run_log(project: Path, sync: str, run_id: int) -> Path:
    """Where a run's whole Meltano log is kept (`meltano run` itself keeps none)."""
    folder = project / SYSTEM_DIR / "logs" / "tenantsync" / sync
    folder.mkdir(parents=True, exist_ok=True)
    return folder / f"run-{run_id}.log"


def prune_logs(log: Path, keep: int) -> None:
    """Keep the newest `keep` run logs of a sync (a sync every 15 minutes writes 96 a day)."""
    def run_id(path: Path) -> int:
        return int(path.stem.removeprefix("run-")) if path.stem[4:].isdigit() else -1
    for old in sorted(log.parent.glob("run-*.log"), key=run_id)[:-keep]:
        old.unlink(missing_ok=True)


def run_sync(registry: Registry, customer_id: str, provider: str, project: Path, *,
             full_refresh: bool = False, force: bool = False,
             echo: Callable[[str], None] = print, echo_log: bool = False,
             live: bool = False) -> SyncRun:
    """Run one sync now; returns its recorded run (status SUCCESS or FAILURE). With
    `echo_log`, every line of Meltano's log is echoed too (e.g. into an Airflow task log);
    with `live`, progress is drawn on the terminal (tenantsync.controller.display)."""
    s = registry.s
    sync: Sync = registry.sync(customer_id, provider)
    if sync.paused and not force:
        raise RegistryError(f"sync {customer_id} x {provider} is paused: `tenantsync syncs "
                            "resume` it first (or run with --force)")
    if not run_objects(sync):
        raise RegistryError(f"every object of sync {customer_id} x {provider} is paused: "
                            "resume one first")
    (view,) = registry.sync_views(sync.id)
    full = full_refresh or bool(sync.args_for_next_run.get("perform_full_refresh"))
    cwd = sync_project.write(s, project, view)  # a one-job project, not the registry's
    env = run_env(s, view, project)
    name = render.sync_name(view)
    system = project / SYSTEM_DIR / "syncs" / name
    catalogs = catalog_cache.Catalogs.of(system, cwd, catalog_cache.shaping(
        sync, render.tenant_env(view)))
    try:
        with run_lock.hold(s, sync.id, system):
            batches = cwd / render.BATCH_DIR  # what a killed run left is never read again
            shutil.rmtree(batches, ignore_errors=True)
            try:
                return _run(registry, sync, name, f"{customer_id} x {provider}", env, project,
                            full, echo, echo_log, cwd, catalogs, live)
            finally:
                shutil.rmtree(batches, ignore_errors=True)
    except run_lock.RunInProgress:
        raise RunError(f"a run of {customer_id} x {provider} is in progress: wait for it, or "
                       "see `tenantsync runs`") from None


def _run(registry: Registry, sync: Sync, name: str, label: str, env: dict[str, str],
         project: Path, full: bool, echo: Callable[[str], None],
         echo_log: bool, cwd: Path, catalogs: catalog_cache.Catalogs,
         live: bool = False) -> SyncRun:
    """`meltano run` of a sync whose run lock is held, in `cwd` (its own project), recorded
    as a sync run; the catalogs its last successful run used are reused while current."""
    s = registry.s
    # With the lock ours, a run still IN_PROGRESS lost its process before recording its end,
    # and its meltano left a job RUNNING that would block this one for 5 minutes: --force.
    for dead in s.scalars(select(SyncRun).where(SyncRun.sync_id == sync.id,
                                                SyncRun.status == "IN_PROGRESS")):
        dead.ended_at, dead.status, dead.error = utcnow(), "FAILURE", INTERRUPTED
        count_from_log(dead, run_log(project, name, dead.id))
    run = SyncRun(sync_id=sync.id, status="IN_PROGRESS", strategy="full" if full else "auto",
                  records={}, num_records=0, objects=run_objects(sync))
    s.add(run)
    s.commit()
    cmd = [meltano_executable(), "run", name, "--force"]
    if full:
        cmd.append("--full-refresh")  # ignore the saved state: every stream reads everything
    echo(f"{label}: meltano run {name}{' --full-refresh' if full else ''}")
    given = catalogs.env(refresh=full)
    env = {**env, **given}
    progress = Progress()
    log = run_log(project, name, run.id)
    prune_logs(log, KEEP_LOGS - 1)
    view = display.open_view(echo, label, live and not echo_log)
    try:
        with subprocess.Popen(cmd, cwd=cwd, env=env, stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, text=True, errors="replace") as proc, \
                open(log, "w", encoding="utf-8") as kept:
            assert proc.stdout is not None
            for line in proc.stdout:
                kept.write(line)
                if echo_log:
                    echo(line.rstrip("\n"))
                view.update(progress, progress.feed(line.rstrip("\n")))
            code = proc.wait()
    except BaseException as exc:  # Ctrl-C or a dying controller: not left IN_PROGRESS
        view.close(progress)
        record_counts(run, progress)
        run.ended_at, run.status = utcnow(), "FAILURE"
        run.error = (f"interrupted ({type(exc).__name__}) after {run.num_records} records "
                     "were committed")
        s.commit()
        raise
    view.close(progress)
    run.ended_at = utcnow()
    record_counts(run, progress)
    if not full:
        run.strategy = progress.strategy
    run.objects = object_results(run.objects or [], progress, sync.connection.provider.name,
                                 run.strategy)
    if code == 0:
        run.status = "SUCCESS"
        sync.args_for_next_run = {}
        catalogs.keep(given)
    else:
        catalogs.forget()
        run.status = "FAILURE"
        run.error = progress.error(code)
        echo("\n".join(["  meltano's last lines:", *(f"  | {line}" for line in progress.tail),
                         f"  whole log: {log}"]))
    s.commit()
    for hook in ON_FINISH:  # e.g. the API's webhooks and auto-pause (tenantsync.api.runs)
        hook(registry, run, project)
    return run


def run_objects(sync: Sync) -> list[dict[str, str]]:
    """The objects a run of `sync` reads: its objects less the paused ones (one Meltano run
    per connection reads them all; a paused object is narrowed out of the taps' lists)."""
    return [{"object_type": kind, "object": name}
            for kind, names in narrow(sync_objects(sync), None, paused_objects(sync)).items()
            for name in names]


def _object_of(stream: str, provider: str) -> tuple[str, str] | None:
    """(object type, object name) of a stream of the log, as the sync config names it."""
    try:
        dest = contract.resolve(stream, provider)
    except contract.ContractError:
        return None
    return dest.kind, COMMON_OBJECTS[dest.object].name if dest.kind == "common" else dest.object


def object_results(objects: list[dict], progress: Progress, provider: str,
                   strategy: str) -> list[dict]:
    """The run's objects with what the log says of each: records written and the strategy
    the tap chose (the run's when the log names none)."""
    streams = {_object_of(stream, provider): stream
               for stream in {*progress.records, *progress.strategies}}
    out = []
    for item in objects:
        stream = streams.get((item["object_type"], item["object"]))
        out.append({**item, "num_records": progress.records.get(stream, 0) if stream else 0,
                    "strategy": progress.strategies.get(stream, strategy) if stream
                    else strategy})
    return out


def record_counts(run: SyncRun, progress: Progress) -> None:
    """What the run committed, per stream and in all (the target's committed batches)."""
    run.records = {stream: {"written": progress.records.get(stream, 0),
                            "deleted": progress.deleted.get(stream, 0)}
                   for stream in sorted({*progress.records, *progress.deleted})}
    run.num_records = sum(progress.records.values())


def count_from_log(run: SyncRun, log: Path) -> None:
    """A run whose process died: count what its kept log says the target committed."""
    if not log.exists():
        return
    progress = Progress()
    with open(log, encoding="utf-8", errors="replace") as lines:
        for line in lines:
            progress.feed(line.rstrip("\n"))
    record_counts(run, progress)


def _raised(lines: list[str]) -> list[str]:
    """The exception lines, less those Python reports while exiting ("Exception ignored
    in: ..." then a traceback, e.g. asyncio's "Event loop is closed" after a failed run):
    they follow the error that mattered."""
    raised, ignoring = [], False
    for line in lines:
        if line.startswith("Exception ignored"):
            ignoring = True
        elif _EXCEPTION.match(line):
            if not ignoring:
                raised.append(line)
            ignoring = False
    return raised
