"""tap-salesloft against its twin: full then incremental syncs equal to the twin's records,
the engagement common objects as Supaglue mapped them (steps counted per cadence, archived
cadences deleted), the twin's documented behaviour (per_page cap, DESC default, microsecond
filters, deep-page costs, team-wide minute) and rotated refresh tokens kept."""

from __future__ import annotations

import io
import json
from collections import defaultdict
from contextlib import redirect_stdout

import httpx
import pytest

from tap_salesloft.objects import OBJECTS, ShallowPaging
from tap_salesloft.sandbox import SalesloftSandbox
from tap_salesloft.spec import SPEC
from tap_salesloft.tap import TapSalesloft
from tenantsync.tapkit.rest import Call, Page

COMMON = ["account", "contact", "user", "sequence", "sequence_state", "mailbox"]


@pytest.fixture
def sl():
    with SalesloftSandbox(records=300, seed=5, tls=False) as sb:
        yield sb


def run_tap(config: dict, state: dict | None = None):
    out = io.TextIOWrapper(io.BytesIO(), encoding="utf-8")
    with redirect_stdout(out):
        TapSalesloft(config=config, state=state).sync_all()
    out.seek(0)
    records: dict[str, dict] = defaultdict(dict)
    for m in map(json.loads, out.read().splitlines()):
        if m["type"] == "RECORD":
            records[m["stream"]][str(m["record"]["id"])] = m["record"]
        elif m["type"] == "STATE":
            state = m["value"]
    return records, state


def config(sb, **overrides) -> dict:
    return {**SPEC.twin.tap_config(sb), "backoff_base_seconds": 0.01, **overrides}


def live(sb, obj: str) -> dict[str, dict]:
    return {k: v for k, (v, gone) in SPEC.twin.records(sb, obj).items() if not gone}


def raw(record: dict) -> dict:
    return {k: v for k, v in record.items() if not k.startswith(("_sdc_", "_supaglue_"))}


def test_full_then_incremental_equal_the_twin(sl):
    cfg = config(sl, standard_objects=list(OBJECTS))
    first, state = run_tap(cfg)
    for obj in OBJECTS:
        assert {k: raw(r) for k, r in first[obj].items()} == live(sl, obj), obj
    sl.advance_clock(5)
    made = sl.create("people", {"first_name": "Ada"})
    sl.update("cadence_memberships", "3", {"current_state": "completed"})
    second, _ = run_tap(cfg, state)
    assert set(second["people"]) == {str(made["id"])}
    assert set(second["cadence_memberships"]) == {"3"}
    assert len(second["users"]) == len(live(sl, "users"))  # full only


def test_common_objects_follow_supaglues_salesloft_mappings(sl):
    sl.update("cadences", "1", {"archived_at": "2024-12-01T00:00:00.000000+00:00"})
    records, _ = run_tap(config(sl, common_objects=COMMON))
    person = live(sl, "people")["4"]
    contact = records["engagement_contacts"]["4"]
    assert contact["email_addresses"] == [{"email_address": person["email_address"],
                                           "email_address_type": "primary"}]
    assert [p["phone_number_type"] for p in contact["phone_numbers"]] == ["primary", "mobile"]
    assert contact["open_count"] == person["counts"]["emails_viewed"]
    assert contact["address"]["street_1"] is None and contact["address"]["city"]
    steps = defaultdict(int)
    for step in live(sl, "steps").values():
        steps[str(step["cadence"]["id"])] += 1
    for sid, seq in records["engagement_sequences"].items():
        assert seq["num_steps"] == steps[sid]
    assert records["engagement_sequences"]["1"]["is_deleted"] is True
    for state in records["engagement_sequence_states"].values():
        assert state["contact_id"] in records["engagement_contacts"]
        assert state["user_id"] in records["engagement_users"] and state["mailbox_id"] is None
    mailbox = records["engagement_mailboxes"]["1"]
    assert mailbox["user_id"] == "1" and mailbox["email"] == live(sl, "users")["1"]["email"]


def test_the_twin_answers_as_salesloft_documents(sl):
    http = httpx.Client(base_url=sl.base_url + "/v2", timeout=10,
                        headers={"Authorization": f"Bearer {sl.mint_access_token()}"})
    assert http.get("/people", params={"per_page": 101}).json()["error"]
    body = http.get("/people.json").json()
    stamps = [p["updated_at"] for p in body["data"]]
    assert len(stamps) == 25 and stamps == sorted(stamps, reverse=True)  # DESC by default
    mark = stamps[-1]
    newer = http.get("/people", params={"updated_at[gt]": mark, "per_page": 100,
                                        "sort_direction": "ASC"}).json()["data"]
    assert mark not in [p["updated_at"] for p in newer]  # strict, to the microsecond
    deep = http.get("/people", params={"page": 120, "per_page": 1})
    assert deep.headers["x-ratelimit-endpoint-cost"] == "3"
    window = SPEC.rate_limits(dict(deep.headers))["other"]["per_minute"]
    assert window["limit"] == 600 and window["remaining"] < 600
    assert http.get("/people", headers={"Authorization": "Bearer no"}).status_code == 401


def test_shallow_paging_restarts_from_the_watermark_after_page_100():
    paging = ShallowPaging(2, next_page_path=("metadata", "paging", "next_page"), shallow=2)
    call = Call("/people", {"page": 2, "per_page": 2})
    page = Page([{"updated_at": "a"}, {"updated_at": "b"}],
                {"metadata": {"paging": {"next_page": 3}}})
    assert paging.next(call, page).params == {"page": 1, "per_page": 2, "updated_at[gte]": "b"}
    same = Page([{"updated_at": "b"}, {"updated_at": "b"}], page.body)
    assert paging.next(call, same).params["page"] == 3  # one instant: keep paging


def test_rotated_refresh_token_is_kept(sl, tmp_path):
    sl.oauth.rotate_refresh_tokens = True
    store = tmp_path / "tokens.json"
    cfg = config(sl, standard_objects=["users"], token_store_path=str(store))
    run_tap(cfg)
    assert json.loads(store.read_text())["refresh_token"] != cfg["refresh_token"]
    assert len(run_tap(cfg)[0]["users"]) == 3
