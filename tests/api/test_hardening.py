"""The holes an attacker's probe of the service found (issue 12), each closed: destinations
that reach internal hosts or the hosted database, unbounded JSON, crafted cursors, and common
object names written in another form."""

from __future__ import annotations

import base64
import json

import pytest

from tenantsync.api import hosted


def _destination(host: str, **extra) -> dict:
    return {"name": f"d-{abs(hash((host, tuple(extra.items())))) % 10**8}", "type": "postgres",
            "config": {"host": host, "port": 5432, "database": "postgres", "user": "postgres",
                       "password": "pw", "schema": "app_b", **extra}}


@pytest.mark.parametrize("host, reason", [
    ("169.254.169.254", "link-local"),  # cloud metadata
    ("192.168.1.5", "private"),
    ("::1", "loopback"),  # loopback is allowed here for IPv4 only
    ("/tmp/.s.PGSQL", "Unix-socket"),  # the hosted database's socket directory
    ("@abstract", "Unix-socket"),
    ("db1,10.0.0.1", "not a host name"),  # a libpq host list
])
def test_destinations_reach_no_internal_host(a, host, reason):
    r = a.post("/mgmt/v2/destinations", json=_destination(host))
    assert r.status_code == 400, r.text
    detail = r.json()["errors"][0]["detail"]
    assert detail.startswith("config.host") and reason in detail, detail


def test_destinations_never_reach_the_hosted_database(a, monkeypatch):
    # the hosted database served over TCP on loopback, which destinations may otherwise reach
    monkeypatch.setenv(hosted.URL_ENV, "postgresql://postgres@127.0.0.1:6543/postgres")
    r = a.post("/mgmt/v2/destinations", json=_destination("127.0.0.1", port=6543))
    assert r.status_code == 400 and "hosted database" in r.json()["errors"][0]["detail"]
    r = a.post("/mgmt/v2/destinations", json=_destination("localhost", port=6543))
    assert r.status_code == 400 and "hosted database" in r.json()["errors"][0]["detail"]
    ok = a.post("/mgmt/v2/destinations", json=_destination("127.0.0.1", port=5433))
    assert ok.status_code == 201, ok.text  # allowed by TENANTSYNC_DESTINATION_ALLOWED_HOSTS
    ok_id = ok.json()["id"]
    moved = a.put(f"/mgmt/v2/destinations/{ok_id}",
                  json=_destination("127.0.0.1", port=6543) | {"name": ok.json()["name"]})
    assert moved.status_code == 400


def _provider(a, name: str, settings: dict) -> object:
    return a.post("/mgmt/v2/providers", json={"name": name, "auth_type": "api_key",
                                              "config": {"settings": settings}})


def test_request_bodies_and_json_fields_are_bounded(a):
    r = _provider(a, "huge_body", {"login_url": "x" * (2 * 1024 * 1024)})
    assert r.status_code == 400 and "request body" in r.json()["errors"][0]["detail"]
    r = _provider(a, "long_field", {"login_url": "x" * 100_000})
    assert r.status_code == 400, r.text
    assert r.json()["errors"][0]["detail"].startswith("config.settings.login_url:")
    r = _provider(a, "many_keys", {f"k{i}": "v" for i in range(5000)})
    assert r.status_code == 400 and "config.settings" in r.json()["errors"][0]["detail"]
    deep: dict = {}
    for _ in range(40):
        deep = {"d": deep}
    r = a.put("/mgmt/v2/customers", json={"customer_id": "deep", "name": deep})
    assert r.status_code == 400 and "nested deeper" in r.json()["errors"][0]["detail"]
    r = a.put("/mgmt/v2/customers", content=b"[" * 200_000 + b"]" * 200_000,
              headers={"content-type": "application/json"})
    assert r.status_code == 400
    assert [p["name"] for p in a.get("/mgmt/v2/providers").json()
            if p["name"] in ("huge_body", "long_field", "many_keys")] == []
    assert _provider(a, "fits", {"login_url": "https://login.example.com"}).status_code == 201


@pytest.fixture(scope="module")
def hosted_sync(service):
    with service.client(service.key_a) as a:
        assert a.post("/mgmt/v2/providers", json={
            "name": "salesforce", "auth_type": "oauth2", "config": {"oauth": {"credentials": {
                "oauth_client_id": "id", "oauth_client_secret": "s"}}}}).status_code == 201
        assert a.post("/mgmt/v2/destinations",
                      json={"name": "hosted", "type": "supaglue"}).status_code == 201
        r = a.post("/mgmt/v2/sync_configs", json={
            "provider_name": "salesforce", "destination_name": "hosted",
            "config": {"default_config": {}, "standard_objects": [{"object": "Account"}],
                       # written as Supaglue's paths read, not as its sync configs name it
                       "common_objects": [{"object": "accounts"}, {"object": "Contact"}]}})
        assert r.status_code == 201, r.text
        assert a.put("/mgmt/v2/customers", json={"customer_id": "acme"}).status_code == 200
    return service


def test_common_object_names_are_normalized_where_the_sync_config_is_accepted(a, hosted_sync):
    (config,) = [c for c in a.get("/mgmt/v2/sync_configs").json()
                 if c["provider_name"] == "salesforce"]
    assert [o["object"] for o in config["config"]["common_objects"]] == ["account", "contact"]
    headers = {"x-customer-id": "acme", "x-provider-name": "salesforce"}
    for path in ("/crm/v2/accounts", "/crm/v2/contacts"):
        r = a.get(path, headers=headers)
        assert r.status_code == 200, r.text
    r = a.put(f"/mgmt/v2/sync_configs/{config['id']}", json={
        "provider_name": "salesforce", "destination_name": "hosted",
        "config": {"default_config": {}, "common_objects": [{"object": "invoices"}]}})
    assert r.status_code == 400 and "'invoices' is not a common object" in r.text


def _cursor(doc) -> str:
    raw = doc if isinstance(doc, bytes) else json.dumps(doc).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


CRAFTED = [
    {"id": 9223372036854775808, "reverse": False}, {"id": -1, "reverse": False},
    {"id": 2**64, "reverse": True}, {"id": -(2**63) - 1, "reverse": False},
    {"id": 1.5, "reverse": False}, {"id": True, "reverse": False}, {"id": None, "reverse": False},
    {"id": [1], "reverse": False}, {"id": {"a": 1}, "reverse": False},
    {"id": "x" * 10_000, "reverse": False}, {"id": "a\x00b", "reverse": False},
    {"id": 1, "reverse": "yes"}, {"id": 1}, {"id": 1, "reverse": False, "extra": 1}, [1], 7,
    {"id": [2**63, 0], "reverse": False}, {"id": [1, "\ud800"], "reverse": False},
    b'{"id": "\\ud800", "reverse": false}', b'{"id": NaN, "reverse": false}',
    b'{"id": Infinity, "reverse": false}', b'{"id": 1e999, "reverse": false}',
    b'{"id": ' + b"9" * 5000 + b', "reverse": false}',
    b"[" * 3000 + b"]" * 3000, b"\xff\xfe", b"",
]
RAW_CURSORS = ["!!!", "%%%", "a" * 60_000, "eyJpZCI6", "===="]
PAGED = ["/mgmt/v2/syncs", "/mgmt/v2/sync-runs", "/data/v2/salesforce/Account",
         "/data/v2/salesforce/accounts", "/crm/v2/accounts", "/crm/v2/contacts"]


@pytest.mark.parametrize("path", PAGED)
def test_crafted_cursors_are_refused_on_every_paged_route(a, hosted_sync, path):
    headers = {"x-customer-id": "acme", "x-provider-name": "salesforce"}
    first = a.get(path, headers=headers)
    assert first.status_code == 200, first.text  # the route reaches its cursor
    for cursor in [_cursor(c) for c in CRAFTED] + RAW_CURSORS:
        r = a.get(path, params={"cursor": cursor}, headers=headers)
        if cursor:
            assert r.status_code == 400, (path, cursor[:80], r.text[:200])
            assert "cursor" in r.json()["errors"][0]["detail"]
        else:
            assert r.status_code == 200
