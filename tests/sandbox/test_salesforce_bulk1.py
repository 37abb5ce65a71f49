"""Bulk API 1.0 query jobs: simple-salesforce's `sf.bulk` (JSON) and the CSV + XML dialect that
singer-io tap-salesforce's BULK mode speaks (X-SFDC-Session, batch info in XML, PK chunking)."""

from __future__ import annotations

import csv
import io
import xml.etree.ElementTree as ET
from datetime import datetime, timezone

import pytest
import requests
from simple_salesforce import Salesforce

from tap_salesforce.sandbox import SalesforceSandbox

NS = {"a": "http://www.force.com/2009/06/asyncapi/dataload"}


@pytest.fixture(scope="module")
def sb():
    with SalesforceSandbox(records=2500, seed=9) as sandbox:
        yield sandbox


@pytest.fixture
def sf(sb):
    return Salesforce(instance_url=sb.https_base_url, session_id=sb.mint_access_token(),
                      session=sb.https_session())


class Bulk:
    """A bare Bulk 1.0 client in the CSV/XML dialect."""

    def __init__(self, sb, **headers):
        self.base = f"{sb.base_url}/services/async/61.0/"
        self.session = requests.Session()
        self.session.headers["X-SFDC-Session"] = sb.mint_access_token()
        self.session.headers.update(headers)

    def create(self, operation, obj, **headers):
        r = self.session.post(self.base + "job", json={"operation": operation, "object": obj,
                                                       "contentType": "CSV"},
                              headers=headers, timeout=30)
        assert r.status_code == 200, r.text
        return r.json()["id"]

    def add_batch(self, job, soql):
        r = self.session.post(f"{self.base}job/{job}/batch", data=soql,
                              headers={"Content-Type": "text/csv"}, timeout=30)
        assert r.headers["Content-Type"] == "application/xml"
        return parse_xml(r.text)

    def get(self, path):
        return self.session.get(self.base + path, timeout=30)


def parse_xml(body: str) -> ET.Element:
    return ET.fromstring(body)  # noqa: S314 - our own sandbox's reply, on loopback


def text(element, name):
    return element.find(f"a:{name}", NS).text


def test_simple_salesforce_bulk_query_matches_rest(sb, sf):
    soql = "SELECT Id, Name, CreatedDate, AnnualRevenue FROM Account"
    bulk = sf.bulk.Account.query(soql, wait=0.01)
    rest = {r["Id"]: r for r in sf.query_all(soql)["records"]}
    assert [r["Id"] for r in bulk] == list(rest)
    one = bulk[3]
    assert one["attributes"]["type"] == "Account" and one["Name"] == rest[one["Id"]]["Name"]
    created = datetime.strptime(rest[one["Id"]]["CreatedDate"], "%Y-%m-%dT%H:%M:%S.%f%z")
    assert one["CreatedDate"] == int(created.timestamp() * 1000)  # JSON bulk: epoch ms


def test_simple_salesforce_bulk_query_all_includes_the_recycle_bin(sb, sf):
    rows = sf.bulk.Contact.query_all("SELECT Id, IsDeleted FROM Contact", wait=0.01)
    assert len(rows) == sb.count("Contact", include_deleted=True)
    assert any(r["IsDeleted"] for r in rows)


def test_csv_job_with_xml_batch_info_and_pk_chunking(sb):
    client = Bulk(sb)
    job = client.create("queryAll", "Lead",
                        **{"Sforce-Enable-PKChunking": "true; chunkSize=100"})
    original = client.add_batch(job, "SELECT Id, Name, SystemModstamp FROM Lead")
    assert text(original, "state") == "NotProcessed"
    closed = client.session.post(f"{client.base}job/{job}", json={"state": "Closed"},
                                 timeout=30).json()
    assert closed["state"] == "Closed"
    for _ in range(sb.bulk_polls):
        listing = parse_xml(client.get(f"job/{job}/batch").text)
    batches = listing.findall("a:batchInfo", NS)
    chunks = [b for b in batches if text(b, "state") != "NotProcessed"]
    total = sb.count("Lead", include_deleted=True)
    assert len(chunks) == -(-total // 100)
    assert {text(b, "state") for b in chunks} == {"Completed"}
    ids = []
    for batch in chunks:
        results = parse_xml(client.get(f"job/{job}/batch/{text(batch, 'id')}/result").text)
        for result in results.findall("a:result", NS):
            body = client.get(f"job/{job}/batch/{text(batch, 'id')}/result/{result.text}")
            rows = list(csv.DictReader(io.StringIO(body.text)))
            assert rows[0]["SystemModstamp"].endswith("Z")
            ids.extend(r["Id"] for r in rows)
    assert len(ids) == len(set(ids)) == total
    assert ids == sorted(ids)  # chunks are Id ranges, in Id order
    stamp = datetime.strptime(rows[0]["SystemModstamp"], "%Y-%m-%dT%H:%M:%S.%fZ")
    assert stamp.replace(tzinfo=timezone.utc) <= sb.clock.now()


def test_batch_states_results_before_completion_and_bad_queries(sb):
    client = Bulk(sb)
    job = client.create("query", "Case")
    batch = text(client.add_batch(job, "SELECT Id FROM Case"), "id")
    early = client.get(f"job/{job}/batch/{batch}/result")
    assert early.status_code == 400
    assert text(parse_xml(early.text), "exceptionCode") == "InvalidBatch"
    states = [text(parse_xml(client.get(f"job/{job}/batch/{batch}").text), "state")
              for _ in range(3)]
    assert states == ["InProgress", "Completed", "Completed"]
    failed = client.add_batch(job, "SELECT Nope FROM Case")
    assert text(failed, "state") == "Failed"
    assert text(failed, "stateMessage").startswith(
        "InvalidBatch : Failed to process query: INVALID_FIELD")


def test_sessions_and_unknown_jobs(sb):
    bad = requests.get(f"{sb.base_url}/services/async/61.0/job/750Dn0000000001AAA",
                       headers={"X-SFDC-Session": "nope"}, timeout=30)
    assert bad.status_code == 400  # Bulk 1.0 answers a bad session with 400, not 401
    assert text(parse_xml(bad.text), "exceptionCode") == "InvalidSessionId"
    client = Bulk(sb, **{"Content-Type": "application/json"})
    gone = client.get("job/750Dn0000000zzzAAA")
    assert gone.status_code == 400 and gone.headers["Content-Type"].startswith(
        "application/json")
    assert gone.json()["exceptionCode"] == "InvalidJob"
    insert = client.session.post(client.base + "job", json={"operation": "insert",
                                                            "object": "Account"}, timeout=30)
    assert insert.json()["exceptionCode"] == "InvalidJob"
