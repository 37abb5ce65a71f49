"""tap-dynamics against its twin: discovery from EntityDefinitions (custom entity without its
prefix), full then incremental syncs equal to the twin's rows, common objects (stage and
pipeline names through $expand, is_active = !isdisabled), formatted-value annotations only
when asked and kept in the raw record, the delete detection in the catalog, Entra's token
endpoint (scope required, error shape, rotation) and the service protection 429."""

from __future__ import annotations

import io
import json
import re
from contextlib import redirect_stdout

import httpx
import pytest

from tap_dynamics.objects import FORMATTED as F
from tap_dynamics.sandbox import DynamicsSandbox
from tap_dynamics.sandbox.formatted import INDUSTRIES
from tap_dynamics.spec import SPEC
from tap_dynamics.tap import TapDynamics
from tenantsync.sandbox.twinkit import Limits

ACCOUNT = "name,industrycode,revenue,modifiedon,_ownerid_value"
TABLES = ("accounts", "contacts", "leads", "opportunities", "systemusers")


@pytest.fixture
def dy():
    with DynamicsSandbox(records=300, seed=5, tls=False) as sb:
        yield sb


def run_tap(config: dict, state: dict | None = None) -> tuple[dict, dict]:
    out = io.TextIOWrapper(io.BytesIO(), encoding="utf-8")
    with redirect_stdout(out):
        TapDynamics(config=config, state=state).sync_all()
    out.seek(0)
    records: dict[str, dict] = {}
    for m in map(json.loads, out.read().splitlines()):
        if m["type"] == "RECORD":
            r = m["record"]
            records.setdefault(m["stream"], {})[r.get("id") or next(
                v for k, v in r.items() if k.endswith("id"))] = r
        elif m["type"] == "STATE":
            state = m["value"]
    return records, state


def live(sb, table: str) -> dict[str, dict]:
    return {k: v for k, (v, gone) in SPEC.twin.records(sb, table).items() if not gone}


def raw(record: dict) -> dict:
    return {k: v for k, v in record.items() if not k.startswith(("_sdc_", "_supaglue_"))}


def test_full_then_incremental_equal_the_twin_and_common_objects_map(dy):
    config = {**SPEC.twin.tap_config(dy), "page_size": 40, "standard_objects": list(TABLES),
              "common_objects": ["opportunity", "user"], "custom_objects": ["project"],
              "backoff_base_seconds": 0.01}
    first, state = run_tap(config)
    for table in TABLES:
        key = dy.table(table).key
        assert {r[key]: raw(r) for r in first[table].values()} == live(dy, table), table
    assert len(first["custom__project"]) == len(live(dy, "cr1a2_projects")) > 0
    opp = next(iter(first["crm_opportunities"].values()))
    assert opp["stage"] and opp["pipeline"] == "Lead to Opportunity Sales Process"
    users = {u["id"]: u for u in first["crm_users"].values()}
    assert {k: not v["isdisabled"] for k, v in live(dy, "systemusers").items()} == \
        {k: u["is_active"] for k, u in users.items()}

    dy.advance_clock(5)
    SPEC.twin.mutate(dy, 0)  # an account created and renamed, a contact changed
    SPEC.twin.mutate(dy, 1)  # the same, and the account deleted: change tracking shows it
    old = next(iter(live(dy, "accounts")))
    dy.delete("accounts", old)
    second, _ = run_tap(config, state)
    accounts = second["accounts"]
    assert len(accounts) < len(first["accounts"]) / 2
    assert [r["name"] for r in accounts.values() if r.get("name", "").startswith("Changed")] \
        == ["Changed account 0 (renamed)"]
    gone = {k for k, r in accounts.items() if r.get("_supaglue_is_deleted")}
    assert gone == {k for k, (_, deleted) in SPEC.twin.records(dy, "accounts").items()
                    if deleted} and old in gone


def test_entra_token_endpoint_wants_scope_and_answers_as_entra(dy):
    token_url = dy.base_url + "/organizations/oauth2/v2.0/token"
    form = {"grant_type": "refresh_token", "client_id": dy.client_id,
            "client_secret": dy.client_secret,
            "refresh_token": dy.oauth.mint_refresh_token(dy.client_id)}
    missing = httpx.post(token_url, data=form).json()
    assert missing["error"] == "invalid_request" and missing["error_codes"] == [90014]
    ok = httpx.post(token_url, data={**form, "scope": f"{dy.base_url}/.default"}).json()
    assert ok["token_type"] == "Bearer"  # noqa: S105 (a token type)
    assert ok["ext_expires_in"] == ok["expires_in"]
    assert SPEC.oauth.token_settings(ok) == {"instance_url": dy.base_url}
    bad = httpx.post(token_url, data={**form, "refresh_token": "nope", "scope": "x/.default"})
    assert bad.status_code == 400 and bad.json()["error_description"].startswith("AADSTS70008")


def test_service_protection_429_is_counted_and_waited_out():
    with DynamicsSandbox(records=200, seed=2, tls=False, enforce_rate_limit=True,
                         limits=Limits(burst=3, window=1.0, limit_header=None,
                                       reset_header=None, remaining_header=None)) as sb:
        config = {**SPEC.twin.tap_config(sb), "page_size": 5,
                  "standard_objects": ["accounts"], "backoff_base_seconds": 0.01}
        records, _ = run_tap(config)
        assert len(records["accounts"]) == len(live(sb, "accounts"))
        assert sb.accounting.snapshot()["violations"]


def test_discover_says_how_each_stream_detects_deletes(dy):
    config = {**SPEC.twin.tap_config(dy), "standard_objects": ["accounts", "systemusers"],
              "common_objects": ["account"]}
    out = io.StringIO()
    with redirect_stdout(out):
        TapDynamics(config=config).run_discovery()
    root = {s["stream"]: next(m["metadata"] for m in s["metadata"] if m["breadcrumb"] == [])
            for s in json.loads(out.getvalue())["streams"]}
    assert {s: (m["tenantsync-delete-detection"], m["tenantsync-replication"])
            for s, m in root.items()} == {
        "accounts": ("change tracking", "incremental"),  # ChangeTrackingEnabled
        "systemusers": ("full-sync sweep", "incremental"),  # not enabled on the entity
        "crm_accounts": ("full-sync sweep", "incremental")}


def test_formatted_values_only_when_asked_and_kept_in_the_raw_record(dy):
    form = {"grant_type": "refresh_token", "client_id": dy.client_id,
            "client_secret": dy.client_secret, "scope": f"{dy.base_url}/.default",
            "refresh_token": dy.oauth.mint_refresh_token(dy.client_id)}
    token = httpx.post(dy.base_url + "/organizations/oauth2/v2.0/token", data=form).json()
    users = {u["systemuserid"]: u["fullname"] for u, _ in dy.all_records("systemusers")}

    def first(prefer: str | None, entity_set: str = "accounts", select: str = ACCOUNT) -> dict:
        headers = {"Authorization": f"Bearer {token['access_token']}"}
        if prefer:
            headers["Prefer"] = prefer
        answer = httpx.get(f"{dy.base_url}/api/data/v9.2/{entity_set}", headers=headers,
                           params={"$select": select, "$top": 1})
        assert answer.status_code == 200, answer.text
        return answer.json()["value"][0]

    assert not [k for k in first(None) if "FormattedValue" in k]
    for prefer in (f'odata.include-annotations="{F[1:]}"', 'odata.include-annotations="*"'):
        row = first(prefer)
        assert row["name"] and "name" + F not in row  # strings carry no formatted value
        assert row["industrycode" + F] == INDUSTRIES[row["industrycode"] - 1]
        assert row["revenue" + F] == f"${row['revenue']:,.2f}"
        assert re.fullmatch(r"\d{1,2}/\d{1,2}/\d{4} \d{1,2}:\d\d [AP]M", row["modifiedon" + F])
        assert row["_ownerid_value" + F] == users[row["_ownerid_value"]]
    user = first('odata.include-annotations="*"', "systemusers", "isdisabled")
    assert user["isdisabled" + F] == ("Disabled" if user["isdisabled"] else "Enabled")

    config = {**SPEC.twin.tap_config(dy), "standard_objects": ["accounts"],
              "common_objects": ["account"]}
    asked, _ = run_tap(config)
    assert {k: raw(r) for k, r in asked["accounts"].items()} == live(dy, "accounts")
    assert all(r["industrycode" + F] for r in asked["accounts"].values())
    assert all(r["raw_data"]["industrycode" + F] for r in asked["crm_accounts"].values())
    plain, _ = run_tap({**config, "include_formatted_values": False})
    assert not [k for r in plain["accounts"].values() for k in r if "@" in k]
