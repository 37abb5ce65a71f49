"""HubSpot as tenantsync sees it: auth, objects, projection, tap and twin (one ProviderSpec,
registered in pyproject.toml under `tenantsync.providers`)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from tap_hubspot.objects import ALIASES
from tenantsync.providers import ApiKey, OAuth2, Objects, ProviderSpec, Twin

# HubSpot's API envelope around an object's `properties`.
ENVELOPE = ("id", "createdAt", "updatedAt", "archived", "archivedAt")
TYPES = {"company": "companies", "contact": "contacts", "deal": "deals"}


def _projection(raw: dict[str, Any]) -> dict[str, Any]:
    properties = raw.get("properties")
    if not isinstance(properties, dict):
        # tap-hubspot stores records already flattened (properties beside the envelope)
        return dict(raw)
    fields = {k: raw[k] for k in ENVELOPE if k in raw}
    # A property named like an envelope key (e.g. `id`) would overwrite it: such a property
    # stays only in raw_data, under `properties`.
    fields.update((k, v) for k, v in properties.items() if k not in ENVELOPE)
    return fields


def _values(names: str) -> dict[str, str]:
    return dict.fromkeys(names.split(), "value")


# The properties Supaglue's Data Listing API documents for these objects (its v2 data API):
# present on every record, null when empty; `is_deleted` is the platform's deleted flag.
LISTED_FIELDS = {
    "contact": {**_values("id email associatedcompanyid firstname phone lastname city country "
                          "zip state address mobilephone hubspot_owner_id fax jobtitle"),
                "createdate": "date-time", "notes_last_updated": "date-time"},
    "company": {**_values("id description city country zip state address phone industry name "
                          "numberofemployees hubspot_owner_id domain website"),
                "createdate": "date-time", "notes_last_updated": "date-time"},
}


def _limit(headers: Mapping[str, str], limit: str, remaining: str) -> dict[str, int] | None:
    try:
        return {"limit": int(headers[limit]), "remaining": int(headers[remaining])}
    except (KeyError, ValueError):
        return None


def _rate_limits(headers: Mapping[str, str]) -> dict[str, Any]:
    """HubSpot's `X-HubSpot-RateLimit-*` headers: the daily allowance (private apps) and the
    burst window (`-Max` calls per `-Interval-Milliseconds`).
    https://developers.hubspot.com/docs/api/usage-details#rate-limits"""
    out: dict[str, Any] = {}
    daily = _limit(headers, "X-HubSpot-RateLimit-Daily", "X-HubSpot-RateLimit-Daily-Remaining")
    if daily:
        out["daily"] = daily
    burst = _limit(headers, "X-HubSpot-RateLimit-Max", "X-HubSpot-RateLimit-Remaining")
    if burst:
        window = headers.get("X-HubSpot-RateLimit-Interval-Milliseconds", "")
        out["other"] = {f"per_{window}_ms" if window.isdigit() else "burst": burst}
    return out


def _user_id(tokens: Mapping[str, Any]) -> str | None:
    """HubSpot's token responses name the installing user (`user_id`)."""
    return str(tokens["user_id"]) if tokens.get("user_id") is not None else None


def _token_settings(tokens: dict[str, Any]) -> dict[str, str]:
    # the portal's page; HubSpot's token response names the portal as `hub_id`
    hub = tokens.get("hub_id")
    return {"instance_url": f"https://app.hubspot.com/contacts/{hub}"} if hub else {}


# --- the twin: what tests, benchmarks and the demo need of it ---------------------------------

def _tap_config(hs) -> dict[str, Any]:
    return {"client_id": hs.client_id, "client_secret": hs.client_secret,
            "refresh_token": hs.mint_refresh_token(), "base_url": hs.base_url}


def _records(hs, obj: str) -> dict[str, tuple[dict, bool]]:
    """Every stored record of a type, live and archived, as the portal holds it, in the shape
    the tap writes it: properties flattened beside the envelope."""
    t = hs.portal.resolve(TYPES.get(obj, obj))
    out: dict[str, tuple[dict, bool]] = {}
    for archived in (False, True):
        docs, _ = hs.portal.page(t, 0, 10**9, archived)
        for d in docs:
            d = json.loads(d) if isinstance(d, (str, bytes)) else d
            out[d["id"]] = ({**d["properties"], "id": d["id"], "archived": d["archived"]},
                            d["archived"])
    return out


def _mutate(hs, step: int) -> str:
    created = hs.create("companies", {"name": f"Changed Co {step}"})
    hs.update("companies", created["id"], {"name": f"Changed Co {step} (renamed)"})
    if step % 2:
        hs.delete("companies", created["id"])
        return "created, renamed and archived a company"
    return "created and renamed a company"


def _unpaced() -> dict[str, Any]:
    from tap_hubspot.sandbox.ratelimit import RateLimits  # the twin loads on use only

    return {"rate_limits": RateLimits(burst=1_000_000)}


TWIN = Twin(
    sandbox="tap_hubspot.sandbox:HubSpotSandbox",
    tap_config=_tap_config,
    records=_records,
    mutate=_mutate,
    objects=("company", "contact", "deal"),
    api_paths=r"/(crm|oauth)/.*",
    token_path=r"/oauth/v1/token",
    # the storm runs within a free portal's limits; the crash test is about resuming, not
    # pacing (a 20,000-record sync at 100 calls / 10 s is slow)
    options={"storm": {"enforce_rate_limit": True}, "crash": _unpaced},
    sizes={"sync": 200, "storm": 5_000, "crash": 20_000, "demo": 300},
    demo_objects={"common_objects": [{"object": o} for o in ("account", "contact")],
                  "standard_objects": [{"object": o} for o in ("company", "contact", "deal")]},
)

SPEC = ProviderSpec(
    name="hubspot",
    label="HubSpot",
    description="HubSpot CRM standard, custom and common objects and owners "
                "(Supaglue-compatible)",
    category="crm",
    auth=(OAuth2(authorize_url="https://app.hubspot.com/oauth/authorize",
                 token_url="https://api.hubapi.com/oauth/v1/token",
                 scopes=("crm.objects.contacts.read", "crm.objects.companies.read",
                         "crm.objects.deals.read", "crm.objects.owners.read", "oauth"),
                 base_setting="base_url", token_settings=_token_settings),
          ApiKey(setting="access_token")),  # a private app's token
    tap="tap_hubspot.tap:TapHubSpot",
    executable="tap-hubspot",
    objects=Objects(standard=("company", "contact", "deal", "line_item", "product", "ticket",
                              "quote", "call", "communication", "email", "meeting", "note",
                              "postal_mail", "task", "owner"),
                    custom=True,
                    common={"account": "company", "contact": "contact",
                            "opportunity": "deal", "user": "owner"},
                    aliases=ALIASES),
    connection_settings=("base_url", "instance_url"),
    projection=_projection,
    listed_fields=LISTED_FIELDS,
    deleted_field="is_deleted",
    rate_limits=_rate_limits,
    user_id=_user_id,
    twin=TWIN,
    # singer-io's and Meltano Hub's tap-hubspot: streams by HubSpot's plural API names,
    # archived records flagged `archived`
    peer_delete_flags=("archived",),
    peer_stream_aliases={"companies": "company", **{f"{name}s": name for name in (
        "contact", "deal", "line_item", "product", "ticket", "quote", "call", "communication",
        "email", "meeting", "note", "task", "owner")}},
)
