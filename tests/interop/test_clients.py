"""Independent clients (simple-salesforce, hubspot-api-client), unchanged, against the twins:
what the clients' users do that the project's own tap never does (Bulk API 1.0 through
simple-salesforce, HubSpot writes, pipelines, legacy and v4 routes), and the provider limits
and details the twins enforce as the real APIs do. Reads, search, properties and schemas with
the same clients are in tests/sandbox/test_*_client.py."""

from __future__ import annotations

from email.utils import format_datetime

import pytest
import requests
from hubspot import HubSpot
from hubspot.crm.objects import PublicObjectSearchRequest, SimplePublicObjectInput
from hubspot.crm.objects import SimplePublicObjectInputForCreate as ForCreate
from hubspot.crm.properties import PropertyCreate
from simple_salesforce import Salesforce
from simple_salesforce.exceptions import SalesforceMalformedRequest

from tap_hubspot.sandbox import HubSpotSandbox
from tap_salesforce.sandbox import SalesforceSandbox


@pytest.fixture(scope="module")
def sb():
    with SalesforceSandbox(records=300, seed=5, bulk_polls=1) as sandbox:
        yield sandbox


@pytest.fixture
def sf(sb):
    return Salesforce(instance_url=sb.https_base_url, session_id=sb.mint_access_token(),
                      session=sb.https_session())


@pytest.fixture(scope="module")
def hs():
    with HubSpotSandbox(records=200, seed=5) as sandbox:
        yield sandbox


@pytest.fixture(scope="module")
def client(hs):
    return HubSpot(access_token=hs.mint_private_app_token(), host=hs.base_url)


def _session(sandbox, token: str, header: str = "Authorization", scheme: str = "Bearer "):
    session = sandbox.https_session()
    session.headers[header] = scheme + token
    return session


# -- Salesforce ------------------------------------------------------------------------------

def test_simple_salesforce_bulk1_query_all_matches_rest(sb, sf):
    rest = {r["Id"] for r in sf.query_all("SELECT Id FROM Contact")["records"]}
    bulk = {r["Id"] for r in sf.bulk.Contact.query("SELECT Id FROM Contact", lazy_operation=False)}
    assert bulk == rest and len(rest) == sb.count("Contact")


def test_simple_salesforce_bulk2_query(sb, sf):
    rows = [line for chunk in sf.bulk2.Account.query("SELECT Id, Name FROM Account")
            for line in chunk.splitlines()[1:] if line]
    assert len(rows) == sb.count("Account")


def test_bulk1_batch_replies_follow_the_job_not_the_request_content_type(sb):
    """tap-salesforce sends Content-Type: application/json on every Bulk 1.0 call; a CSV job
    still answers its batch info and result lists in XML, its job info in JSON."""
    s = _session(sb, sb.mint_access_token(), "X-SFDC-Session", "")
    s.headers["Content-Type"] = "application/json"
    base = f"{sb.https_base_url}/services/async/61.0/job"
    job = s.post(base, json={"operation": "queryAll", "object": "Account",
                             "contentType": "CSV"})
    assert job.headers["Content-Type"].startswith("application/json")
    batch = s.post(f"{base}/{job.json()['id']}/batch", data="SELECT Id FROM Account",
                   headers={"Content-Type": "text/csv"})
    assert batch.text.startswith("<?xml") and "<batchInfo" in batch.text
    batch_id = batch.text.split("<id>")[1].split("</id>")[0]
    info = s.get(f"{base}/{job.json()['id']}/batch/{batch_id}")
    assert info.headers["Content-Type"].startswith("application/xml")
    results = s.get(f"{base}/{job.json()['id']}/batch/{batch_id}/result")
    assert "<result-list" in results.text


def test_query_uri_over_16384_bytes_is_414(sb, sf):
    where = " OR ".join(f"Name = 'Company {i:05d}'" for i in range(700))
    with pytest.raises(Exception) as refused:
        sf.query(f"SELECT Id FROM Account WHERE {where}")
    assert "414" in str(refused.value)
    assert sf.query(f"SELECT Id FROM Account WHERE {where[:5000].rsplit(' OR ', 1)[0]}")


def test_offset_over_2000_is_number_outside_valid_range(sf):
    assert sf.query("SELECT Id FROM Account ORDER BY Id LIMIT 5 OFFSET 2000")["done"]
    with pytest.raises(SalesforceMalformedRequest) as refused:
        sf.query("SELECT Id FROM Account ORDER BY Id LIMIT 5 OFFSET 2001")
    assert refused.value.content[0]["errorCode"] == "NUMBER_OUTSIDE_VALID_RANGE"


def test_standard_picklists_take_any_value_custom_ones_are_restricted(sb, sf):
    created = sf.Account.create({"Name": "Picklist Co", "Industry": "Banking"})
    assert sf.Account.get(created["id"])["Industry"] == "Banking"
    industry = next(f for f in sf.Account.describe()["fields"] if f["name"] == "Industry")
    assert industry["restrictedPicklist"] is False
    sb.add_field("Account", "Grade__c", "picklist", picklist=["Gold", "Silver"])
    with pytest.raises(SalesforceMalformedRequest) as refused:
        sf.Account.create({"Name": "Tier Co", "Grade__c": "Bronze"})
    assert refused.value.content[0]["errorCode"] == "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST"


def test_malformed_json_is_400_json_parser_error(sb):
    s = _session(sb, sb.mint_access_token())
    r = s.post(f"{sb.https_base_url}/services/data/v61.0/sobjects/Account", data="{nope",
               headers={"Content-Type": "application/json"})
    assert r.status_code == 400 and r.json()[0]["errorCode"] == "JSON_PARSER_ERROR"
    assert "sandbox" not in r.text.lower()


def test_describe_honours_if_modified_since(sb):
    s = _session(sb, sb.mint_access_token())
    url = f"{sb.https_base_url}/services/data/v61.0/sobjects/Lead/describe"
    since = format_datetime(sb.clock.now(), usegmt=True)
    assert s.get(url, headers={"If-Modified-Since": since}).status_code == 304
    sb.advance_clock(5)
    sb.add_field("Lead", "Score__c", "double")
    changed = s.get(url, headers={"If-Modified-Since": since})
    assert changed.status_code == 200 and "Score__c" in changed.text


# -- HubSpot ---------------------------------------------------------------------------------

def test_hubspot_client_writes_create_update_archive(hs, client):
    api = client.crm.contacts.basic_api
    made = api.create(ForCreate(properties={"email": "ada@example.com", "firstname": "Ada"}))
    assert made.properties["firstname"] == "Ada"
    api.update(made.id, SimplePublicObjectInput(properties={"firstname": "Augusta"}))
    assert api.get_by_id(made.id, properties=["firstname"]).properties["firstname"] == "Augusta"
    api.archive(made.id)
    archived = api.get_page(archived=True, limit=100).results
    assert made.id in {c.id for c in archived}
    assert hs.get_record("contacts", made.id)["archived"] is True


def test_hubspot_client_creates_a_property_and_writes_it(client):
    created = client.crm.properties.core_api.create("contacts", PropertyCreate(
        name="favorite_tool", label="Favorite tool", type="string", field_type="text",
        group_name="contactinformation"))
    assert created.name == "favorite_tool"
    made = client.crm.contacts.basic_api.create(ForCreate(properties={
        "email": "grace@example.com", "favorite_tool": "COBOL"}))
    assert made.properties["favorite_tool"] == "COBOL"


def test_hubspot_pipelines_and_object_types_hubspot_has(client):
    deals = client.crm.pipelines.pipelines_api.get_all("deals").results
    assert [s.id for s in deals[0].stages][-2:] == ["closedwon", "closedlost"]
    tickets = client.crm.pipelines.pipelines_api.get_all("tickets").results
    assert tickets[0].stages[-1].metadata["ticketState"] == "CLOSED"
    assert client.crm.properties.core_api.get_all("communications").results
    assert client.crm.objects.basic_api.get_page("communications").results == []


def test_hubspot_search_limits(client):
    api = client.crm.contacts.search_api
    one = {"propertyName": "email", "operator": "HAS_PROPERTY"}
    for body, ok in [({"filter_groups": [{"filters": [one] * 10}]}, True),
                     ({"filter_groups": [{"filters": [one] * 11}]}, False),
                     ({"filter_groups": [{"filters": [one]}] * 6}, False),
                     ({"sorts": ["email", "createdate"]}, False)]:
        request = PublicObjectSearchRequest(**body, limit=1)
        if ok:
            assert api.do_search(request).total > 0
        else:
            with pytest.raises(Exception) as refused:
                api.do_search(request)
            assert refused.value.status == 400


def test_hubspot_legacy_and_v4_routes(hs):
    s = _session(hs, hs.mint_private_app_token())
    legacy = s.get(f"{hs.base_url}/properties/v1/deals/properties").json()
    assert isinstance(legacy, list) and {"name", "type", "readOnlyValue"} <= set(legacy[0])
    v4 = s.get(f"{hs.base_url}/crm/v4/objects/tickets",
               params={"limit": 5, "associations": "contacts,conversations"})
    assert v4.status_code == 200 and len(v4.json()["results"]) == 5
    first = s.get(f"{hs.base_url}/crm/v3/objects/contacts", params={"limit": 2}).json()
    numeric = s.get(f"{hs.base_url}/crm/v3/objects/contacts",
                    params={"limit": 2, "after": str(int(first["results"][1]["id"]) + 1)})
    assert numeric.status_code == 200
    assert int(numeric.json()["results"][0]["id"]) > int(first["results"][1]["id"])
    bad = s.post(f"{hs.base_url}/crm/v3/objects/contacts/search", data="{nope",
                 headers={"Content-Type": "application/json"})
    assert bad.status_code == 400 and bad.json()["category"] == "VALIDATION_ERROR"


def test_sandbox_serve_prints_what_a_client_needs():
    """A newcomer's path: `tenantsync sandbox serve`, then a client configured only from what
    it printed (client id and secret, refresh token, CA file) refreshes a token and queries."""
    import signal
    import subprocess
    import sys

    proc = subprocess.Popen([sys.executable, "-c", "from tenantsync.cli import main; main()",
                             "sandbox", "serve", "salesforce", "--records", "50"],
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        printed = {}
        for line in iter(proc.stdout.readline, ""):
            key, sep, value = line.strip().partition(": ")
            printed[key if sep else "base URL"] = value or key
            if key == "provider hosts":
                break
        session = requests.Session()
        session.verify, session.trust_env = printed["CA file"], False
        token = session.post(printed["https base URL"] + "/services/oauth2/token", data={
            "grant_type": "refresh_token", "client_id": printed["client id"],
            "client_secret": printed["client secret"],
            "refresh_token": printed["refresh token"]}, timeout=10).json()
        sf = Salesforce(instance_url=token["instance_url"], session_id=token["access_token"],
                        session=session)
        assert sf.query("SELECT COUNT() FROM Account")["totalSize"] > 0
    finally:
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=30) == 0
