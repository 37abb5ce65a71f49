"""Fixtures for tap tests: Salesforce sandboxes and running tap-salesforce in-process."""

from __future__ import annotations

import io
import json
from collections import defaultdict
from contextlib import redirect_stdout
from dataclasses import dataclass, field

import pytest

from tap_salesforce.sandbox import SalesforceSandbox
from tap_salesforce.tap import TapSalesforce


@pytest.fixture(scope="session")
def sf_shared():
    """One read-only org for tests that never mutate or fault it."""
    with SalesforceSandbox(records=400, seed=7) as sb:
        yield sb


@pytest.fixture
def sf():
    """A fresh org per test (mutations, faults, quota)."""
    with SalesforceSandbox(records=200, seed=11) as sb:
        yield sb


def tap_config(sb: SalesforceSandbox, **overrides) -> dict:
    return {"client_id": sb.client_id, "client_secret": sb.client_secret,
            "refresh_token": sb.mint_refresh_token(), "login_url": sb.base_url,
            "backoff_base_seconds": 0.01, **overrides}


@dataclass
class Run:
    messages: list[dict]
    records: dict[str, list[dict]] = field(default_factory=lambda: defaultdict(list))
    versions: dict[str, list[int]] = field(default_factory=lambda: defaultdict(list))
    state: dict = field(default_factory=dict)

    def ids(self, stream: str) -> list[str]:
        key = "Id" if not stream.startswith("crm_") else "id"
        return [r[key] for r in self.records[stream]]


def parse(lines: list[str]) -> Run:
    run = Run([json.loads(line) for line in lines if line.strip()])
    for m in run.messages:
        if m["type"] == "RECORD":
            run.records[m["stream"]].append(m["record"])
        elif m["type"] == "ACTIVATE_VERSION":
            run.versions[m["stream"]].append(m["version"])
        elif m["type"] == "STATE":
            run.state = m["value"]
    return run


def run_tap(config: dict, state: dict | None = None, catalog: dict | None = None) -> Run:
    buf = io.TextIOWrapper(io.BytesIO(), encoding="utf-8")
    with redirect_stdout(buf):
        tap = TapSalesforce(config=config, state=state, catalog=catalog)
        tap.sync_all()
        tap.client.close()
    buf.seek(0)
    return parse(buf.read().splitlines())


def rest_rows(sb: SalesforceSandbox, sobject: str, fields: list[str]) -> dict[str, dict]:
    """The org's rows (deleted ones in the recycle bin too), read straight from its REST API
    with plain requests: the reference the tap's output is compared with."""
    import requests

    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {sb.mint_access_token()}"
    url = f"{sb.base_url}/services/data/v61.0/queryAll"
    body = session.get(url, params={"q": f"SELECT {', '.join(fields)} FROM {sobject}"}).json()
    rows = list(body["records"])
    while not body["done"]:
        body = session.get(sb.base_url + body["nextRecordsUrl"]).json()
        rows += body["records"]
    for row in rows:
        row.pop("attributes")
    return {row["Id"]: row for row in rows}
