"""Intercom as tenantsync sees it: auth, objects, tap and twin (one ProviderSpec, registered in
pyproject.toml under `tenantsync.providers`)."""

from __future__ import annotations

import contextlib
from collections.abc import Mapping
from typing import Any

from tenantsync.providers import OAuth2, Objects, ProviderSpec, Twin

STANDARD = ("admin", "article", "company", "contact", "conversation")
TABLES = {"admin": "admins", "article": "articles", "company": "companies",
          "contact": "contacts", "conversation": "conversations"}


def _rate_limits(headers: Mapping[str, str]) -> dict[str, Any]:
    """Intercom's window (`X-RateLimit-*`, reset in epoch seconds): developers.intercom.com,
    rate limiting."""
    with contextlib.suppress(KeyError, ValueError):
        return {"other": {"per_10_seconds": {
            "limit": int(headers["X-RateLimit-Limit"]),
            "remaining": int(headers["X-RateLimit-Remaining"]),
            "reset_time": int(headers["X-RateLimit-Reset"])}}}
    return {}


# --- the twin: what tests, benchmarks and the demo need of it ---------------------------------

def _tap_config(sb) -> dict[str, Any]:
    return {"access_token": sb.mint_token(), "api_url": sb.base_url}


def _connection(sb, client_id: str) -> dict[str, Any]:
    return {"type": "oauth2", "access_token": sb.mint_token(), "api_url": sb.base_url}


def _records(sb, obj: str) -> dict[str, tuple[dict, bool]]:
    """Every stored record as Intercom serves it. Nothing is listed as deleted: a deleted
    company leaves the scroll and is flagged by a full sync's sweep (only its id is known to
    match, and only once the twin had served it)."""
    out: dict[str, tuple[dict, bool]] = {}
    for doc, deleted in sb.all_records(TABLES[obj]):
        if not deleted:
            out[doc["id"]] = (doc, False)
        elif obj == "company" and doc["id"] in sb.served:
            out[doc["id"]] = ({"id": doc["id"]}, True)
    return out


def _mutate(sb, step: int) -> str:
    contact = sb.create("contacts", {"name": f"New contact {step}"})
    sb.update("contacts", contact["id"], {"name": f"New contact {step} (renamed)"})
    conversation = sb.all_records("conversations")[step][0]
    sb.update("conversations", conversation["id"], {"state": "closed", "open": False})
    if step % 2:
        sb.delete("companies", sb.all_records("companies")[step][0]["id"])
        return "created and renamed a contact; closed a conversation; deleted a company"
    return "created and renamed a contact; closed a conversation"


TWIN = Twin(
    sandbox="tap_intercom.sandbox:IntercomSandbox",
    tap_config=_tap_config,
    connection=_connection,
    records=_records,
    mutate=_mutate,
    objects=STANDARD,
    api_paths=r"/(admins|articles|companies|contacts|conversations)(/.*)?",
    token_path=r"/auth/eagle/token",
    # a killed run's scroll stays open until it has been idle this long: Intercom's minute
    # would make the suite wait it out after each kill
    options={"storm": {"enforce_rate_limit": True, "scroll_ttl": 3.0},
             "crash": {"scroll_ttl": 3.0}},
    sizes={"sync": 200, "storm": 3_000, "crash": 10_000, "demo": 300},
    demo_objects={"standard_objects": [{"object": o} for o in STANDARD]},
)

SPEC = ProviderSpec(
    name="intercom",
    label="Intercom",
    description="Intercom admins, articles, companies, contacts and conversations "
                "(Supaglue-compatible standard objects)",
    category="none",
    auth=(OAuth2(authorize_url="https://app.intercom.com/oauth",
                 token_url="https://api.intercom.io/auth/eagle/token",
                 base_setting="api_url", expiring=False),),
    tap="tap_intercom.tap:TapIntercom",
    executable="tap-intercom",
    objects=Objects(standard=STANDARD),
    connection_settings=("api_url",),
    rate_limits=_rate_limits,
    twin=TWIN,
)
