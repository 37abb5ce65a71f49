"""Running tap-linear in-process against its twin."""

from __future__ import annotations

import io
import json
from collections import defaultdict
from contextlib import redirect_stdout
from dataclasses import dataclass, field

from tap_linear.tap import TapLinear


@dataclass
class Run:
    records: dict[str, list[dict]] = field(default_factory=lambda: defaultdict(list))
    versions: dict[str, list[int]] = field(default_factory=lambda: defaultdict(list))
    state: dict = field(default_factory=dict)
    messages: list[dict] = field(default_factory=list)
    tap: TapLinear | None = None

    def by_id(self, stream: str) -> dict[str, dict]:
        return {r["id"]: r for r in self.records[stream]}


def run_tap(config: dict, state: dict | None = None) -> Run:
    buf = io.TextIOWrapper(io.BytesIO(), encoding="utf-8")
    with redirect_stdout(buf):
        tap = TapLinear(config={"backoff_base_seconds": 0.01, **config}, state=state)
        tap.sync_all()
        tap.client.http.close()
    buf.seek(0)
    run = Run(tap=tap)
    run.messages = [json.loads(line) for line in buf.read().splitlines() if line.strip()]
    for m in run.messages:
        if m["type"] == "RECORD":
            run.records[m["stream"]].append(m["record"])
        elif m["type"] == "ACTIVATE_VERSION":
            run.versions[m["stream"]].append(m["version"])
        elif m["type"] == "STATE":
            run.state = m["value"]
    return run


META = ("_sdc_deleted_at", "_supaglue_is_deleted", "_supaglue_last_modified_at")


def raw(record: dict) -> dict:
    return {k: v for k, v in record.items() if k not in META}
