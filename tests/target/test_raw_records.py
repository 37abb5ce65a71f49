"""Records stored from their JSON text (SupaglueSink.add_raw) land exactly as records decoded
whole (SupaglueSink.add) do, and the ones that path cannot take go the general way."""

from __future__ import annotations

import json

import pytest
from singer_sdk.exceptions import InvalidInputLine, MissingKeyPropertiesError

from target_postgres.rows import RecordError
from target_postgres.sink import SupaglueSink

from .helpers import config, rows, run_target, schema_msg

ACC = "Account"
PAIR = "custom__Pair"


def record_line(stream: str, record_json: str) -> str:
    return f'{{"type": "RECORD", "stream": "{stream}", "record": {record_json}}}'


# (JSON text of the record, the path it takes: "raw" or "whole")
RECORDS = [
    ('{"Id": "a1", "SystemModstamp": "2024-01-01T00:00:00Z", "Name": "plain", "n": 1.10, '
     '"big": 123456789012345678901234567890, "e": 1.5e3, "neg": -0.0, "nested": {"l": [1, '
     'null, true, "x"]}}', "raw"),
    ('{"Id": "a2", "SystemModstamp": "2024-01-01T00:00:01Z", "v": "nul\\u0000gone", '
     '"k\\u0000ey": 1, "lit": "\\\\u0000 stays", "odd": "\\\\\\u0000"}', "raw"),
    ('{"Id": "a3", "SystemModstamp": "2024-01-01T00:00:02+00:00", "pair": "\\ud83d\\ude00", '
     '"emoji": "😀", "esc": "\\u00fc\\n\\t\\"q\\" back\\\\slash", "tab": "a\\tb"}', "raw"),
    ('{"Id": "a4", "SystemModstamp": "2024-01-01T00:00:03Z", "IsDeleted": true}', "raw"),
    ('{"Id": 5, "SystemModstamp": "2024-01-01T05:00:00+02:00", "IsDeleted": false}', "raw"),
    ('{"Id": "a6", "SystemModstamp": "2024-01-01T00:00:04Z", '
     '"_sdc_deleted_at": "2024-01-02T00:00:00Z"}', "whole"),
    ('{"Id": "a7",\t"SystemModstamp": "2024-01-01T00:00:05Z"}', "raw"),
    ('{"Id": "a8", "SystemModstamp": "2024-01-01T00:00:06Z", "lone": "a\\ud800b"}', "whole"),
    ('{"Id":"a9","SystemModstamp":null,"Name":"compact, no time"}', "raw"),
    ('{"Id": "a1", "SystemModstamp": "2024-01-01T00:00:07Z", "Name": "newer a1"}', "raw"),
]
PAIRS = [('{"a": "x", "b": 1, "SystemModstamp": "2024-01-01T00:00:00Z"}', "raw"),
         ('{"b": 2, "a": "x", "SystemModstamp": "2024-01-01T00:00:00Z"}', "raw")]


@pytest.fixture
def paths(monkeypatch):
    """How each record was taken: True (its JSON text), False (handed back to `add`)."""
    taken: list[bool] = []
    real = SupaglueSink.add_raw

    def spy(self, raw, line_number):
        taken.append(real(self, raw, line_number))
        return taken[-1]

    monkeypatch.setattr(SupaglueSink, "add_raw", spy)
    return taken


def load(uri, schema, customer):
    lines = [json.dumps(schema_msg(ACC)),
             *(record_line(ACC, r) for r, _ in RECORDS),
             json.dumps({**schema_msg(PAIR, key=None), "key_properties": ["a", "b"]}),
             *(record_line(PAIR, r) for r, _ in PAIRS)]
    run_target(config(uri, schema, customer_id=customer), lines)


def stored(conn, schema, table, customer):
    """The rows' columns a record decides (an undated record's time is the write's)."""
    out = []
    for row in rows(conn, schema, table):
        if row["_supaglue_customer_id"] == customer:
            dated = row["_supaglue_raw_data"].get("SystemModstamp") is not None
            out.append({k: v for k, v in row.items() if k in (
                "_supaglue_id", "_supaglue_raw_data", "_supaglue_is_deleted",
                "_supaglue_mapped_data", *(["_supaglue_last_modified_at"] if dated else []))})
    return out


def test_raw_records_land_as_decoded_ones_do(pg_server_uri, pg_schema, pg_conn, paths,
                                             monkeypatch):
    load(pg_server_uri, pg_schema, "raw")
    # the lone surrogate is never offered: msgspec refuses the line, the stdlib reads it
    offered = [path == "raw" for r, path in [*RECORDS, *PAIRS] if "ud800" not in r]
    assert paths == offered and paths.count(True) == 10
    paths.clear()
    monkeypatch.setattr(SupaglueSink, "takes_raw", property(lambda self: False))
    load(pg_server_uri, pg_schema, "whole")
    assert paths == []  # nothing offered: every record decoded whole

    for table in ("salesforce_account", "custom_objects"):
        raw, whole = (stored(pg_conn, pg_schema, table, c) for c in ("raw", "whole"))
        assert raw == whole
    by_id = {r["_supaglue_id"]: r for r in stored(pg_conn, pg_schema, "salesforce_account",
                                                  "raw")}
    assert by_id["a1"]["_supaglue_raw_data"]["Name"] == "newer a1"
    assert by_id["a2"]["_supaglue_raw_data"] == {"Id": "a2", "SystemModstamp":
                                                 "2024-01-01T00:00:01Z", "v": "nulgone",
                                                 "key": 1, "lit": "\\u0000 stays", "odd": "\\"}
    assert by_id["a3"]["_supaglue_raw_data"]["pair"] == "😀"
    assert by_id["a4"]["_supaglue_is_deleted"] and by_id["a6"]["_supaglue_is_deleted"]
    assert not by_id["5"]["_supaglue_is_deleted"]
    assert by_id["a8"]["_supaglue_raw_data"]["lone"] == "a\ufffdb"
    pairs = stored(pg_conn, pg_schema, "custom_objects", "raw")
    assert [p["_supaglue_id"] for p in pairs] == ['["x",1]', '["x",2]']


def test_a_message_key_named_like_the_raw_record_is_only_a_key(pg_server_uri, pg_schema,
                                                                pg_conn):
    line = '{"type": "RECORD", "stream": "crm_accounts", "raw_record": "x", "record": {"id": ' \
        '"1", "last_modified_at": "2024-01-01T00:00:00Z", "name": "Acme"}}'
    run_target(config(pg_server_uri, pg_schema), [json.dumps(schema_msg(
        "crm_accounts", key="id", bookmark="last_modified_at",
        properties={"id": {"type": "string"}})), line])
    (row,) = rows(pg_conn, pg_schema, "crm_accounts", order="id")
    assert row["name"] == "Acme"


@pytest.mark.parametrize(("record", "error"), [
    ('{"Name": "no id", "SystemModstamp": null}', MissingKeyPropertiesError),
    ('{"Id": null}', MissingKeyPropertiesError),
    ('[1, 2]', InvalidInputLine),
    ('{"Id": "x", "SystemModstamp": true}', RecordError),
])
def test_bad_records_are_reported_as_the_general_path_reports_them(pg_server_uri, pg_schema,
                                                                   monkeypatch, record, error):
    def refusal() -> str:
        with pytest.raises(error) as caught:
            run_target(config(pg_server_uri, pg_schema), [json.dumps(schema_msg(ACC)),
                                                          record_line(ACC, record)])
        return str(caught.value)

    raw = refusal()
    monkeypatch.setattr(SupaglueSink, "takes_raw", property(lambda self: False))
    assert raw == refusal()
    assert raw.startswith("input line 2, stream 'Account': ")
