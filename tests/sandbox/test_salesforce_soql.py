"""SOQL in the Salesforce twin: parsing, errors, SQL translation, and results checked against
a plain Python filter over the same records."""

from __future__ import annotations

import pytest
import requests

from tap_salesforce.sandbox import SalesforceSandbox
from tap_salesforce.sandbox.schema import default_objects
from tap_salesforce.sandbox.soql import SoqlError, compile_query, parse

OBJECTS = default_objects()


@pytest.fixture(scope="module")
def sb():
    with SalesforceSandbox(records=3000, seed=5) as sandbox:
        sandbox.token = sandbox.mint_access_token()
        yield sandbox


def soql(sb, text: str, *, all_rows: bool = False) -> list[dict]:
    """Every record of a SOQL query over HTTP (following nextRecordsUrl)."""
    path = "queryAll" if all_rows else "query"
    auth = {"Authorization": f"Bearer {sb.token}"}
    page = requests.get(f"{sb.base_url}/services/data/v61.0/{path}", params={"q": text},
                        headers=auth, timeout=30)
    assert page.status_code == 200, page.text
    body = page.json()
    records = body["records"]
    while not body["done"]:
        body = requests.get(sb.base_url + body["nextRecordsUrl"], headers=auth,
                            timeout=30).json()
        records += body["records"]
    return records


def error(text: str) -> SoqlError:
    with pytest.raises(SoqlError) as info:
        compile_query(text, OBJECTS)
    return info.value


def test_keywords_and_field_names_are_case_insensitive():
    compiled = compile_query("select id, NAME from account where isdeleted = false "
                             "order by systemmodstamp desc limit 5", OBJECTS)
    assert [f.name for f in compiled.fields] == ["Id", "Name"]
    assert compiled.sobject.name == "Account" and compiled.limit == 5
    assert compiled.order_by == '"modstamp" DESC'


def test_datetime_literals_are_normalized_to_stored_utc():
    compiled = compile_query("SELECT Id FROM Lead WHERE SystemModstamp >= "
                             "2024-01-01T02:00:00+02:00 AND CreatedDate < 2024-02-01T00:00:00Z",
                             OBJECTS)
    assert compiled.params == ["2024-01-01T00:00:00.000+0000", "2024-02-01T00:00:00.000+0000"]
    assert compiled.where == '("modstamp" >= ? AND "created" < ?)'


def test_malformed_query_points_at_the_token():
    err = error("SELECT Id FORM Account")
    assert err.code == "MALFORMED_QUERY"
    assert err.message == ("\nSELECT Id FORM Account\n          ^\nERROR at Row:1:Column:11\n"
                           "unexpected token: 'FORM'")
    assert error("SELECT Id FROM Account WHERE Name = 'x' AND Type = 'y' OR Rating = 'Hot'"
                 ).code == "MALFORMED_QUERY"  # AND and OR need parentheses
    assert error("SELECT Id FROM Account LIMIT").message.endswith("unexpected token: '<EOF>'")
    assert error("SELECT Id FROM Account WHERE CreatedDate > 2024-01-01T00:00:00"
                 ).code == "MALFORMED_QUERY"  # a datetime needs its zone


def test_unknown_field_object_and_wrong_literal_types():
    err = error("SELECT Id,\n  Nmae FROM Account")
    assert err.code == "INVALID_FIELD" and "ERROR at Row:2:Column:3" in err.message
    assert "No such column 'Nmae' on entity 'Account'" in err.message
    assert error("SELECT Id FROM Acount").code == "INVALID_TYPE"
    err = error("SELECT Id FROM Account WHERE CreatedDate > '2024-01-01'")
    assert err.code == "INVALID_FIELD"
    assert "must be of type dateTime and should not be enclosed in quotes" in err.message
    assert "must be of type string" in error("SELECT Id FROM Account WHERE Name = 5").message
    assert "can not be filtered" in error("SELECT Id FROM Account WHERE BillingAddress = null"
                                          ).message
    assert error("SELECT Id, Id FROM Account").message.endswith("duplicate field selected: Id")
    assert error("SELECT FIELDS(ALL) FROM Account").code == "MALFORMED_QUERY"
    assert error("SELECT Id FROM Account WHERE Id = 'nope'").code == \
        "INVALID_QUERY_FILTER_OPERATOR"


def test_parse_keeps_in_like_not_and_nulls():
    q = parse("SELECT Id FROM Contact WHERE NOT (Email LIKE '%@x.example' OR "
              "LeadSource IN ('Web', null)) ORDER BY LastName DESC NULLS FIRST LIMIT 3 OFFSET 2")
    assert q.limit == 3 and q.offset == 2 and q.order[0][1:] == (False, True)


@pytest.mark.parametrize("visible", ["deleted = 0", "(deleted = 0 OR deleted_at >= ?)"])
def test_incremental_window_walks_the_modstamp_index_alone(sb, visible):
    compiled = compile_query("SELECT Id FROM Account WHERE SystemModstamp >= "
                             "2024-01-01T00:00:00Z ORDER BY SystemModstamp", OBJECTS)
    params = [*compiled.params, *(["2024-01-01"] if "?" in visible else [])]
    plan = sb.store.conn().execute(
        f'EXPLAIN QUERY PLAN SELECT rid FROM "Account" WHERE ({compiled.where}) AND {visible} '
        f"ORDER BY {compiled.order_by}, rid", params).fetchall()
    detail = " ".join(row[-1] for row in plan)
    # query (live rows) and queryAll (also the recycle bin): no row read, no sort
    assert "USING COVERING INDEX Account__modstamp" in detail
    assert "TEMP B-TREE" not in detail


@pytest.mark.parametrize(("where", "keep"), [
    ("Amount > 50000 AND StageName IN ('Closed Won', 'Negotiation')",
     lambda r: r["Amount"] is not None and r["Amount"] > 50000
     and r["StageName"] in ("Closed Won", "Negotiation")),
    ("(IsWon = true OR Probability >= 80) AND CloseDate < 2024-01-01",
     lambda r: (r["IsWon"] or r["Probability"] >= 80) and r["CloseDate"] < "2024-01-01"),
    ("Name LIKE 'blue%' AND NOT (Type = 'New Business')",
     lambda r: r["Name"].lower().startswith("blue") and r["Type"] != "New Business"),
    ("CampaignId != null", lambda r: r["CampaignId"] is not None),
    ("CampaignId = null AND LeadSource NOT IN ('Web', 'Other')",
     lambda r: r["CampaignId"] is None and r["LeadSource"] not in ("Web", "Other")),
    ("SystemModstamp > 2024-06-30T12:00:00Z OR LastModifiedDate <= 2023-03-01T00:00:00-05:00",
     lambda r: r["SystemModstamp"] > "2024-06-30T12:00:00.000+0000"
     or r["LastModifiedDate"] <= "2023-03-01T05:00:00.000+0000"),
])
def test_filters_match_a_python_filter_over_the_same_records(sb, where, keep):
    fields = "Id, Name, Amount, StageName, IsWon, Probability, CloseDate, Type, CampaignId, " \
             "LeadSource, SystemModstamp, LastModifiedDate"
    everything = soql(sb, f"SELECT {fields} FROM Opportunity")
    picked = soql(sb, f"SELECT {fields} FROM Opportunity WHERE {where}")
    expected = [r["Id"] for r in everything if keep(r)]
    assert expected, "the filter should select something in this world"
    assert sorted(r["Id"] for r in picked) == sorted(expected)


def test_order_by_several_keys_limit_and_offset(sb):
    rows = soql(sb, "SELECT Id, Industry, NumberOfEmployees FROM Account "
                    "ORDER BY Industry ASC, NumberOfEmployees DESC, Id")
    keyed = [(r["Industry"] or "", -(r["NumberOfEmployees"] or 0), r["Id"]) for r in rows]
    assert keyed == sorted(keyed)
    window = soql(sb, "SELECT Id FROM Account ORDER BY Industry ASC, NumberOfEmployees DESC, "
                      "Id LIMIT 7 OFFSET 3")
    assert [r["Id"] for r in window] == [r["Id"] for r in rows[3:10]]


def test_count_and_fields_functions(sb):
    body = requests.get(f"{sb.base_url}/services/data/v61.0/query",
                        params={"q": "SELECT COUNT() FROM Lead WHERE Rating = 'Hot'"},
                        headers={"Authorization": f"Bearer {sb.token}"}, timeout=30).json()
    hot = [r for r in soql(sb, "SELECT Id, Rating FROM Lead") if r["Rating"] == "Hot"]
    assert body == {"totalSize": len(hot), "done": True, "records": []}
    custom = soql(sb, "SELECT FIELDS(CUSTOM) FROM Invoice__c LIMIT 2")
    assert set(custom[0]) - {"attributes"} == {
        f.name for f in OBJECTS["Invoice__c"].fields if f.custom}


def test_ids_compare_in_15_or_18_characters(sb):
    some = soql(sb, "SELECT Id FROM Account LIMIT 2")
    short = [r["Id"][:15] for r in some]
    found = soql(sb, f"SELECT Id FROM Account WHERE Id IN ('{short[0]}', '{some[1]['Id']}')")
    assert sorted(r["Id"] for r in found) == sorted(r["Id"] for r in some)
