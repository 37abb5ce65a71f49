"""Contract tests: every operation tenantsync serves of Supaglue's v2 API, exercised on a running
service holding really synced data (managed OAuth against the Salesforce and HubSpot twins,
`_trigger`ed `meltano run`s into the hosted destination), each answer checked for Supaglue's
status code and validated against Supaglue's shape (`tenantsync.api.wire`)."""

from __future__ import annotations

import time
from typing import Any

import pytest

from tap_hubspot.sandbox import HubSpotSandbox
from tap_salesforce.sandbox import SalesforceSandbox
from tenantsync.api import wire

from .conftest import running_service
from .test_oauth import RETURN_URL, SETTING, consent, follow_callback, start

pytestmark = pytest.mark.slow
SF, HS = {"x-provider-name": "salesforce"}, {"x-provider-name": "hubspot"}
ACME = {"x-customer-id": "acme"}
SYNC_CONFIGS = {
    "salesforce": {"common_objects": [{"object": "contact"}],
                   "standard_objects": [{"object": "Account"}, {"object": "Contact"}]},
    "hubspot": {"common_objects": [{"object": "account"}],
                "standard_objects": [{"object": "company"}, {"object": "contact"}]},
}


def conforms(response, status: int, schema: dict) -> dict:
    """The answer has Supaglue's status and shape; returns its JSON."""
    assert response.status_code == status, response.text
    doc = response.json()
    problems = wire.errors_in(schema, doc)
    assert not problems, f"{response.request.method} {response.request.url}: {problems[:5]}"
    return doc


def wait_for_runs(a, provider: str, count: int) -> list[dict]:
    for _ in range(1200):
        runs = a.get("/mgmt/v2/sync-runs", params={"customer_id": "acme",
                                                   "provider_name": provider}).json()["results"]
        ids = {r["run_id"] for r in runs}
        if len(ids) >= count and runs[0]["status"] != "IN_PROGRESS":
            return runs
        time.sleep(0.25)
    raise AssertionError(f"the triggered {provider} run did not finish")


@pytest.fixture(scope="module")
def synced(api_env, tmp_path_factory):
    """app-a: both providers connected through the OAuth flow for customer acme and synced once
    into the hosted destination (`{"type": "supaglue"}`), as a Supaglue client sets it up."""
    boxes = {"salesforce": SalesforceSandbox(records=12, seed=5),
             "hubspot": HubSpotSandbox(records=12, seed=6, portal_id=4343)}
    for box in boxes.values():
        box.start()
    try:
        with running_service(tmp_path_factory.mktemp("contract")) as svc, \
                svc.client(svc.key_a) as a:
            hosted = conforms(a.post("/mgmt/v2/destinations", json={"type": "supaglue"}), 201,
                              wire.DESTINATION)
            for name, box in boxes.items():
                conforms(a.post("/mgmt/v2/providers", json={
                    "name": name, "category": "crm", "auth_type": "oauth2",
                    "config": {"provider_app_id": f"app-{name}", "use_managed_oauth": False,
                               "settings": {SETTING[name]: box.base_url},
                               "oauth": {"oauth_scopes": [], "credentials": {
                                   "oauth_client_id": box.client_id,
                                   "oauth_client_secret": box.client_secret}}}}),
                         201, wire.PROVIDER)
                conforms(a.post("/mgmt/v2/sync_configs", json={
                    "provider_name": name, "destination_name": hosted["name"],
                    "config": {"default_config": {"period_ms": 3_600_000,
                                                  "strategy": "full then incremental"},
                               **SYNC_CONFIGS[name]}}), 201, wire.SYNC_CONFIG)
            conforms(a.put("/mgmt/v2/customers", json={
                "customer_id": "acme", "name": "Acme", "email": "it@acme.example"}),
                200, wire.CUSTOMER_WITH_CONNECTIONS)
            for name in boxes:  # the key holder's connect session, the customer's consent
                done = follow_callback(svc, consent(start(svc, "acme", name).headers["location"]))
                assert "result=SUCCESS" in done.headers["location"]
            for name in boxes:
                headers = {**ACME, "x-provider-name": name}
                conforms(a.post("/mgmt/v2/syncs/_trigger", headers=headers), 200,
                         wire.obj({"results": wire.array(wire.SYNC)}))
                runs = wait_for_runs(a, name, 1)
                assert {r["status"] for r in runs} == {"SUCCESS"}, runs[0]["error_message"]
            yield svc, boxes
    finally:
        for box in boxes.values():
            box.stop()


@pytest.fixture
def a(synced):
    svc, _ = synced
    with svc.client(svc.key_a) as client:
        yield client


def test_customers(a):
    conforms(a.get("/mgmt/v2/customers"), 200, wire.array(wire.CUSTOMER))
    acme = conforms(a.get("/mgmt/v2/customers/acme"), 200, wire.CUSTOMER_WITH_CONNECTIONS)
    assert acme["email"] == "it@acme.example"
    conforms(a.put("/mgmt/v2/customers", json={"customer_id": "gone", "name": "G",
                                               "email": "g@g.example"}),
             200, wire.CUSTOMER_WITH_CONNECTIONS)
    assert a.delete("/mgmt/v2/customers/gone").status_code == 204


def test_connections(a, synced):
    _, boxes = synced
    listed = conforms(a.get("/mgmt/v2/customers/acme/connections"), 200,
                      wire.array(wire.CONNECTION))
    assert {c["provider_name"] for c in listed} == {"salesforce", "hubspot"}
    conforms(a.get("/mgmt/v2/customers/acme/connections/salesforce"), 200, wire.CONNECTION)
    conforms(a.put("/mgmt/v2/customers", json={"customer_id": "imported", "name": "I",
                                               "email": "i@i.example"}),
             200, wire.CUSTOMER_WITH_CONNECTIONS)
    box = boxes["hubspot"]
    conforms(a.post("/mgmt/v2/customers/imported/connections", json={
        "provider_name": "hubspot", "type": "oauth2",
        "refresh_token": box.oauth.mint_refresh_token(box.client_id)}), 200, wire.CONNECTION)
    assert a.delete("/mgmt/v2/customers/imported/connections/hubspot").status_code == 204
    assert a.delete("/mgmt/v2/customers/imported").status_code == 204


def test_what_the_taps_saw(a):
    """`_provider_user_id` from the OAuth exchanges, `_rate_limit_info` from the provider's
    headers the taps saw on the last run (both twins send their providers' headers)."""
    for name in ("salesforce", "hubspot"):
        user = conforms(a.get("/mgmt/v2/customers/acme/connections/_provider_user_id",
                              params={"provider_name": name}), 200, wire.PROVIDER_USER_ID)
        assert user["user_id"]
    sf = conforms(a.get("/mgmt/v2/customers/acme/connections/salesforce/_rate_limit_info"),
                  200, wire.RATE_LIMIT_INFO)
    assert sf["daily"]["limit"] > sf["daily"]["remaining"] >= 0  # the run used some
    hs = conforms(a.get("/mgmt/v2/customers/acme/connections/hubspot/_rate_limit_info"),
                  200, wire.RATE_LIMIT_INFO)
    assert hs["other"]
    conforms(a.get("/mgmt/v2/customers/nobody/connections/_provider_user_id",
                   params={"provider_name": "hubspot"}), 404, wire.ERRORS)


def test_providers(a):
    listed = conforms(a.get("/mgmt/v2/providers"), 200, wire.array(wire.PROVIDER))
    sf = next(p for p in listed if p["name"] == "salesforce")
    assert sf["config"]["provider_app_id"] == "app-salesforce"
    assert "oauth_client_secret" not in sf["config"]["oauth"]["credentials"]  # write-only
    conforms(a.get(f"/mgmt/v2/providers/{sf['id']}"), 200, wire.PROVIDER)
    made = conforms(a.post("/mgmt/v2/providers", json={
        "name": "outreach", "category": "engagement", "auth_type": "oauth2",
        "config": {"provider_app_id": "o", "oauth": {"oauth_scopes": ["a"], "credentials": {
            "oauth_client_id": "id", "oauth_client_secret": "s"}}},
        "objects": {"common": [{"name": "contact"}], "standard": [{"name": "prospect"}]}}),
        201, wire.PROVIDER)
    assert made["objects"]["standard"] == [{"name": "prospect"}]
    conforms(a.put(f"/mgmt/v2/providers/{made['id']}", json={
        "name": "outreach", "category": "engagement", "auth_type": "oauth2",
        "config": {"provider_app_id": "o2", "oauth": {"oauth_scopes": [], "credentials": {
            "oauth_client_id": "id", "oauth_client_secret": "s"}}}}), 200, wire.PROVIDER)
    gone = conforms(a.delete(f"/mgmt/v2/providers/{made['id']}"), 200, wire.PROVIDER)
    assert gone["config"]["provider_app_id"] == "o2"


def test_destinations(a):
    conforms(a.get("/mgmt/v2/destinations"), 200, wire.array(wire.DESTINATION))
    config = {"host": "10.20.30.40", "port": 5432, "database": "app", "schema": "sg",
              "user": "writer", "password": "pw-secret", "ssl_mode": "no-verify"}
    made = conforms(a.post("/mgmt/v2/destinations", json={
        "name": "pg", "type": "postgres", "config": config}), 201, wire.DESTINATION)
    assert made["version"] == 1 and "password" not in made["config"]
    conforms(a.get(f"/mgmt/v2/destinations/{made['id']}"), 200, wire.DESTINATION)
    body = {"name": "pg", "type": "postgres", "version": 1,
            "config": {k: v for k, v in config.items() if k not in ("password", "ssl_mode")}}
    updated = conforms(a.put(f"/mgmt/v2/destinations/{made['id']}", json=body), 200,
                       wire.DESTINATION)
    assert updated["version"] == 2
    conforms(a.put(f"/mgmt/v2/destinations/{made['id']}", json=body), 409, wire.ERRORS)
    inline = conforms(a.post("/mgmt/v2/destinations", json={
        "name": "tls", "type": "postgres",
        "config": {**config, "server_ca_cert": "-----BEGIN CERTIFICATE-----"}}),
        422, wire.ERRORS)
    assert "server_ca_cert" in inline["errors"][0]["detail"]


def test_sync_configs(a):
    listed = conforms(a.get("/mgmt/v2/sync_configs"), 200, wire.array(wire.SYNC_CONFIG))
    sf = next(c for c in listed if c["provider_name"] == "salesforce")
    conforms(a.get(f"/mgmt/v2/sync_configs/{sf['id']}"), 200, wire.SYNC_CONFIG)
    # Supaglue's update carries only `config`
    conforms(a.put(f"/mgmt/v2/sync_configs/{sf['id']}", json={"config": {
        "default_config": {"period_ms": 3_600_000, "strategy": "full then incremental"},
        **SYNC_CONFIGS["salesforce"]}}), 200, wire.SYNC_CONFIG)
    conforms(a.post("/mgmt/v2/providers", json={
        "name": "pipedrive", "category": "crm", "auth_type": "oauth2",
        "config": {"provider_app_id": "p", "oauth": {"oauth_scopes": [], "credentials": {
            "oauth_client_id": "id", "oauth_client_secret": "s"}}}}), 201, wire.PROVIDER)
    made = conforms(a.post("/mgmt/v2/sync_configs", json={
        "provider_name": "pipedrive", "destination_name": sf["destination_name"],
        "config": {"default_config": {"period_ms": 60_000, "strategy": "full only"},
                   "standard_objects": [{"object": "deals"}]}}), 201, wire.SYNC_CONFIG)
    conforms(a.delete(f"/mgmt/v2/sync_configs/{made['id']}"), 200, wire.SYNC_CONFIG)


def test_connection_sync_configs(a):
    path, headers = "/mgmt/v2/connection_sync_configs", {**ACME, **SF}
    body = {"standard_objects": [{"object": "Account"}, {"object": "Contact"}]}
    conforms(a.put(path, headers=headers, json=body), 200, wire.CONNECTION_SYNC_CONFIG)
    conforms(a.get(path, headers=headers), 200, wire.CONNECTION_SYNC_CONFIG)
    assert a.delete(path, headers=headers).status_code == 204
    conforms(a.get(path, headers=headers), 404, wire.ERRORS)
    conforms(a.put(path, headers=headers, json={
        "standard_objects": [{"object": "Account", "table": "accounts"}]}), 422, wire.ERRORS)


def test_magic_links(a):
    made = conforms(a.post("/mgmt/v2/magic_links", json={
        "customer_id": "acme", "provider_name": "hubspot", "return_url": RETURN_URL,
        "expiration_secs": 3600}), 201, wire.MAGIC_LINK)
    conforms(a.get("/mgmt/v2/magic_links"), 200, wire.array(wire.MAGIC_LINK))
    assert a.delete(f"/mgmt/v2/magic_links/{made['id']}").status_code == 204


def test_syncs_per_object_and_their_runs(a, synced):
    page = conforms(a.get("/mgmt/v2/syncs", params={"customer_id": "acme"}), 200,
                    wire.flat_page(wire.SYNC_LISTED))
    assert {(s["provider_name"], s["object_type"], s["object"]) for s in page["results"]} == {
        (p, kind[:-len("_objects")], o["object"])
        for p, config in SYNC_CONFIGS.items() for kind, objs in config.items() for o in objs}
    (contact,) = conforms(a.get("/mgmt/v2/syncs", params={
        "customer_id": "acme", "provider_name": "salesforce", "object_type": "standard",
        "object": "Contact"}), 200, wire.flat_page(wire.SYNC_LISTED))["results"]
    runs = conforms(a.get("/mgmt/v2/sync-runs", params={"customer_id": "acme",
                                                        "provider_name": "salesforce"}),
                    200, wire.flat_page(wire.SYNC_RUN))["results"]
    by_object = {r["object"]: r for r in runs}
    assert set(by_object) == {"contact", "Account", "Contact"}
    assert by_object["Contact"]["sync_id"] == contact["id"]
    assert by_object["Account"]["num_records_synced"] > 0  # its own count, from the run's log

    # pause one object: the connection's next run leaves it out
    one = {"object_type": "standard", "object": "Contact"}
    headers = {**ACME, **SF}
    paused = conforms(a.post("/mgmt/v2/syncs/_pause", headers=headers, json=one), 200,
                      wire.SYNC)
    assert paused["paused"] is True and paused["id"] == contact["id"]
    conforms(a.post("/mgmt/v2/syncs/_trigger", headers=headers, json=one), 409, wire.ERRORS)
    conforms(a.post("/mgmt/v2/syncs/_trigger", headers=headers, json={
        "object_type": "standard", "object": "Account", "perform_full_refresh": True}),
        200, wire.SYNC)
    second = wait_for_runs(a, "salesforce", 2)
    newest = [r for r in second if r["run_id"] == second[0]["run_id"]]
    assert {r["object"] for r in newest} == {"contact", "Account"}  # Contact left out
    assert {r["strategy"] for r in newest} == {"full"}
    conforms(a.post("/mgmt/v2/syncs/_resume", headers=headers, json=one), 200, wire.SYNC)
    only = conforms(a.get("/mgmt/v2/sync-runs", params={
        "customer_id": "acme", "object_type": "standard", "object": "Contact",
        "page_size": 1}), 200, wire.flat_page(wire.SYNC_RUN))
    assert [r["object"] for r in only["results"]] == ["Contact"] and only["next"] is None
    conforms(a.post("/mgmt/v2/syncs/_pause", headers=headers,
                    json={"object_type": "standard", "object": "Nope"}), 404, wire.ERRORS)


# The objects Supaglue's data bundle documents: their fields are required (null when the
# provider record lacks them), timestamps are date-times, raw_data is always there.
DATA_RECORDS: dict[tuple[str, str], dict[str, Any]] = {
    ("salesforce", "contacts"): wire.obj({
        "Id": wire.STR, **wire.nullable_strings(
            "Description Email AccountId FirstName HomePhone LastName LeadSource MailingCity "
            "MailingCountry MailingPostalCode MailingState MailingStreet MobilePhone OwnerId "
            "Phone Fax Title"),
        "IsDeleted": wire.BOOL, "LastActivityDate": wire.NTIME, "CreatedDate": wire.TIME,
        "SystemModstamp": wire.TIME, "raw_data": {"type": "object"}}),
    ("salesforce", "accounts"): wire.obj({
        "Id": wire.STR, **wire.nullable_strings(
            "Description BillingCity BillingCountry BillingPostalCode BillingState "
            "BillingStreet ShippingCity ShippingCountry ShippingPostalCode ShippingState "
            "ShippingStreet Phone Fax Industry Name OwnerId Website"),
        "NumberOfEmployees": {"type": ["integer", "null"]}, "LastActivityDate": wire.NTIME,
        "IsDeleted": wire.BOOL, "CreatedDate": wire.TIME, "SystemModstamp": wire.TIME,
        "raw_data": {"type": "object"}}),
    ("hubspot", "contacts"): wire.obj({
        "id": wire.STR, **wire.nullable_strings(
            "email associatedcompanyid firstname phone lastname city country zip state "
            "address mobilephone hubspot_owner_id fax jobtitle"),
        "is_deleted": wire.BOOL, "createdate": wire.TIME, "notes_last_updated": wire.NTIME,
        "raw_data": {"type": "object"}}),
    ("hubspot", "companies"): wire.obj({
        "id": wire.STR, **wire.nullable_strings(
            "description city country zip state address phone industry name "
            "numberofemployees hubspot_owner_id domain website"),
        "is_deleted": wire.BOOL, "createdate": wire.TIME, "notes_last_updated": wire.NTIME,
        "raw_data": {"type": "object"}}),
}


@pytest.mark.parametrize(("provider", "path"), list(DATA_RECORDS))
def test_data_listing(a, provider, path):
    """Supaglue's documented objects: every documented field present (null when empty),
    date-times in UTC ISO-8601, raw_data always, the deleted flag."""
    page = conforms(a.get(f"/data/v2/{provider}/{path}", headers=ACME,
                          params={"page_size": 1000}),
                    200, wire.records_page(DATA_RECORDS[(provider, path)]))
    assert page["records"] and page["pagination"]["total_count"] == len(page["records"])


@pytest.mark.parametrize(("category", "path", "provider"), [
    ("crm", "contacts", "salesforce"), ("crm", "accounts", "hubspot")])
def test_unified_lists(a, category, path, provider):
    table = f"{category}_{path}"
    page = conforms(a.get(f"/{category}/v2/{path}", headers={**ACME,
                                                             "x-provider-name": provider},
                          params={"include_raw_data": "true"}),
                    200, wire.records_page(wire.unified_record(table)))
    assert page["records"]
    live = conforms(a.get(f"/{category}/v2/{path}", headers={**ACME, "x-provider-name": provider},
                          params={"read_from_cache": "false"}), 501, wire.ERRORS)
    assert "read_from_cache" in live["errors"][0]["detail"]


def test_errors(a, synced):
    svc, _ = synced
    with svc.client() as anonymous:
        conforms(anonymous.get("/mgmt/v2/customers"), 401, wire.ERRORS)
    conforms(a.get("/mgmt/v2/customers/nobody"), 404, wire.ERRORS)
    invalid = conforms(a.put("/mgmt/v2/customers", json={"name": "no id"}), 400, wire.ERRORS)
    assert invalid["errors"][0]["problem_type"] == "VALIDATION_ERROR"
    conforms(a.get("/mgmt/v2/sync-runs", params={"cursor": "junk"}), 400, wire.ERRORS)
