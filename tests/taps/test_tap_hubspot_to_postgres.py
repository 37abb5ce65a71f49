"""tap-hubspot -> target-postgres: the Supaglue tables checked row by row against the sandbox."""

from __future__ import annotations

from datetime import datetime

import pytest

from tap_hubspot.sandbox import HubSpotSandbox
from tests.taps.hubspot_fixtures import oauth_config, run_tap, sandbox_records
from tests.target.helpers import config as target_config
from tests.target.helpers import rows, run_target

OBJECTS = {"common_objects": ["account", "contact", "opportunity", "user"],
           "standard_objects": ["contact"], "custom_objects": ["pets"],
           "lookback_seconds": 0}


def _ts(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00")).replace(tzinfo=None)


def _raw(record: dict) -> dict:
    return {k: v for k, v in record.items() if not k.startswith(("_sdc_", "_supaglue_"))}


def _load(pg_server_uri, pg_schema, run) -> None:
    cfg = target_config(pg_server_uri, pg_schema, provider_name="hubspot")
    run_target(cfg, run.messages)


@pytest.fixture
def hs():
    with HubSpotSandbox(records=200, seed=21) as sandbox:
        yield sandbox


def _check_contacts(conn, schema, hs, run_records: dict[str, dict]) -> None:
    table = {r["_supaglue_id"]: r for r in rows(conn, schema, "hubspot_contact")}
    live, archived = sandbox_records(hs, "contacts"), sandbox_records(hs, "contacts",
                                                                      archived=True)
    assert set(table) == set(live) | set(archived)
    for rid, doc in {**live, **archived}.items():
        row = table[rid]
        assert row["_supaglue_is_deleted"] is doc["archived"], rid
        expected_modified = doc.get("archivedAt") or doc["properties"]["lastmodifieddate"]
        assert row["_supaglue_last_modified_at"] == _ts(expected_modified), rid
        raw = row["_supaglue_raw_data"]
        assert {k: v for k, v in raw.items() if k in doc["properties"]} == doc["properties"]
        assert raw["id"] == rid and raw["archived"] is doc["archived"]
        if rid in run_records:
            assert raw == _raw(run_records[rid])
        assert (row["_supaglue_application_id"], row["_supaglue_customer_id"],
                row["_supaglue_provider_name"]) == ("app1", "cust1", "hubspot")


def test_tap_to_target_rows_match_the_sandbox(hs, pg_server_uri, pg_schema, pg_conn):
    config = oauth_config(hs, **OBJECTS)
    first = run_tap(config)
    _load(pg_server_uri, pg_schema, first)
    _check_contacts(pg_conn, pg_schema, hs, first.by_id("contact"))

    common = {r["id"]: r for r in rows(pg_conn, pg_schema, "crm_contacts", order="id")}
    contacts = sandbox_records(hs, "contacts")
    assert set(common) == set(contacts)
    for rid, doc in contacts.items():
        row, props = common[rid], doc["properties"]
        assert (row["first_name"], row["last_name"], row["owner_id"]) == (
            props.get("firstname"), props.get("lastname"), props.get("hubspot_owner_id"))
        assert row["is_deleted"] is False
        assert row["last_modified_at"] == _ts(props["lastmodifieddate"])
        assert row["created_at"] == _ts(props["createdate"])
        assert row["email_addresses"] == [
            {"email_address": v, "email_address_type": t}
            for t, v in (("primary", props.get("email")), ("work", props.get("work_email"))) if v]
        assert row["raw_data"]["id"] == rid

    pets = {r["_supaglue_id"]: r for r in rows(pg_conn, pg_schema, "hubspot_pets")}
    assert set(pets) == set(sandbox_records(hs, "p_pets"))
    assert {r["_supaglue_object_name"] for r in pets.values()} == {"hubspot_pets"}

    deals = {r["id"]: r for r in rows(pg_conn, pg_schema, "crm_opportunities", order="id")}
    assert set(deals) == set(sandbox_records(hs, "deals"))
    assert {r["status"] for r in deals.values()} <= {"OPEN", "WON", "LOST"}
    users = {r["id"]: r for r in rows(pg_conn, pg_schema, "crm_users", order="id")}
    assert {u: (r["email"], r["is_active"]) for u, r in users.items()} == {
        o["id"]: (o["email"], not o["archived"]) for o in hs.portal.owners}

    # Incremental: a change, a new record, an archive; then the tables again, row by row.
    hs.advance_clock(30)
    hs.update("contacts", "53", {"firstname": "Grace"})
    new_id = hs.create("contacts", {"email": "new@example.com"})["id"]
    hs.delete("contacts", "54")
    second = run_tap(config, state=first.state)
    _load(pg_server_uri, pg_schema, second)
    _check_contacts(pg_conn, pg_schema, hs, second.by_id("contact"))
    common = {r["id"]: r for r in rows(pg_conn, pg_schema, "crm_contacts", order="id")}
    assert common["53"]["first_name"] == "Grace"
    assert common["54"]["is_deleted"] is True
    assert common[new_id]["email_addresses"] == [
        {"email_address": "new@example.com", "email_address_type": "primary"}]
    assert sum(r["is_deleted"] for r in common.values()) == 1

    # A full sync later: nothing live is swept, the archived record stays deleted.
    third = run_tap({**config, "sync_strategy": "full only"}, state=second.state)
    assert third.activate_versions("crm_contacts")
    _load(pg_server_uri, pg_schema, third)
    common = {r["id"]: r for r in rows(pg_conn, pg_schema, "crm_contacts", order="id")}
    assert {rid for rid, r in common.items() if r["is_deleted"]} == {"54"}
    _check_contacts(pg_conn, pg_schema, hs, third.by_id("contact"))
