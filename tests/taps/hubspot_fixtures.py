"""Helpers for tap-hubspot tests: run the tap in-process against the HubSpot sandbox and
collect its Singer messages; read the sandbox's own records to compare with."""

from __future__ import annotations

import io
import json
from collections import Counter
from contextlib import redirect_stdout
from dataclasses import dataclass, field

from tap_hubspot.sandbox import HubSpotSandbox
from tap_hubspot.tap import TapHubSpot


def oauth_config(hs: HubSpotSandbox, **overrides) -> dict:
    return {"client_id": hs.client_id, "client_secret": hs.client_secret,
            "refresh_token": hs.mint_refresh_token(), "base_url": hs.base_url,
            "backoff_base_seconds": 0.05, **overrides}


@dataclass
class Run:
    messages: list[dict]
    tap: TapHubSpot
    by_type: Counter = field(default_factory=Counter)

    def records(self, stream: str) -> list[dict]:
        return [m["record"] for m in self.messages
                if m["type"] == "RECORD" and m["stream"] == stream]

    def by_id(self, stream: str) -> dict[str, dict]:
        return {r["id"]: r for r in self.records(stream)}

    @property
    def state(self) -> dict:
        states = [m["value"] for m in self.messages if m["type"] == "STATE"]
        return states[-1] if states else {}

    def activate_versions(self, stream: str) -> list[int]:
        return [m["version"] for m in self.messages
                if m["type"] == "ACTIVATE_VERSION" and m["stream"] == stream]


def run_tap(config: dict, *, state: dict | None = None, catalog: dict | None = None) -> Run:
    """Discover (unless a catalog is given), then sync everything; return the messages."""
    if catalog is None:
        catalog = TapHubSpot(config=config).catalog_dict
    tap = TapHubSpot(config=config, catalog=catalog, state=state)
    raw = io.BytesIO()
    out = io.TextIOWrapper(raw, encoding="utf-8")  # the tap's writer needs stdout.buffer
    with redirect_stdout(out):
        tap.sync_all()
    out.flush()
    messages = [json.loads(line) for line in raw.getvalue().decode().splitlines() if line]
    return Run(messages, tap, Counter((m["type"], m.get("stream")) for m in messages))


def sandbox_records(hs: HubSpotSandbox, obj: str, *, archived: bool = False) -> dict[str, dict]:
    """Every stored record of `obj` (HubSpot type name), as the sandbox holds it."""
    t = hs.portal.resolve(obj)
    docs, _ = hs.portal.page(t, 0, 10**9, archived)
    docs = [json.loads(d) if isinstance(d, (str, bytes)) else d for d in docs]
    return {d["id"]: d for d in docs}


def assert_matches_sandbox(record: dict, doc: dict) -> None:
    """A flat tap record carries exactly the sandbox record's property values and envelope."""
    values = {k: v for k, v in record.items()
              if k not in ("id", "createdAt", "updatedAt", "archived",
                                                  "archivedAt") and not k.startswith("_")
              and v is not None}
    assert values == doc["properties"], doc["id"]
    assert (record["id"], record["createdAt"], record["updatedAt"], record["archived"]) == (
        doc["id"], doc["createdAt"], doc["updatedAt"], doc["archived"])
