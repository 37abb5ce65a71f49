"""Gong as tenantsync sees it: auth, objects, tap and twin (one ProviderSpec, registered in
pyproject.toml under `tenantsync.providers`)."""

from __future__ import annotations

from typing import Any

from tenantsync.providers import AccessKeySecret, OAuth2, Objects, ProviderSpec, Twin

STANDARD = ("call", "detailedCall", "callTranscript")


def _token_settings(tokens: dict[str, Any]) -> dict[str, str]:
    # the account's API host (EU / APAC accounts' tokens work only there)
    host = tokens.get("api_base_url_for_customer")
    return {"api_base_url": str(host)} if host else {}


# --- the twin: what tests, benchmarks and the demo need of it ---------------------------------

def _tap_config(sb) -> dict[str, Any]:
    return {"client_id": sb.client_id, "client_secret": sb.client_secret,
            "refresh_token": sb.mint_refresh_token(), "oauth_url": sb.base_url}


def _records(sb, obj: str) -> dict[str, tuple[dict, bool]]:
    """Every stored record as the tap receives it (extensive calls as the tap's content
    selector asks for them, with `id` and `started` lifted). Gong lists no deletes: a
    transcript whose recording was deleted leaves the listing and is flagged by a full sync's
    sweep, so only its id is known to match, and only once the twin had served it."""
    from tap_gong.objects import CONTENT_SELECTOR
    from tap_gong.sandbox.data import select

    out: dict[str, tuple[dict, bool]] = {}
    for doc, deleted in sb.records(obj):
        rid = str(doc["callId"] if obj == "callTranscript" else doc["id"])
        if deleted:
            if obj != "callTranscript" or rid in sb.served:
                out[rid] = ({"callTranscript": {"callId": rid}}.get(obj, {"id": rid}), True)
            continue
        if obj == "detailedCall":
            meta = doc["metaData"]
            doc = {**select(doc, CONTENT_SELECTOR), "id": meta["id"], "started": meta["started"]}
        out[rid] = (doc, False)
    return out


def _mutate(sb, step: int) -> str:
    call = sb.create("call", {"title": f"New call {step}"})
    sb.update("call", call["id"], {"title": f"New call {step} (renamed)"})
    if step % 2:
        old = sb.records("call")[step][0]["id"]
        sb.delete("callTranscript", old)
        return "recorded and renamed a call; deleted an older call's recording (transcript)"
    return "recorded and renamed a call"


TWIN = Twin(
    sandbox="tap_gong.sandbox:GongSandbox",
    tap_config=_tap_config,
    records=_records,
    mutate=_mutate,
    objects=STANDARD,
    api_paths=r"/v2/.*",
    token_path=r"/oauth2/generate-customer-token",
    options={"storm": {"enforce_rate_limit": True}},
    # `records` = calls; Gong serves 3 requests a second and 100 calls a page
    sizes={"sync": 200, "storm": 600, "crash": 1_500, "demo": 200},
    demo_objects={"standard_objects": [{"object": o} for o in STANDARD]},
)

SPEC = ProviderSpec(
    name="gong",
    label="Gong",
    description="Gong calls, extensive calls and call transcripts (Supaglue-compatible "
                "standard objects)",
    category="none",
    auth=(OAuth2(authorize_url="https://app.gong.io/oauth2/authorize",
                 token_url="https://app.gong.io/oauth2/generate-customer-token",
                 scopes=("api:calls:read:basic", "api:calls:read:extensive",
                         "api:calls:read:transcript"),
                 base_setting="oauth_url", token_settings=_token_settings,
                 grant_in_query=True),
          AccessKeySecret(key_setting="access_key", secret_setting="access_key_secret")),
    tap="tap_gong.tap:TapGong",
    executable="tap-gong",
    objects=Objects(standard=STANDARD),
    connection_settings=("oauth_url", "api_base_url"),
    twin=TWIN,
)
