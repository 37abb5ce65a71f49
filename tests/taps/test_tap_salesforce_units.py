"""tap-salesforce pieces that need no server: error classification, quota header, SOQL,
describe -> schema, Bulk CSV typing, sync-config validation, and the Meltano plugin file."""

from __future__ import annotations

import csv
import io
import json
import logging
import random

import pytest
import requests
from singer_sdk.exceptions import ConfigValidationError

from tap_salesforce import client, soql
from tap_salesforce.client import BulkJobFailed, _csv_page, api_usage, classify, csv_rows
from tap_salesforce.discovery import _wanted, object_spec
from tap_salesforce.streams import csv_record_builder
from tap_salesforce.tap import TapSalesforce
from tenantsync.tapkit.errors import FatalHttpError, RetriableBodyError
from tenantsync.tapkit.http import Disposition


def response(status, body=b"", headers=None):
    r = requests.Response()
    r.status_code, r._content = status, body if isinstance(body, bytes) else body.encode()
    r.headers.update(headers or {})
    return r


@pytest.mark.parametrize(("status", "body", "disposition", "code"), [
    (200, "{}", Disposition.OK, None),
    (401, '[{"message":"Session expired or invalid","errorCode":"INVALID_SESSION_ID"}]',
     Disposition.REAUTH, "INVALID_SESSION_ID"),
    (400, '<error><exceptionCode>InvalidSessionId</exceptionCode>'
          '<exceptionMessage>Invalid session id</exceptionMessage></error>',
     Disposition.REAUTH, "InvalidSessionId"),
    (403, '[{"message":"TotalRequests Limit exceeded.","errorCode":"REQUEST_LIMIT_EXCEEDED"}]',
     Disposition.STOP, "REQUEST_LIMIT_EXCEEDED"),
    (403, '[{"message":"ConcurrentPerOrgLongTxn Limit exceeded.",'
          '"errorCode":"REQUEST_LIMIT_EXCEEDED"}]', Disposition.RETRY, "REQUEST_LIMIT_EXCEEDED"),
    (503, "", Disposition.RETRY, None),
    (429, "", Disposition.RETRY, None),
    (400, '[{"message":"No such column","errorCode":"INVALID_FIELD"}]', Disposition.FATAL,
     "INVALID_FIELD"),
    # the same query would time out again: the stream splits it into date windows instead
    (400, '[{"message":"Your query request was running for too long.",'
          '"errorCode":"QUERY_TIMEOUT"}]', Disposition.FATAL, "QUERY_TIMEOUT"),
    (400, '{"error":"invalid_grant","error_description":"expired access/refresh token"}',
     Disposition.FATAL, "invalid_grant"),
])
def test_classify_reads_every_salesforce_error_shape(status, body, disposition, code):
    verdict = classify(response(status, body))
    assert (verdict.disposition, verdict.code) == (disposition, code)


def test_stale_catalog_field_error_says_what_to_do():
    verdict = classify(response(400, '[{"message":"No such column","errorCode":"INVALID_FIELD"}]'))
    assert "run discovery again" in verdict.message


def test_api_usage_header():
    assert api_usage({"Sforce-Limit-Info": "api-usage=18/5000"}) == (18, 5000)
    assert api_usage({"Sforce-Limit-Info": "api-usage=10018/100000; api-bursts=1/750"}) == \
        (10018, 100000)
    assert api_usage({}) is None


def test_soql_is_ordered_by_the_watermark_from_a_floored_literal():
    assert soql.select("Account", ["Id", "Name", "SystemModstamp"], "SystemModstamp",
                       "2024-01-02T03:04:05.678+0000") == (
        "SELECT Id, Name, SystemModstamp FROM Account WHERE SystemModstamp >= "
        "2024-01-02T03:04:05Z ORDER BY SystemModstamp ASC")
    assert soql.select("Foo__c", ["Id"], None) == "SELECT Id FROM Foo__c"
    assert soql.select("Account", ["Id"], "SystemModstamp", "2024-01-02T03:04:05Z",
                       "2024-02-01T00:00:00Z") == (
        "SELECT Id FROM Account WHERE SystemModstamp >= 2024-01-02T03:04:05Z AND "
        "SystemModstamp < 2024-02-01T00:00:00Z ORDER BY SystemModstamp ASC")
    assert soql.select("Account", ["Id"], "SystemModstamp", None, "2024-02-01T00:00:00Z") == (
        "SELECT Id FROM Account WHERE SystemModstamp < 2024-02-01T00:00:00Z "
        "ORDER BY SystemModstamp ASC")
    with pytest.raises(ValueError, match="not a Salesforce API name"):
        soql.select("Account", ["Id", "Name FROM User --"], None)


def test_object_spec_maps_every_type_skips_compound_fields_and_warns_on_unknown_types():
    warnings = []
    describe = {"name": "Thing__c", "fields": [
        {"name": "Id", "type": "id"}, {"name": "Amount__c", "type": "currency"},
        {"name": "Count__c", "type": "int"}, {"name": "On__c", "type": "boolean"},
        {"name": "Day__c", "type": "date"}, {"name": "SystemModstamp", "type": "datetime"},
        {"name": "Spot__c", "type": "location"}, {"name": "Spot__Latitude__s", "type": "double"},
        {"name": "Addr__c", "type": "address"}, {"name": "Blob__c", "type": "base64"},
        {"name": "Odd__c", "type": "hologram"}]}
    spec = object_spec(describe, warnings.append)
    assert spec.watermark == "SystemModstamp"
    assert list(spec.fields) == ["Id", "Amount__c", "Count__c", "On__c", "Day__c",
                                 "SystemModstamp", "Spot__Latitude__s", "Odd__c"]
    assert spec.fields["Id"] == {"type": ["string"]}
    assert spec.fields["Count__c"] == {"type": ["integer", "null"]}
    assert spec.fields["Odd__c"] == {"type": ["string", "null"]}
    assert warnings == ["Thing__c.Odd__c: unknown Salesforce field type 'hologram'; "
                        "synced as a string"]
    assert object_spec({"name": "NoId", "fields": []}, warnings.append) is None


def test_csv_values_become_what_rest_returns():
    build = csv_record_builder(["b", "i", "n", "t", "s"], {
        "b": {"type": ["boolean", "null"]}, "i": {"type": ["integer", "null"]},
        "n": {"type": ["number", "null"]},
        "t": {"type": ["string", "null"], "format": "date-time"},
        "s": {"type": ["string", "null"]}})
    assert build(["true", "12", "1.5", "2024-01-02T03:04:05.000Z", "a,b"]) == {
        "b": True, "i": 12, "n": 1.5, "t": "2024-01-02T03:04:05.000+0000", "s": "a,b"}
    assert build(["false", "-3", "0", "2024-01-02T03:04:05.000+0000", " "]) == {
        "b": False, "i": -3, "n": 0.0, "t": "2024-01-02T03:04:05.000+0000", "s": " "}
    assert build(["", "4.0", "", "", ""]) == {"b": None, "i": 4, "n": None, "t": None,
                                               "s": None}


def test_a_short_bulk_page_is_retried():
    body = 'Id,Name\n"001","A"\n"002","B"\n'
    header, content, locator = _csv_page(response(200, body, {"Sforce-NumberOfRecords": "2",
                                                              "Sforce-Locator": "null"}))
    assert (header, list(csv_rows(content)), locator) == \
        (["Id", "Name"], [["001", "A"], ["002", "B"]], None)
    with pytest.raises(RetriableBodyError, match="2 rows, Sforce-NumberOfRecords says 3"):
        _csv_page(response(200, body, {"Sforce-NumberOfRecords": "3"}))
    with pytest.raises(RetriableBodyError):
        _csv_page(response(200, 'Id,Name\n"001","A', {}))
    with pytest.raises(RetriableBodyError, match="UTF-8"):
        _csv_page(response(200, b'Id,Name\n"001","\xc3', {}))
    with pytest.raises(RetriableBodyError, match="UTF-8"):  # the count is right, the text not
        _csv_page(response(200, b'Id,Name\n"001","\xc3"\n', {"Sforce-NumberOfRecords": "1"}))


def test_a_page_s_rows_are_counted_as_a_csv_parser_reads_them():
    """The check before a page's records are built counts line ends outside quoted fields:
    the same count as parsing, over values with quotes, line breaks, commas and nothing."""
    rng = random.Random(5)
    values = ["", "plain", "a,b", 'say "hi"', "two\nlines", "\r\n", '"', "\n\n", "é ü 日本"]
    for case in range(300):
        out = io.StringIO()
        writer = csv.writer(out, quoting=csv.QUOTE_ALL if case % 2 else csv.QUOTE_MINIMAL,
                            lineterminator="\r\n" if case % 3 == 0 else "\n")
        for _ in range(rng.randint(0, 12)):
            writer.writerow(rng.choice(values) for _ in range(3))
        text = out.getvalue()
        if case % 5 == 0:  # no line end after the last row
            text = text.removesuffix("\r\n").removesuffix("\n")
        content = text.encode()
        rows = list(csv.reader(io.StringIO(text, newline=""), strict=True))
        assert client._count_rows(content) == len(rows) - 1, text
        if rows:
            declared = {"Sforce-NumberOfRecords": str(len(rows) - 1)}
            assert _csv_page(response(200, content, declared))[0] == rows[0]


def test_utf_8_is_checked_across_the_pieces_it_is_decoded_in(monkeypatch):
    monkeypatch.setattr(client, "UTF8_CHUNK", 3)  # "日" (3 bytes) spans two pieces
    page = 'Id,Name\n"001","a日本"\n'.encode()
    assert _csv_page(response(200, page, {"Sforce-NumberOfRecords": "1"}))[0] == ["Id", "Name"]
    with pytest.raises(RetriableBodyError, match="UTF-8"):
        _csv_page(response(200, page[:-4] + b'"\n', {"Sforce-NumberOfRecords": "1"}))


def test_a_row_of_another_width_fails_the_stream_with_what_is_wrong():
    build = csv_record_builder(["Id", "Name"], {"Id": {"type": "string"},
                                                "Name": {"type": "string"}})
    with pytest.raises(BulkJobFailed, match="3 fields under a header of 2"):
        build(["001", "A", "extra"])


SOBJECTS = {n: {"name": n, "queryable": True} for n in
            ("Account", "Contact", "User", "Invoice__c", "AccountChangeEvent", "Vote")}


def test_empty_object_lists_mean_everything_syncable():
    common, raw = _wanted({}, SOBJECTS)
    assert common == ["account", "contact", "user"]
    assert raw == ["Account", "Contact", "Invoice__c", "User"]


def test_sync_config_mistakes_are_all_named_at_once():
    with pytest.raises(ConfigValidationError) as info:
        _wanted({"common_objects": ["account", "deal", "lead"],
                 "standard_objects": ["Account", "Invoice__c", "Widget"],
                 "custom_objects": ["Invoice", "Gone__c"]}, SOBJECTS)
    text = str(info.value)
    for part in ("'deal' is not one of", "'lead': this org has no Lead",
                 "'Invoice__c' is a custom object", "'Widget' does not exist",
                 "'Invoice' must be an API name ending in __c", "'Gone__c' does not exist"):
        assert part in text


def test_watermark_falls_back_to_last_modified_then_created():
    def spec(*names):
        return object_spec({"name": "X", "fields": [{"name": "Id", "type": "id"}] + [
            {"name": n, "type": "datetime"} for n in names]}, print)

    assert spec("CreatedDate", "LastModifiedDate").watermark == "LastModifiedDate"
    assert spec("CreatedDate").watermark == "CreatedDate"
    assert spec().watermark is None


def test_describes_go_through_composite_batch_25_at_a_time():
    import logging

    from tap_salesforce.client import SalesforceClient
    from tests.tapkit.scripted_server import Reply, ScriptedServer

    names = [f"Obj{i}__c" for i in range(30)]

    def batch(chunk, fail=None):
        return Reply(200, {"hasErrors": fail is not None, "results": [
            {"statusCode": 404, "result": [{"errorCode": "NOT_FOUND", "message": "gone"}]}
            if n == fail else {"statusCode": 200, "result": {"name": n, "fields": []}}
            for n in chunk]})

    with ScriptedServer([batch(names[:25]), batch(names[25:])]) as srv:
        client = SalesforceClient({"access_token": "00Dx!tok", "instance_url": srv.url},
                                  logging.getLogger("t"))
        described = client.describe(names)
        sent = [json.loads(s.body) for s in srv.seen]
    assert list(described) == names
    assert [len(b["batchRequests"]) for b in sent] == [25, 5]
    assert sent[0]["batchRequests"][0] == {
        "method": "GET", "url": "/services/data/v61.0/sobjects/Obj0__c/describe"}
    with ScriptedServer([batch(names[:3], fail="Obj1__c")]) as srv:
        client = SalesforceClient({"access_token": "00Dx!tok", "instance_url": srv.url},
                                  logging.getLogger("t"))
        with pytest.raises(FatalHttpError, match=r"describe failed for Obj1__c \(HTTP 404: "
                                                 r"NOT_FOUND: gone\)"):
            client.describe(names[:3])


@pytest.mark.parametrize(("setting", "value"), [
    ("quota_max_percent", 150), ("quota_max_percent", 0), ("api_version", "v61"),
    ("api_type", "soap"), ("sync_strategy", "sometimes"), ("bulk_threshold", -1)])
def test_bad_settings_are_refused_naming_the_setting(setting, value):
    config = {"access_token": "00Dx!secret-session-token", "instance_url": "https://x",
              setting: value}
    with pytest.raises(ConfigValidationError) as info:
        TapSalesforce(config=config, setup_mapper=False)
    text = str(info.value) + " ".join(getattr(info.value, "errors", []) or [])
    assert setting in text and "secret-session-token" not in text


def test_a_connection_with_instance_url_only_refreshes_at_the_org():
    """The README's connection (refresh token and instance_url, no login_url) refreshes at
    the org's My Domain, not at login.salesforce.com (offline: minutes of retries)."""
    from tap_salesforce.client import SalesforceClient
    from tap_salesforce.sandbox import SalesforceSandbox

    with SalesforceSandbox(records=10, seed=3) as sb:
        config = {"client_id": sb.client_id, "client_secret": sb.client_secret,
                  "refresh_token": sb.mint_refresh_token(), "instance_url": sb.base_url}
        client = SalesforceClient(config, logging.getLogger("test"))
        assert client.auth.token_url == f"{sb.base_url}/services/oauth2/token"
        assert client.get("sobjects")["sobjects"]
        client.close()
