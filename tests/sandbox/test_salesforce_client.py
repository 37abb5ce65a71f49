"""Fidelity: the official `simple-salesforce` client, unchanged, against the Salesforce twin.

Only the instance URL (and trusting the sandbox certificate) differs from real use. Results are
checked against the data world the twin was generated from, not against the twin itself.
"""

from __future__ import annotations

import csv
import io
import re

import pytest
from simple_salesforce import Salesforce
from simple_salesforce.exceptions import (
    SalesforceExpiredSession,
    SalesforceMalformedRequest,
    SalesforceRefusedRequest,
    SalesforceResourceNotFound,
)

from tap_salesforce.sandbox import SalesforceSandbox
from tap_salesforce.sandbox.records import wid


@pytest.fixture(scope="module")
def sb():
    with SalesforceSandbox(records=8000, seed=7) as sandbox:
        yield sandbox


@pytest.fixture
def sf(sb):
    sb.accounting.reset()
    return Salesforce(instance_url=sb.https_base_url, session_id=sb.mint_access_token(),
                      session=sb.https_session())


def _live(sb, obj: str, kind: str) -> dict[str, int]:
    """id -> world index of the live (not recycle-binned) records of `obj`."""
    deleted = {r[0] for r in sb.store.conn().execute(f'SELECT id FROM "{obj}" WHERE deleted = 1')}
    ids = {wid(kind, i): i for i in range(sb.world.counts[kind])}
    return {k: v for k, v in ids.items() if k not in deleted}


def test_query_all_returns_every_live_account_with_world_values(sb, sf):
    result = sf.query_all("SELECT Id, Name, Website, NumberOfEmployees, BillingCity "
                          "FROM Account")
    live = _live(sb, "Account", "company")
    assert result["totalSize"] == len(result["records"]) == len(live)
    assert 0 < len(live) < sb.world.counts["company"]  # some accounts start in the recycle bin
    for rec in result["records"]:
        company = sb.world.get("company", live[rec["Id"]])
        assert rec["attributes"] == {"type": "Account",
                                     "url": f"/services/data/v59.0/sobjects/Account/{rec['Id']}"}
        assert (rec["Name"], rec["Website"], rec["NumberOfEmployees"], rec["BillingCity"]) == (
            company["name"], company["website"], company["employees"],
            company["address"]["city"])


def test_query_pages_of_2000_with_relative_next_records_url(sb, sf):
    first = sf.query("SELECT Id, LastName FROM Contact ORDER BY LastName, Id")
    live = _live(sb, "Contact", "contact")
    assert len(live) > 2000
    assert first["totalSize"] == len(live) and not first["done"]
    assert len(first["records"]) == 2000
    assert re.fullmatch(r"/services/data/v59\.0/query/01g\w{15}-2000", first["nextRecordsUrl"])
    rest = sf.query_more(first["nextRecordsUrl"], identifier_is_url=True)
    assert rest["done"] and "nextRecordsUrl" not in rest
    ids = [r["Id"] for r in first["records"] + rest["records"]]
    assert sorted(ids) == sorted(live)
    names = [r["LastName"].lower() for r in first["records"] + rest["records"]]
    assert names == sorted(names)  # SOQL sorts text case-insensitively
    assert sb.accounting.snapshot()["requests"] == {"query": 1, "query.more": 1}


def test_batch_size_header_lowers_the_page_size(sb, sf):
    page = sf.query("SELECT Id FROM Lead", headers={"Sforce-Query-Options": "batchSize=200"})
    assert len(page["records"]) == 200 and page["nextRecordsUrl"].endswith("-200")


def test_incremental_query_with_unquoted_datetime_literal(sb, sf):
    cutoff = "2024-06-01T00:00:00Z"
    rows = sf.query_all("SELECT Id, SystemModstamp FROM Opportunity WHERE SystemModstamp >= "
                        f"{cutoff} ORDER BY SystemModstamp ASC")["records"]
    stamps = [r["SystemModstamp"] for r in rows]
    assert stamps == sorted(stamps) and stamps
    assert all(re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+0000", s) for s in stamps)
    assert stamps[0] >= "2024-06-01T00:00:00.000+0000"
    everything = sf.query_all("SELECT Id, SystemModstamp FROM Opportunity")["records"]
    assert len(rows) == sum(r["SystemModstamp"] >= "2024-06-01T00:00:00.000+0000"
                            for r in everything)


def test_query_all_includes_recycle_bin_rows(sb, sf):
    live = sf.query_all("SELECT Id FROM Contact")["totalSize"]
    every = sf.query_all("SELECT Id, IsDeleted FROM Contact", include_deleted=True)["records"]
    binned = [r for r in every if r["IsDeleted"]]
    assert binned and len(every) == live + len(binned)


def test_describe_global_and_object(sf):
    names = {o["name"] for o in sf.describe()["sobjects"]}
    assert {"Account", "Contact", "Lead", "Opportunity", "User", "Task", "Event", "Campaign",
            "Case", "OpportunityContactRole", "Invoice__c"} <= names
    account = sf.Account.describe()
    fields = {f["name"]: f for f in account["fields"]}
    assert fields["Id"]["type"] == "id" and fields["Id"]["soapType"] == "tns:ID"
    assert fields["BillingAddress"]["type"] == "address"
    assert fields["BillingCity"]["compoundFieldName"] == "BillingAddress"
    assert fields["Tier__c"]["custom"] and fields["Tier__c"]["type"] == "picklist"
    assert [v["value"] for v in fields["Tier__c"]["picklistValues"]] == [
        "Platinum", "Gold", "Silver", "Bronze"]
    assert fields["OwnerId"]["referenceTo"] == ["User"]
    assert fields["SystemModstamp"]["type"] == "datetime"
    invoice = sf.Invoice__c.describe()
    assert invoice["custom"] and invoice["keyPrefix"] == "a0I"
    types = {f["type"] for o in ("Account", "Contact", "Opportunity", "Task", "AccountHistory")
             for f in getattr(sf, o).describe()["fields"]}
    assert {"id", "boolean", "string", "picklist", "multipicklist", "combobox", "textarea",
            "phone", "url", "email", "reference", "encryptedstring", "double", "currency",
            "percent", "int", "date", "datetime", "time", "address", "location",
            "anyType"} <= types


def test_bulk2_query_csv_matches_rest(sb, sf):
    soql = "SELECT Id, Name, AnnualRevenue, IsDeleted, CreatedDate FROM Account"
    pages = list(sf.bulk2.Account.query(soql, max_records=150, wait=0.01))
    rows = [row for page in pages for row in csv.DictReader(io.StringIO(page))]
    rest = {r["Id"]: r for r in sf.query_all(soql)["records"]}
    assert len(pages) == -(-len(rest) // 150)
    assert [r["Id"] for r in rows] == list(rest)
    sample = rows[5]
    expected = rest[sample["Id"]]
    assert sample["Name"] == expected["Name"]
    assert float(sample["AnnualRevenue"]) == expected["AnnualRevenue"]
    assert sample["IsDeleted"] == "false"
    assert sample["CreatedDate"] == expected["CreatedDate"].replace("+0000", "Z")
    requests = sb.accounting.snapshot()["requests"]
    assert requests["bulk2.create"] == 1 and requests["bulk2.status"] == 2
    assert requests["bulk2.results"] == len(pages)


def test_bulk2_query_all_includes_deleted(sb, sf):
    pages = sf.bulk2.Task.query_all("SELECT Id, IsDeleted FROM Task", wait=0.01)
    rows = [row for page in pages for row in csv.DictReader(io.StringIO(page))]
    assert len(rows) == sb.count("Task", include_deleted=True)
    assert {r["IsDeleted"] for r in rows} == {"true", "false"}


def test_api_usage_and_limits(sb, sf):
    sf.query("SELECT Id FROM User")
    assert sf.api_usage["api-usage"].used == 1 and sf.api_usage["api-usage"].total == 100_000
    limits = sf.limits()
    assert limits["DailyApiRequests"] == {"Max": 100_000, "Remaining": 100_000 - 2}
    assert {"DailyBulkApiBatches", "DailyBulkV2QueryJobs"} <= set(limits)


def test_record_crud_is_visible_to_queries(sb, sf):
    created = sf.Contact.create({"LastName": "Okafor", "FirstName": "Ada",
                                 "Email": "ada@example.com"})
    assert created["success"]
    contact = sf.Contact.get(created["id"])
    assert contact["Name"] == "Ada Okafor" and contact["IsDeleted"] is False
    sf.Contact.update(created["id"], {"Title": "CTO"})
    rows = sf.query("SELECT Id, Title FROM Contact WHERE Email = 'ADA@example.com'")
    assert [(r["Id"], r["Title"]) for r in rows["records"]] == [(created["id"], "CTO")]
    sf.Contact.delete(created["id"])
    assert sf.query(f"SELECT Id FROM Contact WHERE Id = '{created['id']}'")["totalSize"] == 0
    binned = sf.query_all(f"SELECT Id, IsDeleted FROM Contact WHERE Id = '{created['id']}'",
                          include_deleted=True)
    assert binned["records"][0]["IsDeleted"] is True
    with pytest.raises(SalesforceResourceNotFound, match="ENTITY_IS_DELETED"):
        sf.Contact.get(created["id"])


def test_errors_map_to_client_exceptions(sb, sf):
    with pytest.raises(SalesforceMalformedRequest, match="INVALID_FIELD") as info:
        sf.query("SELECT Id, Nmae FROM Account")
    assert "No such column 'Nmae' on entity 'Account'" in info.value.content[0]["message"]
    with pytest.raises(SalesforceMalformedRequest, match="MALFORMED_QUERY"):
        sf.query("SELECT Id FROM Account WHERE")
    with pytest.raises(SalesforceMalformedRequest, match="INVALID_TYPE"):
        sf.query("SELECT Id FROM Acount")
    with pytest.raises(SalesforceMalformedRequest, match="INVALID_FIELD_FOR_INSERT_UPDATE"):
        sf.Account.update(wid("company", 1), {"SystemModstamp": "2024-01-01T00:00:00Z"})
    expired = Salesforce(instance_url=sb.https_base_url, session_id="00Dbogus!AR",
                         session=sb.https_session())
    with pytest.raises(SalesforceExpiredSession, match="INVALID_SESSION_ID"):
        expired.query("SELECT Id FROM Account")


def test_daily_quota_is_refused_with_403():
    with SalesforceSandbox(records=100, seed=1, api_quota=2) as small:
        sf = Salesforce(instance_url=small.https_base_url, session_id=small.mint_access_token(),
                        session=small.https_session())
        sf.query("SELECT Id FROM Account")
        sf.query("SELECT Id FROM Account")
        with pytest.raises(SalesforceRefusedRequest, match="REQUEST_LIMIT_EXCEEDED"):
            sf.query("SELECT Id FROM Account")


@pytest.mark.slow
def test_100k_world_incremental_paging_with_the_client():
    with SalesforceSandbox(records=100_000, seed=11) as big:
        sf = Salesforce(instance_url=big.https_base_url, session_id=big.mint_access_token(),
                        session=big.https_session())
        soql = ("SELECT Id, SystemModstamp FROM Contact WHERE SystemModstamp >= "
                "2024-01-01T00:00:00Z ORDER BY SystemModstamp ASC")
        stamps = [r["SystemModstamp"] for r in sf.query_all_iter(soql)]
        expected = big.store.count("Contact", "deleted = 0 AND modstamp >= ?",
                                   ["2024-01-01T00:00:00.000+0000"])
        assert len(stamps) == expected > 10_000
        assert stamps == sorted(stamps)
        assert big.accounting.snapshot()["requests"]["query.more"] == -(-expected // 2000) - 1
