"""The portal's guarantees: no page or action without a session; every form needs the
session's CSRF token; another application's objects are 404; secrets are never in a page;
cookies are HttpOnly and SameSite; sign-out and key revocation end the session."""

from __future__ import annotations

import re

import pytest
from fastapi.routing import APIRoute
from sqlalchemy import select

from tenantsync.api import keys
from tenantsync.controller.models import SyncRun
from tenantsync.portal import PREFIX, ROUTERS

from .conftest import Browser

SECRETS = {"client_secret": "client-secret-never-shown-1", "password": "db-password-never-2",
           "refresh_token": "refresh-token-never-shown-3", "access_token": "access-token-4"}


def portal_routes() -> list[tuple[str, str]]:
    """Every portal route but sign-in and sign-out (path parameters filled with 1)."""
    return [(method, PREFIX + re.sub(r"\{\w+\}", "1", r.path)) for router in ROUTERS
            for r in router.routes if isinstance(r, APIRoute)
            and r.path not in ("/login", "/logout") for method in r.methods]


@pytest.fixture(scope="module")
def world(service):
    """Objects of both applications, made through the API; returns app-b's ids."""
    made = {}
    for key, suffix in ((service.key_a, "a"), (service.key_b, "b")):
        with service.client(key) as api:
            p = api.post("/mgmt/v2/providers", json={
                "name": "salesforce", "config": {"settings": {"login_url": "https://x.example"},
                                                 "oauth": {"credentials": {
                                                     "oauth_client_id": f"client-{suffix}",
                                                     "oauth_client_secret":
                                                         SECRETS["client_secret"]}}}})
            d = api.post("/mgmt/v2/destinations", json={
                "name": "warehouse", "type": "postgres", "config": {
                    "host": "127.0.0.1", "port": 1, "database": "d", "schema": "s",
                    "user": "u", "password": SECRETS["password"]}})
            c = api.post("/mgmt/v2/sync_configs", json={
                "provider_name": "salesforce", "destination_name": "warehouse",
                "config": {"default_config": {"period_ms": 3_600_000},
                           "standard_objects": [{"object": "Account"}]}})
            api.put("/mgmt/v2/customers", json={"customer_id": f"cust-{suffix}"})
            api.post(f"/mgmt/v2/customers/cust-{suffix}/connections", json={
                "provider_name": "salesforce", "type": "oauth2",
                "refresh_token": SECRETS["refresh_token"],
                "access_token": SECRETS["access_token"],
                "instance_url": "https://x.example"})
            w = api.post("/mgmt/v2/webhooks", json={"url": "http://127.0.0.1:9/hook"})
            made[suffix] = {"provider": p.json()["id"], "destination": d.json()["id"],
                            "sync_config": c.json()["id"], "webhook": w.json()["id"],
                            "webhook_secret": w.json()["secret"]}
    with service.session() as s:
        sync = service.registry("app-b").sync("cust-b", "salesforce")
        s.add(SyncRun(sync_id=sync.id, status="FAILURE", strategy="auto", error="boom"))
        s.commit()
        made["b"]["run"] = str(s.scalar(select(SyncRun.id).where(SyncRun.sync_id == sync.id)))
    return made


def test_no_page_or_action_without_a_session(service, world):
    anonymous = Browser(service, None)
    routes = portal_routes()
    assert len(routes) > 20
    for method, path in routes:
        r = anonymous.http.request(method, path, data={"customer_id": "cust-a"})
        if method == "GET":
            assert r.status_code == 303 and r.headers["location"] == "/portal/login", path
        else:
            assert r.status_code == 401, (method, path)
    assert anonymous.http.get("/portal/syncs?fragment=1").status_code == 401
    with service.client(service.key_a) as api:  # nothing happened
        assert api.get("/mgmt/v2/customers/cust-a").status_code == 200


def test_every_form_needs_the_csrf_token(service, world, browser_a):
    for method, path in portal_routes():
        if method == "POST":
            for form in ({}, {"csrf": "forged"}):
                r = browser_a.post(path, {**form, "customer_id": "made-by-csrf"}, csrf=False)
                assert r.status_code == 403, (path, form)
    assert browser_a.post("/portal/customers", {"customer_id": "made-by-csrf"}, csrf=False
                          ).status_code == 403
    with service.client(service.key_a) as api:
        assert api.get("/mgmt/v2/customers/made-by-csrf").status_code == 404
    # and the page's own token does work
    browser_a.get("/portal/customers")
    assert browser_a.post("/portal/customers", {"customer_id": "made-by-form"}
                          ).status_code == 303


def test_another_applications_objects_are_404(service, world, browser_a):
    b = world["b"]
    browser_a.get("/portal/")
    for path in (f"/portal/providers/{b['provider']}", f"/portal/sync-configs?edit="
                 f"{b['sync_config']}", "/portal/customer?id=cust-b", f"/portal/runs/{b['run']}"):
        assert browser_a.get(path).status_code == 404, path
    for path, form in (
            (f"/portal/providers/{b['provider']}", {"client_id": "stolen"}),
            (f"/portal/providers/{b['provider']}/delete", {}),
            (f"/portal/destinations/{b['destination']}/test", {}),
            (f"/portal/sync-configs/{b['sync_config']}/delete", {"force": "yes"}),
            ("/portal/customer/delete", {"customer_id": "cust-b"}),
            ("/portal/customer/magic-link", {"customer_id": "cust-b",
                                             "provider_name": "salesforce"}),
            ("/portal/customer/disconnect", {"customer_id": "cust-b",
                                             "provider_name": "salesforce"}),
            ("/portal/customer/connection-sync-config", {"customer_id": "cust-b",
                                                         "provider_name": "salesforce",
                                                         "schema": "stolen"}),
            ("/portal/syncs/pause", {"customer_id": "cust-b", "provider_name": "salesforce"}),
            ("/portal/syncs/trigger", {"customer_id": "cust-b", "provider_name": "salesforce"}),
            (f"/portal/webhooks/{b['webhook']}/delete", {}),
            ("/portal/api-keys/revoke", {"prefix": service.key_b[:10]})):
        assert browser_a.post(path, form).status_code == 404, path
    with service.client(service.key_b) as api:  # app-b's things are as they were
        assert api.get("/mgmt/v2/customers/cust-b/connections/salesforce").status_code == 200
        assert api.get(f"/mgmt/v2/sync_configs/{b['sync_config']}").status_code == 200
        assert len(api.get("/mgmt/v2/webhooks").json()) == 1
        assert not any(s["paused"] for s in api.get("/mgmt/v2/syncs").json()["results"])
    # and lists never show them
    assert "cust-b" not in browser_a.get("/portal/customers").text
    assert "cust-b" not in browser_a.get("/portal/syncs").text
    assert "boom" not in browser_a.get("/portal/runs").text


def test_secrets_are_never_rendered(service, world, browser_a):
    pages = ["/portal/", "/portal/providers", f"/portal/providers/{world['a']['provider']}",
             "/portal/destinations", "/portal/sync-configs", "/portal/customers",
             "/portal/customer?id=cust-a", "/portal/syncs", "/portal/runs",
             "/portal/webhooks", "/portal/api-keys"]
    browser_a.get("/portal/destinations")
    tested = browser_a.post(f"/portal/destinations/{world['a']['destination']}/test")
    assert tested.status_code == 200 and "class=\"error check\"" in tested.text
    texts = [tested.text] + [browser_a.get(p).text for p in pages]
    for text in texts:
        for secret in [*SECRETS.values(), world["a"]["webhook_secret"], service.key_a]:
            assert secret not in text


def test_cookies_sign_out_and_revocation(service, world):
    browser = Browser(service, None)
    page = browser.http.get("/portal/login")
    login_cookie = page.headers["set-cookie"].lower()
    assert "httponly" in login_cookie and "samesite=strict" in login_cookie
    assert browser.http.post("/portal/login", data={"api_key": service.key_a}
                             ).status_code == 403  # the sign-in form's own token is missing
    page = browser.http.get("/portal/login")
    bad = browser.http.post("/portal/login", data={"csrf": Browser.token(page.text),
                                                   "api_key": "tsk_wrong"})
    assert bad.status_code == 401
    assert "tenantsync_portal=" not in bad.headers.get("set-cookie", "")

    with service.session() as s:
        key = keys.create_key(s, "app-a")
        s.commit()
    again = Browser(service, None)
    form = again.http.get("/portal/login")
    done = again.http.post("/portal/login", data={"csrf": Browser.token(form.text),
                                                  "api_key": key})
    flags = done.headers["set-cookie"].lower()
    assert "httponly" in flags and "samesite=lax" in flags and "path=/portal" in flags
    signed = Browser(service, key)
    cookie = signed.http.cookies.get("tenantsync_portal")
    assert cookie and "app-a" not in cookie  # a random token only

    # sign-out ends the session: its cookie no longer opens a page
    assert signed.get("/portal/").status_code == 200
    assert signed.post("/portal/logout").status_code == 303
    stale = Browser(service, None)
    stale.http.cookies.set("tenantsync_portal", cookie, path="/portal")
    assert stale.http.get("/portal/").status_code == 303

    # revoking the key from the portal ends the sessions opened with it
    assert again.get("/portal/api-keys").status_code == 200
    assert again.post("/portal/api-keys/revoke", {"prefix": key[:10]}).status_code == 303
    assert again.get("/portal/").status_code == 303


def test_pages_forbid_framing_and_caching(browser_a):
    r = browser_a.get("/portal/customers")
    assert r.headers["x-frame-options"] == "DENY"
    assert "default-src 'self'" in r.headers["content-security-policy"]
    assert r.headers["cache-control"] == "no-store"
