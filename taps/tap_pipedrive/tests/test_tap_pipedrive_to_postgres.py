"""tap-pipedrive -> target-postgres: the Supaglue tables checked row by row against the twin,
after a full and an incremental sync with a deleted deal and an archived lead."""

from __future__ import annotations

import pytest

from tap_pipedrive.sandbox import PipedriveSandbox
from tap_pipedrive.spec import SPEC
from tap_pipedrive.tests.helpers import oauth_config, run_tap
from tests.target.helpers import config as target_config
from tests.target.helpers import rows, run_target


@pytest.fixture
def pd():
    with PipedriveSandbox(records=300, seed=9, tls=False) as sb:
        yield sb


def _check(conn, schema, pd, obj: str) -> None:
    table = {r["_supaglue_id"]: r for r in rows(conn, schema, f"pipedrive_{obj}")}
    twin = SPEC.twin.records(pd, obj)
    assert set(table) == set(twin), obj
    for rid, (doc, deleted) in twin.items():
        row = table[rid]
        assert row["_supaglue_is_deleted"] is deleted, (obj, rid)
        assert {k: row["_supaglue_raw_data"].get(k) for k in doc} == doc, (obj, rid)
        assert row["_supaglue_provider_name"] == "pipedrive"


def test_tap_to_target_rows_match_the_twin(pd, pg_server_uri, pg_schema, pg_conn):
    config = oauth_config(pd, standard_objects=["deals", "persons", "leads"],
                          common_objects=["opportunity"])
    target = target_config(pg_server_uri, pg_schema, provider_name="pipedrive")
    first = run_tap(config)
    run_target(target, first.messages)
    for obj in ("deals", "persons", "leads"):
        _check(pg_conn, pg_schema, pd, obj)

    pd.advance_clock(5)
    deal = pd.create("deals", {"title": "Fresh deal"})
    pd.delete("deals", "3")
    pd.delete("leads", pd.all_records("leads")[0][0]["id"])
    pd.update("persons", "7", {"first_name": "Ada"})
    second = run_tap(config, first.state)
    run_target(target, second.messages)
    for obj in ("deals", "persons", "leads"):
        _check(pg_conn, pg_schema, pd, obj)
    common = {r["id"]: r for r in rows(pg_conn, pg_schema, "crm_opportunities", order="id")}
    assert common["3"]["is_deleted"] is True and common[str(deal["id"])]["name"] == "Fresh deal"
