"""tenantsync's taps against the independent Singer taps for the same provider: same twin, same
data, side by side in one run.

    .venv/bin/python bench/taps_vs_peers.py --records 50000 [--providers hubspot salesforce]

Each peer runs from its own virtual environment (scripts/interop, made when missing) as its
users run it (config, `--discover` untimed, a catalog selecting one stream), through the
twin's CONNECT proxy where it hard-codes the provider's host (tests/interop/independent.py).
tenantsync's tap runs as its own process too, with the same one object and its own catalog
from an untimed `--discover`. Every contender
writes its Singer output to a file (counted afterwards: records of the compared stream);
API calls are the twin's own count during the sync (discovery excluded). Rate limits are out
of the way (HubSpot's burst raised, the others not enforced) so that the taps, not the
limits, are measured. Streams compared (the same records of the twin):
- hubspot: tenantsync `contact` (every property, company associations) vs singer-io
  tap-hubspot `contacts` and meltano-tap-hubspot `contacts`;
- salesforce: tenantsync `Account` over REST queryAll vs singer-io tap-salesforce `Account`
  (api_type REST; every field selected by default);
- pipedrive: tenantsync `persons` (API v2, custom fields by name) vs singer-io tap-pipedrive
  `persons` (API v1);
- outreach: tenantsync `prospects` (flattened JSON:API resources) vs singer-io tap-outreach
  `prospects`, both at their default page[size] of 250;
- intercom: tenantsync `contact` vs singer-io tap-intercom `contacts`, both through
  `POST /contacts/search` (150 per page).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from collections import Counter
from pathlib import Path

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))

from bench.tap_process import tap_command, timed_process
from tap_hubspot.sandbox.ratelimit import RateLimits
from tenantsync import providers
from tenantsync.sandbox.proxy import Proxy
from tests.interop.independent import TapRun, tap_venv

_START = "2000-01-01T00:00:00Z"

# tenantsync's tap also run through the peers' CONNECT proxy, at the provider's public host:
# what the proxy itself costs the peers that need it.
PROXIED = {"hubspot": {"base_url": "https://api.hubapi.com"}}
# provider: (world kind sized by --records, twin options, tenantsync's config, compared
# stream of ours, peers: (label, venv, executable, catalog flag, config(sb), stream))
PROVIDERS = {
    "hubspot": ("contact", {"rate_limits": RateLimits(burst=1_000_000)},
                {"standard_objects": ["contact"]}, "contact", [
        ("singer-io tap-hubspot 4.5.0", "tap-hubspot", "tap-hubspot", "--properties",
         lambda sb: {"client_id": sb.client_id, "client_secret": sb.client_secret,
                     "refresh_token": sb.mint_refresh_token(),
                     "redirect_uri": "https://example.com/cb", "start_date": _START},
         "contacts"),
        ("meltano-tap-hubspot 0.10.1", "meltano-tap-hubspot", "tap-hubspot", "--catalog",
         lambda sb: {"client_id": sb.client_id, "client_secret": sb.client_secret,
                     "refresh_token": sb.mint_refresh_token(), "start_date": _START},
         "contacts"),
    ]),
    "salesforce": ("company", {}, {"standard_objects": ["Account"], "api_type": "rest"},
                   "Account", [
        ("singer-io tap-salesforce 2.8.1 (REST)", "tap-salesforce", "tap-salesforce",
         "--properties",
         lambda sb: {"client_id": sb.client_id, "client_secret": sb.client_secret,
                     "refresh_token": sb.mint_refresh_token(), "start_date": _START,
                     "api_type": "REST", "select_fields_by_default": True,
                     "is_sandbox": False},
         "Account"),
    ]),
    "pipedrive": ("contact", {}, {"standard_objects": ["persons"]}, "persons", [
        ("singer-io tap-pipedrive 2.1.0", "tap-pipedrive", "tap-pipedrive", "--catalog",
         lambda sb: {"api_token": sb.mint_api_token(), "start_date": _START,
                     "user-agent": "tenantsync-bench"},
         "persons"),
    ]),
    "outreach": ("contact", {}, {"standard_objects": ["prospects"]}, "prospects", [
        ("singer-io tap-outreach 1.2.2", "tap-outreach", "tap-outreach", "--catalog",
         lambda sb: {"client_id": sb.client_id, "client_secret": sb.client_secret,
                     "redirect_uri": "https://example.com/cb", "start_date": _START,
                     "refresh_token": sb.oauth.mint_refresh_token(sb.client_id),
                     "user_agent": "tenantsync-bench"},
         "prospects"),
    ]),
    "intercom": ("contact", {}, {"standard_objects": ["contact"]}, "contact", [
        ("singer-io tap-intercom 2.2.5", "tap-intercom", "tap-intercom", "--catalog",
         lambda sb: {"access_token": sb.mint_token(), "start_date": _START,
                     "user_agent": "tenantsync-bench"},
         "contacts"),
    ]),
}


def timed(sb, argv: list[str], env: dict, workdir: Path, stream: str) -> dict:
    """One tap process, its output to a file: records of `stream`, seconds, CPU, calls."""
    out, err = workdir / "out.singer", workdir / "stderr"
    sb.accounting.reset()
    with open(out, "wb") as stdout, open(err, "wb") as stderr:
        status, seconds, _, cpu = timed_process(argv, stdout=stdout, stderr=stderr, env=env,
                                                cwd=workdir)
    calls = sb.accounting.snapshot()["total_requests"]
    if status != 0:
        raise SystemExit(f"{argv[0]} failed:\n{err.read_text()[-3000:]}")
    counts = Counter()
    with open(out, "rb") as fh:
        for line in fh:
            if line.startswith(b'{"type":"RECORD"') or line.startswith(b'{"type": "RECORD"'):
                counts[line.split(b'"stream":', 1)[1].split(b'"')[1].decode()] += 1
    return {"records": counts[stream], "seconds": seconds, "calls": calls, "cpu": cpu}


def compare(name: str, n: int, workdir: Path) -> list[tuple[str, dict]]:
    kind, options, ours_config, ours_stream, peers = PROVIDERS[name]
    spec = providers.get(name)
    tap = spec.tap_class()
    rows = []
    with spec.twin.start("sync", records=100, seed=1, counts={kind: n}, **options) as sb:
        config = workdir / "ours.json"
        config.write_text(json.dumps({**spec.twin.tap_config(sb), **ours_config}))
        argv = [*tap_command(spec.tap), "--config", str(config)]
        catalog = workdir / "ours-catalog.json"  # discovered untimed, as the peers' are
        catalog.write_text(subprocess.run([*argv, "--discover"], check=True, text=True,
                                          capture_output=True).stdout)
        ours = timed(sb, [*argv, "--catalog", str(catalog)], dict(os.environ), workdir,
                     ours_stream)
        rows.append((f"tenantsync {tap.name}", ours))
        if name in PROXIED:
            config.write_text(json.dumps({**spec.twin.tap_config(sb), **ours_config,
                                          **PROXIED[name]}))
            proxy = Proxy.to(sb).start()
            try:
                rows.append((f"tenantsync {tap.name} through the proxy",
                             timed(sb, [*argv, "--catalog", str(catalog)],
                                   {**os.environ, **proxy.env(sb)}, workdir, ours_stream)))
            finally:
                proxy.stop()
        for label, venv, exe, flag, peer_config, stream in peers:
            with TapRun(tap_venv(venv), exe, sb, peer_config(sb), workdir,
                        catalog_flag=flag) as run:
                args = run.sync_args(run.discover(), [stream])
                rows.append((label, timed(sb, run.command(*args), run.env, workdir, stream)))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=50_000)
    parser.add_argument("--providers", nargs="*", default=list(PROVIDERS))
    args = parser.parse_args()
    print("| provider | tap | records | seconds | records/s | API calls | tap CPU s | "
          "ours / this |")
    print("|---|---|---:|---:|---:|---:|---:|---:|", flush=True)
    for name in args.providers:
        with tempfile.TemporaryDirectory() as tmp:
            rows = compare(name, args.records, Path(tmp))
        rate = {label: r["records"] / r["seconds"] for label, r in rows}
        ours = rate[rows[0][0]]
        for label, r in rows:
            print(f"| {name} | {label} | {r['records']:,} | {r['seconds']:.1f} | "
                  f"{rate[label]:,.0f} | {r['calls']:,} | {r['cpu']:.1f} | "
                  f"{ours / rate[label]:.1f}x |", flush=True)


if __name__ == "__main__":
    main()
