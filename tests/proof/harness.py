"""A real deployment for the proof tests and the bench scripts: sandbox orgs and portals,
a registry, a rendered Meltano project, `tenantsync run` as a process (which runs `meltano
run`, the tap and target-postgres), one PostgreSQL; and the checks that the destination
equals the sandbox exactly.

Every provider comes from the registry (tenantsync.providers): its twin's `records` hook is the
reference, read from the twin itself (wire API or store), never from anything the tap or target
produced; its `objects` are what a deployment syncs unless told otherwise.
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import psutil
import psycopg2
import yaml

from tenantsync import providers
from tenantsync.contract import slug
from tenantsync.controller import crypto, db, render
from tenantsync.controller.registry import Registry

APP = "proof-app"
SECRET_KEY = "proof-secret-key-0123456789abcdef"
ROLES = ("meltano", "tap", "target")


@dataclass
class Tenant:
    customer: str
    provider: str  # a registered provider with a twin
    sandbox: object

    @property
    def spec(self) -> providers.ProviderSpec:
        return providers.get(self.provider)


@dataclass
class RunOutcome:
    code: int
    output: str
    killed: str | None = None  # role of the process SIGKILLed, if any
    records: dict[str, int] = field(default_factory=dict)  # stream -> written (from the log)
    seconds: float = 0.0
    # role -> {"peak_rss_mb": VmHWM, "cpu_s": user + system}, with `sample=True`
    usage: dict[str, dict[str, float]] = field(default_factory=dict)


class Deployment:
    """A registry + Meltano project under `root` with one sync per tenant, into `schema`.
    `objects[provider]`: the standard objects synced (default: its twin's `objects`);
    `common[provider]`: the common objects synced (default: none)."""

    def __init__(self, root: Path, pg_uri: str, schema: str, tenants: Iterable[Tenant], *,
                 objects: Mapping[str, Iterable[str]] | None = None,
                 common: Mapping[str, Iterable[str]] | None = None,
                 strategy: str = "full then incremental", tap_config: dict | None = None):
        self.root, self.pg_uri, self.schema = root, pg_uri, schema
        self.tenants = list(tenants)
        self.objects = {t.provider: tuple(t.spec.twin.objects if (objects or {}).get(
            t.provider) is None else objects[t.provider]) for t in self.tenants}
        self.common = {t.provider: tuple((common or {}).get(t.provider) or ())
                       for t in self.tenants}
        root.mkdir(parents=True, exist_ok=True)
        self.env = {**os.environ, crypto.KEY_ENV: SECRET_KEY,
                    db.URL_ENV: f"sqlite:///{root}/registry.db", db.PROJECT_ENV: str(root),
                    "TENANTSYNC_APPLICATION_ID": APP, "XDG_STATE_HOME": str(root / "xdg"),
                    "MELTANO_SEND_ANONYMOUS_USAGE_STATS": "false"}
        self._apply_registry(strategy)
        if tap_config:
            self._configure_taps(tap_config)

    def _configure_taps(self, config: dict) -> None:
        """Settings for both base taps in the project's own meltano.yml (the file a user
        edits; render only writes the include file), e.g. a shorter retry backoff."""
        render.ensure_project(self.root)  # meltano.yml from the template
        path = self.root / "meltano.yml"
        project = yaml.safe_load(path.read_text())
        for tap in project["plugins"]["extractors"]:
            tap.setdefault("config", {}).update(config)
        path.write_text(yaml.safe_dump(project, sort_keys=False))

    @contextlib.contextmanager
    def registry(self) -> Iterator[Registry]:
        """The deployment's registry (committed on success), with its environment set."""
        saved = {k: os.environ.get(k) for k in (crypto.KEY_ENV, db.URL_ENV, db.PROJECT_ENV)}
        os.environ.update({k: self.env[k] for k in saved})
        reg = Registry(db.session(), APP)
        try:
            yield reg
            reg.s.commit()
        finally:
            reg.s.close()
            for key, value in saved.items():
                if value is None:
                    os.environ.pop(key, None)
                else:
                    os.environ[key] = value

    def _apply_registry(self, strategy: str) -> None:
        docs, connections = [], []
        for provider in sorted({t.provider for t in self.tenants}):
            spec = providers.get(provider)
            first = next(t.sandbox for t in self.tenants if t.provider == provider)
            cid, secret = first.client_id, first.client_secret
            docs.append(providers.registry_provider(spec, cid, secret))
            for t in self.tenants:
                if t.provider != provider:
                    continue
                if t.sandbox is not first:
                    t.sandbox.oauth.register_client(cid, secret)
                connections.append({"customer_id": t.customer, "provider_name": provider,
                                    **providers.twin_connection(spec, t.sandbox, cid)})
        with self.registry() as reg:
            reg.apply(self._bundle(docs, connections, self.objects, strategy))

    def _bundle(self, docs: list, connections: list, objects: dict, strategy: str) -> dict:
        return {
            "providers": docs,
            "destinations": [{"name": "warehouse", "type": "postgres",
                              "credentials": {"sqlalchemy_url": self.pg_uri,
                                              "schema": self.schema}}],
            "sync_configs": [{"provider_name": p["provider_name"],
                              "destination_name": "warehouse",
                              "default_config": {"period_ms": 3_600_000, "strategy": strategy},
                              "standard_objects": [{"object": o}
                                                   for o in objects[p["provider_name"]]],
                              "common_objects": [{"object": o}
                                                 for o in self.common[p["provider_name"]]]}
                             for p in docs],
            "customers": [{"customer_id": c, "name": c}
                          for c in sorted({t.customer for t in self.tenants})],
            "connections": connections}

    # --- running -------------------------------------------------------------------------

    def start(self, tenant: Tenant, *args: str) -> subprocess.Popen:
        cmd = [str(Path(sys.executable).with_name("tenantsync")), "run", tenant.customer,
               tenant.provider, *args]
        return subprocess.Popen(cmd, cwd=self.root, env=self.env, stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT, text=True, errors="replace")

    def run(self, tenant: Tenant, *args: str, kill_role: str | None = None,
            kill_when: Callable[[], bool] | None = None, kill_delay: float = 0.0,
            sample: bool = False, on_start: Callable[[str, int], None] | None = None
            ) -> RunOutcome:
        """One `tenantsync run`. With `kill_role`, SIGKILL its meltano, tap or target process
        once the tap has started and `kill_when()` (polled) holds, `kill_delay` s later.
        With `sample`, measure each process's peak RSS and CPU time; `on_start(role, pid)` is
        called as each of them appears."""
        began = time.monotonic()
        proc = self.start(tenant, *args)
        killer = sampler = None
        if kill_role is not None:
            killer = _Killer(proc.pid, kill_role, kill_when or (lambda: True), kill_delay)
            killer.start()
        if sample or on_start:
            sampler = _Sampler(proc.pid, on_start)
            sampler.start()
        output = proc.communicate()[0]
        seconds = time.monotonic() - began
        if killer is not None:
            killer.join()
            _wait_gone(killer.family)
        if sampler is not None:
            sampler.join()
        return RunOutcome(proc.returncode, output, killer.killed if killer else None,
                          written(output), seconds, sampler.usage if sampler else {})

    def row_count(self, tenant: Tenant) -> int:
        """Rows the destination holds for the tenant, over its synced objects."""
        total = 0
        for obj in self.objects[tenant.provider]:
            with contextlib.suppress(psycopg2.errors.UndefinedTable):  # before the first batch
                total += self.query(
                    f'SELECT count(*) FROM {{schema}}."{tenant.provider}_{slug(obj)}" '
                    "WHERE _supaglue_customer_id = %s", tenant.customer)[0][0]
        return total

    # --- reading the destination ---------------------------------------------------------

    def query(self, sql: str, *args) -> list[tuple]:
        with psycopg2.connect(self.pg_uri) as conn, conn.cursor() as cur:
            cur.execute(sql.replace("{schema}", f'"{self.schema}"'), args)
            return cur.fetchall()

    def rows(self, tenant: Tenant, obj: str) -> list[tuple]:
        """(id, raw_data, is_deleted) of one tenant's table for a standard object."""
        table = f"{tenant.provider}_{slug(obj)}"
        return self.query(
            "SELECT _supaglue_id, _supaglue_raw_data, _supaglue_is_deleted "
            f'FROM {{schema}}."{table}" '
            "WHERE _supaglue_application_id = %s AND _supaglue_customer_id = %s "
            "AND _supaglue_provider_name = %s", APP, tenant.customer, tenant.provider)

    def drop(self) -> None:
        with psycopg2.connect(self.pg_uri) as conn, conn.cursor() as cur:
            cur.execute(f'DROP SCHEMA IF EXISTS "{self.schema}" CASCADE')

    def check_exact(self, tenant: Tenant, stored_as: Callable[[str], str] | None = None
                    ) -> list[str]:
        """Every difference between the tenant's tables and its sandbox (empty: exact).
        `stored_as` maps each expected text value to its documented stored form."""
        problems: list[str] = []
        for obj in self.objects[tenant.provider]:
            problems += compare(obj, self.rows(tenant, obj), reference(tenant, obj),
                                stored_as=stored_as)
        return problems

    def total_records(self, tenant: Tenant) -> int:
        return sum(len(reference(tenant, obj)) for obj in self.objects[tenant.provider])


# "  <stream>: <n> records written", then the rate when the run has one ("(1,234/s)")
_WRITTEN = re.compile(r"^  (\S+): (\d+) records written(?: \([\d,.]+/s\))?$", re.M)


def written(output: str) -> dict[str, int]:
    """Records written per stream, from `tenantsync run`'s progress lines (running totals)."""
    return {stream: int(n) for stream, n in _WRITTEN.findall(output)}


def role_of(proc: psutil.Process) -> str | None:
    try:
        cmd = " ".join(proc.cmdline())
    except psutil.Error:
        return None
    if any(spec.executable in cmd for spec in providers.all_specs()):
        return "tap"
    if "target-postgres" in cmd:
        return "target"
    if "meltano" in cmd and " run " in f"{cmd} ":
        return "meltano"
    return None


class _Killer(threading.Thread):
    def __init__(self, root_pid: int, role: str, when: Callable[[], bool], delay: float):
        super().__init__(daemon=True)
        self.root_pid, self.role, self.when, self.delay = root_pid, role, when, delay
        self.killed: str | None = None
        self.family: list[psutil.Process] = []

    def run(self) -> None:
        try:
            root = psutil.Process(self.root_pid)
        except psutil.Error:
            return
        armed_at = None
        while root.is_running() and root.status() != psutil.STATUS_ZOMBIE:
            try:
                children = root.children(recursive=True)
            except psutil.Error:
                return
            self.family = list({c.pid: c for c in [*self.family, *children]}.values())
            roles = {role_of(c): c for c in children}
            if armed_at is None and "tap" in roles and self.when():
                armed_at = time.monotonic()
            target = roles.get(self.role)
            if armed_at is not None and target is not None \
                    and time.monotonic() - armed_at >= self.delay:
                try:
                    target.send_signal(signal.SIGKILL)
                    self.killed = self.role
                except psutil.Error:
                    pass
                return
            time.sleep(0.05)


class _Sampler(threading.Thread):
    """Peak RSS (VmHWM) and CPU time of the meltano, tap and target processes of a run."""

    def __init__(self, root_pid: int, on_start: Callable[[str, int], None] | None):
        super().__init__(daemon=True)
        self.root_pid, self.on_start = root_pid, on_start
        self.usage: dict[str, dict[str, float]] = {}

    def run(self) -> None:
        try:
            root = psutil.Process(self.root_pid)
        except psutil.Error:
            return
        seen: set[int] = set()
        while root.is_running() and root.status() != psutil.STATUS_ZOMBIE:
            with contextlib.suppress(psutil.Error):
                for child in root.children(recursive=True):
                    role = role_of(child)
                    if role is None:
                        continue
                    if child.pid not in seen:
                        seen.add(child.pid)
                        if self.on_start:
                            self.on_start(role, child.pid)
                    # a process that just ended (a zombie) has no VmHWM line: IndexError
                    with contextlib.suppress(psutil.Error, OSError, ValueError, IndexError):
                        status = Path(f"/proc/{child.pid}/status").read_text()
                        hwm = int(status.split("VmHWM:")[1].split()[0]) / 1024
                        cpu = child.cpu_times()
                        entry = self.usage.setdefault(role, {"peak_rss_mb": 0.0, "cpu_s": 0.0})
                        entry["peak_rss_mb"] = max(entry["peak_rss_mb"], round(hwm, 1))
                        entry["cpu_s"] = max(entry["cpu_s"], round(cpu.user + cpu.system, 2))
            time.sleep(0.25)


def _wait_gone(procs: list[psutil.Process], timeout: float = 60) -> None:
    """Orphans of a killed meltano (its tap and target) finish on EOF or a broken pipe; the
    next run starts after they are gone, as a scheduler's next run would."""
    psutil.wait_procs(procs, timeout=timeout)


# --- the reference: what the sandbox holds ----------------------------------------------

FIRED: Counter = Counter()  # injected faults that fired, by "kind[ status]", over all sandboxes
QUIET_REQUESTS: Counter = Counter()  # requests made while quiet (reading the reference), by id
_FAULT_SPEC = ("path", "method", "probability", "count", "status", "retry_after", "delay")


@contextlib.contextmanager
def quiet(sb) -> Iterator[None]:
    """No injected faults and no token expiry while the reference is read; the faults that
    fired so far are tallied in FIRED (re-adding a rule resets its counter), the requests
    made meanwhile in QUIET_REQUESTS (they are not the tap's)."""
    rules, calls = sb.faults.rules(), sb.oauth.calls_per_access_token
    sb.faults.clear()
    sb.oauth.expire_access_tokens_after(None)
    before = sb.accounting.snapshot()["total_requests"]
    try:
        yield
    finally:
        QUIET_REQUESTS[id(sb)] += sb.accounting.snapshot()["total_requests"] - before
        for rule in rules:
            FIRED[f"{rule['kind']} {rule['status']}" if rule["kind"] == "status"
                  else rule["kind"]] += rule["fired"]
            spec = {k: rule[k] for k in _FAULT_SPEC if rule.get(k) is not None}
            if rule.get("count") is not None:
                spec["count"] = rule["count"] - rule["fired"]
                if spec["count"] < 1:
                    continue
            sb.faults.add(rule["kind"], **spec)
        sb.oauth.expire_access_tokens_after(calls)


def reference(tenant: Tenant, obj: str) -> dict[str, tuple[dict, bool]]:
    """The twin's own truth for `obj`: {id: (fields the raw record must hold, deleted)}."""
    with quiet(tenant.sandbox):
        return tenant.spec.twin.records(tenant.sandbox, obj)


def compare(obj: str, rows: list[tuple], ref: dict[str, tuple[dict, bool]],
            limit: int = 20, stored_as: Callable[[str], str] | None = None) -> list[str]:
    """Differences between destination rows (id, raw, deleted) and the reference."""
    problems: list[str] = []
    ids = [r[0] for r in rows]
    if len(ids) != len(set(ids)):
        problems.append(f"{obj}: {len(ids) - len(set(ids))} duplicate ids")
    table = {r[0]: r for r in rows}
    # a hard-deleted record (fields None) that no sync read before it went is not owed
    missing = {rid for rid in set(ref) - set(table) if ref[rid][0] is not None}
    extra = set(table) - set(ref)
    if missing:
        problems.append(f"{obj}: {len(missing)} ids missing, e.g. {sorted(missing)[:3]}")
    if extra:
        problems.append(f"{obj}: {len(extra)} ids not in the sandbox, e.g. {sorted(extra)[:3]}")
    for rid in sorted(set(ref) & set(table)):
        _id, raw, deleted = table[rid]
        want, want_deleted = ref[rid]
        want = {} if want is None else want
        if stored_as is not None:
            want = {k: stored_as(v) if isinstance(v, str) else v for k, v in want.items()}
        wrong = sorted(k for k, v in want.items() if raw.get(k) != v)
        if wrong:
            problems.append(f"{obj} {rid}: fields differ: " + ", ".join(
                f"{k}={raw.get(k)!r} vs {want[k]!r}" for k in wrong[:4]))
        if deleted is not want_deleted:
            problems.append(f"{obj} {rid}: deleted {deleted} vs {want_deleted}")
        if len(problems) >= limit:
            break
    return problems
