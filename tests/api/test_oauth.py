"""Managed authentication end to end against the sandbox twins' consent pages: connect ->
consent -> callback -> token exchange -> connection stored sealed -> return_url. Forged,
altered, expired and replayed states are refused; magic links are single-use."""

from __future__ import annotations

import html
import re
import uuid
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from sqlalchemy import select

from tap_hubspot.sandbox import HubSpotSandbox
from tap_salesforce.sandbox import SalesforceSandbox
from tenantsync.api import state as signed_state
from tenantsync.api.models import Event
from tenantsync.controller import crypto

RETURN_URL = "https://app.example.com/connected?tab=crm"
PROVIDERS = {"salesforce": SalesforceSandbox, "hubspot": HubSpotSandbox}
SETTING = {"salesforce": "login_url", "hubspot": "base_url"}


@pytest.fixture(scope="module")
def sandboxes():
    boxes = {"salesforce": SalesforceSandbox(records=5, seed=3),
             "hubspot": HubSpotSandbox(records=5, seed=4, portal_id=4242)}
    for box in boxes.values():
        box.start()
    yield boxes
    for box in boxes.values():
        box.stop()


@pytest.fixture(scope="module")
def providers(service, sandboxes):
    """Both providers registered in app-a with the twins' OAuth clients."""
    with service.client(service.key_a) as a:
        for name, box in sandboxes.items():
            r = a.post("/mgmt/v2/providers", json={
                "name": name, "category": "crm", "auth_type": "oauth2",
                "config": {"settings": {SETTING[name]: box.base_url},
                           "oauth": {"credentials": {"oauth_client_id": box.client_id,
                                                     "oauth_client_secret": box.client_secret}}}})
            assert r.status_code == 201, r.text
    return sandboxes


def _customer(a) -> str:
    cid = f"cust-{uuid.uuid4().hex[:8]}"
    assert a.put("/mgmt/v2/customers", json={"customer_id": cid}).status_code == 200
    return cid


def consent(authorize_url: str, approve: bool = True) -> str:
    """What the customer's browser does on the consent page; returns the callback URL."""
    page = httpx.get(authorize_url)
    assert page.status_code == 200, page.text
    form = {html.unescape(k): html.unescape(v) for k, v in
            re.findall(r'<input type="hidden" name="([^"]*)" value="([^"]*)">', page.text)}
    decisions = re.findall(r'name="decision" value="([^"]*)"', page.text)
    form["decision"] = decisions[0] if approve else decisions[1]
    action = re.search(r'<form method="(?:POST|post)" action="([^"]*)"', page.text).group(1)
    base = "{0.scheme}://{0.netloc}".format(urlsplit(authorize_url))
    answer = httpx.post(base + action, data=form)
    assert answer.status_code == 302, answer.text
    return answer.headers["location"]


def start(svc, cid: str, provider: str, replace: bool = False, **extra) -> httpx.Response:
    """The key holder creates a connect session; the customer's browser follows it."""
    with svc.client(svc.key_a) as holder:
        session = holder.post("/mgmt/v2/connect_sessions", json={
            "customer_id": cid, "provider_name": provider, "return_url": RETURN_URL,
            "replace": replace})
    if session.status_code != 201:
        return session
    with svc.client() as browser:  # no API key: a browser follows this link
        url = session.json()["connect_url"][len(svc.url):]
        return browser.get(url + "".join(f"&{k}={v}" for k, v in extra.items()))


def start_public(svc, cid: str, provider: str) -> httpx.Response:
    """Supaglue's key-less form: only the application id and the customer id."""
    with svc.client() as browser:
        return browser.get("/oauth/connect", params={
            "application_id": "app-a", "customer_id": cid, "provider_name": provider,
            "return_url": RETURN_URL})


def outcome_of(svc, started: httpx.Response) -> dict[str, list[str]]:
    assert started.status_code == 302, started.text
    done = follow_callback(svc, consent(started.headers["location"]))
    return parse_qs(urlsplit(done.headers["location"]).query)


def follow_callback(svc, callback_url: str) -> httpx.Response:
    assert callback_url.startswith(svc.url + "/oauth/callback?")
    with svc.client() as browser:
        return browser.get(callback_url[len(svc.url):])


@pytest.mark.parametrize("provider", ["salesforce", "hubspot"])
def test_connect_flow_stores_a_working_connection(service, a, providers, provider):
    cid = _customer(a)
    r = start(service, cid, provider)
    assert r.status_code == 302
    authorize = r.headers["location"]
    assert authorize.startswith(providers[provider].base_url)
    query = parse_qs(urlsplit(authorize).query)
    assert query["redirect_uri"] == [f"{service.url}/oauth/callback"]
    assert providers[provider].client_secret not in authorize

    callback = consent(authorize)
    done = follow_callback(service, callback)
    assert done.status_code == 302
    outcome = urlsplit(done.headers["location"])
    assert f"{outcome.scheme}://{outcome.netloc}{outcome.path}" == \
        "https://app.example.com/connected"
    assert parse_qs(outcome.query) == {"tab": ["crm"], "customer_id": [cid],
                                       "provider_name": [provider], "result": ["SUCCESS"],
                                       "connection": ["created"]}

    conn = a.get(f"/mgmt/v2/customers/{cid}/connections/{provider}")
    assert conn.status_code == 200
    expected_instance = (providers[provider].base_url if provider == "salesforce"
                         else "https://app.hubspot.com/contacts/4242")
    assert conn.json()["instance_url"].rstrip("/") == expected_instance

    # The stored refresh token is sealed, real, and never shown.
    reg = service.registry()
    secrets = crypto.unseal(reg.connection(cid, provider).sealed_credentials)
    assert secrets["refresh_token"] not in conn.text
    token_path = "/services/oauth2/token" if provider == "salesforce" else "/oauth/v1/token"
    refreshed = httpx.post(providers[provider].base_url + token_path, data={
        "grant_type": "refresh_token", "refresh_token": secrets["refresh_token"],
        "client_id": providers[provider].client_id,
        "client_secret": providers[provider].client_secret})
    assert refreshed.status_code == 200 and refreshed.json()["access_token"]
    events = reg.s.scalars(select(Event).where(Event.type == "connection.created")).all()
    assert any(e.payload["customer_id"] == cid and e.payload["provider_name"] == provider
               for e in events)
    reg.s.close()

    # Replaying the same callback (same state) is refused.
    again = follow_callback(service, callback)
    assert again.status_code == 400
    assert "already used" in again.json()["errors"][0]["detail"]


def test_forged_and_altered_states_are_refused(service, a, providers):
    cid = _customer(a)
    callback = consent(start(service, cid, "salesforce").headers["location"])
    query = parse_qs(urlsplit(callback).query)
    code, state = query["code"][0], query["state"][0]
    payload, _, mac = state.partition(".")
    # another customer's payload with the original signature
    other = signed_state._b64(signed_state._unb64(payload).replace(cid.encode(), b"victim-00"))
    forged = {"random": "not-a-state", "altered": f"{other}.{mac}",
              "unsigned": payload + ".", "empty-mac": payload}
    with service.client() as browser:
        for label, bad in forged.items():
            r = browser.get("/oauth/callback", params={"code": code, "state": bad})
            assert r.status_code == 400, label
            assert r.json()["errors"][0]["title"] == "Invalid OAuth state"
        expired = signed_state.sign({"app": "app-a", "customer": cid, "provider": "salesforce",
                                     "return_url": RETURN_URL, "token_base": "x",
                                     "link": None}, ttl_seconds=-1)
        r = browser.get("/oauth/callback", params={"code": code, "state": expired})
        assert r.status_code == 400 and "expired" in r.json()["errors"][0]["detail"]
    assert a.get(f"/mgmt/v2/customers/{cid}/connections").json() == []


def test_denied_consent_returns_the_error(service, a, providers):
    cid = _customer(a)
    callback = consent(start(service, cid, "hubspot").headers["location"], approve=False)
    done = follow_callback(service, callback)
    assert done.status_code == 302
    outcome = parse_qs(urlsplit(done.headers["location"]).query)
    assert outcome["result"] == ["ERROR"] and outcome["error_description"] == ["access_denied"]
    assert a.get(f"/mgmt/v2/customers/{cid}/connections").json() == []


def test_connect_refuses_bad_requests(service, a, providers):
    cid = _customer(a)
    r = start(service, "nobody", "salesforce")
    assert r.status_code == 404
    r = start(service, cid, "salesforce", login_url="https://evil.example.com")
    assert r.status_code == 400 and "login_url" in r.json()["errors"][0]["detail"]
    r = start(service, cid, "salesforce", login_url="https://test.salesforce.com")
    assert r.status_code == 302
    assert r.headers["location"].startswith("https://test.salesforce.com/services/oauth2/")
    with service.client() as browser:
        r = browser.get("/oauth/connect", params={
            "application_id": "app-a", "customer_id": cid, "provider_name": "salesforce",
            "return_url": "javascript:alert(1)"})
    assert r.status_code == 400


def test_magic_link_is_single_use(service, a, providers):
    cid = _customer(a)
    r = a.post("/mgmt/v2/magic_links", json={"customer_id": cid, "provider_name": "hubspot",
                                             "return_url": RETURN_URL, "expiration_secs": 600})
    assert r.status_code == 201, r.text
    link = r.json()
    assert link["status"] == "new" and link["url"].startswith(service.url + "/links/")
    with service.client() as browser:
        first = browser.get(link["url"][len(service.url):])
        assert first.status_code == 302
        second = browser.get(link["url"][len(service.url):])
        assert second.status_code == 410
    done = follow_callback(service, consent(first.headers["location"]))
    assert parse_qs(urlsplit(done.headers["location"]).query)["result"] == ["SUCCESS"]
    assert a.get(f"/mgmt/v2/customers/{cid}/connections/hubspot").status_code == 200
    (listed,) = [m for m in a.get("/mgmt/v2/magic_links").json() if m["id"] == link["id"]]
    assert listed["status"] == "consumed"


def test_salesforce_magic_link_offers_production_or_sandbox(service, b):
    # app-b's Salesforce has no login URL configured: the link asks which environment.
    r = b.post("/mgmt/v2/providers", json={"name": "salesforce", "auth_type": "oauth2",
                                           "config": {"oauth": {"credentials": {
                                               "oauth_client_id": "b-client",
                                               "oauth_client_secret": "b-secret"}}}})
    assert r.status_code == 201, r.text
    cid = _customer(b)
    link = b.post("/mgmt/v2/magic_links", json={
        "customer_id": cid, "provider_name": "salesforce", "return_url": RETURN_URL}).json()
    path = link["url"][len(service.url):]
    with service.client() as browser:
        page = browser.get(path)
        assert page.status_code == 200
        assert 'id="production"' in page.text and 'id="sandbox"' in page.text
        assert browser.get(path, params={"environment": "moon"}).status_code == 400
        chosen = browser.get(path, params={"environment": "sandbox"})
        assert chosen.status_code == 302
        assert chosen.headers["location"].startswith(
            "https://test.salesforce.com/services/oauth2/authorize?")
        assert "client_id=b-client" in chosen.headers["location"]
        assert browser.get(path, params={"environment": "production"}).status_code == 410


def test_expired_magic_link(service, a, providers):
    cid = _customer(a)
    link = a.post("/mgmt/v2/magic_links", json={
        "customer_id": cid, "provider_name": "salesforce", "return_url": RETURN_URL}).json()
    from datetime import timedelta

    from tenantsync.api.models import MagicLink
    from tenantsync.controller.models import utcnow

    with service.session() as s:
        s.get(MagicLink, link["id"]).expires_at = utcnow() - timedelta(seconds=1)
        s.commit()
    with service.client() as browser:
        r = browser.get(link["url"][len(service.url):])
    assert r.status_code == 410 and "expired" in r.json()["errors"][0]["detail"]


def test_concurrent_replays_create_one_connection(service, a, providers):
    """The same callback fired at once from several browsers: one wins, the rest are refused."""
    from concurrent.futures import ThreadPoolExecutor

    cid = _customer(a)
    callback = consent(start(service, cid, "salesforce").headers["location"])
    with ThreadPoolExecutor(max_workers=6) as pool:
        answers = list(pool.map(lambda _: follow_callback(service, callback), range(6)))
    statuses = sorted(r.status_code for r in answers)
    assert statuses == [302, 400, 400, 400, 400, 400]
    (won,) = [r for r in answers if r.status_code == 302]
    assert "result=SUCCESS" in won.headers["location"]
    assert len(a.get(f"/mgmt/v2/customers/{cid}/connections").json()) == 1


def _refresh_token(service, cid: str, provider: str) -> str:
    with service.session() as s:
        from tenantsync.controller.registry import Registry

        conn = Registry(s, "app-a").connection(cid, provider)
        return crypto.unseal(conn.sealed_credentials)["refresh_token"]


def _public_connect(service, on: bool) -> None:
    from tenantsync.controller.registry import Registry

    with service.session() as s:
        Registry(s, "app-a").application().public_connect = on
        s.commit()


def test_the_key_less_form_is_refused_unless_the_application_turned_it_on(service, a,
                                                                           providers):
    cid = _customer(a)
    r = start_public(service, cid, "hubspot")
    assert r.status_code == 403, r.text
    assert "connect session" in r.json()["errors"][0]["detail"]
    with service.client() as browser:
        r = browser.get("/oauth/connect")
    assert r.status_code == 400 and "connect_session" in r.json()["errors"][0]["detail"]
    _public_connect(service, True)
    try:
        assert outcome_of(service, start_public(service, cid, "hubspot"))["result"] == \
            ["SUCCESS"]
    finally:
        _public_connect(service, False)


def test_nobody_replaces_a_live_connection_without_the_issuers_consent(service, a, providers):
    """The attack: someone consents with their own account for a customer id they know."""
    cid = _customer(a)
    assert outcome_of(service, start(service, cid, "salesforce"))["connection"] == ["created"]
    victim = _refresh_token(service, cid, "salesforce")

    _public_connect(service, True)  # even where the key-less form is on, it never replaces
    try:
        hijack = outcome_of(service, start_public(service, cid, "salesforce"))
    finally:
        _public_connect(service, False)
    assert hijack["result"] == ["ERROR"] and hijack["error"] == ["Connection exists"]
    assert _refresh_token(service, cid, "salesforce") == victim

    # a session that did not ask to replace is refused the same way
    refused = outcome_of(service, start(service, cid, "salesforce"))
    assert refused["result"] == ["ERROR"] and "already connected" in \
        refused["error_description"][0]
    assert _refresh_token(service, cid, "salesforce") == victim

    # the key holder asks for a replacement: it happens, and the outcome says so
    replaced = outcome_of(service, start(service, cid, "salesforce", replace=True))
    assert replaced["result"] == ["SUCCESS"] and replaced["connection"] == ["replaced"]
    assert _refresh_token(service, cid, "salesforce") != victim

    # a magic link replaces only when it was issued with replace
    link = a.post("/mgmt/v2/magic_links", json={
        "customer_id": cid, "provider_name": "salesforce", "return_url": RETURN_URL,
        "replace": True}).json()
    assert link["replace"] is True
    with service.client() as browser:
        via_link = outcome_of(service, browser.get(link["url"][len(service.url):]))
    assert via_link["connection"] == ["replaced"]


def test_a_connect_session_is_single_use_and_not_an_oauth_state(service, a, providers):
    cid = _customer(a)
    session = a.post("/mgmt/v2/connect_sessions", json={
        "customer_id": cid, "provider_name": "hubspot", "return_url": RETURN_URL}).json()
    path = session["connect_url"][len(service.url):]
    with service.client() as browser:
        assert browser.get(path).status_code == 302
        again = browser.get(path)
        assert again.status_code == 400 and "already used" in again.json()["errors"][0]["detail"]
        as_state = browser.get("/oauth/callback", params={"code": "x", "state": session["token"]})
        assert as_state.status_code == 400
        assert as_state.json()["errors"][0]["title"] == "Invalid OAuth state"
    with service.client() as stranger:  # creating one needs the application's key
        assert stranger.post("/mgmt/v2/connect_sessions", json={
            "customer_id": cid, "provider_name": "hubspot",
            "return_url": RETURN_URL}).status_code == 401


def test_dynamics_connect_takes_the_organization_from_the_scope(service, a):
    """Entra ID: the connect link passes `<org>/.default`; the callback keeps that org as the
    connection's instance_url (as Supaglue derived it), and the token refreshes with it."""
    from tap_dynamics.sandbox import DynamicsSandbox

    with DynamicsSandbox(records=5, seed=6) as box:
        r = a.post("/mgmt/v2/providers", json={
            "name": "ms_dynamics_365_sales", "category": "crm", "auth_type": "oauth2",
            "config": {"settings": {"login_url": box.base_url},
                       "oauth": {"credentials": {"oauth_client_id": box.client_id,
                                                 "oauth_client_secret": box.client_secret}}}})
        assert r.status_code == 201, r.text
        cid = _customer(a)
        scope = f"{box.base_url}/.default offline_access"
        authorize = start(service, cid, "ms_dynamics_365_sales", scope=scope)
        assert authorize.status_code == 302
        done = follow_callback(service, consent(authorize.headers["location"]))
        assert parse_qs(urlsplit(done.headers["location"]).query)["result"] == ["SUCCESS"]
        conn = a.get(f"/mgmt/v2/customers/{cid}/connections/ms_dynamics_365_sales")
        assert conn.json()["instance_url"].rstrip("/") == box.base_url
        secrets = crypto.unseal(service.registry().connection(
            cid, "ms_dynamics_365_sales").sealed_credentials)
        refreshed = httpx.post(box.base_url + "/organizations/oauth2/v2.0/token", data={
            "grant_type": "refresh_token", "refresh_token": secrets["refresh_token"],
            "client_id": box.client_id, "client_secret": box.client_secret, "scope": scope})
        assert refreshed.status_code == 200 and refreshed.json()["access_token"]


def test_pipedrive_connect_keeps_the_api_domain_of_the_token_response(service, a):
    """Pipedrive's token response names the company's API host (`api_domain`): the callback
    keeps it as a connection setting, and the sealed refresh token refreshes at the twin
    (HTTP Basic client credentials, as Pipedrive's token endpoint takes them)."""
    from tap_pipedrive.sandbox import PipedriveSandbox

    with PipedriveSandbox(records=5, seed=7) as box:
        r = a.post("/mgmt/v2/providers", json={
            "name": "pipedrive", "category": "crm", "auth_type": "oauth2",
            "config": {"settings": {"oauth_url": box.base_url},
                       "oauth": {"credentials": {"oauth_client_id": box.client_id,
                                                 "oauth_client_secret": box.client_secret}}}})
        assert r.status_code == 201, r.text
        cid = _customer(a)
        authorize = start(service, cid, "pipedrive")
        assert authorize.status_code == 302
        assert authorize.headers["location"].startswith(box.base_url + "/oauth/authorize?")
        done = follow_callback(service, consent(authorize.headers["location"]))
        assert parse_qs(urlsplit(done.headers["location"]).query)["result"] == ["SUCCESS"]
        conn = service.registry().connection(cid, "pipedrive")
        assert conn.settings["api_domain"] == box.base_url
        secrets = crypto.unseal(conn.sealed_credentials)
        refreshed = httpx.post(box.base_url + "/oauth/token",
                               auth=(box.client_id, box.client_secret),
                               data={"grant_type": "refresh_token",
                                     "refresh_token": secrets["refresh_token"]})
        assert refreshed.status_code == 200 and refreshed.json()["access_token"]


@pytest.mark.parametrize("provider", ["gong", "intercom"])
def test_connect_flow_of_gong_and_intercom(service, a, provider):
    """Gong: the code exchange carries its grant in the URL query with the app as HTTP Basic,
    and the account's API host lands on the connection; Intercom: no refresh token, the
    access token (which never expires) is what the connection holds."""
    from tenantsync import providers as registered

    spec = registered.get(provider)
    with spec.twin.start("sync", records=20, seed=9) as box:
        with service.client(service.key_a) as holder:
            r = holder.post("/mgmt/v2/providers", json={
                "name": provider, "category": "no_category", "auth_type": "oauth2",
                "config": {"settings": {spec.oauth.base_setting: box.base_url},
                           "oauth": {"credentials": {"oauth_client_id": box.client_id,
                                                     "oauth_client_secret": box.client_secret}}}})
            assert r.status_code == 201, r.text
        cid = _customer(a)
        assert outcome_of(service, start(service, cid, provider))["result"] == ["SUCCESS"]
        reg = service.registry()
        conn = reg.connection(cid, provider)
        secrets = crypto.unseal(conn.sealed_credentials)
        settings = dict(conn.settings)
        reg.s.close()
        assert set(spec.oauth.secrets) <= set(secrets)
        tap = spec.tap_class()(config={**settings, **secrets, "client_id": box.client_id,
                                       "client_secret": box.client_secret,
                                       spec.oauth.base_setting: box.base_url,
                                       "standard_objects": [spec.twin.objects[0]]})
        if provider == "gong":
            assert "refresh_token" in secrets and settings["api_base_url"] == box.base_url
        else:
            assert "refresh_token" not in secrets
        assert sum(len(p.records) for p in tap.client.pages(
            tap.streams[spec.twin.objects[0]].obj,
            tap.streams[spec.twin.objects[0]].obj.call())) > 0  # the stored secret reads


def test_linear_connect_and_its_single_use_refresh_token(service, a):
    """Linear: the callback seals the refresh token; it refreshes once at the twin (client
    credentials in the form) and rotates: the spent one is refused."""
    from tap_linear.sandbox import LinearSandbox

    with LinearSandbox(records=5, seed=7) as box:
        r = a.post("/mgmt/v2/providers", json={
            "name": "linear", "category": "no_category", "auth_type": "oauth2",
            "config": {"settings": {"base_url": box.base_url},
                       "oauth": {"credentials": {"oauth_client_id": box.client_id,
                                                 "oauth_client_secret": box.client_secret}}}})
        assert r.status_code == 201, r.text
        cid = _customer(a)
        authorize = start(service, cid, "linear")
        assert authorize.status_code == 302
        assert authorize.headers["location"].startswith(box.base_url + "/oauth/authorize?")
        done = follow_callback(service, consent(authorize.headers["location"]))
        assert parse_qs(urlsplit(done.headers["location"]).query)["result"] == ["SUCCESS"]
        secrets = crypto.unseal(service.registry().connection(cid, "linear").sealed_credentials)
        form = {"grant_type": "refresh_token", "refresh_token": secrets["refresh_token"],
                "client_id": box.client_id, "client_secret": box.client_secret}
        refreshed = httpx.post(box.base_url + "/oauth/token", data=form)
        assert refreshed.status_code == 200 and refreshed.json()["access_token"]
        assert refreshed.json()["refresh_token"] != secrets["refresh_token"]
        assert httpx.post(box.base_url + "/oauth/token", data=form).status_code == 400
