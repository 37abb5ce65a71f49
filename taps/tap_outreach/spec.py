"""Outreach as tenantsync sees it: auth, objects, tap and twin (one ProviderSpec, registered
in pyproject.toml under `tenantsync.providers`)."""

from __future__ import annotations

import contextlib
from collections.abc import Mapping
from typing import Any

from tenantsync.providers import OAuth2, Objects, ProviderSpec, Twin

STANDARD = ("accounts", "prospects", "users", "sequences", "sequenceSteps", "mailboxes",
            "sequenceStates")
COMMON = {"account": "accounts", "contact": "prospects", "user": "users",
          "sequence": "sequences", "mailbox": "mailboxes", "sequence_state": "sequenceStates"}


def _rate_limits(headers: Mapping[str, str]) -> dict[str, Any]:
    """The per-user hourly limit: `x-ratelimit-limit`, `-remaining` (Outreach may send two
    comma-separated numbers there: the first is the user's) and `-reset` (epoch seconds).
    https://developers.outreach.io/api/making-requests/#rate-limiting"""
    out: dict[str, Any] = {}
    with contextlib.suppress(KeyError, ValueError):
        hourly = {"limit": int(headers["x-ratelimit-limit"]),
                  "remaining": int(headers["x-ratelimit-remaining"].split(",")[0])}
        with contextlib.suppress(KeyError, ValueError):
            from datetime import datetime, timezone

            hourly["reset_time"] = datetime.fromtimestamp(
                int(headers["x-ratelimit-reset"]), timezone.utc).isoformat()
        out["hourly"] = hourly
    return out


# --- the twin: what tests, benchmarks and the demo need of it ---------------------------------

def _tap_config(sb) -> dict[str, Any]:
    return {"client_id": sb.client_id, "client_secret": sb.client_secret,
            "refresh_token": sb.oauth.mint_refresh_token(sb.client_id),
            "base_url": sb.base_url}


def _records(sb, obj: str) -> dict[str, tuple[dict | None, bool]]:
    """Every stored resource as the tap's flat record. Deletes are hard (the record leaves
    every list): a deleted record's fields are unknown to the destination (None), which holds
    it flagged once a full sync swept it, or never saw it."""
    from tap_outreach.jsonapi import flatten

    return {str(doc["id"]): (None if deleted else flatten(doc), deleted)
            for doc, deleted in sb.all_records(obj)}


def _mutate(sb, step: int) -> str:
    prospect = sb.create("prospects", {"firstName": "Changed", "lastName": f"Prospect {step}"})
    sb.update("prospects", prospect["id"], {"title": f"Title {step}"})
    state = sb.all_records("sequenceStates")[step][0]
    sb.update("sequenceStates", state["id"], {"state": "paused", "pauseReason": "manual"})
    if step % 2:
        sb.delete("prospects", prospect["id"])
        return "created, changed and deleted a prospect; paused a sequence state"
    return "created and changed a prospect; paused a sequence state"


TWIN = Twin(
    sandbox="tap_outreach.sandbox:OutreachSandbox",
    tap_config=_tap_config,
    records=_records,
    mutate=_mutate,
    objects=("accounts", "prospects", "users", "sequences", "mailboxes", "sequenceStates"),
    api_paths=r"/api/v2/.*",
    token_path=r"/oauth/token",
    options={"storm": {"enforce_rate_limit": True}},
    sizes={"sync": 200, "storm": 5_000, "crash": 20_000, "demo": 300},
    demo_objects={"common_objects": [{"object": o} for o in COMMON],
                  "standard_objects": [{"object": o} for o in ("prospects", "sequences")]},
)

SPEC = ProviderSpec(
    name="outreach",
    label="Outreach",
    description="Outreach standard objects (JSON:API resources, flat) and engagement common "
                "objects (Supaglue-compatible)",
    category="engagement",
    auth=(OAuth2(authorize_url="https://api.outreach.io/oauth/authorize",
                 token_url="https://api.outreach.io/oauth/token",
                 scopes=("accounts.read", "prospects.read", "users.read", "sequences.read",
                         "sequenceSteps.read", "mailboxes.read", "sequenceStates.read"),
                 base_setting="base_url"),),
    tap="tap_outreach.tap:TapOutreach",
    executable="tap-outreach",
    objects=Objects(standard=STANDARD, custom=False, common=COMMON),
    connection_settings=("base_url",),
    rate_limits=_rate_limits,
    twin=TWIN,
)
