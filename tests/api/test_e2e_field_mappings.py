"""End to end: a schema and two customers' own field mappings, through the service only.

One application attaches a schema (`revenue`, and `title` the application maps itself) to
Salesforce's Opportunity; acme maps `revenue` to Amount, globex to Probability, each in its
own Salesforce twin. Real syncs (`_trigger`: `meltano run`, tap-salesforce, target-postgres
into the hosted destination) land each customer's own mapping in `_supaglue_mapped_data`,
checked in SQL against the raw record and the twin's own data; the Data Listing API returns
it. A mapping to a field the customer's org does not have is refused, naming it. A changed
mapping applies from the next sync on, and a full refresh rewrites the older rows."""

from __future__ import annotations

import os
import re
from pathlib import Path

import psycopg2
import pytest

from tap_salesforce.sandbox import SalesforceSandbox
from tenantsync.api import hosted
from tests.taps.conftest import rest_rows

from .conftest import running_service
from .receiver import Receiver
from .test_e2e_service import wait_for_run

pytestmark = pytest.mark.slow

CUSTOMERS = {"acme": "Amount", "globex": "Probability"}  # where each maps `revenue`
TRUTH_FIELDS = ["Id", "Name", "Amount", "Probability", "StageName"]


@pytest.fixture(scope="module")
def live(api_env, tmp_path_factory):
    with running_service(tmp_path_factory.mktemp("mappings")) as svc:
        orgs = {"acme": SalesforceSandbox(records=60, seed=5),
                "globex": SalesforceSandbox(records=50, seed=6)}
        for org in orgs.values():
            org.start()
        orgs["globex"].oauth.register_client(orgs["acme"].client_id,
                                             orgs["acme"].client_secret)
        receiver = Receiver()
        yield svc, orgs, receiver
        receiver.close()
        for org in orgs.values():
            org.stop()


def rows(customer: str) -> dict[str, tuple[dict, dict]]:
    """{id: (raw record, mapped data)} of a customer's stored Opportunities."""
    with psycopg2.connect(os.environ[hosted.URL_ENV]) as conn, conn.cursor() as cur:
        cur.execute(f'SELECT _supaglue_id, _supaglue_raw_data, _supaglue_mapped_data '
                    f'FROM "{hosted.schema_for("app-a")}".salesforce_opportunity '
                    f"WHERE _supaglue_customer_id = %s", (customer,))
        return {i: (raw, mapped) for i, raw, mapped in cur.fetchall()}


def mismatches(customer: str, field: str) -> int:
    """Rows whose mapped revenue is not their raw record's `field`, counted in SQL."""
    with psycopg2.connect(os.environ[hosted.URL_ENV]) as conn, conn.cursor() as cur:
        cur.execute(f'SELECT count(*) FROM "{hosted.schema_for("app-a")}".salesforce_opportunity '
                    "WHERE _supaglue_customer_id = %s AND (_supaglue_mapped_data->'revenue' "
                    "IS DISTINCT FROM _supaglue_raw_data->%s OR _supaglue_mapped_data->'title' "
                    "IS DISTINCT FROM _supaglue_raw_data->'Name')", (customer, field))
        return cur.fetchone()[0]


def trigger(a, customer: str, runs: int, full: bool = False) -> dict:
    headers = {"x-customer-id": customer, "x-provider-name": "salesforce"}
    body = {"perform_full_refresh": True} if full else None
    assert a.post("/mgmt/v2/syncs/_trigger", headers=headers, json=body).status_code == 200
    run = wait_for_run(a, customer, runs)
    assert run["status"] == "SUCCESS", run["error_message"]
    return run


def put_mapping(a, customer: str, mappings: list[dict], path: str = "/mgmt/v2/field_mappings"):
    return a.put(path, headers={"x-customer-id": customer, "x-provider-name": "salesforce"},
                 json={"name": "Opportunity", "type": "standard", "field_mappings": mappings})


def test_each_customer_lands_its_own_mapping(live):
    svc, orgs, receiver = live
    with svc.client(svc.key_a) as a:
        assert a.post("/mgmt/v2/webhooks", json={"url": receiver.url}).status_code == 201
        acme_org = orgs["acme"]
        assert a.post("/mgmt/v2/providers", json={
            "name": "salesforce", "auth_type": "oauth2",
            "config": {"oauth": {"credentials": {"oauth_client_id": acme_org.client_id,
                                                 "oauth_client_secret": acme_org.client_secret}}}
        }).status_code == 201
        assert a.post("/mgmt/v2/destinations", json={"name": "hosted", "type": "supaglue"}
                      ).status_code == 201
        created = a.post("/mgmt/v2/schemas", json={"name": "deal", "config": {
            "fields": [{"name": "revenue", "is_required": True},
                       {"name": "title", "mapped_name": "Name"}],
            "allow_additional_field_mappings": True}})
        assert created.status_code == 200, created.text
        schema = created.json()
        assert schema["config"]["fields"][1] == {"name": "title", "mapped_name": "Name"}
        assert a.get(f"/mgmt/v2/schemas/{schema['id']}").json() == schema
        assert [s["name"] for s in a.get("/mgmt/v2/schemas").json()] == ["deal"]
        r = a.post("/mgmt/v2/sync_configs", json={
            "provider_name": "salesforce", "destination_name": "hosted",
            "config": {"default_config": {"period_ms": 3_600_000},
                       "standard_objects": [{"object": "Opportunity",
                                             "schema_id": schema["id"]}]}})
        assert r.status_code == 201, r.text
        for customer, org in orgs.items():
            assert a.put("/mgmt/v2/customers", json={"customer_id": customer}).status_code == 200
            r = a.post(f"/mgmt/v2/customers/{customer}/connections", json={
                "provider_name": "salesforce", "type": "oauth2",
                "refresh_token": org.oauth.mint_refresh_token(acme_org.client_id),
                "login_url": org.base_url})
            assert r.status_code == 200, r.text

        # What a mapping UI shows: the schema's fields, and the customer's org's fields.
        listed = a.get("/mgmt/v2/field_mappings", params={"include_provider_fields": "true"},
                       headers={"x-customer-id": "acme", "x-provider-name": "salesforce"})
        assert listed.status_code == 200, listed.text
        (entry,) = listed.json()
        assert entry["schema_id"] == schema["id"] and entry["object_name"] == "Opportunity"
        assert entry["fields"] == [
            {"name": "revenue", "is_added_by_customer": False},
            {"name": "title", "is_added_by_customer": False, "schema_mapped_name": "Name"}]
        assert {"Amount", "Probability", "StageName"} <= set(entry["provider_fields"])

        # A field the org does not have is refused, naming it; so is re-mapping `title`.
        r = put_mapping(a, "acme", [{"schema_field": "revenue", "mapped_field": "Revenue__c"}])
        assert r.status_code == 400
        detail = r.json()["errors"][0]["detail"]
        assert "'Revenue__c'" in detail and "Opportunity" in detail, detail
        refused = receiver.events("object.field_mapping.created")[0]
        assert refused["result"] == "ERROR" and "Revenue__c" in refused["error_message"]
        r = put_mapping(a, "acme", [{"schema_field": "revenue", "mapped_field": "Amount"},
                                    {"schema_field": "title", "mapped_field": "StageName"}])
        assert r.status_code == 400 and "already mapped to 'Name'" in r.text
        r = put_mapping(a, "acme", [])
        assert r.status_code == 400 and "requires a mapping of 'revenue'" in r.text

        for customer, field in CUSTOMERS.items():
            extra = [{"schema_field": "stage", "mapped_field": "StageName"}] \
                if customer == "acme" else []
            r = put_mapping(a, customer, [{"schema_field": "revenue", "mapped_field": field},
                                          *extra], "/mgmt/v2/field_mappings/_update_object")
            assert r.status_code == 200, r.text
            assert r.json()["fields"][0] == {"name": "revenue", "is_added_by_customer": False,
                                             "customer_mapped_name": field}
        ok = [e for e in receiver.events("object.field_mapping.created", 5)
              if e["result"] == "SUCCESS"]
        assert {(e["customer_id"], e["schema_id"]) for e in ok} == {
            ("acme", schema["id"]), ("globex", schema["id"])}

        for customer in CUSTOMERS:
            trigger(a, customer, 1)
        for customer, field in CUSTOMERS.items():
            stored = rows(customer)
            truth = rest_rows(orgs[customer], "Opportunity", TRUTH_FIELDS)
            assert stored and set(stored) == set(truth)
            assert mismatches(customer, field) == 0
            for rid, (raw, mapped) in stored.items():
                assert mapped["revenue"] == truth[rid][field]
                assert mapped["title"] == truth[rid]["Name"]
                assert raw["Amount"] == truth[rid]["Amount"]  # the raw record is untouched
                if customer == "acme":
                    assert mapped["_supaglue_additional_fields"] == {
                        "stage": truth[rid]["StageName"]}
                else:
                    assert "_supaglue_additional_fields" not in mapped
        assert any(raw["Amount"] != raw["Probability"] for raw, _m in rows("acme").values())

        # The README's query pattern: every customer's own mapping, in one query.
        readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
        section = readme.split("## Schemas and field mappings", 1)[1].split("\n## ", 1)[0]
        (query,) = re.findall(r"```sql\n(.*?)```", section, flags=re.S)
        with psycopg2.connect(os.environ[hosted.URL_ENV]) as conn, conn.cursor() as cur:
            cur.execute(query.replace("supaglue.", f'"{hosted.schema_for("app-a")}".'))
            listed = cur.fetchall()
        for customer, field in CUSTOMERS.items():
            truth = rest_rows(orgs[customer], "Opportunity", TRUTH_FIELDS)
            got = {rid: float(rev) if rev is not None else None
                   for cid, rid, _title, rev, _extra in listed if cid == customer}
            assert got and all(got[rid] == truth[rid][field] for rid in got)

        page = a.get("/data/v2/salesforce/opportunities", headers={"x-customer-id": "globex"},
                     params={"page_size": 5}).json()
        assert page["records"] and all(
            r["_supaglue_mapped_data"]["revenue"] == r["Probability"] for r in page["records"])


def test_a_changed_mapping_applies_from_the_next_sync_and_a_full_refresh_rewrites(live):
    svc, orgs, receiver = live
    org = orgs["acme"]
    with svc.client(svc.key_a) as a:
        r = put_mapping(a, "acme", [{"schema_field": "revenue", "mapped_field": "Probability"}])
        assert r.status_code == 200, r.text
        updated = receiver.events("object.field_mapping.updated")[0]
        assert updated["customer_id"] == "acme" and updated["result"] == "SUCCESS"
        before = rows("acme")
        changed, untouched = sorted(before)[:2]
        org.advance_clock(60)
        org.update("Opportunity", changed, {"Name": "Renamed deal"})
        trigger(a, "acme", 2)  # incremental: only the changed record is written again
        after = rows("acme")
        raw, mapped = after[changed]
        assert mapped == {"revenue": raw["Probability"], "title": "Renamed deal"}
        assert after[untouched] == before[untouched]  # written under the old mapping
        assert mismatches("acme", "Probability") > 0

        trigger(a, "acme", 3, full=True)
        assert mismatches("acme", "Probability") == 0
        assert all("_supaglue_additional_fields" not in m for _r, m in rows("acme").values())
        assert mismatches("globex", "Probability") == 0  # the other customer is unchanged
