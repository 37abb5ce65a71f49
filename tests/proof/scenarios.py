"""The proof scenarios, parameterised by size: the test suite runs them small, the bench
scripts large. Each returns a report (a dict of figures) and raises AssertionError with the
differences when the destination is not exactly the sandbox."""

from __future__ import annotations

import random
import time
from dataclasses import dataclass, field

from tenantsync.controller import render
from tests.proof.harness import (
    FIRED,
    QUIET_REQUESTS,
    ROLES,
    Deployment,
    RunOutcome,
    Tenant,
    quiet,
    written,
)


@dataclass
class CrashReport:
    kills: list[tuple[str, int, int]] = field(default_factory=list)  # role, rows awaited, code
    runs_to_finish: int = 0
    final_read: int = 0
    total: int = 0
    seconds: float = 0.0


def mutate(tenant: Tenant, step: int) -> str:
    """A few changes between runs, so later runs also carry updates, deletes and new
    records: the provider's own `mutate` (a create, an update, on odd steps a delete)."""
    tenant.sandbox.advance_clock(5)
    return tenant.spec.twin.mutate(tenant.sandbox, step)


def crash_resume(d: Deployment, tenant: Tenant, *, kills: int, seed: int = 1) -> CrashReport:
    """SIGKILL meltano, the tap or the target `kills` times at random points of the sync, with
    changes in between, then let one run finish; the destination must then equal the sandbox.

    A random point: once the destination holds a random share (2-25%) more of the rows still
    to come, plus up to 0.3 s: every kill lands mid-sync whatever the machine's speed, and
    ten kills still leave part of the initial full sync to the finishing run."""
    rng = random.Random(seed)
    report = CrashReport()
    start = time.monotonic()
    total = d.total_records(tenant)
    roles = list(ROLES) * (kills // len(ROLES) + 1)
    rng.shuffle(roles)
    for i in range(kills):
        now = d.row_count(tenant)
        threshold = now + int(rng.uniform(0.02, 0.25) * max(0, total - now))
        delay = rng.uniform(0, 0.3)
        outcome = d.run(tenant, kill_role=roles[i], kill_delay=delay,
                        kill_when=lambda t=threshold: d.row_count(tenant) >= t)
        report.kills.append((roles[i], threshold - now, outcome.code))
        mutate(tenant, i)
    final: RunOutcome | None = None
    for attempt in range(1, 4):  # a run killed while finishing may have completed anyway
        final = d.run(tenant)
        report.runs_to_finish = attempt
        if final.code == 0:
            break
    assert final is not None and final.code == 0, final.output[-3000:]
    report.seconds = time.monotonic() - start
    report.final_read = sum(final.records.values())
    report.total = d.total_records(tenant)
    problems = d.check_exact(tenant)
    assert not problems, "\n".join(problems)
    # no BATCH file outlives its run, killed or not (tenantsync run empties their folder)
    left = list(d.root.rglob(f"{render.BATCH_DIR}/*"))
    assert not left, left
    return report


@dataclass
class StormReport:
    runs: int = 0
    records: int = 0
    total: int = 0
    requests: int = 0
    injected: dict[str, int] = field(default_factory=dict)  # fault kind/status -> fired
    violations: int = 0
    seconds: float = 0.0


def storm(tenant: Tenant, *, rate_limited: float = 0.10, server_errors: float = 0.05,
          resets: float = 0.02, truncated: float = 0.02, token_calls: int = 40) -> None:
    """Inject the storm into the tenant's sandbox: 429s with Retry-After, 5xx (also on the
    token endpoint), connection resets, truncated bodies, and access tokens that die after
    `token_calls` calls."""
    # faults go to the provider API the twin declares, not to its control API
    sb, api = tenant.sandbox, tenant.spec.twin.api_paths
    sb.faults.add("status", path=api, status=429, retry_after=1, probability=rate_limited)
    sb.faults.add("status", path=api, status=503, probability=server_errors / 2)
    sb.faults.add("status", path=api, status=500, probability=server_errors / 2)
    sb.faults.add("status", path=tenant.spec.twin.token_path, status=503, probability=0.05)
    sb.faults.add("reset", path=api, probability=resets)
    sb.faults.add("truncate", path=api, probability=truncated)
    sb.oauth.expire_access_tokens_after(token_calls)


def fault_storm(d: Deployment, tenant: Tenant, **storm_options) -> StormReport:
    """A full sync, then changes and an incremental one, under the storm; the destination
    must equal the sandbox after each, with no rate-limit violation."""
    report = StormReport()
    start = time.monotonic()
    FIRED.clear()
    QUIET_REQUESTS.pop(id(tenant.sandbox), None)
    storm(tenant, **storm_options)
    for step in range(2):
        outcome = d.run(tenant)
        report.runs += 1
        assert outcome.code == 0, outcome.output[-3000:]
        report.records += sum(outcome.records.values())
        problems = d.check_exact(tenant)
        assert not problems, "\n".join(problems)
        mutate(tenant, step)
    report.seconds = time.monotonic() - start
    report.total = d.total_records(tenant)
    snap = tenant.sandbox.accounting.snapshot()
    report.requests = snap["total_requests"] - QUIET_REQUESTS.pop(id(tenant.sandbox), 0)
    report.violations = snap["rate_limit_violations"]
    with quiet(tenant.sandbox):  # tallies the faults fired since the last reference read
        report.injected = dict(FIRED)
    FIRED.clear()
    assert report.violations == 0, snap["violations"]
    return report


@dataclass
class ConcurrencyReport:
    tenants: int = 0
    rounds: int = 0
    records: int = 0
    seconds: list[float] = field(default_factory=list)  # wall time of each round


def concurrent_syncs(d: Deployment, *, rounds: int = 2) -> ConcurrencyReport:
    """Every tenant's `tenantsync run` at once, `rounds` times (full, then incremental after
    changes in every org); after each round every tenant's tables equal its own sandbox."""
    report = ConcurrencyReport(tenants=len(d.tenants), rounds=rounds)
    for step in range(rounds):
        began = time.monotonic()
        procs = [(t, d.start(t)) for t in d.tenants]
        outputs = [(t, p, p.communicate()[0]) for t, p in procs]
        report.seconds.append(time.monotonic() - began)
        failed = [f"{t.customer} x {t.provider}: {out[-8000:]}" for t, p, out in outputs
                  if p.returncode != 0]
        assert not failed, "\n".join(failed)
        report.records += sum(sum(written(out).values()) for _t, _p, out in outputs)
        problems = [f"{t.customer} x {t.provider}: {p}" for t in d.tenants
                    for p in d.check_exact(t)]
        assert not problems, "\n".join(problems)
        for t in d.tenants:
            mutate(t, step)
    return report
