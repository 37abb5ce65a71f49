"""Salesloft as tenantsync sees it: auth, objects, tap and twin (one ProviderSpec, registered
in pyproject.toml under `tenantsync.providers`)."""

from __future__ import annotations

import contextlib
from collections.abc import Mapping
from typing import Any

from tenantsync.providers import OAuth2, Objects, ProviderSpec, Twin

STANDARD = ("people", "accounts", "users", "cadences", "cadence_memberships", "steps")
COMMON = {"account": "accounts", "contact": "people", "user": "users", "sequence": "cadences",
          "sequence_state": "cadence_memberships", "mailbox": "users"}


def _rate_limits(headers: Mapping[str, str]) -> dict[str, Any]:
    """The team's cost per minute: `x-ratelimit-limit-per-minute`, `-remaining-minute`.
    https://developers.salesloft.com/docs/platform/api-basics/rate-limits"""
    out: dict[str, Any] = {}
    with contextlib.suppress(KeyError, ValueError):
        out["other"] = {"per_minute": {
            "limit": int(headers["x-ratelimit-limit-per-minute"]),
            "remaining": int(headers["x-ratelimit-remaining-minute"])}}
    return out


# --- the twin: what tests, benchmarks and the demo need of it ---------------------------------

def _tap_config(sb) -> dict[str, Any]:
    return {"client_id": sb.client_id, "client_secret": sb.client_secret,
            "refresh_token": sb.oauth.mint_refresh_token(sb.client_id),
            "base_url": sb.base_url, "oauth_url": sb.base_url}


def _connection(sb, client_id: str) -> dict[str, Any]:
    return {"type": "oauth2", "refresh_token": sb.oauth.mint_refresh_token(client_id),
            "base_url": sb.base_url, "oauth_url": sb.base_url}


def _records(sb, obj: str) -> dict[str, tuple[dict | None, bool]]:
    """Every stored record as sent; deletes are hard (None: see tenantsync.providers.Twin)."""
    return {str(doc["id"]): (None if deleted else doc, deleted)
            for doc, deleted in sb.all_records(obj)}


def _mutate(sb, step: int) -> str:
    person = sb.create("people", {"first_name": "Changed", "last_name": f"Person {step}"})
    sb.update("people", person["id"], {"title": f"Title {step}"})
    member = sb.all_records("cadence_memberships")[step][0]
    sb.update("cadence_memberships", member["id"], {"current_state": "paused"})
    if step % 2:
        sb.delete("people", person["id"])
        return "created, changed and deleted a person; paused a cadence membership"
    return "created and changed a person; paused a cadence membership"


TWIN = Twin(
    sandbox="tap_salesloft.sandbox:SalesloftSandbox",
    tap_config=_tap_config,
    connection=_connection,
    records=_records,
    mutate=_mutate,
    objects=("people", "accounts", "users", "cadences", "cadence_memberships"),
    api_paths=r"/v2/.*",
    token_path=r"/oauth/token",
    options={"storm": {"enforce_rate_limit": True}},
    sizes={"sync": 200, "storm": 5_000, "crash": 20_000, "demo": 300},
    demo_objects={"common_objects": [{"object": o} for o in COMMON],
                  "standard_objects": [{"object": o} for o in ("people", "cadences")]},
)

SPEC = ProviderSpec(
    name="salesloft",
    label="Salesloft",
    description="Salesloft standard objects and engagement common objects "
                "(Supaglue-compatible)",
    category="engagement",
    auth=(OAuth2(authorize_url="https://accounts.salesloft.com/oauth/authorize",
                 token_url="https://accounts.salesloft.com/oauth/token",
                 base_setting="oauth_url"),),
    tap="tap_salesloft.tap:TapSalesloft",
    executable="tap-salesloft",
    objects=Objects(standard=STANDARD, custom=False, common=COMMON),
    connection_settings=("base_url", "oauth_url"),
    rate_limits=_rate_limits,
    twin=TWIN,
)
