"""Microsoft Dynamics 365 Sales as tenantsync sees it: auth, objects, tap and twin (one
ProviderSpec, registered in pyproject.toml under `tenantsync.providers`)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from tenantsync.providers import OAuth2, Objects, ProviderSpec, Twin

STANDARD = ("accounts", "contacts", "leads", "opportunities", "systemusers")
COMMON = {"account": "accounts", "contact": "contacts", "lead": "leads",
          "opportunity": "opportunities", "user": "systemusers"}
REMAINING = "x-ms-ratelimit-burst-remaining-xrm-requests"


def _token_settings(tokens: Mapping[str, Any]) -> dict[str, str]:
    """The organization URL: the resource of the granted `<org>/.default` scope (Supaglue
    derived the instance URL the same way; the connect link passes that scope)."""
    for scope in str(tokens.get("scope") or "").split():
        if scope.endswith(("/.default", "/user_impersonation")):
            return {"instance_url": scope.rsplit("/", 1)[0]}
    return {}


def _rate_limits(headers: Mapping[str, str]) -> dict[str, Any]:
    """Service protection limits: requests left in the 5-minute window per user.
    https://learn.microsoft.com/power-apps/developer/data-platform/api-limits"""
    left = headers.get(REMAINING)
    if left is None or not left.isdigit():
        return {}
    return {"other": {"per_5_minutes": {"limit": 6000, "remaining": int(left)}}}


# --- the twin: what tests, benchmarks and the demo need of it ---------------------------------

def _tap_config(sb) -> dict[str, Any]:
    return {"client_id": sb.client_id, "client_secret": sb.client_secret,
            "refresh_token": sb.oauth.mint_refresh_token(sb.client_id),
            "instance_url": sb.base_url, "login_url": sb.base_url}


def _connection(sb, client_id: str) -> dict[str, Any]:
    return {"type": "oauth2", "refresh_token": sb.oauth.mint_refresh_token(client_id),
            "login_url": sb.base_url, "instance_url": sb.base_url}


def _records(sb, obj: str) -> dict[str, tuple[dict, bool]]:
    """Every stored row as the twin holds it (`@odata.etag` aside) with the formatted values
    the tap asks for by default; deleted rows leave every listing, so the destination keeps
    what it last read, flagged by a full sync's sweep: only their id is known to match."""
    key = sb.table(obj).key
    return {str(doc[key]): ({key: doc[key]} if deleted else
                            {**{k: v for k, v in doc.items() if not k.startswith("@")},
                             **sb.formatted_values(obj, doc)}, deleted)
            for doc, deleted in sb.all_records(obj)}


def _mutate(sb, step: int) -> str:
    account = sb.create("accounts", {"name": f"Changed account {step}"})
    sb.update("accounts", account["accountid"], {"name": f"Changed account {step} (renamed)"})
    contact = sb.all_records("contacts")[step][0]
    sb.update("contacts", contact["contactid"], {"jobtitle": f"Title {step}"})
    if step % 2:
        sb.delete("accounts", account["accountid"])
        return "created, renamed and deleted an account; changed a contact"
    return "created and renamed an account; changed a contact"


TWIN = Twin(
    sandbox="tap_dynamics.sandbox:DynamicsSandbox",
    tap_config=_tap_config,
    connection=_connection,
    records=_records,
    mutate=_mutate,
    objects=("accounts", "contacts", "leads", "opportunities"),
    api_paths=r"/api/data/v9\.2/.*",
    token_path=r"/organizations/oauth2/v2\.0/token",
    options={"storm": {"enforce_rate_limit": True}},
    sizes={"sync": 200, "storm": 5_000, "crash": 20_000, "demo": 300},
    demo_objects={"common_objects": [{"object": o} for o in ("account", "contact",
                                                             "opportunity")],
                  "standard_objects": [{"object": o} for o in ("accounts", "contacts")]},
)

SPEC = ProviderSpec(
    name="ms_dynamics_365_sales",
    label="Microsoft Dynamics 365 Sales",
    description="Dynamics 365 Sales (Dataverse) entities, custom entities and CRM common "
                "objects (Supaglue-compatible)",
    category="crm",
    auth=(OAuth2(authorize_url="https://login.microsoftonline.com/organizations/oauth2/v2.0/"
                               "authorize",
                 token_url="https://login.microsoftonline.com/organizations/oauth2/v2.0/token",
                 scopes=("offline_access",), base_setting="login_url",
                 token_settings=_token_settings),),
    tap="tap_dynamics.tap:TapDynamics",
    executable="tap-dynamics",
    objects=Objects(standard=STANDARD, custom=True, common=COMMON,
                    open_standard=True),  # every entity set of the organization
    connection_settings=("instance_url", "login_url"),
    rate_limits=_rate_limits,
    twin=TWIN,
)
