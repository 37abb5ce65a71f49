"""The management API: Supaglue's shapes, write-only secrets, clear errors, re-rendering."""

from __future__ import annotations

import uuid

import pytest
import yaml
from sqlalchemy import select

from tenantsync.controller.models import Sync, SyncRun

SECRETS = ("sf-client-secret-77", "refresh-token-secret-99", "pg-password-secret-55",
           "hubspot-api-key-secret-11")


@pytest.fixture
def app_a(a):
    """A provider, a Postgres destination, a sync config, a customer with a connection."""
    suffix = uuid.uuid4().hex[:6]
    name = "salesforce"
    existing = {p["name"]: p for p in a.get("/mgmt/v2/providers").json()}
    if name not in existing:
        r = a.post("/mgmt/v2/providers", json={
            "name": name, "category": "crm", "auth_type": "oauth2",
            "config": {"oauth": {"oauth_scopes": ["api", "refresh_token"],
                                 "credentials": {"oauth_client_id": "sf-client-id",
                                                 "oauth_client_secret": SECRETS[0]}}}})
        assert r.status_code == 201, r.text
    dest = a.post("/mgmt/v2/destinations", json={
        "name": f"pg-{suffix}", "type": "postgres",
        "config": {"host": "10.20.30.40", "port": 5432, "database": "app", "schema": "sg",
                   "user": "writer", "password": SECRETS[2]}})
    assert dest.status_code == 201, dest.text
    cid = f"acme-{suffix}"
    a.put("/mgmt/v2/customers", json={"customer_id": cid, "name": "Acme"})
    conn = a.post(f"/mgmt/v2/customers/{cid}/connections", json={
        "provider_name": name, "type": "oauth2", "refresh_token": SECRETS[1],
        "instance_url": "https://acme.my.salesforce.com"})
    assert conn.status_code == 200, conn.text
    return {"customer": cid, "destination": dest.json(), "connection": conn.json()}


def _sync_config(a, destination_name: str) -> dict:
    configs = {c["provider_name"]: c for c in a.get("/mgmt/v2/sync_configs").json()}
    body = {"provider_name": "salesforce", "destination_name": destination_name,
            "config": {"default_config": {"period_ms": 3_600_000,
                                          "strategy": "full then incremental"},
                       "standard_objects": [{"object": "Account"}],
                       "common_objects": [{"object": "contact"}]}}
    if "salesforce" in configs:
        r = a.put(f"/mgmt/v2/sync_configs/{configs['salesforce']['id']}", json=body)
        assert r.status_code == 200, r.text
    else:
        r = a.post("/mgmt/v2/sync_configs", json=body)
        assert r.status_code == 201, r.text
    return r.json()


def test_customer_crud(a):
    cid = f"c-{uuid.uuid4().hex[:6]}"
    r = a.put("/mgmt/v2/customers", json={"customer_id": cid, "name": "Globex",
                                           "email": "ops@globex.example"})
    assert r.status_code == 200
    assert r.json() == {"application_id": "app-a", "customer_id": cid, "name": "Globex",
                        "email": "ops@globex.example", "connections": []}
    r = a.put("/mgmt/v2/customers", json={"customer_id": cid, "name": "Globex Corp"})
    assert r.json()["name"] == "Globex Corp"
    assert cid in {c["customer_id"] for c in a.get("/mgmt/v2/customers").json()}
    assert a.delete(f"/mgmt/v2/customers/{cid}").status_code == 204
    assert a.get(f"/mgmt/v2/customers/{cid}").status_code == 404


def test_bad_input_is_400_with_errors_shape(a):
    r = a.put("/mgmt/v2/customers", json={"name": "no id"})
    assert r.status_code == 400
    err = r.json()["errors"][0]
    assert err["status"] == "400" and "customer_id" in err["detail"]
    r = a.post("/mgmt/v2/providers", json={"name": "salesforce", "auth_type": "password"})
    assert r.status_code == 400 and "auth_type" in r.json()["errors"][0]["detail"]


def test_connections_import_and_secrets_are_write_only(a, app_a, service):
    cid = app_a["customer"]
    conn = app_a["connection"]
    assert conn["provider_name"] == "salesforce" and conn["customer_id"] == cid
    assert conn["instance_url"] == "https://acme.my.salesforce.com"
    bodies = [a.get(path).text for path in (
        "/mgmt/v2/providers", f"/mgmt/v2/customers/{cid}",
        f"/mgmt/v2/customers/{cid}/connections", f"/mgmt/v2/customers/{cid}/connections/"
        "salesforce", "/mgmt/v2/destinations",
        f"/mgmt/v2/destinations/{app_a['destination']['id']}")]
    for text in bodies:
        for secret in SECRETS:
            assert secret not in text
    provider = a.get("/mgmt/v2/providers").json()[0]
    assert provider["config"]["oauth"]["credentials"] == {"oauth_client_id": "sf-client-id"}
    assert app_a["destination"]["config"]["user"] == "writer"
    assert "password" not in app_a["destination"]["config"]
    # secrets are stored (sealed) and used: the rendered config only refers to them
    _sync_config(a, app_a["destination"]["name"])
    include = (service.cfg.project / "tenantsync.meltano.yml").read_text()
    assert cid in include
    assert not any(secret in include for secret in SECRETS)


def test_connection_needs_known_customer_and_provider(a, app_a):
    r = a.post("/mgmt/v2/customers/nobody/connections",
               json={"provider_name": "salesforce", "type": "oauth2", "refresh_token": "x"})
    assert r.status_code == 404 and "nobody" in r.json()["errors"][0]["detail"]
    r = a.post(f"/mgmt/v2/customers/{app_a['customer']}/connections",
               json={"provider_name": "pipedrive", "type": "api_key", "api_key": "k"})
    assert r.status_code == 404 and "pipedrive" in r.json()["errors"][0]["detail"]
    r = a.post(f"/mgmt/v2/customers/{app_a['customer']}/connections",
               json={"provider_name": "salesforce", "type": "oauth2"})
    assert r.status_code == 400 and "refresh_token" in r.json()["errors"][0]["detail"]


def test_api_key_provider_connection(a):
    if "apollo" not in {p["name"] for p in a.get("/mgmt/v2/providers").json()}:
        r = a.post("/mgmt/v2/providers", json={"name": "apollo", "category": "engagement",
                                               "auth_type": "api_key"})
        assert r.status_code == 201, r.text
    cid = f"c-{uuid.uuid4().hex[:6]}"
    a.put("/mgmt/v2/customers", json={"customer_id": cid})
    r = a.post(f"/mgmt/v2/customers/{cid}/connections",
               json={"provider_name": "apollo", "type": "api_key", "api_key": SECRETS[3]})
    assert r.status_code == 200 and SECRETS[3] not in r.text
    assert a.delete(f"/mgmt/v2/customers/{cid}").status_code == 409  # has a connection
    assert a.delete(f"/mgmt/v2/customers/{cid}/connections/apollo").status_code == 204
    assert a.get(f"/mgmt/v2/customers/{cid}/connections/apollo").status_code == 404
    assert a.delete(f"/mgmt/v2/customers/{cid}").status_code == 204


def test_provider_update_keeps_write_only_secret(a, app_a, service):
    provider = next(p for p in a.get("/mgmt/v2/providers").json() if p["name"] == "salesforce")
    r = a.put(f"/mgmt/v2/providers/{provider['id']}", json={
        "name": "salesforce", "config": {"oauth": {"oauth_scopes": ["api"]}}})
    assert r.status_code == 200, r.text
    from tenantsync.controller import crypto
    from tenantsync.controller.models import Provider

    with service.session() as s:
        row = s.get(Provider, int(provider["id"]))
        assert crypto.unseal(row.sealed_credentials)["client_secret"] == SECRETS[0]
    assert a.put(f"/mgmt/v2/providers/{provider['id']}",
                 json={"name": "hubspot"}).status_code == 400
    assert a.get("/mgmt/v2/providers/999999").status_code == 404
    r = a.delete(f"/mgmt/v2/providers/{provider['id']}")
    assert r.status_code == 409 and "connections" in r.json()["errors"][0]["detail"]


def test_hosted_destination_has_no_config(a, b):
    name = f"hosted-{uuid.uuid4().hex[:6]}"
    r = a.post("/mgmt/v2/destinations", json={"name": name, "type": "supaglue"})
    assert r.status_code == 201, r.text
    assert r.json() == {"id": r.json()["id"], "application_id": "app-a", "name": name,
                        "type": "supaglue", "version": 1}
    assert b.get(f"/mgmt/v2/destinations/{r.json()['id']}").status_code == 404
    r = a.post("/mgmt/v2/destinations", json={"name": "x", "type": "supaglue",
                                              "config": {"host": "h"}})
    assert r.status_code == 400 and "takes no config" in r.json()["errors"][0]["detail"]


def test_sync_config_and_syncs(a, app_a, service):
    config = _sync_config(a, app_a["destination"]["name"])
    assert config["config"]["standard_objects"] == [{"object": "Account"}]
    assert config["config"]["default_config"]["period_ms"] == 3_600_000
    syncs = a.get("/mgmt/v2/syncs", params={"customer_id": app_a["customer"]}).json()
    assert {(s["object_type"], s["object"]) for s in syncs["results"]} == {
        ("standard", "Account"), ("common", "contact")}  # one sync per object
    (sync,) = a.get("/mgmt/v2/syncs", params={"customer_id": app_a["customer"],
                                               "object_type": "standard"}).json()["results"]
    assert sync["paused"] is False and sync["provider_name"] == "salesforce"
    assert (sync["type"], sync["object_type"], sync["object"]) == ("object", "standard",
                                                                   "Account")
    headers = {"x-customer-id": app_a["customer"], "x-provider-name": "salesforce"}
    # the listing takes the tenant headers too, as the README documents
    by_header = a.get("/mgmt/v2/syncs", headers=headers).json()["results"]
    assert by_header == syncs["results"]
    assert a.get("/mgmt/v2/syncs", headers={"x-customer-id": "nobody-else"}
                 ).json()["results"] == []
    r = a.get("/mgmt/v2/syncs", headers=headers, params={"customer_id": "other"})
    assert r.status_code == 400 and "disagree" in r.json()["errors"][0]["detail"]
    account = {"object_type": "standard", "object": "Account"}
    assert a.post("/mgmt/v2/syncs/_pause", headers=headers, json=account
                  ).json()["paused"] is True
    r = a.post("/mgmt/v2/syncs/_trigger", headers=headers, json={**account,
                                                                  "perform_full_refresh": True})
    assert r.status_code == 409 and "'Account'" in r.json()["errors"][0]["detail"]
    by_object = {s["object"]: s["paused"] for s in a.get(
        "/mgmt/v2/syncs", params={"customer_id": app_a["customer"]}).json()["results"]}
    assert by_object == {"Account": True, "contact": False}  # the other object still runs
    everything = a.post("/mgmt/v2/syncs/_pause", headers=headers).json()["results"]
    assert all(s["paused"] for s in everything)  # no object named: the whole connection
    include = yaml.safe_load((service.cfg.project / "tenantsync.meltano.yml").read_text())
    schedule = next(s for s in include["schedules"]
                    if s["env"]["TENANTSYNC_CUSTOMER_ID"] == app_a["customer"])
    assert schedule["interval"] == "@manual"  # re-rendered: a paused sync is not scheduled
    assert a.post("/mgmt/v2/syncs/_resume", headers=headers, json=account
                  ).json()["paused"] is False
    r = a.post("/mgmt/v2/syncs/_trigger", headers=headers,
               json={**account, "perform_full_refresh": True})
    assert r.status_code == 200 and r.json()["object"] == "Account"
    with service.session() as s:
        (row,) = s.scalars(select(Sync).where(Sync.id == int(sync["id"].split(":")[0])))
        assert row.args_for_next_run == {"perform_full_refresh": True}
    r = a.post("/mgmt/v2/syncs/_pause", headers={**headers, "x-customer-id": "nobody"})
    assert r.status_code == 404
    r = a.post("/mgmt/v2/syncs/_pause")
    assert r.status_code == 400 and "x-customer-id" in r.json()["errors"][0]["detail"]


def test_connection_sync_config(a, app_a, service):
    """A customer's own schema and choice among the sync config's objects, Supaglue's
    `/connection_sync_configs` keyed by headers; re-rendered into the customer's schedule."""
    _sync_config(a, app_a["destination"]["name"])
    headers = {"x-customer-id": app_a["customer"], "x-provider-name": "salesforce"}
    path = "/mgmt/v2/connection_sync_configs"
    assert a.get(path, headers=headers).status_code == 404
    body = {"destination_config": {"type": "postgres", "schema": "acme_data"},
            "standard_objects": [{"object": "Account"}]}
    r = a.put(path, headers=headers, json=body)
    assert r.status_code == 200, r.text
    assert r.json() == a.get(path, headers=headers).json() == body
    include = yaml.safe_load((service.cfg.project / "tenantsync.meltano.yml").read_text())
    schedule = next(s for s in include["schedules"]
                    if s["env"]["TENANTSYNC_CUSTOMER_ID"] == app_a["customer"])
    assert schedule["env"]["TENANTSYNC_DESTINATION_SCHEMA"] == "acme_data"
    for bad, message in [({"standard_objects": [{"object": "Lead"}]}, "'Lead' are not in"),
                         ({"destination_config": {"type": "postgres", "schema": ""}},
                          "schema"),
                         ({"entities": []}, "entities")]:
        r = a.put(path, headers=headers, json=bad)
        assert r.status_code == 400 and message in r.text, r.text
    r = a.put(path, headers={**headers, "x-customer-id": "nobody"}, json=body)
    assert r.status_code == 404
    assert a.delete(path, headers=headers).status_code == 204
    assert a.get(path, headers=headers).status_code == 404


def test_sync_config_delete_needs_force(a, app_a):
    config = _sync_config(a, app_a["destination"]["name"])
    r = a.delete(f"/mgmt/v2/sync_configs/{config['id']}")
    assert r.status_code == 400 and "force_delete_syncs" in r.json()["errors"][0]["detail"]
    r = a.delete(f"/mgmt/v2/sync_configs/{config['id']}", params={"force_delete_syncs": True})
    assert r.status_code == 200 and r.json()["id"] == config["id"]
    assert a.get("/mgmt/v2/syncs", params={"customer_id": app_a["customer"]}).json()[
        "results"] == []
    r = a.post("/mgmt/v2/sync_configs", json={
        "provider_name": "salesforce", "destination_name": "nope",
        "config": {"default_config": {}}})
    assert r.status_code == 404 and "nope" in r.json()["errors"][0]["detail"]
    r = a.post("/mgmt/v2/sync_configs", json={
        "provider_name": "salesforce", "destination_name": app_a["destination"]["name"],
        "config": {"default_config": {"strategy": "full only",
                                      "full_sync_every_n_incrementals": 3}}})
    assert r.status_code == 400 and "full only" in r.json()["errors"][0]["detail"]


def test_sync_runs_pagination_and_filters(a, app_a, service):
    _sync_config(a, app_a["destination"]["name"])
    (sync,) = a.get("/mgmt/v2/syncs", params={"customer_id": app_a["customer"],
                                               "object": "Account"}).json()["results"]
    with service.session() as s:
        for i in range(5):
            s.add(SyncRun(sync_id=int(sync["id"].split(":")[0]),
                          status="SUCCESS" if i % 2 else "FAILURE",
                          strategy="incremental", records={}, num_records=i,
                          objects=[{"object_type": "standard", "object": "Account",
                                    "num_records": i, "strategy": "incremental"},
                                   {"object_type": "common", "object": "contact",
                                    "num_records": 0, "strategy": "incremental"}],
                          error=None if i % 2 else "boom"))
        s.commit()
    params = {"customer_id": app_a["customer"], "page_size": 2, "object": "Account"}
    seen, cursor = [], None
    while True:
        page = a.get("/mgmt/v2/sync-runs", params={**params, **({"cursor": cursor}
                                                               if cursor else {})}).json()
        seen += [r["num_records_synced"] for r in page["results"]]
        cursor = page["next"]
        if cursor is None:
            break
    assert seen == [4, 3, 2, 1, 0]  # newest first, each once
    back, cursor = [], page["previous"]  # from the last page, walk back
    while cursor:
        page = a.get("/mgmt/v2/sync-runs", params={**params, "cursor": cursor}).json()
        back = [r["num_records_synced"] for r in page["results"]] + back
        cursor = page["previous"]
    assert back == [4, 3, 2, 1]  # every page before the last one, in order
    failed = a.get("/mgmt/v2/sync-runs", params={"customer_id": app_a["customer"],
                                                  "object_type": "standard",
                                                  "status": "FAILURE"}).json()["results"]
    assert [r["num_records_synced"] for r in failed] == [4, 2, 0]
    assert failed[0]["error_message"] == "boom"
    assert a.get("/mgmt/v2/sync-runs", params={"customer_id": app_a["customer"],
                                                "start_timestamp": "2999-01-01T00:00:00Z"}
                 ).json()["results"] == []
    assert a.get("/mgmt/v2/sync-runs", params={"provider_name": "hubspot",
                                                "customer_id": app_a["customer"]}
                 ).json()["results"] == []
    r = a.get("/mgmt/v2/sync-runs", params={"cursor": "not-a-cursor"})
    assert r.status_code == 400 and "cursor" in r.json()["errors"][0]["detail"]
    r = a.get("/mgmt/v2/sync-runs", params={"page_size": 1001})
    assert r.status_code == 400


def test_list_pages_take_a_bounded_number_of_queries(tmp_path, api_env):
    """A page of runs is read with the page, not one query per row (in-process app, no
    webhook dispatcher, so every query counted is the request's)."""
    from fastapi.testclient import TestClient
    from sqlalchemy import event, select

    from tenantsync.api import keys
    from tenantsync.api.app import create_app
    from tenantsync.api.service import ServiceConfig
    from tenantsync.controller import db
    from tenantsync.controller.models import Sync

    cfg = ServiceConfig(registry_url=f"sqlite:///{tmp_path}/r.db", project=tmp_path / "p",
                        public_url="http://127.0.0.1", run_on_trigger=False)
    with db.session(cfg.registry_url) as s:
        key = keys.create_key(s, "q-app")
        s.commit()
    with TestClient(create_app(cfg, webhooks=False), headers={"x-api-key": key}) as c:
        c.post("/mgmt/v2/providers", json={"name": "salesforce", "config": {"oauth": {
            "credentials": {"oauth_client_id": "i", "oauth_client_secret": "s"}}}})
        c.post("/mgmt/v2/destinations", json={"name": "d", "type": "supaglue"})
        c.post("/mgmt/v2/sync_configs", json={"provider_name": "salesforce",
                                               "destination_name": "d",
                                               "config": {
                                                   "default_config": {},
                                                   "standard_objects": [{"object": "Account"}]}})
        for i in range(8):
            c.put("/mgmt/v2/customers", json={"customer_id": f"c{i}"})
            c.post(f"/mgmt/v2/customers/c{i}/connections", json={
                "provider_name": "salesforce", "type": "oauth2", "refresh_token": "r"})
        with db.session(cfg.registry_url) as s:
            for sync_id in s.scalars(select(Sync.id)):
                s.add_all(SyncRun(sync_id=sync_id, status="SUCCESS", strategy="full",
                                  records={}, num_records=j) for j in range(10))
            s.commit()
        queries = []
        engine = db.engine(cfg.registry_url)
        listener = lambda *args: queries.append(args[2])  # noqa: E731
        event.listen(engine, "before_cursor_execute", listener)
        try:
            runs = c.get("/mgmt/v2/sync-runs", params={"page_size": 80}).json()["results"]
            syncs = c.get("/mgmt/v2/syncs").json()["results"]
        finally:
            event.remove(engine, "before_cursor_execute", listener)
    assert len(runs) == 80 and len(syncs) == 8
    assert len(queries) <= 6, queries
