"""The Salesforce twin on the wire: OAuth, headers, errors, replication endpoints, composite,
Bulk 2.0 job states, mutations and schema drift through the control API, faults."""

from __future__ import annotations

import base64
import csv
import hashlib
import hmac
import io
import json
import re
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from tap_salesforce.sandbox import SalesforceSandbox
from tap_salesforce.sandbox.records import wid

V = "/services/data/v61.0"
REDIRECT = "http://127.0.0.1:9/callback"


@pytest.fixture
def sb():
    with SalesforceSandbox(records=1500, seed=3) as sandbox:
        sandbox.token = sandbox.mint_access_token()
        yield sandbox


def call(sb, method, path, token=None, **kw):
    headers = {"Authorization": f"Bearer {token or sb.token}", **kw.pop("headers", {})}
    return requests.request(method, sb.base_url + path, headers=headers, timeout=30, **kw)


def query(sb, soql, path="query", token=None):
    return call(sb, "GET", f"{V}/{path}", token, params={"q": soql})


def live_id(sb, obj):
    return query(sb, f"SELECT Id FROM {obj} ORDER BY Id LIMIT 1").json()["records"][0]["Id"]


def login(sb, **form):
    return requests.post(sb.base_url + "/services/oauth2/token", timeout=30, data={
        "client_id": sb.client_id, "client_secret": sb.client_secret, **form})


# -- OAuth -----------------------------------------------------------------------------------


def test_web_server_flow_consent_code_token_identity(sb):
    client = sb.oauth.register_client(redirect_uris=[REDIRECT])
    page = requests.get(sb.base_url + "/services/oauth2/authorize", timeout=30, params={
        "response_type": "code", "client_id": client.client_id, "redirect_uri": REDIRECT,
        "state": "xyz", "scope": "api refresh_token"})
    assert page.status_code == 200 and "text/html" in page.headers["Content-Type"]
    form = dict(re.findall(r'name="(\w+)" value="([^"]*)"', page.text))
    assert form["state"] == "xyz" and 'value="Allow"' in page.text
    approved = requests.post(sb.base_url + "/services/oauth2/authorize", timeout=30,
                             data={**form, "decision": "Allow"}, allow_redirects=False)
    assert approved.status_code == 302
    location = urlsplit(approved.headers["Location"])
    assert f"{location.scheme}://{location.netloc}{location.path}" == REDIRECT
    params = parse_qs(location.query)
    assert params["state"] == ["xyz"]
    token = requests.post(sb.base_url + "/services/oauth2/token", timeout=30, data={
        "grant_type": "authorization_code", "code": params["code"][0],
        "client_id": client.client_id, "client_secret": client.client_secret,
        "redirect_uri": REDIRECT})
    body = token.json()
    assert list(body) == ["access_token", "refresh_token", "signature", "scope", "instance_url",
                          "id", "token_type", "issued_at"]
    assert "expires_in" not in body and body["token_type"] == "Bearer"
    assert body["instance_url"] == sb.base_url and body["issued_at"].isdigit()
    assert body["access_token"].startswith(sb.org_id[:15] + "!")
    expected = base64.b64encode(hmac.new(client.client_secret.encode(),
                                         (body["id"] + body["issued_at"]).encode(),
                                         hashlib.sha256).digest()).decode()
    assert body["signature"] == expected
    me = requests.get(body["id"], headers={"Authorization": f"Bearer {body['access_token']}"},
                      timeout=30).json()
    assert me["organization_id"] == sb.org_id and me["user_id"] == wid("user", 0)
    assert query(sb, "SELECT Id FROM User", token=body["access_token"]).status_code == 200
    reused = requests.post(sb.base_url + "/services/oauth2/token", timeout=30, data={
        "grant_type": "authorization_code", "code": params["code"][0],
        "client_id": client.client_id, "client_secret": client.client_secret})
    assert reused.json() == {"error": "invalid_grant",
                             "error_description": "expired authorization code"}


def test_consent_denied_and_unregistered_redirect(sb):
    client = sb.oauth.register_client(redirect_uris=[REDIRECT])
    denied = requests.post(sb.base_url + "/services/oauth2/authorize", timeout=30, data={
        "response_type": "code", "client_id": client.client_id, "redirect_uri": REDIRECT,
        "state": "s1", "decision": "Deny"}, allow_redirects=False)
    assert parse_qs(urlsplit(denied.headers["Location"]).query) == {
        "error": ["access_denied"], "error_description": ["end-user denied authorization"],
        "state": ["s1"]}
    wrong = requests.get(sb.base_url + "/services/oauth2/authorize", timeout=30, params={
        "response_type": "code", "client_id": client.client_id,
        "redirect_uri": "http://127.0.0.1:9/elsewhere"})
    assert wrong.status_code == 400 and "redirect_uri_mismatch" in wrong.text


def test_refresh_grant_has_no_refresh_token_and_bad_ones_are_invalid_grant(sb):
    refresh = sb.mint_refresh_token()
    body = login(sb, grant_type="refresh_token", refresh_token=refresh).json()
    assert "refresh_token" not in body and "expires_in" not in body
    assert query(sb, "SELECT Id FROM Account", token=body["access_token"]).status_code == 200
    bad = login(sb, grant_type="refresh_token", refresh_token="5Aep861nope")
    assert bad.status_code == 400
    assert bad.json() == {"error": "invalid_grant",
                          "error_description": "expired access/refresh token"}
    assert login(sb, grant_type="refresh_token", refresh_token=refresh,
                 client_id="nobody").json()["error"] == "invalid_client_id"
    assert login(sb, grant_type="password").json()["error"] == "unsupported_grant_type"
    urlencoded = login(sb, grant_type="refresh_token", refresh_token=refresh,
                       format="urlencoded")
    assert "access_token" in parse_qs(urlencoded.text)


def test_refresh_token_rotation_and_revocation():
    with SalesforceSandbox(records=50, rotate_refresh_tokens=True) as sb:
        first = sb.mint_refresh_token()
        body = login(sb, grant_type="refresh_token", refresh_token=first).json()
        assert body["refresh_token"] != first
        assert login(sb, grant_type="refresh_token", refresh_token=first).status_code == 400
        second = login(sb, grant_type="refresh_token", refresh_token=body["refresh_token"])
        assert second.status_code == 200
        requests.post(sb.base_url + "/_sandbox/auth/revoke-refresh-tokens", json={}, timeout=30)
        revoked = login(sb, grant_type="refresh_token",
                        refresh_token=second.json()["refresh_token"])
        assert revoked.json()["error"] == "invalid_grant"


def test_session_expiry_after_n_calls_and_after_the_session_timeout(sb):
    sb.oauth.expire_access_tokens_after(2)
    fresh = sb.mint_access_token()
    assert [query(sb, "SELECT Id FROM User", token=fresh).status_code for _ in range(3)] == [
        200, 200, 401]
    expired = query(sb, "SELECT Id FROM User", token=fresh)
    assert expired.json() == [{"message": "Session expired or invalid",
                               "errorCode": "INVALID_SESSION_ID"}]
    assert expired.headers["WWW-Authenticate"] == "Token"
    sb.oauth.expire_access_tokens_after(None)
    other = sb.mint_access_token()
    assert query(sb, "SELECT Id FROM User", token=other).status_code == 200
    sb.advance_clock(2 * 3600 + 1)  # the default two-hour session timeout
    assert query(sb, "SELECT Id FROM User", token=other).status_code == 401


# -- REST conventions --------------------------------------------------------------------------


def test_limit_info_header_on_every_rest_response(sb):
    pattern = re.compile(r"^api-usage=(\d+)/(\d+)$")  # tap-salesforce's anchored regex
    responses = [requests.get(sb.base_url + "/services/data/", timeout=30),
                 query(sb, "SELECT Id FROM Account"), query(sb, "SELECT Nope FROM Account"),
                 call(sb, "GET", f"{V}/sobjects/Nope/describe"),
                 call(sb, "GET", f"{V}/limits", token="bad")]
    used = [int(pattern.match(r.headers["Sforce-Limit-Info"]).group(1)) for r in responses]
    assert used == [0, 1, 2, 3, 3]  # the versions list and refused sessions are free


def test_versions_list_and_unknown_version(sb):
    versions = requests.get(sb.base_url + "/services/data", timeout=30).json()
    by_version = {v["version"]: v for v in versions}
    assert by_version["59.0"] == {"label": "Winter '24", "url": "/services/data/v59.0",
                                  "version": "59.0"}
    assert by_version["61.0"]["label"] == "Summer '24"
    missing = call(sb, "GET", "/services/data/v19.0/sobjects")
    assert missing.status_code == 404 and missing.json()[0]["errorCode"] == "NOT_FOUND"


def test_query_all_next_records_url_says_query_and_bad_locator(sb):
    page = call(sb, "GET", f"{V}/queryAll", params={"q": "SELECT Id FROM Contact"},
                headers={"Sforce-Query-Options": "batchSize=100"}).json()
    assert page["totalSize"] > 200 and len(page["records"]) == 200  # 200 is the least
    assert page["nextRecordsUrl"].startswith(f"{V}/query/01g")
    bad = call(sb, "GET", f"{V}/query/01gDn0000000000AAA-2000")
    assert bad.status_code == 400 and bad.json()[0]["errorCode"] == "INVALID_QUERY_LOCATOR"


def test_record_endpoints(sb):
    account = live_id(sb, "Account")
    got = call(sb, "GET", f"{V}/sobjects/Account/{account}", params={"fields": "Name,Phone"})
    assert set(got.json()) == {"attributes", "Name", "Phone"}
    assert call(sb, "GET", f"{V}/sobjects/Account/{account[:15]}").json()["Id"] == account
    missing = call(sb, "GET", f"{V}/sobjects/Account/001Dn9999999999AAA")
    assert missing.status_code == 404
    assert missing.json() == [{"message": "The requested resource does not exist",
                               "errorCode": "NOT_FOUND"}]
    bad_field = call(sb, "PATCH", f"{V}/sobjects/Account/{account}", json={"Colour__c": "red"})
    assert bad_field.status_code == 400 and bad_field.json()[0]["errorCode"] == "INVALID_FIELD"
    wrong_type = call(sb, "PATCH", f"{V}/sobjects/Account/{account}",
                      json={"NumberOfEmployees": "many"})
    assert wrong_type.json()[0]["errorCode"] == "INVALID_TYPE_ON_FIELD_IN_RECORD"
    required = call(sb, "POST", f"{V}/sobjects/Opportunity", json={"Name": "Deal"})
    assert required.json()[0]["errorCode"] == "REQUIRED_FIELD_MISSING"
    assert set(required.json()[0]["fields"]) == {"StageName", "CloseDate"}


def test_composite_batch_describes_and_halts_on_error(sb):
    subs = [{"method": "GET", "url": f"v61.0/sobjects/{o}/describe"}
            for o in ("Account", "Contact", "Lead")]
    ok = call(sb, "POST", f"{V}/composite/batch", json={"haltOnError": True,
                                                        "batchRequests": subs}).json()
    assert not ok["hasErrors"] and [r["result"]["name"] for r in ok["results"]] == [
        "Account", "Contact", "Lead"]
    broken = [subs[0], {"method": "GET", "url": f"{V}/sobjects/Nope/describe"}, subs[1]]
    halted = call(sb, "POST", f"{V}/composite/batch", json={"haltOnError": True,
                                                            "batchRequests": broken}).json()
    assert halted["hasErrors"]
    assert [r["statusCode"] for r in halted["results"]] == [200, 404, 412]
    assert halted["results"][2]["result"][0]["errorCode"] == "BATCH_PROCESSING_HALTED"
    too_many = call(sb, "POST", f"{V}/composite/batch", json={"batchRequests": subs * 9})
    assert too_many.status_code == 400
    assert sb.accounting.snapshot()["requests"]["composite.batch"] == 3


# -- deletes, the recycle bin, replication ----------------------------------------------------


def test_delete_restore_and_the_deleted_endpoint(sb):
    ctl = sb.base_url + "/_sandbox/objects/Lead"
    lead = live_id(sb, "Lead")
    assert requests.delete(f"{ctl}/{lead}", timeout=30).status_code == 204
    assert query(sb, f"SELECT Id FROM Lead WHERE Id = '{lead}'").json()["totalSize"] == 0
    binned = query(sb, f"SELECT Id, IsDeleted, SystemModstamp FROM Lead WHERE Id = '{lead}'",
                   "queryAll").json()["records"][0]
    assert binned["IsDeleted"] is True
    sb.advance_clock(60)  # the replication API covers whole minutes that have passed
    start = "2024-12-01T00:00:00+00:00"
    end = sb.clock.now().replace(microsecond=0).isoformat()
    deleted = call(sb, "GET", f"{V}/sobjects/Lead/deleted/",
                   params={"start": start, "end": end}).json()
    assert {"id": lead, "deletedDate": binned["SystemModstamp"]} in deleted["deletedRecords"]
    assert deleted["earliestDateAvailable"] == "2024-12-17T00:01:00.000+0000"  # now - 15 days
    reversed_window = call(sb, "GET", f"{V}/sobjects/Lead/deleted/",
                           params={"start": end, "end": start})
    assert reversed_window.json()[0]["errorCode"] == "INVALID_REPLICATION_DATE"
    restored = requests.post(f"{ctl}/{lead}/restore", timeout=30).json()
    assert restored["IsDeleted"] is False
    assert query(sb, f"SELECT Id FROM Lead WHERE Id = '{lead}'").json()["totalSize"] == 1


def test_recycle_bin_empties_after_15_days(sb):
    case = live_id(sb, "Case")
    sb.delete("Case", case)
    assert sb.count("Case", include_deleted=True) - sb.count("Case") >= 1
    sb.advance_clock(16 * 86400)
    token = sb.mint_access_token()  # the old session timed out meanwhile
    rows = query(sb, f"SELECT Id FROM Case WHERE Id = '{case}'", "queryAll", token).json()
    assert rows["totalSize"] == 0
    with pytest.raises(KeyError):
        sb.restore("Case", case)


def test_updated_endpoint_and_incremental_window(sb):
    sb.advance_clock(60)
    before = sb.clock.now()
    account = live_id(sb, "Account")
    changed = sb.update("Account", account, {"Rating": "Hot"})
    assert changed["SystemModstamp"] == changed["LastModifiedDate"]
    assert changed["SystemModstamp"] >= before.strftime("%Y-%m-%dT%H:%M:%S")
    since = before.strftime("%Y-%m-%dT%H:%M:%S.%fZ")[:-4] + "Z"
    rows = query(sb, f"SELECT Id, Rating FROM Account WHERE SystemModstamp >= {since} "
                     "ORDER BY SystemModstamp ASC").json()["records"]
    assert [(r["Id"], r["Rating"]) for r in rows] == [(account, "Hot")]
    sb.advance_clock(120)
    updated = call(sb, "GET", f"{V}/sobjects/Account/updated/", params={
        "start": before.replace(second=0, microsecond=0).isoformat(),
        "end": sb.clock.now().isoformat()}).json()
    assert updated["ids"] == [account]


# -- schema drift ----------------------------------------------------------------------------


def test_custom_field_added_over_http_is_described_queried_and_written(sb):
    added = requests.post(sb.base_url + "/_sandbox/objects/Account/fields", timeout=30,
                          json={"name": "Segment__c", "type": "picklist",
                                "picklist": ["SMB", "Enterprise"]})
    assert added.status_code == 200 and added.json()["custom"] is True
    fields = {f["name"]: f for f in call(sb, "GET", f"{V}/sobjects/Account/describe").json()[
        "fields"]}
    assert [v["value"] for v in fields["Segment__c"]["picklistValues"]] == ["SMB", "Enterprise"]
    account = live_id(sb, "Account")
    before = query(sb, f"SELECT Segment__c FROM Account WHERE Id = '{account}'").json()
    assert before["records"][0]["Segment__c"] is None
    assert call(sb, "PATCH", f"{V}/sobjects/Account/{account}",
                json={"Segment__c": "Enterprise"}).status_code == 204
    rows = query(sb, "SELECT Id FROM Account WHERE Segment__c = 'enterprise'").json()
    assert [r["Id"] for r in rows["records"]] == [account]
    full = query(sb, f"SELECT FIELDS(ALL) FROM Account WHERE Id = '{account}' LIMIT 1").json()
    assert list(full["records"][0])[-1] == "Segment__c"
    bad = requests.post(sb.base_url + "/_sandbox/objects/Account/fields", timeout=30,
                        json={"name": "Segment", "type": "picklist"})
    assert bad.status_code == 400 and "Name__c" in bad.json()["error"]
    unknown = requests.post(sb.base_url + "/_sandbox/objects/Widget__c/fields", timeout=30,
                            json={"name": "X__c", "type": "string"})
    assert unknown.status_code == 404


# -- Bulk API 2.0 ------------------------------------------------------------------------------


def test_bulk2_job_states_locators_and_errors(sb):
    jobs = f"{V}/jobs/query"
    created = call(sb, "POST", jobs, json={"operation": "query",
                                           "query": "SELECT Id, Name FROM Account"}).json()
    assert created["state"] == "UploadComplete" and created["apiVersion"] == 61.0
    job = created["id"]
    early = call(sb, "GET", f"{jobs}/{job}/results")
    assert early.status_code == 412 and early.json()[0]["errorCode"] == "JOB_NOT_COMPLETE"
    states = [call(sb, "GET", f"{jobs}/{job}").json()["state"] for _ in range(3)]
    assert states == ["InProgress", "JobComplete", "JobComplete"]
    total = sb.count("Account")
    first = call(sb, "GET", f"{jobs}/{job}/results", params={"maxRecords": 10})
    assert first.headers["Content-Type"] == "text/csv"
    assert first.headers["Sforce-NumberOfRecords"] == "10"
    assert first.headers["Sforce-Locator"] == "MTA"  # base64("10"), as opaque as the real one
    assert first.text.splitlines()[0] == '"Id","Name"'
    rest = call(sb, "GET", f"{jobs}/{job}/results",
                params={"maxRecords": 100000, "locator": "MTA"})
    assert rest.headers["Sforce-Locator"] == "null"
    assert int(rest.headers["Sforce-NumberOfRecords"]) == total - 10
    other_version = call(sb, "GET", f"/services/data/v60.0/jobs/query/{job}/results")
    assert other_version.status_code == 409
    compound = call(sb, "POST", jobs, json={"operation": "query",
                                            "query": "SELECT BillingAddress FROM Account"})
    assert compound.status_code == 400
    assert "compound data not supported" in compound.json()[0]["message"]
    bad_op = call(sb, "POST", jobs, json={"operation": "insert", "query": "SELECT Id FROM Lead"})
    assert bad_op.status_code == 400
    assert call(sb, "DELETE", f"{jobs}/{job}").status_code == 204
    assert call(sb, "GET", f"{jobs}/{job}").status_code == 404


def test_bulk2_abort(sb):
    jobs = f"{V}/jobs/query"
    job = call(sb, "POST", jobs, json={"operation": "queryAll",
                                       "query": "SELECT Id FROM Contact"}).json()["id"]
    aborted = call(sb, "PATCH", f"{jobs}/{job}", json={"state": "Aborted"}).json()
    assert aborted["state"] == "Aborted"
    assert call(sb, "GET", f"{jobs}/{job}/results").status_code == 412
    listed = call(sb, "GET", jobs).json()
    assert [j["id"] for j in listed["records"]] == [job] and listed["done"]


def bulk_rows(sb, soql):
    jobs = f"{V}/jobs/query"
    job = call(sb, "POST", jobs, json={"operation": "queryAll", "query": soql}).json()["id"]
    while call(sb, "GET", f"{jobs}/{job}").json()["state"] != "JobComplete":
        pass
    return list(csv.reader(io.StringIO(call(sb, "GET", f"{jobs}/{job}/results").text)))


def test_bulk2_csv_says_what_rest_says_in_bulk_s_forms(sb):
    fields = "Id, Name, IsDeleted, NumberOfEmployees, AnnualRevenue, CreatedDate, ParentId"
    header, *rows = bulk_rows(sb, f"SELECT {fields} FROM Account ORDER BY Id")
    rest = query(sb, f"SELECT {fields} FROM Account ORDER BY Id", path="queryAll").json()
    assert header == [f.strip() for f in fields.split(",")] and len(rows) == rest["totalSize"]
    for row, record in zip(rows, rest["records"], strict=True):
        expected = []
        for name in header:
            value = record[name]
            if isinstance(value, bool):
                value = str(value).lower()
            elif name == "CreatedDate":  # 2024-01-01T00:00:00.000+0000 -> ...000Z
                value = value[:-5] + "Z"
            expected.append("" if value is None else str(value))
        assert row == expected
    assert {r[2] for r in rows} <= {"true", "false"} and any(r[6] == "" for r in rows)


def test_bulk2_csv_of_an_any_type_value_that_is_a_boolean(sb):
    """A history row's NewValue is whatever the field held (true, for a checkbox): the page
    takes the general path, and every other row is as before."""
    soql = "SELECT Id, Field, NewValue, CreatedDate FROM AccountHistory ORDER BY Id"
    before = bulk_rows(sb, soql)
    history = sb.sobject("AccountHistory")
    first = before[1][0]
    record = json.loads(sb.store.get("AccountHistory", first).doc)
    sb._save(history, {**record, "NewValue": True})
    after = bulk_rows(sb, soql)
    assert after[1] == [first, before[1][1], "true", before[1][3]]
    assert after[2:] == before[2:] and after[0] == before[0]


# -- faults, in Salesforce's shape -------------------------------------------------------------


def test_injected_faults_use_salesforce_error_bodies(sb):
    sb.faults.add("status", status=503, path="/query", count=1)
    sb.faults.add("status", status=429, retry_after=5, path="/sobjects", count=1)
    unavailable = query(sb, "SELECT Id FROM Account")
    assert unavailable.status_code == 503
    assert unavailable.json()[0]["errorCode"] == "SERVER_UNAVAILABLE"
    assert "Sforce-Limit-Info" in unavailable.headers
    limited = call(sb, "GET", f"{V}/sobjects")
    assert limited.status_code == 429 and limited.headers["Retry-After"] == "5"
    assert call(sb, "GET", f"{V}/sobjects").status_code == 200  # did not wait
    assert sb.accounting.snapshot()["rate_limit_violations"] == 1
    sb.faults.add("truncate", path="/query")
    with pytest.raises(requests.exceptions.JSONDecodeError):
        query(sb, "SELECT Id FROM Account").json()


def test_same_seed_same_org_other_seed_other_data():
    def snapshot(seed):
        with SalesforceSandbox(records=300, seed=seed) as sandbox:
            return {name: sandbox.store.conn().execute(
                f'SELECT id, deleted, doc FROM "{name}" ORDER BY id').fetchall()
                for name in sandbox.objects}
    first = snapshot(21)
    assert first == snapshot(21)
    other = snapshot(22)
    assert first["Account"] != other["Account"]
    assert sum(len(rows) for rows in first.values()) > 300
