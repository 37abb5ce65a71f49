"""The hosted destination and the Data Listing API: target-postgres (a real process, configured
from the rendered Meltano config) writes each application's schema; listings are scoped to the
caller's application and customer, keyset-paged, exact while a sync writes, and return each
record as Supaglue did: the provider's fields of the raw record at the top level."""

from __future__ import annotations

import io
import json
import os
import random
import subprocess
import sys
import time
from contextlib import redirect_stdout
from pathlib import Path

import psycopg2
import pytest
import yaml

from tap_hubspot.spec import LISTED_FIELDS as HS_LISTED
from tap_salesforce.spec import LISTED_FIELDS as SF_LISTED
from tenantsync import contract
from tenantsync.api import hosted
from tenantsync.controller import crypto, db, render
from tenantsync.controller.registry import Registry

TARGET = str(Path(sys.executable).with_name("target-postgres"))
ACCOUNT = "Account"
INVOICE = contract.stream_name("custom", "Invoice__c")
ACCOUNT_SCHEMA = {"type": "SCHEMA", "stream": ACCOUNT, "key_properties": ["Id"],
                  "bookmark_properties": ["SystemModstamp"],
                  "schema": {"type": "object", "properties": {
                      "attributes": {"type": ["object", "null"]},
                      "Id": {"type": "string"}, "IsDeleted": {"type": ["boolean", "null"]},
                      "Name": {"type": ["string", "null"]},
                      "AnnualRevenue": {"type": ["number", "null"]},
                      "SystemModstamp": {"type": "string", "format": "date-time"}}}}
CONTACT = "contact"  # tap-hubspot's standard object
CONTACT_SCHEMA = {"type": "SCHEMA", "stream": CONTACT, "key_properties": ["id"],
                  "bookmark_properties": ["updatedAt"],
                  "schema": {"type": "object", "properties": {
                      "id": {"type": "string"},
                      "updatedAt": {"type": "string", "format": "date-time"}}}}


def account(rid: str, name: str, minute: int, **fields) -> dict:
    """A Salesforce Account as the REST API returns it (`attributes` included)."""
    return {"type": "RECORD", "stream": ACCOUNT, "record": {
        "attributes": {"type": "Account", "url": f"/services/data/v61.0/sobjects/Account/{rid}"},
        "Id": rid, "IsDeleted": False, "Name": name,
        "SystemModstamp": f"2024-01-01T{minute // 60:02d}:{minute % 60:02d}:00.000Z", **fields}}


def lines(messages) -> bytes:
    return "".join(json.dumps(m) + "\n" for m in messages).encode()


@pytest.fixture(scope="module")
def hosted_app(service):
    """app-a: Salesforce and HubSpot synced to the hosted destination, customers acme, globex
    and initech."""
    with service.client(service.key_a) as a:
        for provider in ("salesforce", "hubspot"):
            assert a.post("/mgmt/v2/providers", json={
                "name": provider, "auth_type": "oauth2", "config": {"oauth": {"credentials": {
                    "oauth_client_id": "id", "oauth_client_secret": "secret"}}}}
                          ).status_code == 201
        assert a.post("/mgmt/v2/destinations", json={"name": "hosted", "type": "supaglue"}
                      ).status_code == 201
        r = a.post("/mgmt/v2/sync_configs", json={
            "provider_name": "salesforce", "destination_name": "hosted",
            "config": {"default_config": {"period_ms": 3_600_000},
                       "common_objects": [{"object": "account"}],
                       "standard_objects": [{"object": ACCOUNT}],
                       "custom_objects": [{"object": "Invoice__c"}]}})
        assert r.status_code == 201, r.text
        r = a.post("/mgmt/v2/sync_configs", json={
            "provider_name": "hubspot", "destination_name": "hosted",
            "config": {"default_config": {"period_ms": 3_600_000},
                       "standard_objects": [{"object": CONTACT}]}})
        assert r.status_code == 201, r.text
        for cid in ("acme", "globex", "initech"):
            a.put("/mgmt/v2/customers", json={"customer_id": cid})
            assert a.post(f"/mgmt/v2/customers/{cid}/connections", json={
                "provider_name": "salesforce", "type": "oauth2", "refresh_token": "r",
                "instance_url": "https://x.my.salesforce.com"}).status_code == 200
        assert a.post("/mgmt/v2/customers/acme/connections", json={
            "provider_name": "hubspot", "type": "oauth2", "refresh_token": "r"}
                      ).status_code == 200
    return service


def test_sync_configs_are_checked_as_apply_checks_them(hosted_app):
    """The registry's checks answer 400 with the messages `tenantsync apply` prints
    (tests/controller/test_validation.py): an object the spec lacks, an unknown provider."""
    with hosted_app.client(hosted_app.key_a) as a:
        typo = a.put("/mgmt/v2/sync_configs/" + str(next(
            c["id"] for c in a.get("/mgmt/v2/sync_configs").json()
            if c["provider_name"] == "hubspot")), json={"config": {
                "default_config": {"period_ms": 3_600_000},
                "standard_objects": [{"object": "compnay"}]}})
        assert typo.status_code == 400, typo.text
        assert "standard object 'compnay' is not one of company" in \
            typo.json()["errors"][0]["detail"]
        assert a.post("/mgmt/v2/providers", json={"name": "nosuchcrm", "auth_type": "api_key"}
                      ).status_code == 201
        unknown = a.post("/mgmt/v2/sync_configs", json={
            "provider_name": "nosuchcrm", "destination_name": "hosted",
            "config": {"default_config": {"period_ms": 3_600_000}}})
        assert unknown.status_code == 400, unknown.text
        assert "no provider 'nosuchcrm' is registered" in unknown.json()["errors"][0]["detail"]


def target_config(service, customer: str, provider: str = "salesforce") -> dict:
    """The loader's config as Meltano would resolve it from the rendered include file."""
    include = yaml.safe_load((service.cfg.project / render.INCLUDE_FILE).read_text())
    loader = next(p for p in include["plugins"]["loaders"]
                  if p["name"] == render.loader_name("app-a", "hosted"))
    with service.session() as s:
        reg = Registry(s, "app-a")
        view = next(v for v in reg.sync_views()
                    if v.customer_id == customer and v.provider == provider)
        env = render.tenant_env(view)
        dest = reg.destination("hosted")
        for key, value in crypto.unseal(dest.sealed_credentials).items():
            env[render.DESTINATION_SECRET_ENV[key]] = value
    config = {k: (env[v[1:]] if isinstance(v, str) and v.startswith("$") else v)
              for k, v in loader["config"].items()}
    return {**config, "batch_size_rows": 10}


def target_env(service) -> dict:
    """The registry, as a run gives it (the loader's field_mapping_source reads it)."""
    return {**os.environ, db.URL_ENV: service.cfg.registry_url}


def run_target(service, tmp_path, customer: str, messages, provider: str = "salesforce"
               ) -> None:
    path = tmp_path / f"{customer}-{provider}.json"
    path.write_text(json.dumps(target_config(service, customer, provider)))
    done = subprocess.run([TARGET, "--config", str(path)], input=lines(messages),
                          capture_output=True, timeout=120, env=target_env(service))
    assert done.returncode == 0, done.stderr.decode()[-2000:]


def test_hosted_destination_is_a_schema_per_application(hosted_app, tmp_path):
    cfg = target_config(hosted_app, "acme")
    assert cfg["schema"] == hosted.schema_for("app-a") != hosted.schema_for("app-b")
    assert cfg["customer_id"] == "acme" and cfg["application_id"] == "app-a"
    assert hosted.schema_for("App-A") != hosted.schema_for("app_a")  # never share a schema
    include = (hosted_app.cfg.project / render.INCLUDE_FILE).read_text()
    assert os.environ[hosted.URL_ENV] not in include  # the URL is a sealed secret


@pytest.fixture(scope="module")
def loaded(hosted_app, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("target")
    acme = [account(f"001A{i:05d}", f"Acme account {i}", i, AnnualRevenue=i * 1000.5)
            for i in range(0, 240, 2)]
    run_target(hosted_app, tmp, "acme", [ACCOUNT_SCHEMA, *acme, {
        "type": "SCHEMA", "stream": INVOICE, "key_properties": ["Id"],
        "bookmark_properties": ["SystemModstamp"], "schema": ACCOUNT_SCHEMA["schema"]},
        *({"type": "RECORD", "stream": INVOICE, "record": {
            "Id": f"a0B{i:03d}", "Name": f"INV-{i}", "SystemModstamp": "2024-02-01T00:00:00Z"}}
          for i in range(3)),
        {"type": "SCHEMA", "stream": "crm_accounts", "key_properties": ["id"],
         "bookmark_properties": ["last_modified_at"], "schema": _common_schema()},
        *({"type": "RECORD", "stream": "crm_accounts", "record": {
            "id": f"001C{i}", "name": f"Common {i}", "is_deleted": False,
            "created_at": "2024-01-01T00:00:00Z", "updated_at": "2024-01-02T00:00:00Z",
            "last_modified_at": f"2024-01-0{i + 2}T00:00:00Z", "raw_data": {"Id": f"001C{i}"}}}
          for i in range(4))])
    run_target(hosted_app, tmp, "globex",
               [ACCOUNT_SCHEMA, *(account(f"001G{i:05d}", f"Globex {i}", i) for i in range(7))])
    return {"acme": [m["record"]["Id"] for m in acme], "tmp": tmp}


def _common_schema() -> dict:
    from tenantsync.common_schema import json_schema

    return json_schema("crm_accounts")


def page_all(client, path, headers, params=None) -> list[dict]:
    records, cursor = [], None
    while True:
        query = {**(params or {}), **({"cursor": cursor} if cursor else {})}
        r = client.get(path, headers=headers, params=query)
        assert r.status_code == 200, r.text
        records += r.json()["records"]
        cursor = r.json()["pagination"]["next"]
        if cursor is None:
            return records


def test_listing_is_scoped_to_the_customer(hosted_app, loaded, a):
    acme = page_all(a, "/data/v2/salesforce/accounts", {"x-customer-id": "acme"},
                    {"page_size": 50})
    assert [r["Id"] for r in acme] == loaded["acme"]
    globex = a.get("/data/v2/salesforce/Account", headers={"x-customer-id": "globex"}).json()
    assert globex["pagination"]["total_count"] == 7
    assert [r["Id"] for r in globex["records"]] == [f"001G{i:05d}" for i in range(7)]


def test_previous_pages_walk_back(hosted_app, loaded, a):
    h = {"x-customer-id": "acme"}
    pages, cursor = [], None
    while True:
        body = a.get("/data/v2/salesforce/accounts", headers=h, params={
            "page_size": 35, **({"cursor": cursor} if cursor else {})}).json()
        pages.append([r["Id"] for r in body["records"]])
        cursor = body["pagination"]["next"]
        if cursor is None:
            break
    assert len(pages) == 4 and body["pagination"]["previous"]
    back, cursor = [], body["pagination"]["previous"]
    while cursor:
        body = a.get("/data/v2/salesforce/accounts", headers=h,
                     params={"page_size": 35, "cursor": cursor}).json()
        back.insert(0, [r["Id"] for r in body["records"]])
        cursor = body["pagination"]["previous"]
    assert back == pages[:-1]
    first = a.get("/data/v2/salesforce/accounts", headers=h, params={"page_size": 35}).json()
    assert first["pagination"]["previous"] is None


def test_listing_filters_and_objects(hosted_app, loaded, a):
    h = {"x-customer-id": "acme"}
    recent = a.get("/data/v2/salesforce/accounts", headers=h, params={
        "modified_after": "2024-01-01T03:50:00Z", "page_size": 1000}).json()
    assert [r["Id"] for r in recent["records"]] == [f"001A{i:05d}" for i in range(232, 240, 2)]
    invoices = a.get("/data/v2/salesforce/Invoice__c", headers=h).json()
    assert [r["Name"] for r in invoices["records"]] == ["INV-0", "INV-1", "INV-2"]
    unified = a.get("/crm/v2/accounts", headers={**h, "x-provider-name": "salesforce"},
                    params={"page_size": 3}).json()
    assert [r["id"] for r in unified["records"]] == ["001C0", "001C1", "001C2"]
    assert unified["records"][0]["name"] == "Common 0" and "raw_data" not in unified["records"][0]
    assert not any(k.startswith("_supaglue") for k in unified["records"][0])
    with_raw = a.get("/crm/v2/accounts", headers={**h, "x-provider-name": "salesforce"},
                     params={"include_raw_data": True, "modified_after": "2024-01-04T12:00Z"}
                     ).json()["records"]
    assert with_raw == [{**with_raw[0], "id": "001C3", "raw_data": {"Id": "001C3"}}]


def test_salesforce_records_are_the_objects_fields(hosted_app, loaded, a):
    h = {"x-customer-id": "acme"}
    first = a.get("/data/v2/salesforce/accounts", headers=h,
                  params={"page_size": 2, "include_raw_data": "false"}).json()["records"]
    # the REST envelope `attributes` is no field; values as stored (a number stays a number);
    # the fields Supaglue documents for Account are there, null when the record lacks them
    documented = dict.fromkeys(SF_LISTED["Account"])
    assert first[1] == {**documented, "Id": "001A00002", "IsDeleted": False,
                        "Name": "Acme account 2", "AnnualRevenue": 2001.0,
                        "SystemModstamp": "2024-01-01T00:02:00.000Z",
                        "_supaglue_is_deleted": False,
                        "_supaglue_last_modified_at": "2024-01-01T00:02:00.000Z"}
    with_raw = a.get("/data/v2/salesforce/accounts", headers=h,
                     params={"page_size": 2}).json()["records"]  # raw_data by default
    assert [{k: v for k, v in r.items() if k != "raw_data"} for r in with_raw] == first
    assert with_raw[1]["raw_data"] == {
        "attributes": {"type": "Account",
                       "url": "/services/data/v61.0/sobjects/Account/001A00002"},
        "Id": "001A00002", "IsDeleted": False, "Name": "Acme account 2",
        "AnnualRevenue": 2001.0, "SystemModstamp": "2024-01-01T00:02:00.000Z"}



def test_hubspot_records_hoist_the_properties(hosted_app, loaded, a, tmp_path):
    """Both shapes a HubSpot raw record can have: the API's (`properties` beside the envelope)
    and tap-hubspot's, already flat."""
    api_shaped = {"id": "101", "createdAt": "2024-03-01T00:00:00.000Z",
                  "updatedAt": "2024-03-02T00:00:00.000Z", "archived": False,
                  "properties": {"email": "ada@example.com", "firstname": "Ada",
                                 "num_employees": "12", "hs_object_id": "101",
                                 "id": "a property named like the envelope"},
                  "associations": {"companies": {"results": [{"id": "5000000001"}]}}}
    archived = {"id": "103", "createdAt": "2024-03-01T00:00:00.000Z",
                "updatedAt": "2024-03-03T00:00:00.000Z", "archived": True,
                "archivedAt": "2024-03-04T00:00:00.000Z", "properties": {"email": None}}
    flat = {"id": "102", "createdAt": "2024-03-01T00:00:00.000Z",
            "updatedAt": "2024-03-05T00:00:00.000Z", "archived": False,
            "email": "grace@example.com", "lastmodifieddate": "2024-03-05T00:00:00.000Z",
            "_associations": {"company": ["5000000001"]}}
    run_target(hosted_app, tmp_path, "acme", [CONTACT_SCHEMA, *(
        {"type": "RECORD", "stream": CONTACT, "record": r} for r in (
            api_shaped, flat, {**archived, "_sdc_deleted_at": archived["archivedAt"]}))],
               provider="hubspot")
    h = {"x-customer-id": "acme"}
    records = a.get("/data/v2/hubspot/contacts", headers=h,
                    params={"include_raw_data": False}).json()["records"]
    documented = dict.fromkeys(HS_LISTED["contact"])
    assert [{k: v for k, v in r.items() if k not in documented or v is not None
             or k in ("email", "id")} for r in records] == [
        {"id": "101", "createdAt": "2024-03-01T00:00:00.000Z",
         "updatedAt": "2024-03-02T00:00:00.000Z", "archived": False,
         "email": "ada@example.com", "firstname": "Ada", "num_employees": "12",
         "hs_object_id": "101", "is_deleted": False, "_supaglue_is_deleted": False,
         "_supaglue_last_modified_at": "2024-03-02T00:00:00.000Z"},
        {**flat, "is_deleted": False, "_supaglue_is_deleted": False,
         "_supaglue_last_modified_at": "2024-03-05T00:00:00.000Z"},
        {"id": "103", "createdAt": "2024-03-01T00:00:00.000Z",
         "updatedAt": "2024-03-03T00:00:00.000Z", "archived": True,
         "archivedAt": "2024-03-04T00:00:00.000Z", "email": None,
         "is_deleted": True, "_supaglue_is_deleted": True,
         "_supaglue_last_modified_at": "2024-03-03T00:00:00.000Z"}]
    assert all(set(documented) <= set(r) for r in records)  # null when absent
    with_raw = a.get("/data/v2/hubspot/contacts", headers=h,
                     params={"include_raw_data": True}).json()["records"]
    assert [r["raw_data"] for r in with_raw] == [api_shaped, flat, archived]
    # the colliding property stays only in raw_data
    assert with_raw[0]["raw_data"]["properties"]["id"] != with_raw[0]["id"] == "101"


def test_a_row_swept_by_a_full_sync_is_deleted_whatever_its_raw_record_says(
        hosted_app, loaded, a, tmp_path):
    run_target(hosted_app, tmp_path, "initech",
               [ACCOUNT_SCHEMA, account("001I1", "kept", 1), account("001I2", "gone", 2)])
    version = int(time.time() * 1000)  # a full sync begins after those rows were written
    run_target(hosted_app, tmp_path, "initech", [
        ACCOUNT_SCHEMA, account("001I1", "kept", 3),
        {"type": "ACTIVATE_VERSION", "stream": ACCOUNT, "version": version}])
    records = a.get("/data/v2/salesforce/accounts", headers={"x-customer-id": "initech"}
                    ).json()["records"]
    assert [(r["Id"], r["IsDeleted"], r["_supaglue_is_deleted"],
             r["_supaglue_last_modified_at"]) for r in records] == [
        ("001I1", False, False, "2024-01-01T00:03:00.000Z"),
        ("001I2", False, True, "2024-01-01T00:02:00.000Z")]


def test_openapi_describes_include_raw_data(hosted_app, a):
    spec = a.get("/openapi.json").json()
    params = spec["paths"]["/data/v2/{provider_name}/{object_name}"]["get"]["parameters"]
    flag = next(p for p in params if p["name"] == "include_raw_data")
    assert flag["in"] == "query" and not flag.get("required")
    assert flag["schema"]["type"] == "boolean" and flag["schema"]["default"] is True
    assert "raw_data" in flag["description"]


def test_listing_errors(hosted_app, loaded, a):
    h = {"x-customer-id": "acme"}
    cases = [("/data/v2/salesforce/Opportunity", h, {}, 400, "not synced"),
             ("/data/v2/pipedrive/persons", h, {}, 404, "pipedrive"),
             ("/data/v2/hubspot/companies", h, {}, 400, "not synced"),
             ("/data/v2/salesforce/accounts", h, {"include_raw_data": "maybe"}, 400,
              "include_raw_data"),
             ("/data/v2/salesforce/accounts", {"x-customer-id": "nobody"}, {}, 404, "nobody"),
             ("/data/v2/salesforce/accounts", h, {"page_size": 1001}, 400, "page_size"),
             ("/data/v2/salesforce/accounts", h, {"cursor": "bogus"}, 400, "cursor"),
             ("/data/v2/salesforce/accounts", h, {"modified_after": "yesterday"}, 400,
              "modified_after"),
             ("/data/v2/salesforce/accounts", {}, {}, 400, "x-customer-id"),
             ("/crm/v2/widgets", {**h, "x-provider-name": "salesforce"}, {}, 404, "widgets"),
             ("/crm/v2/leads", {**h, "x-provider-name": "salesforce"}, {}, 400, "lead")]
    for path, headers, params, status, word in cases:
        r = a.get(path, headers=headers, params=params)
        assert r.status_code == status, (path, params, r.text)
        assert word in r.json()["errors"][0]["detail"], (path, r.text)


def _visible(uri: str, schema: str, rid: str, name: str) -> bool:
    with psycopg2.connect(uri) as conn, conn.cursor() as cur:
        cur.execute(f'SELECT _supaglue_raw_data->>\'Name\' FROM "{schema}"."salesforce_account" '
                    "WHERE _supaglue_customer_id = 'acme' AND _supaglue_id = %s", (rid,))
        row = cur.fetchone()
    return bool(row) and row[0] == name


def test_paging_is_exact_while_a_sync_writes(hosted_app, loaded, a, pg_server_uri):
    """Each page is fetched after the target committed another batch of updates (to records
    behind and ahead of the cursor) and inserts: every record that existed before paging
    began is listed exactly once."""
    original = loaded["acme"]
    rng = random.Random(5)
    path = loaded["tmp"] / "acme-live.json"
    path.write_text(json.dumps(target_config(hosted_app, "acme")))
    writer = subprocess.Popen([TARGET, "--config", str(path)], stdin=subprocess.PIPE,
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                              env=target_env(hosted_app))
    schema = hosted.schema_for("app-a")
    try:
        writer.stdin.write(lines([ACCOUNT_SCHEMA]))
        seen, cursor, step = [], None, 0
        while True:
            step += 1
            batch = [account(rid, f"updated {step}", 600 + step)
                     for rid in rng.sample(original, 5)]
            batch += [account(f"001A{rng.randrange(1, 240, 2):05d}x{step}", "inserted",
                              600 + step) for _ in range(4)]
            sentinel = account(f"001A{rng.randrange(1, 240, 2):05d}s{step}", f"sentinel {step}",
                               600 + step)
            writer.stdin.write(lines([*batch, sentinel]))  # 10 records: one committed batch
            writer.stdin.flush()
            for _ in range(600):
                if _visible(pg_server_uri, schema, sentinel["record"]["Id"],
                            f"sentinel {step}"):
                    break
                time.sleep(0.05)
            else:
                pytest.fail(f"the target never committed batch {step}")
            r = a.get("/data/v2/salesforce/accounts", headers={"x-customer-id": "acme"},
                      params={"page_size": 10, **({"cursor": cursor} if cursor else {})})
            assert r.status_code == 200, r.text
            seen += [rec["Id"] for rec in r.json()["records"]]
            cursor = r.json()["pagination"]["next"]
            if cursor is None:
                break
        assert step > 10  # the writes really interleaved with many pages
    finally:
        writer.stdin.close()
        code = writer.wait(timeout=120)
        err = writer.stderr.read().decode()
    assert code == 0, err[-2000:]
    assert len(seen) == len(set(seen)), "a record was listed twice"
    assert not set(original) - set(seen), "a record that existed before paging was skipped"
    assert seen == sorted(seen)


def test_keyset_index_exists_where_the_key_does_not_serve(hosted_app, loaded, a, pg_conn):
    h = {"x-customer-id": "acme"}
    assert a.get("/data/v2/salesforce/accounts", headers=h).status_code == 200
    assert a.get("/data/v2/salesforce/Invoice__c", headers=h).status_code == 200
    with pg_conn.cursor() as cur:
        cur.execute("SELECT tablename, indexdef FROM pg_indexes WHERE schemaname = %s "
                    "AND indexname LIKE %s", (hosted.schema_for("app-a"), "%tenant_keyset%"))
        extra = cur.fetchall()
    # salesforce_account's primary key (tenant columns, then id) serves its listing; the
    # custom_objects key has the object name after the id, so it gets its own index
    assert [t for t, _ in extra] == ["custom_objects"]
    assert "(_supaglue_application_id, _supaglue_provider_name, _supaglue_customer_id, " \
           "_supaglue_object_name, _supaglue_id)" in extra[0][1]


def test_more_concurrent_listings_than_pooled_connections(hosted_app, loaded, service):
    from concurrent.futures import ThreadPoolExecutor

    from tenantsync.api import data

    def one(i: int) -> int:
        with service.client(service.key_a) as client:
            return client.get("/data/v2/salesforce/accounts", headers={"x-customer-id": "acme"},
                              params={"page_size": 5 + i}).status_code

    with ThreadPoolExecutor(max_workers=3 * data.POOL_SIZE) as pool:
        assert set(pool.map(one, range(3 * data.POOL_SIZE))) == {200}
    with pytest.raises(psycopg2.errors.ReadOnlySqlTransaction), data.reader() as (_, conn), \
            conn.cursor() as cur:  # listings cannot write
        cur.execute("CREATE TABLE listing_must_not_write (x int)")


def test_other_providers_and_records_that_are_not_objects():
    """Any provider's record gets a projection (its top-level fields as they are), and a raw
    record that is no JSON object (not written by target-postgres) is returned whole."""
    from tenantsync.api.projection import record

    raw = {"id": 7, "name": "Ada", "attributes": {"kept": True}, "properties": {"x": 1}}
    assert record("nobody", "persons", raw, is_deleted=False,
                  last_modified_at="2024-01-01T00:00:00Z", include_raw_data=False) == {
        **raw, "_supaglue_is_deleted": False,
        "_supaglue_last_modified_at": "2024-01-01T00:00:00Z"}
    for odd in (["a", 1], "text", 3, None):
        assert record("salesforce", "Account", odd, is_deleted=True, last_modified_at=None,
                      include_raw_data=False) == {
            "_supaglue_is_deleted": True, "_supaglue_last_modified_at": None, "raw_data": odd}


def test_documented_fields_and_timestamps_are_normalized():
    """Supaglue's documented fields are present (null when absent); date-times are UTC
    ISO-8601 whatever offset notation the provider used, a date for a documented date-time
    becomes midnight UTC; other values are left alone."""
    from tenantsync.api.projection import normalize_timestamp, record

    raw = {"attributes": {"type": "Contact"}, "Id": "003A", "CreatedDate":
           "2024-05-01T12:30:00.000+0200", "SystemModstamp": "2024-05-01T10:00:00.000+0000",
           "LastActivityDate": "2024-04-30", "Birthdate": "1990-01-02", "Title": "2024-01-01"}
    out = record("salesforce", "Contact", raw, is_deleted=False, last_modified_at=None)
    assert out["CreatedDate"] == "2024-05-01T10:30:00.000Z"
    assert out["SystemModstamp"] == "2024-05-01T10:00:00.000Z"
    assert out["LastActivityDate"] == "2024-04-30T00:00:00.000Z"  # documented as a date-time
    assert out["Birthdate"] == "1990-01-02" and out["Title"] == "2024-01-01"  # not date-times
    assert out["Email"] is None and set(SF_LISTED["Contact"]) <= set(out)
    assert out["raw_data"] == raw  # always, unless asked not to
    assert normalize_timestamp("2024-05-01T10:00:00Z") == "2024-05-01T10:00:00.000Z"
    assert normalize_timestamp("soon") == "soon" and normalize_timestamp(3) == 3


@pytest.mark.parametrize("provider,obj", [("gong", "call"), ("gong", "callTranscript"),
                                          ("intercom", "contact"),
                                          ("intercom", "conversation")])
def test_standard_objects_of_providers_without_common_objects(hosted_app, a, tmp_path,
                                                               provider, obj):
    """A provider of category none (Gong, Intercom): its tap's output against its twin, written
    by target-postgres, listed at /data/v2/<provider>/<object> with the record's own fields."""
    from tenantsync import providers

    spec = providers.get(provider)
    with hosted_app.client(hosted_app.key_a) as key:
        if provider not in {p["name"] for p in key.get("/mgmt/v2/providers").json()}:
            assert key.post("/mgmt/v2/providers", json={
                "name": provider, "category": "no_category", "auth_type": "oauth2",
                "config": {"oauth": {"credentials": {"oauth_client_id": "id",
                                                     "oauth_client_secret": "secret"}}}}
                            ).status_code == 201
            assert key.post("/mgmt/v2/sync_configs", json={
                "provider_name": provider, "destination_name": "hosted",
                "config": {"default_config": {"period_ms": 3_600_000},
                           "standard_objects": [{"object": o} for o in spec.twin.objects]}}
                            ).status_code == 201
            secret = {spec.auth[0].secrets[0]: "sealed"}
            assert key.post("/mgmt/v2/customers/acme/connections", json={
                "provider_name": provider, "type": "oauth2", **secret}).status_code == 200
    with spec.twin.start("sync", records=120, seed=6) as sb:
        messages = tap_messages(spec, sb, obj)
        want = spec.twin.records(sb, obj)
    run_target(hosted_app, tmp_path, "acme", messages, provider)
    listed = page_all(a, f"/data/v2/{provider}/{obj}", {"x-customer-id": "acme"},
                      {"page_size": 50})
    got = {str(r.get("id") or r.get("callId")): r for r in listed}
    assert set(got) == set(want)
    from tenantsync.tapkit.common import parse_timestamp

    def same(v):  # the listing writes date-times as UTC ISO-8601 with milliseconds
        return parse_timestamp(v) if isinstance(v, str) and v[:4].isdigit() and "T" in v else v
    for rid, (fields, _) in want.items():
        assert {k: same(got[rid][k]) for k in fields} == {k: same(v) for k, v in fields.items()}
        assert got[rid]["_supaglue_is_deleted"] is False


def tap_messages(spec, sb, obj: str) -> list[dict]:
    """The Singer messages of the provider's tap syncing one standard object from its twin."""
    buf = io.TextIOWrapper(io.BytesIO(), encoding="utf-8")
    with redirect_stdout(buf):
        spec.tap_class()(config={**spec.twin.tap_config(sb), "standard_objects": [obj]}
                         ).sync_all()
    buf.seek(0)
    return [json.loads(line) for line in buf.read().splitlines() if line.strip()]
