"""How fast the Management Portal's pages answer on a large registry.

Builds a registry of N customers x 2 providers (bench/render_speed.py's seed) with R sync runs
per sync spread over the last 14 days (one in ten failed), serves it with the service's own
app (uvicorn on 127.0.0.1), signs in like a browser and times each page: the median and the
slowest of --repeat GETs, next to the Management API's JSON of the same lists. Requests go
through the whole ASGI app in process (Starlette's TestClient): on loopback TCP a small
answer also waits for a delayed ACK (~40 ms), which would measure the kernel, not the pages.

    .venv/bin/python bench/portal_pages.py --customers 1000 --runs 10
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import tempfile
import time
from datetime import timedelta
from pathlib import Path

from render_speed import seed  # bench/ is the script's directory
from starlette.testclient import TestClient

from tenantsync.api import keys
from tenantsync.api.app import create_app
from tenantsync.api.service import ServiceConfig
from tenantsync.controller import crypto, db
from tenantsync.controller.models import Sync, SyncRun, utcnow
from tenantsync.controller.registry import Registry

APP = "bench-app"


def build(url: str, customers: int, runs: int) -> str:
    with db.session(url) as s:
        reg = Registry(s, APP)
        seed(reg, customers)
        now = utcnow()
        sync_ids = list(s.scalars(reg.of_tenants(Sync.__table__.select().with_only_columns(
            Sync.id))))
        rows = []
        for sid in sync_ids:
            for r in range(runs):
                started = now - timedelta(hours=(runs - r) * 14 * 24 / runs)
                failed = (sid + r) % 10 == 0
                rows.append(SyncRun(sync_id=sid, status="FAILURE" if failed else "SUCCESS",
                                    strategy="auto", started_at=started,
                                    ended_at=started + timedelta(seconds=40),
                                    num_records=0 if failed else 25 + (sid * r) % 300,
                                    error="AuthError: invalid_grant" if failed else None))
        s.add_all(rows)
        key = keys.create_key(s, APP)
        s.commit()
        return key


def sign_in(http, key: str) -> None:
    form = http.get("/portal/login").text
    token = re.search(r'name="csrf" value="([^"]+)"', form).group(1)
    assert http.post("/portal/login", data={"csrf": token, "api_key": key},
                     follow_redirects=False).status_code == 303


def timed(http, path: str, repeat: int) -> tuple[float, float, int]:
    times, size = [], 0
    for _ in range(repeat):
        start = time.perf_counter()
        r = http.get(path)
        times.append(time.perf_counter() - start)
        assert r.status_code == 200, (path, r.status_code, r.text[:300])
        size = len(r.content)
    return statistics.median(times) * 1000, max(times) * 1000, size


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--customers", type=int, default=1000)
    ap.add_argument("--runs", type=int, default=10, help="sync runs per sync")
    ap.add_argument("--repeat", type=int, default=7)
    ap.add_argument("--registry-url", help="default: a SQLite file in a temporary directory")
    args = ap.parse_args()
    os.environ.setdefault(crypto.KEY_ENV, "bench-secret-key-0123456789abcdef")
    tmp = Path(tempfile.mkdtemp(prefix="portal-bench-"))
    url = args.registry_url or f"sqlite:///{tmp}/registry.db"
    t0 = time.perf_counter()
    key = build(url, args.customers, args.runs)
    print(f"registry: {args.customers} customers x 2 providers, {args.runs} runs per sync "
          f"({args.customers * 2 * args.runs} runs), built in {time.perf_counter() - t0:.1f} s")
    cfg = ServiceConfig(registry_url=url, project=tmp / "project",
                        public_url="http://127.0.0.1:8080", run_on_trigger=False)
    app = create_app(cfg, webhooks=False)
    with TestClient(app) as browser, TestClient(app, headers={"x-api-key": key}) as api:
        sign_in(browser, key)
        measure(browser, api, url, args.repeat)


def measure(browser, api, url: str, repeat: int) -> None:
    with db.session(url) as s:
        run_id = s.scalar(SyncRun.__table__.select().with_only_columns(SyncRun.id).limit(1))
    pages = [("overview", "/portal/", None),
             ("customers, page 1", "/portal/customers", "/mgmt/v2/customers"),
             ("customers, page 15", "/portal/customers?page=15", None),
             ("customers, search", "/portal/customers?q=customer-0099", None),
             ("customer", "/portal/customer?id=customer-00500",
              "/mgmt/v2/customers/customer-00500"),
             ("syncs, page 1", "/portal/syncs", "/mgmt/v2/syncs?page_size=50"),
             ("syncs, refresh fragment", "/portal/syncs?fragment=1", None),
             ("sync runs", "/portal/runs", "/mgmt/v2/sync-runs?page_size=50"),
             ("sync runs, failures", "/portal/runs?status=FAILURE",
              "/mgmt/v2/sync-runs?page_size=50&status=FAILURE"),
             ("sync run", f"/portal/runs/{run_id}", None),
             ("providers", "/portal/providers", "/mgmt/v2/providers"),
             ("sync configs", "/portal/sync-configs", "/mgmt/v2/sync_configs"),
             ("webhooks", "/portal/webhooks", None),
             ("api keys", "/portal/api-keys", None)]
    print(f"\n{'page':<26}{'median ms':>10}{'max ms':>9}{'KB':>7}   "
          f"{'API JSON of the same':<22}{'median ms':>10}")
    for label, page, api_path in pages:
        med, worst, size = timed(browser, page, repeat)
        line = f"{label:<26}{med:>10.1f}{worst:>9.1f}{size / 1024:>7.0f}   "
        if api_path:
            a_med, _, _ = timed(api, api_path, repeat)
            line += f"{api_path.split('?')[0]:<22}{a_med:>10.1f}"
        print(line)


if __name__ == "__main__":
    main()
