"""Running tap-pipedrive in-process against its twin."""

from __future__ import annotations

import io
import json
from collections import defaultdict
from contextlib import redirect_stdout
from dataclasses import dataclass, field

from tap_pipedrive.tap import TapPipedrive


@dataclass
class Run:
    messages: list[dict]
    records: dict[str, list[dict]] = field(default_factory=lambda: defaultdict(list))
    versions: dict[str, list[int]] = field(default_factory=lambda: defaultdict(list))
    state: dict = field(default_factory=dict)

    def by_id(self, stream: str) -> dict[str, dict]:
        return {str(r["id"]): r for r in self.records[stream]}


def run_tap(config: dict, state: dict | None = None) -> Run:
    buf = io.TextIOWrapper(io.BytesIO(), encoding="utf-8")
    with redirect_stdout(buf):
        tap = TapPipedrive(config=config, state=state)
        tap.sync_all()
        tap.client.http.close()
    buf.seek(0)
    run = Run([json.loads(line) for line in buf.read().splitlines() if line.strip()])
    for m in run.messages:
        if m["type"] == "RECORD":
            run.records[m["stream"]].append(m["record"])
        elif m["type"] == "ACTIVATE_VERSION":
            run.versions[m["stream"]].append(m["version"])
        elif m["type"] == "STATE":
            run.state = m["value"]
    return run


def oauth_config(sb, **overrides) -> dict:
    return {"client_id": sb.client_id, "client_secret": sb.client_secret,
            "refresh_token": sb.mint_refresh_token(), "oauth_url": sb.base_url,
            "backoff_base_seconds": 0.01, **overrides}


def live(sb, obj: str) -> dict[str, dict]:
    """The twin's records of `obj` that its lists serve (deleted deals aside)."""
    return {str(doc["id"]): doc for doc, deleted in sb.all_records(obj) if not deleted}


def raw(record: dict) -> dict:
    """A record as Pipedrive sent it (without what the tap adds)."""
    return {k: v for k, v in record.items() if not k.startswith(("_sdc_", "_supaglue_"))
            and k != "_custom_fields"}
