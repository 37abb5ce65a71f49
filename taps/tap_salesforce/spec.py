"""Salesforce as tenantsync sees it: auth, objects, projection, tap and twin (one ProviderSpec,
registered in pyproject.toml under `tenantsync.providers`)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

import requests

from tenantsync.providers import OAuth2, Objects, ProviderSpec, Twin

# https://help.salesforce.com/s/articleView?id=sf.remoteaccess_oauth_endpoints.htm
LOGIN_URLS = {"production": "https://login.salesforce.com",
              "sandbox": "https://test.salesforce.com"}
API_VERSION = "v61.0"


def _projection(raw: dict[str, Any]) -> dict[str, Any]:
    # `attributes` (type, url) is the REST API's envelope, not a field of the object
    return {k: v for k, v in raw.items() if k != "attributes"}


def _values(names: str) -> dict[str, str]:
    return dict.fromkeys(names.split(), "value")


# The fields Supaglue's Data Listing API documents for these objects (its v2 data API):
# present on every record, null when empty; date-times normalized (LastActivityDate is a
# date in Salesforce, a date-time there).
LISTED_FIELDS = {
    "Contact": {**_values("Id Description Email AccountId FirstName HomePhone IsDeleted "
                          "LastName LeadSource MailingCity MailingCountry MailingPostalCode "
                          "MailingState MailingStreet MobilePhone OwnerId Phone Fax Title"),
                **dict.fromkeys(("LastActivityDate", "CreatedDate", "SystemModstamp"),
                                "date-time")},
    "Account": {**_values("Id Description BillingCity BillingCountry BillingPostalCode "
                          "BillingState BillingStreet ShippingCity ShippingCountry "
                          "ShippingPostalCode ShippingState ShippingStreet Phone Fax Industry "
                          "Name NumberOfEmployees OwnerId Website IsDeleted"),
                **dict.fromkeys(("LastActivityDate", "CreatedDate", "SystemModstamp"),
                                "date-time")},
}
# https://developer.salesforce.com/docs/atlas.en-us.api_rest.meta/api_rest/headers_api_usage.htm
_USAGE = re.compile(r"api-usage=(\d+)/(\d+)")


def _rate_limits(headers: Mapping[str, str]) -> dict[str, Any]:
    """`Sforce-Limit-Info: api-usage=25/15000`: the org's rolling 24-hour API allocation."""
    found = _USAGE.search(headers.get("Sforce-Limit-Info", ""))
    if not found:
        return {}
    used, limit = map(int, found.groups())
    return {"daily": {"limit": limit, "remaining": max(limit - used, 0)}}


def _user_id(tokens: Mapping[str, Any]) -> str | None:
    """The token response's `id` is the identity URL `.../id/<org id>/<user id>`."""
    identity = str(tokens.get("id") or "")
    return identity.rstrip("/").rsplit("/", 1)[-1] if "/id/" in identity else None


# --- the twin: what tests, benchmarks and the demo need of it ---------------------------------

def _tap_config(sb) -> dict[str, Any]:
    return {"client_id": sb.client_id, "client_secret": sb.client_secret,
            "refresh_token": sb.mint_refresh_token(), "login_url": sb.base_url}


def _records(sb, sobject: str) -> dict[str, tuple[dict, bool]]:
    """Every row of `sobject`, deleted ones included, with every described field, from the
    org's REST API (`queryAll`)."""
    session = requests.Session()
    session.trust_env = False
    session.headers["Authorization"] = f"Bearer {sb.mint_access_token()}"
    base = f"{sb.base_url}/services/data/{API_VERSION}"
    fields = [f["name"] for f in session.get(f"{base}/sobjects/{sobject}/describe").json()
              ["fields"] if f["type"] not in ("address", "location")]
    body = session.get(f"{base}/queryAll",
                       params={"q": f"SELECT {', '.join(fields)} FROM {sobject}"}).json()
    rows = list(body["records"])
    while not body["done"]:
        body = session.get(sb.base_url + body["nextRecordsUrl"]).json()
        rows += body["records"]
    for row in rows:
        row.pop("attributes", None)
    return {row["Id"]: (row, row["IsDeleted"]) for row in rows}


def _mutate(sb, step: int) -> str:
    created = sb.create("Account", {"Name": f"Changed Co {step}"})
    sb.update("Account", created["Id"], {"Name": f"Changed Co {step} (renamed)"})
    if step % 2:
        sb.delete("Account", created["Id"])
        return "created, renamed and deleted an Account"
    return "created and renamed an Account"


TWIN = Twin(
    sandbox="tap_salesforce.sandbox:SalesforceSandbox",
    tap_config=_tap_config,
    records=_records,
    mutate=_mutate,
    objects=("Account", "Contact", "Lead", "Opportunity"),
    api_paths=r"/services/(data|async)/.*",
    token_path=r"/services/oauth2/token",
    # REST pages hold 2,000 records: the storm needs a bigger org for every fault to fire
    sizes={"sync": 300, "storm": 20_000, "crash": 40_000, "demo": 400},
    demo_objects={"common_objects": [{"object": o} for o in ("account", "contact",
                                                             "opportunity")],
                  "standard_objects": [{"object": o} for o in ("Account", "Contact",
                                                               "Opportunity")],
                  "custom_objects": [{"object": "Invoice__c"}]},
)

SPEC = ProviderSpec(
    name="salesforce",
    label="Salesforce",
    description="Salesforce standard, custom and CRM common objects (Supaglue-compatible)",
    category="crm",
    auth=(OAuth2(authorize_url=f"{LOGIN_URLS['production']}/services/oauth2/authorize",
                 token_url=f"{LOGIN_URLS['production']}/services/oauth2/token",
                 scopes=("api", "refresh_token"), base_setting="login_url",
                 login_urls=LOGIN_URLS,
                 token_settings=lambda t: ({"instance_url": str(t["instance_url"])}
                                           if t.get("instance_url") else {})),),
    tap="tap_salesforce.tap:TapSalesforce",
    executable="tap-salesforce",
    objects=Objects(standard=("Account", "Contact", "Lead", "Opportunity", "User", "Task",
                              "Event", "Campaign", "Case", "OpportunityContactRole"),
                    custom=True,
                    common={"account": "Account", "contact": "Contact", "lead": "Lead",
                            "opportunity": "Opportunity", "user": "User"},
                    open_standard=True),
    connection_settings=("instance_url", "login_url"),
    projection=_projection,
    listed_fields=LISTED_FIELDS,
    rate_limits=_rate_limits,
    user_id=_user_id,
    twin=TWIN,
    peer_delete_flags=("IsDeleted",),  # singer-io tap-salesforce: queryAll rows, flagged
)
