"""The HubSpot search filter language, compiled to SQL and run on a real SQLite table."""

from __future__ import annotations

import json
import sqlite3

import pytest

from tap_hubspot.sandbox import search
from tap_hubspot.sandbox.objects import TypeRegistry

REG = TypeRegistry(portal_id=4242, created_at="2023-01-01T00:00:00.000Z")
CONTACTS = REG.resolve("contacts")
TABLE = REG.properties["contacts"]
TYPES = {name: p.type for name, p in TABLE.props.items()}

ROWS = {
    101: {"firstname": "Ada", "lastname": "Lovelace", "email": "ada@analytical.org",
          "lifecyclestage": "customer", "createdate": "2024-01-01T00:00:00.000Z",
          "associatedcompanyid": "7"},
    102: {"firstname": "Grace", "lastname": "Hopper", "email": "grace@navy.mil",
          "lifecyclestage": "lead", "createdate": "2024-02-01T00:00:00.000Z",
          "associatedcompanyid": "12"},
    103: {"firstname": "alan", "lastname": "Turing", "email": "alan@bletchley.uk",
          "lifecyclestage": "lead", "createdate": "2024-03-01T00:00:00.000Z"},
    104: {"firstname": "Edsger", "lastname": "Dijkstra", "email": "",
          "lifecyclestage": "other", "createdate": "2024-04-01T12:30:00.000Z",
          "jobtitle": "Professor of computing science"},
}


@pytest.fixture(scope="module")
def db():
    conn = sqlite3.connect(":memory:")
    for name, (nargs, fn) in search.SQL_FUNCTIONS.items():
        conn.create_function(name, nargs, fn, deterministic=True)
    conn.execute("CREATE TABLE idx (rid INTEGER PRIMARY KEY, doc TEXT)")
    for rid, props in ROWS.items():
        props = {**props, "hs_object_id": str(rid)}
        conn.execute("INSERT INTO idx VALUES (?, ?)",
                     (rid, json.dumps({"t": search.index_value(TYPES, props)})))
    yield conn
    conn.close()


def run(db, body) -> list[int]:
    p = search.plan(body, CONTACTS, TABLE)
    sql = f"SELECT rid FROM idx WHERE {p.where} ORDER BY {p.order_by}, rid"
    return [r[0] for r in db.execute(sql, p.params)]


def one(prop, op, **kw) -> dict:
    return {"filterGroups": [{"filters": [{"propertyName": prop, "operator": op, **kw}]}]}


@pytest.mark.parametrize(("body", "expected"), [
    (one("firstname", "EQ", value="ALAN"), [103]),  # case-insensitive
    (one("lifecyclestage", "NEQ", value="lead"), [101, 104]),
    (one("createdate", "GTE", value="1706745600000"), [102, 103, 104]),  # epoch ms
    (one("createdate", "LT", value="2024-02-01T00:00:00Z"), [101]),  # ISO
    (one("createdate", "LTE", value="2024-03-01"), [101, 102, 103]),  # date only
    (one("createdate", "GT", value="2024-04-01T12:30:00.000Z"), []),
    (one("createdate", "BETWEEN", value="2024-01-15", highValue="2024-03-01"), [102, 103]),
    (one("associatedcompanyid", "LT", value="10"), [101]),  # numeric, not lexicographic
    (one("hs_object_id", "IN", values=["104", "101", "999"]), [101, 104]),
    (one("lifecyclestage", "NOT_IN", values=["lead", "other"]), [101]),
    (one("email", "HAS_PROPERTY"), [101, 102, 103]),  # the empty string is no value
    (one("associatedcompanyid", "NOT_HAS_PROPERTY"), [103, 104]),
    (one("email", "CONTAINS_TOKEN", value="*@navy.mil"), [102]),
    (one("jobtitle", "CONTAINS_TOKEN", value="computing"), [104]),
    (one("jobtitle", "CONTAINS_TOKEN", value="comput"), []),  # a token, not a substring
    (one("jobtitle", "NOT_CONTAINS_TOKEN", value="professor"), [101, 102, 103]),
    ({"filterGroups": [  # groups OR'd, filters AND'd
        {"filters": [{"propertyName": "lifecyclestage", "operator": "EQ", "value": "lead"},
                     {"propertyName": "firstname", "operator": "EQ", "value": "grace"}]},
        {"filters": [{"propertyName": "lastname", "operator": "EQ", "value": "dijkstra"}]}]},
     [102, 104]),
    ({"query": "ada"}, [101]),
    ({"query": "lovelace ada"}, [101]),
    ({"query": "bletchley"}, []),  # only whole words' prefixes: the domain is inside a token
    ({"sorts": [{"propertyName": "createdate", "direction": "DESCENDING"}]}, [104, 103, 102, 101]),
    ({"sorts": ["-associatedcompanyid"]}, [102, 101, 103, 104]),  # missing values last
    ({"sorts": [{"propertyName": "hs_object_id", "direction": "DESCENDING"}]},
     [104, 103, 102, 101]),
])
def test_filters_select_the_right_records(db, body, expected):
    assert run(db, body) == expected


@pytest.mark.parametrize(("body", "message"), [
    (one("nosuchprop", "EQ", value="x"), "'nosuchprop' does not exist"),
    (one("firstname", "LIKE", value="x"), "unknown filter operator 'LIKE'"),
    (one("createdate", "GT", value="yesterday"), "'yesterday' is not a date"),
    (one("associatedcompanyid", "EQ", value="seven"), "'seven' is not a number"),
    (one("createdate", "BETWEEN", value="2024-01-01"), "needs 'highValue'"),
    (one("lifecyclestage", "IN", values=[]), "non-empty 'values'"),
    (one("firstname", "EQ"), "needs 'value'"),
    ({"filterGroups": [{"filters": []}] * 6}, "too many filterGroups: 6"),
    ({"filterGroups": [{"filters": [{"propertyName": "email", "operator": "HAS_PROPERTY"}] * 11}]},
     "too many filters in a filterGroup: 11"),
    ({"filterGroups": [{"filters": [{"propertyName": "email", "operator": "HAS_PROPERTY"}] * 9}]
      * 3}, "too many filters: 27"),
    ({"limit": 201}, "limit must be between 1 and 200"),
    ({"after": "abc"}, "'after' must be a whole number"),
    ({"after": "10000"}, "limited to 10000 total results"),
    ({"sorts": [{"propertyName": "nope"}]}, "unknown property 'nope'"),
])
def test_bad_requests_say_what_is_wrong(body, message):
    with pytest.raises(search.SearchError, match=message.replace("(", r"\(")):
        search.plan(body, CONTACTS, TABLE)


def test_paging_fields_default_as_on_hubspot():
    p = search.plan({}, CONTACTS, TABLE)
    assert (p.limit, p.offset, p.properties) == (10, 0, None)
    p = search.plan({"limit": 200, "after": "9800", "properties": ["email"]}, CONTACTS, TABLE)
    assert (p.limit, p.offset, p.properties) == (200, 9800, ("email",))
