"""Apollo.io as tenantsync sees it: auth (an API key), objects, tap and twin (one ProviderSpec,
registered in pyproject.toml under `tenantsync.providers`)."""

from __future__ import annotations

import contextlib
from collections.abc import Mapping
from typing import Any

from tenantsync.providers import ApiKey, Objects, ProviderSpec, Twin

STANDARD = ("accounts", "contacts", "users", "emailer_campaigns", "email_accounts")
COMMON = {"account": "accounts", "contact": "contacts", "user": "users",
          "sequence": "emailer_campaigns", "mailbox": "email_accounts",
          "sequence_state": "contacts"}
_WINDOWS = (("minute", "other"), ("hourly", "hourly"), ("24-hour", "daily"))


def _rate_limits(headers: Mapping[str, str]) -> dict[str, Any]:
    """Apollo's windows of the endpoint last called (x-rate-limit-<window>,
    x-<window>-requests-left; docs.apollo.io/reference/rate-limits)."""
    out: dict[str, Any] = {}
    for window, kind in _WINDOWS:
        with contextlib.suppress(KeyError, ValueError):
            info = {"limit": int(headers[f"x-rate-limit-{window}"]),
                    "remaining": int(headers[f"x-{window}-requests-left"])}
            out[kind] = {"per_minute": info} if kind == "other" else info
    return out


# --- the twin: what tests, benchmarks and the demo need of it ---------------------------------

def _tap_config(sb) -> dict[str, Any]:
    return {"api_key": sb.mint_api_key(), "base_url": sb.base_url}


def _connection(sb, client_id: str) -> dict[str, Any]:
    return {"type": "api_key", "api_key": sb.mint_api_key(), "base_url": sb.base_url}


def _records(sb, obj: str) -> dict[str, tuple[dict, bool]]:
    """Every stored record with the flag the destination must show. A deleted record leaves
    Apollo's searches, so the destination keeps what it last read, flagged by a full pass's
    sweep: only its id is known to match; one deleted before any answer showed it cannot be
    known at all."""
    shown = sb.served.get(obj, set())
    return {doc["id"]: (doc if not deleted else {"id": doc["id"]}, deleted)
            for doc, deleted in sb.all_records(obj) if not deleted or doc["id"] in shown}


def _mutate(sb, step: int) -> str:
    """A new contact, edited (new contacts come last in the oldest-first passes); on odd
    steps a mailbox is disconnected (deleted): email accounts are read in one answer, so the
    next pass sweeps it."""
    contact = sb.create("contacts", {"first_name": f"Changed{step}", "last_name": "Contact",
                                     "email": f"changed{step}@tenantsync-demo.example"})
    sb.update("contacts", contact["id"], {"title": f"Title {step}"})
    if step % 2:
        live = [doc for doc, deleted in sb.all_records("email_accounts") if not deleted]
        sb.delete("email_accounts", live[step % len(live)]["id"])
        return "created and retitled a contact; disconnected a mailbox"
    return "created and retitled a contact"


TWIN = Twin(
    sandbox="tap_apollo.sandbox:ApolloSandbox",
    tap_config=_tap_config,
    records=_records,
    mutate=_mutate,
    connection=_connection,
    objects=STANDARD,
    api_paths=r"/(api/)?v1/.*",
    token_path=r"/oauth/token",  # Apollo's API keys need no token endpoint
    options={"storm": {"enforce_rate_limit": True}},
    sizes={"sync": 200, "storm": 5_000, "crash": 20_000, "demo": 300},
    demo_objects={"common_objects": [{"object": o} for o in COMMON]},
)

SPEC = ProviderSpec(
    name="apollo",
    label="Apollo",
    description="Apollo.io standard objects and engagement common objects "
                "(Supaglue-compatible; full syncs only)",
    category="engagement",
    auth=(ApiKey(setting="api_key"),),
    tap="tap_apollo.tap:TapApollo",
    executable="tap-apollo",
    objects=Objects(standard=STANDARD, custom=False, common=COMMON),
    connection_settings=("base_url",),
    rate_limits=_rate_limits,
    twin=TWIN,
)
