"""Pipedrive as tenantsync sees it: auth, objects, tap and twin (one ProviderSpec, registered
in pyproject.toml under `tenantsync.providers`)."""

from __future__ import annotations

import contextlib
from collections.abc import Mapping
from typing import Any

from tenantsync.providers import ApiKey, OAuth2, Objects, ProviderSpec, Twin

STANDARD = ("deals", "persons", "organizations", "leads", "activities", "notes", "products",
            "pipelines", "stages", "users")
COMMON = {"account": "organizations", "contact": "persons", "lead": "leads",
          "opportunity": "deals", "user": "users"}


def _token_settings(tokens: dict[str, Any]) -> dict[str, str]:
    # the company's API host: every API call of the connection goes there
    return {"api_domain": str(tokens["api_domain"])} if tokens.get("api_domain") else {}


def _rate_limits(headers: Mapping[str, str]) -> dict[str, Any]:
    """Pipedrive's burst window per token (`x-ratelimit-*`, a 2-second window) and, on
    API-token writes, the day's requests left (`x-daily-requests-left`).
    https://pipedrive.readme.io/docs/core-api-concepts-rate-limiting"""
    out: dict[str, Any] = {}
    with contextlib.suppress(KeyError, ValueError):
        out["other"] = {"per_2_seconds": {"limit": int(headers["x-ratelimit-limit"]),
                                          "remaining": int(headers["x-ratelimit-remaining"])}}
    left = headers.get("x-daily-requests-left")
    if left is not None and left.isdigit():
        out["daily"] = {"remaining": int(left)}
    return out


# --- the twin: what tests, benchmarks and the demo need of it ---------------------------------

def _tap_config(sb) -> dict[str, Any]:
    return {"client_id": sb.client_id, "client_secret": sb.client_secret,
            "refresh_token": sb.mint_refresh_token(), "oauth_url": sb.base_url}


def _records(sb, obj: str) -> dict[str, tuple[dict, bool]]:
    """Every stored record of an object as the twin holds it, with the flag the destination
    must show. Deleted deals are listed (is_deleted) and hold their last state; other deleted
    records leave the lists, so the destination keeps what it last read, flagged by a full
    sync's sweep: only their id is known to match."""
    from tap_pipedrive.objects import OBJECTS  # the tap's table says how deletes show

    listed = OBJECTS[obj].deletes.flag is not None
    return {str(doc["id"]): (doc if listed or not deleted else {"id": doc["id"]}, deleted)
            for doc, deleted in sb.all_records(obj)}


def _mutate(sb, step: int) -> str:
    deal = sb.create("deals", {"title": f"Changed deal {step}", "value": 100.0 * step})
    sb.update("deals", deal["id"], {"title": f"Changed deal {step} (renamed)"})
    person = sb.all_records("persons")[step][0]
    sb.update("persons", person["id"], {"job_title": f"Title {step}"})
    if step % 2:
        sb.delete("deals", deal["id"])
        return "created, renamed and deleted a deal; changed a person"
    return "created and renamed a deal; changed a person"


TWIN = Twin(
    sandbox="tap_pipedrive.sandbox:PipedriveSandbox",
    tap_config=_tap_config,
    records=_records,
    mutate=_mutate,
    objects=("deals", "persons", "organizations", "leads"),
    api_paths=r"/(api/v2|v1)/.*",
    token_path=r"/oauth/token",
    options={"storm": {"enforce_rate_limit": True}},
    sizes={"sync": 200, "storm": 5_000, "crash": 20_000, "demo": 300},
    demo_objects={"common_objects": [{"object": o} for o in ("account", "contact",
                                                             "opportunity")],
                  "standard_objects": [{"object": o} for o in ("deals", "persons")]},
)

SPEC = ProviderSpec(
    name="pipedrive",
    label="Pipedrive",
    description="Pipedrive CRM standard objects (custom fields by name) and CRM common "
                "objects (Supaglue-compatible)",
    category="crm",
    auth=(OAuth2(authorize_url="https://oauth.pipedrive.com/oauth/authorize",
                 token_url="https://oauth.pipedrive.com/oauth/token",
                 scopes=("base", "deals:read", "contacts:read", "leads:read",
                         "activities:read", "products:read", "users:read"),
                 base_setting="oauth_url", token_settings=_token_settings),
          ApiKey(setting="api_token")),
    tap="tap_pipedrive.tap:TapPipedrive",
    executable="tap-pipedrive",
    objects=Objects(standard=STANDARD, custom=False, common=COMMON),
    connection_settings=("oauth_url", "api_domain"),
    rate_limits=_rate_limits,
    twin=TWIN,
    peer_delete_flags=("is_deleted",),  # singer-io tap-pipedrive: v2 records, flagged
)
