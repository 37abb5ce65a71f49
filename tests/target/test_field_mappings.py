"""target-postgres's `_supaglue_mapped_data`: the raw record through a field mapping, given as
a setting or by a `field_mapping_source` hook; newest wins and replays change nothing as for
the raw record; common objects keep their fixed schema."""

from __future__ import annotations

import pytest
from singer_sdk.exceptions import ConfigValidationError

from tenantsync.mapping import field_paths, mapped_data

from .helpers import config, rec, rows, run_target, schema_msg

OPP = "Opportunity"
MAPPING = {OPP: {"fields": {"revenue": "Amount", "title": "Name", "unmapped": None},
                 "additional_fields": {"city": "Address.city"}}}
HOOK_CALLS: list[dict] = []


def hook(settings: dict) -> dict:
    """A field_mapping_source: the mapping depends on the tenant the target writes for."""
    HOOK_CALLS.append(settings)
    return {OPP: {"fields": {"revenue": "Probability" if settings["customer_id"] == "c2"
                             else "Amount"}}}


def opp(rid: str, modstamp: str, **fields) -> dict:
    return rec(OPP, rid, modstamp, Amount=100, Probability=10, Name=f"deal {rid}", **fields)


def mapped(pg_conn, schema: str) -> dict[str, dict]:
    return {r["_supaglue_id"]: r["_supaglue_mapped_data"]
            for r in rows(pg_conn, schema, "salesforce_opportunity")}


def test_the_setting_maps_raw_records_and_leaves_them_untouched(pg_server_uri, pg_schema,
                                                                  pg_conn):
    run_target(config(pg_server_uri, pg_schema, field_mappings=MAPPING),
               [schema_msg(OPP), opp("1", "2024-01-01T00:00:00Z", Address={"city": "Oslo"}),
                opp("2", "2024-01-01T00:00:00Z")])
    assert mapped(pg_conn, pg_schema) == {
        "1": {"revenue": 100, "title": "deal 1", "unmapped": None,
              "_supaglue_additional_fields": {"city": "Oslo"}},
        "2": {"revenue": 100, "title": "deal 2", "unmapped": None,
              "_supaglue_additional_fields": {"city": None}}}
    (row, _) = rows(pg_conn, pg_schema, "salesforce_opportunity")
    assert row["_supaglue_raw_data"] == {"Id": "1", "SystemModstamp": "2024-01-01T00:00:00Z",
                                         "Amount": 100, "Probability": 10, "Name": "deal 1",
                                         "Address": {"city": "Oslo"}}


def test_objects_without_a_mapping_and_common_objects_keep_empty_mapped_data(
        pg_server_uri, pg_schema, pg_conn):
    run_target(config(pg_server_uri, pg_schema, field_mappings=MAPPING),
               [schema_msg("Account"), rec("Account", "1", "2024-01-01T00:00:00Z", Name="A")])
    assert rows(pg_conn, pg_schema, "salesforce_account")[0]["_supaglue_mapped_data"] == {}


def test_newest_wins_replays_change_nothing_and_a_new_mapping_rewrites_resent_rows(
        pg_server_uri, pg_schema, pg_conn):
    msgs = [schema_msg(OPP), opp("1", "2024-01-02T00:00:00Z"), opp("2", "2024-01-01T00:00:00Z")]
    by_amount = config(pg_server_uri, pg_schema, field_mappings={
        OPP: {"fields": {"revenue": "Amount"}}})
    run_target(by_amount, msgs)
    run_target(by_amount, msgs)
    assert mapped(pg_conn, pg_schema) == {"1": {"revenue": 100}, "2": {"revenue": 100}}
    by_probability = {**by_amount, "field_mappings": {OPP: {"fields": {"revenue": "Probability"}}}}
    # an older version of record 1 loses (raw and mapped alike); record 2 is resent as it
    # was (a full refresh) and takes the new mapping
    run_target(by_probability, [schema_msg(OPP), opp("1", "2024-01-01T00:00:00Z"),
                                opp("2", "2024-01-01T00:00:00Z")])
    assert mapped(pg_conn, pg_schema) == {"1": {"revenue": 100}, "2": {"revenue": 10}}


def test_the_hook_gives_each_tenant_its_own_mapping(pg_server_uri, pg_schema, pg_conn):
    HOOK_CALLS.clear()
    for customer in ("c1", "c2"):
        run_target(config(pg_server_uri, pg_schema, customer_id=customer,
                          field_mapping_source=f"{__name__}:hook"),
                   [schema_msg(OPP), opp("1", "2024-01-01T00:00:00Z")])
    got = {r["_supaglue_customer_id"]: r["_supaglue_mapped_data"]
           for r in rows(pg_conn, pg_schema, "salesforce_opportunity")}
    assert got == {"c1": {"revenue": 100}, "c2": {"revenue": 10}}
    assert [c["customer_id"] for c in HOOK_CALLS] == ["c1", "c2"]


@pytest.mark.parametrize(("settings", "message"), [
    ({"field_mappings": {OPP: {"fields": {"revenue": 3}}}},
     "field_mappings['Opportunity'].fields['revenue'] must be a provider field name"),
    ({"field_mappings": {OPP: {"columns": {}}}}, "field_mappings['Opportunity'] must be"),
    ({"field_mapping_source": "no_such_module_x:load"}, "field_mapping_source 'no_such"),
])
def test_bad_mappings_are_refused_naming_them(pg_server_uri, pg_schema, settings, message):
    with pytest.raises(ConfigValidationError, match=message.replace("[", r"\[").replace(
            "(", r"\(")):
        run_target(config(pg_server_uri, pg_schema, **settings), [schema_msg(OPP)])


def test_paths_reach_nested_fields_and_whole_names_win():
    record = {"a.b": 1, "a": {"b": 2}, "p": {"amount": 5}}
    assert mapped_data(record, {"fields": {"x": "a.b", "y": "p.amount", "z": "p.missing"}}) \
        == {"x": 1, "y": 5, "z": None}
    schema = {"properties": {"id": {}, "properties": {"properties": {"amount": {}}}}}
    assert field_paths(schema) == ["id", "properties", "properties.amount"]
