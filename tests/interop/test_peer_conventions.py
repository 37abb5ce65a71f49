"""Peer taps' conventions in target-postgres, declared by the providers' specs: their delete
flags mark rows deleted, their stream names land in Supaglue's tables; explicit deletion
metadata still wins; a provider the registry does not know gets neither."""

from __future__ import annotations

from tenantsync import contract, providers
from tests.target.helpers import config, rec, rows, run_target, schema_msg


def test_specs_declare_their_peer_taps_conventions():
    assert providers.get("salesforce").peer_delete_flags == ("IsDeleted",)
    hubspot = contract.resolve("contacts", "hubspot")
    assert (hubspot.table, hubspot.delete_flags) == ("hubspot_contact", ("archived",))
    assert contract.resolve("contacts", "acme").table == "acme_contacts"  # unregistered


def test_delete_flags_mark_rows_deleted(pg_server_uri, pg_schema, pg_conn):
    run_target(config(pg_server_uri, pg_schema), [
        schema_msg("Account"),
        rec("Account", "001A", "2024-01-01T00:00:00Z", IsDeleted=True),
        rec("Account", "001B", "2024-01-01T00:00:00Z", IsDeleted=False),
        rec("Account", "001C", "2024-01-01T00:00:00Z", IsDeleted="true"),  # not the flag
        rec("Account", "001D", "2024-01-01T00:00:00Z", IsDeleted=True,
            _supaglue_is_deleted=False),  # explicit metadata wins
    ])
    got = {r["_supaglue_id"]: r["_supaglue_is_deleted"]
           for r in rows(pg_conn, pg_schema, "salesforce_account")}
    assert got == {"001A": True, "001B": False, "001C": False, "001D": False}


def test_peer_stream_names_land_in_supaglues_tables(pg_server_uri, pg_schema, pg_conn):
    props = {"id": {"type": "string"}, "archived": {"type": "boolean"},
             "updatedAt": {"type": "string", "format": "date-time"}}
    run_target(config(pg_server_uri, pg_schema, provider_name="hubspot"), [
        schema_msg("companies", key="id", bookmark="updatedAt", properties=props),
        {"type": "RECORD", "stream": "companies", "record": {
            "id": "5", "archived": True, "updatedAt": "2024-01-01T00:00:00Z"}},
    ])
    (row,) = rows(pg_conn, pg_schema, "hubspot_company")
    assert row["_supaglue_is_deleted"] is True
