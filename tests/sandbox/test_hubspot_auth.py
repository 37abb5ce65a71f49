"""HubSpot twin auth: the OAuth consent flow, token grants, refresh, revocation and expiry,
through a browser-like HTTP client and the official client's OAuth API."""

from __future__ import annotations

import json
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from hubspot import HubSpot
from hubspot.crm.contacts import ApiException as ContactsApiException
from hubspot.oauth import ApiException as OAuthApiException

from tap_hubspot.sandbox import HubSpotSandbox

REDIRECT = "http://127.0.0.1:9/callback"


@pytest.fixture(scope="module")
def hs():
    with HubSpotSandbox(records=100, seed=11) as sandbox:
        yield sandbox


def _consent(hs, decision: str) -> dict[str, list[str]]:
    """Open the consent page, submit its form as a browser would; the redirect's query."""
    query = {"client_id": hs.client_id, "redirect_uri": REDIRECT,
             "scope": "crm.objects.contacts.read oauth", "state": "st-42"}
    page = requests.get(hs.base_url + "/oauth/authorize", params=query, timeout=10)
    assert page.status_code == 200 and "text/html" in page.headers["Content-Type"]
    assert 'name="decision" value="approve"' in page.text
    answer = requests.post(hs.base_url + "/oauth/authorize", data={**query,
                           "decision": decision}, allow_redirects=False, timeout=10)
    assert answer.status_code == 302
    location = urlsplit(answer.headers["Location"])
    assert f"{location.scheme}://{location.netloc}{location.path}" == REDIRECT
    return parse_qs(location.query)


def test_consent_code_exchange_and_api_call_with_the_official_client(hs):
    redirect = _consent(hs, "approve")
    assert redirect["state"] == ["st-42"]
    client = HubSpot(host=hs.base_url)
    tokens = client.oauth.tokens_api.create(
        grant_type="authorization_code", code=redirect["code"][0], redirect_uri=REDIRECT,
        client_id=hs.client_id, client_secret=hs.client_secret)
    assert (tokens.token_type, tokens.expires_in) == ("bearer", 1800)
    assert tokens.access_token != tokens.refresh_token
    api = HubSpot(access_token=tokens.access_token, host=hs.base_url)
    assert len(api.crm.contacts.basic_api.get_page(limit=5).results) == 5
    info = client.oauth.access_tokens_api.get(tokens.access_token)
    assert info.hub_id == hs.portal_id
    assert info.scopes == ["crm.objects.contacts.read", "oauth"]
    with pytest.raises(OAuthApiException) as err:  # a code is good once
        client.oauth.tokens_api.create(
            grant_type="authorization_code", code=redirect["code"][0], redirect_uri=REDIRECT,
            client_id=hs.client_id, client_secret=hs.client_secret)
    assert json.loads(err.value.body)["status"] == "BAD_AUTH_CODE"


def test_denied_consent_redirects_with_an_error(hs):
    assert _consent(hs, "deny") == {"error": ["access_denied"], "state": ["st-42"]}


def test_refresh_then_revoke(hs):
    client = HubSpot(host=hs.base_url)
    refresh = hs.mint_refresh_token()
    tokens = client.oauth.tokens_api.create(grant_type="refresh_token", refresh_token=refresh,
                                            client_id=hs.client_id,
                                            client_secret=hs.client_secret)
    assert tokens.refresh_token == refresh  # HubSpot does not rotate refresh tokens
    assert tokens.expires_in == 1800
    client.oauth.refresh_tokens_api.archive(refresh)
    with pytest.raises(OAuthApiException) as err:
        client.oauth.tokens_api.create(grant_type="refresh_token", refresh_token=refresh,
                                       client_id=hs.client_id, client_secret=hs.client_secret)
    body = json.loads(err.value.body)
    assert err.value.status == 400
    assert (body["status"], body["error"]) == ("BAD_REFRESH_TOKEN", "invalid_grant")
    assert refresh not in err.value.body and hs.client_secret not in err.value.body


def test_wrong_client_secret_and_grant_type(hs):
    form = {"grant_type": "refresh_token", "refresh_token": hs.mint_refresh_token(),
            "client_id": hs.client_id, "client_secret": "wrong"}
    r = requests.post(hs.base_url + "/oauth/v1/token", data=form, timeout=10)
    assert (r.status_code, r.json()["status"]) == (400, "BAD_CLIENT_SECRET")
    r = requests.post(hs.base_url + "/oauth/2026-03/token",
                      data={**form, "grant_type": "password"}, timeout=10)
    assert (r.status_code, r.json()["status"]) == (400, "BAD_GRANT_TYPE")


def test_access_tokens_expire_after_30_minutes_of_sandbox_time(hs):
    r = requests.post(hs.base_url + "/oauth/v1/token", data={
        "grant_type": "refresh_token", "refresh_token": hs.mint_refresh_token(),
        "client_id": hs.client_id, "client_secret": hs.client_secret}, timeout=10)
    access = r.json()["access_token"]
    api = HubSpot(access_token=access, host=hs.base_url)
    api.crm.contacts.basic_api.get_page(limit=1)
    hs.advance_clock(1801)
    with pytest.raises(ContactsApiException) as err:
        api.crm.contacts.basic_api.get_page(limit=1)
    body = json.loads(err.value.body)
    assert err.value.status == 401
    assert body["category"] == "EXPIRED_AUTHENTICATION"
    assert body["message"].startswith("The OAuth token used to make this call expired")
    assert "expire time" in body["context"]
    assert access not in err.value.body


def test_unknown_and_revoked_private_app_tokens_are_invalid(hs):
    token = hs.mint_private_app_token()
    url = hs.base_url + "/crm/v3/objects/companies"
    assert requests.get(url, headers={"Authorization": f"Bearer {token}"},
                        timeout=10).status_code == 200
    hs.revoke_private_app_token(token)
    for headers in ({"Authorization": f"Bearer {token}"}, {}):
        r = requests.get(url, headers=headers, timeout=10)
        assert r.status_code == 401
        assert r.json()["category"] == "INVALID_AUTHENTICATION"
