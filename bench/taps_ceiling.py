"""Every tap against its twin's bare-client ceiling, side by side in one run.

    .venv/bin/python bench/taps_ceiling.py --records 20000 [--providers salesforce,hubspot]

For every provider with a twin: a twin holding `--records` records of one world kind (the
provider's biggest object, table below), then
1. the tap as its own process (its Singer CLI, stdout to /dev/null) syncing that object, once
   untimed: a warm-up that also records every request the tap sent (method, path, headers,
   body) as the twin received it;
2. the bare client: one `requests.Session` replaying exactly those requests (token requests
   aside: it uses the tap's bearer) in order, each JSON body decoded with msgspec and nothing
   else, in-process: the same pages and calls, with no tap work (the ceiling);
3. the tap again, timed;
4. with `--profile DIR`, the tap a third time under py-spy (every thread, raw stacks in
   DIR/<provider>.txt); the hottest functions by self time are printed.
Records are the twin's own count of records served; calls its request count (token requests
included for the tap). The tap's CPU seconds show how much of its wall time is its own work
(the twin serves from this process, on the same cores). Pacing taps (Gong's 3 requests/s,
Apollo's per-minute windows) run at their provider's limit, not the twin's.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))

import msgspec
import requests

from bench.tap_process import hottest, py_spy, run_tap
from tenantsync import providers


def _linear_raised() -> dict:
    """Linear's hourly complexity budget raised past the run (the tap would wait an hour)."""
    from bench.tap_linear_speed import RAISED
    return {"rate_limits": RAISED}


# provider -> (world kind the twin is filled with, the standard object synced, extra config)
OBJECTS = {
    "salesforce": ("company", "Account", {"api_type": "rest"}),
    "hubspot": ("contact", "contact", {}),
    "pipedrive": ("contact", "persons", {}),
    "ms_dynamics_365_sales": ("company", "accounts", {}),
    "outreach": ("contact", "prospects", {}),
    "salesloft": ("contact", "people", {}),
    "apollo": ("contact", "contacts", {}),
    "gong": ("call", "call", {}),
    "intercom": ("contact", "contact", {}),
    "linear": ("issue", "issues", {}),
}
def _hubspot_raised() -> dict:
    """HubSpot's burst limit out of the way (the tap learns it from X-HubSpot-RateLimit-Max):
    under a Free portal's 100 requests / 10 s the tap is paced at ~860 records/s."""
    from tap_hubspot.sandbox.ratelimit import RateLimits
    return {"rate_limits": RateLimits(burst=1_000_000)}


def _salesforce_bare(sb) -> float:
    """queryAll's locators are spent once read (a replay gets errors): the Salesforce
    bench's own bare client reads the same pages afresh."""
    from bench.tap_salesforce_speed import bare_client
    fields = [f.name for f in sb.sobject("Account").fields
              if f.type not in ("address", "location", "base64")]
    return bare_client(sb, fields)[0]


# provider -> the ceiling's own bare client (default: replaying the tap's requests)
BARE = {"salesforce": _salesforce_bare}
TWIN_OPTIONS = {"linear": _linear_raised, "hubspot": _hubspot_raised}
_SKIPPED_HEADERS = {"host", "content-length", "connection", "accept-encoding"}


def recording(sb) -> list[tuple]:
    """Start keeping (perf_counter, method, url, headers, body) of every request the twin
    answers."""
    kept: list[tuple] = []
    respond = type(sb).respond.__get__(sb)

    def keep(request):
        kept.append((time.perf_counter(), request.method, request.base_url + request.raw_path,
                     {k: v for k, v in request.headers.items()
                      if k.lower() not in _SKIPPED_HEADERS}, request.body))
        return respond(request)
    sb.respond = keep
    return kept


def bare(sb, kept: list[tuple], token_path: str) -> dict:
    """Replay the tap's requests with one session, decoding each JSON body: the ceiling."""
    session = requests.Session()
    replayed = [r[1:] for r in kept if not re.search(token_path, r[2])]
    sb.accounting.reset()
    started = time.perf_counter()
    for method, url, headers, body in replayed:
        response = session.request(method, url, headers=headers, data=body or None,
                                   timeout=600)
        if "json" in response.headers.get("Content-Type", ""):
            msgspec.json.decode(response.content)
    seconds = time.perf_counter() - started
    return {"seconds": seconds, **served(sb), "cpu": None}


def served(sb) -> dict:
    snap = sb.accounting.snapshot()
    errors = sum(n for status, n in snap["statuses"].items() if not status.startswith("2"))
    return {"records": snap["total_records_served"], "calls": snap["total_requests"],
            "errors": errors, "violations": snap["rate_limit_violations"]}


def measure(spec, size: int, workdir: Path, seed: int, profile: Path | None
            ) -> tuple[dict, dict]:
    kind, obj, extra = OBJECTS[spec.name]
    twin = spec.twin
    options = TWIN_OPTIONS[spec.name]() if spec.name in TWIN_OPTIONS else {}
    sb = twin.sandbox_class()(records=100, seed=seed, counts={kind: size}, tls=False,
                              **options).start()
    try:
        config = {**twin.tap_config(sb), "standard_objects": [obj], **extra}
        kept = recording(sb)
        run_tap(spec.tap, config, workdir)  # warm-up, recorded
        if spec.name in BARE:
            ceiling = {"seconds": BARE[spec.name](sb), **served(sb)}
        else:
            ceiling = bare(sb, kept, twin.token_path)
        kept.clear()
        sb.accounting.reset()
        tap = {**run_tap(spec.tap, config, workdir), **served(sb)}
        # from its first request on: the tap's start-up (imports, discovery) aside
        tap["reading"] = tap["ended"] - kept[0][0]
        del sb.respond
        if profile is not None:
            out = profile / f"{spec.name}.txt"
            run_tap(spec.tap, config, workdir, prefix=py_spy(out))
            print(f"py-spy {spec.executable} (self time, % of samples): {hottest(out, 12)}",
                  file=sys.stderr, flush=True)
    finally:
        sb.stop()
    return ceiling, tap


def row(spec, ceiling: dict, tap: dict) -> str:
    c_rate = ceiling["records"] / ceiling["seconds"]
    t_rate = tap["records"] / tap["seconds"]
    reading = tap["records"] / tap["reading"]
    peak = "-" if tap["peak_mb"] is None else f"{tap['peak_mb']:.0f}"
    return (f"| {spec.executable} ({OBJECTS[spec.name][1]}) | {tap['records']:,} | "
            f"{c_rate:,.0f} | {t_rate:,.0f} | {t_rate / c_rate:.0%} | {reading:,.0f} | "
            f"{reading / c_rate:.0%} | {ceiling['calls']} | "
            f"{tap['calls']} | {tap['cpu']:.2f} | {peak} | {ceiling['errors']} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=20_000,
                        help="records of the synced object's world kind in every twin")
    parser.add_argument("--providers", default="", help="comma-separated (default: all)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--profile", type=Path, help="py-spy each tap into this directory")
    args = parser.parse_args()
    wanted = [p for p in args.providers.split(",") if p]
    if unknown := set(wanted) - set(OBJECTS):
        parser.error(f"--providers: no such provider with a twin: {', '.join(sorted(unknown))} "
                     f"(known: {', '.join(sorted(OBJECTS))})")
    specs = [s for s in providers.with_twins() if s.name in OBJECTS
             and (not wanted or s.name in wanted)]

    if args.profile is not None:
        args.profile.mkdir(parents=True, exist_ok=True)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for spec in specs:
            started = time.perf_counter()
            ceiling, tap = measure(spec, args.records, Path(tmp), args.seed,
                                    args.profile)
            rows.append(row(spec, ceiling, tap))
            print(f"{rows[-1]} ({time.perf_counter() - started:.0f}s)", file=sys.stderr,
                  flush=True)

    print(f"\n`--records {args.records}`; load: {os.getloadavg()[0]:.2f} (1 min)\n")
    print("| tap (object) | records | ceiling rec/s | tap rec/s | tap / ceiling | "
          "tap rec/s after start-up | that / ceiling | ceiling calls | tap calls | tap CPU s | "
          "tap peak RSS MB | replay errors |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    print("\n".join(rows))


if __name__ == "__main__":
    main()
