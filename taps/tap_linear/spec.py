"""Linear as tenantsync sees it: auth, objects, tap and twin (one ProviderSpec, registered
in pyproject.toml under `tenantsync.providers`)."""

from __future__ import annotations

import contextlib
from collections.abc import Mapping
from typing import Any

from tenantsync.providers import ApiKey, OAuth2, Objects, ProviderSpec, Twin

STANDARD = ("issues", "comments", "users", "projects", "teams")


def _rate_limits(headers: Mapping[str, str]) -> dict[str, Any]:
    """Linear's hourly buckets: requests (`hourly`) and complexity points (`other`), resets
    in epoch milliseconds. https://developers.linear.app/docs/graphql/working-with-the-graphql-api/rate-limiting"""
    out: dict[str, Any] = {}
    for name, key in (("Requests", "hourly"), ("Complexity", "complexity_per_hour")):
        with contextlib.suppress(KeyError, ValueError):
            limit = {"limit": int(headers[f"X-RateLimit-{name}-Limit"]),
                     "remaining": int(headers[f"X-RateLimit-{name}-Remaining"]),
                     "reset_time": int(headers[f"X-RateLimit-{name}-Reset"]) // 1000}
            if key == "hourly":
                out[key] = limit
            else:
                out["other"] = {key: limit}
    return out


# --- the twin: what tests, benchmarks and the demo need of it ---------------------------------

def _tap_config(sb) -> dict[str, Any]:
    # an API key: OAuth refresh tokens are single-use, and the standard tests rerun one config
    return {"api_key": sb.mint_api_key(), "base_url": sb.base_url}


def _records(sb, obj: str) -> dict[str, tuple[dict, bool]]:
    """Every node of an object as the twin holds it; archived nodes stay readable (with
    includeArchived), so the destination holds their last state, flagged deleted."""
    return {doc["id"]: (doc, deleted) for doc, deleted in sb.all_records(obj)}


def _mutate(sb, step: int) -> str:
    issue = sb.create("issues", {"title": f"Changed issue {step}"})
    sb.update("issues", issue["id"], {"title": f"Changed issue {step} (renamed)",
                                      "priority": 1.0})
    comment = sb.all_records("comments")[step][0]
    sb.update("comments", comment["id"], {"body": f"Edited in step {step}"})
    if step % 2:
        sb.delete("issues", issue["id"])
        return "created, renamed and archived an issue; edited a comment"
    return "created and renamed an issue; edited a comment"


TWIN = Twin(
    sandbox="tap_linear.sandbox:LinearSandbox",
    tap_config=_tap_config,
    records=_records,
    mutate=_mutate,
    objects=STANDARD,
    api_paths=r"/graphql",
    token_path=r"/oauth/token",
    options={"storm": {"enforce_rate_limit": True}},
    # world records; about a quarter of them are Linear nodes (the rest are CRM kinds)
    sizes={"sync": 200, "storm": 20_000, "crash": 20_000, "demo": 300},
    demo_objects={"standard_objects": [{"object": o} for o in STANDARD]},
)

SPEC = ProviderSpec(
    name="linear",
    label="Linear",
    description="Linear issues, comments, users, projects and teams through its GraphQL API "
                "(archived nodes as deletes)",
    category="none",
    auth=(OAuth2(authorize_url="https://linear.app/oauth/authorize",
                 token_url="https://api.linear.app/oauth/token", scopes=("read",),
                 base_setting="base_url"),
          ApiKey(setting="api_key")),
    tap="tap_linear.tap:TapLinear",
    executable="tap-linear",
    objects=Objects(standard=STANDARD),
    connection_settings=("base_url",),
    rate_limits=_rate_limits,
    twin=TWIN,
)
