"""tap-outreach against its twin: full then incremental syncs equal to the twin's resources,
deletes by a full sync's sweep, the engagement common objects as Supaglue mapped them, the
twin's JSON:API behaviour (page caps, filter syntaxes, links.next, include, errors), rotated
refresh tokens kept, and the hourly limit paced or stopping the run cleanly."""

from __future__ import annotations

import io
import json
from collections import defaultdict
from contextlib import redirect_stdout

import httpx
import pytest

from tap_outreach.jsonapi import flatten
from tap_outreach.objects import OBJECTS
from tap_outreach.sandbox import OutreachSandbox
from tap_outreach.spec import SPEC
from tap_outreach.tap import TapOutreach
from tenantsync.sandbox.twinkit import Bursts, Limits

COMMON = ["account", "contact", "user", "sequence", "mailbox", "sequence_state"]


@pytest.fixture
def ob():
    with OutreachSandbox(records=300, seed=5, tls=False) as sb:
        yield sb


def run_tap(config: dict, state: dict | None = None):
    out = io.TextIOWrapper(io.BytesIO(), encoding="utf-8")
    with redirect_stdout(out):
        TapOutreach(config=config, state=state).sync_all()
    out.seek(0)
    records: dict[str, dict] = defaultdict(dict)
    versions: dict[str, int] = defaultdict(int)
    for m in map(json.loads, out.read().splitlines()):
        if m["type"] == "RECORD":
            records[m["stream"]][str(m["record"]["id"])] = m["record"]
        elif m["type"] == "ACTIVATE_VERSION":
            versions[m["stream"]] += 1
        elif m["type"] == "STATE":
            state = m["value"]
    return records, versions, state


def config(sb, **overrides) -> dict:
    return {**SPEC.twin.tap_config(sb), "backoff_base_seconds": 0.01, **overrides}


def live(sb, obj: str) -> dict[str, dict]:
    return {k: v for k, (v, gone) in SPEC.twin.records(sb, obj).items() if not gone}


def raw(record: dict) -> dict:
    return {k: v for k, v in record.items() if not k.startswith(("_sdc_", "_supaglue_"))}


def test_full_then_incremental_equal_the_twin_and_a_full_sync_sweeps_deletes(ob):
    cfg = config(ob, standard_objects=list(OBJECTS), full_sync_every_n_incrementals=1)
    first, versions, state = run_tap(cfg)
    for obj in OBJECTS:
        assert {k: raw(r) for k, r in first[obj].items()} == live(ob, obj), obj
        assert versions[obj] == 1, obj
    ob.advance_clock(5)
    made = ob.create("prospects", {"firstName": "Ada", "lastName": "Lovelace"})
    ob.update("sequenceStates", "3", {"state": "finished"})
    ob.delete("prospects", "7")
    second, versions, state = run_tap(cfg, state)
    assert set(second["prospects"]) == {str(made["id"])}  # what changed; the delete is unseen
    assert set(second["sequenceStates"]) == {"3"} and second["sequenceStates"]["3"]["state"] \
        == "finished"
    assert not versions  # incremental: no ACTIVATE_VERSION
    third, versions, _ = run_tap(cfg, state)  # full again: its sweep flags what is gone
    assert versions["prospects"] == 1 and "7" not in third["prospects"]
    assert {k: raw(r) for k, r in third["prospects"].items()} == live(ob, "prospects")


def test_common_objects_follow_supaglues_outreach_mappings(ob):
    records, _, _ = run_tap(config(ob, common_objects=COMMON))
    prospect = ob.get_record("prospects", "4")
    contact = records["engagement_contacts"]["4"]
    a = prospect["attributes"]
    assert contact["raw_data"] == prospect  # the JSON:API resource, as Supaglue kept it
    assert contact["email_addresses"] == [{"email_address": a["emails"][0],
                                           "email_address_type": "work"}]
    assert contact["phone_numbers"] == [
        {"phone_number": a["mobilePhones"][0], "phone_number_type": "mobile"},
        {"phone_number": a["workPhones"][0], "phone_number_type": "work"}]
    assert contact["address"]["postal_code"] == a["addressZip"]
    assert contact["account_id"] == str(prospect["relationships"]["account"]["data"]["id"])
    assert contact["open_count"] == a["openCount"] and contact["bounced_count"] == \
        a["bouncedCount"]
    for sid, state in records["engagement_sequence_states"].items():
        rel = ob.get_record("sequenceStates", sid)["relationships"]
        assert (state["contact_id"], state["sequence_id"], state["mailbox_id"],
                state["user_id"]) == tuple(str(rel[n]["data"]["id"]) for n in (
                    "prospect", "sequence", "mailbox", "creator"))
        assert state["contact_id"] in records["engagement_contacts"]
        assert state["mailbox_id"] in records["engagement_mailboxes"]
    user = records["engagement_users"]["1"]
    assert (user["first_name"], user["last_name"]) == tuple(
        ob.get_record("users", "1")["attributes"][k] for k in ("firstName", "lastName"))
    sequence = next(iter(records["engagement_sequences"].values()))
    assert sequence["num_steps"] == sequence["raw_data"]["attributes"]["sequenceStepCount"]
    assert set(sequence["metrics"]) >= {"openCount", "numContactedProspects"}
    mailbox = records["engagement_mailboxes"]["1"]
    assert mailbox["user_id"] == "1" and mailbox["email"].endswith("@tenantsync-demo.example")
    assert all(not r["is_deleted"] for t in records.values() for r in t.values())


def test_the_twin_answers_as_outreach_documents(ob):
    token = ob.mint_access_token()
    http = httpx.Client(base_url=ob.base_url + "/api/v2",
                        headers={"Authorization": f"Bearer {token}"}, timeout=10)
    too_big = http.get("/prospects", params={"page[size]": 1001})
    assert too_big.status_code == 400 and too_big.json()["errors"][0]["id"] == "badRequest"
    assert http.get("/prospects", params={"filter[updatedAt]": "yesterday..inf"}
                    ).status_code == 400
    assert http.get("/prospects", params={"newFilterSyntax": "true",
                                          "filter[updatedAt]": "2024-01-01T00:00:00Z..inf"}
                    ).status_code == 400
    mark = ob.get_record("prospects", "10")["attributes"]["updatedAt"]
    legacy = http.get("/prospects", params={"filter[updatedAt]": f"{mark}..inf",
                                            "sort": "updatedAt", "page[size]": 1000}).json()
    newer = http.get("/prospects", params={"newFilterSyntax": "true",
                                           "filter[updatedAt][gte]": mark,
                                           "sort": "updatedAt", "page[size]": 1000}).json()
    assert legacy["data"] == newer["data"] and legacy["data"][0]["attributes"]["updatedAt"] \
        == mark  # inclusive
    first = http.get("/accounts", params={"page[size]": 5, "sort": "-updatedAt",
                                          "count": "false", "include": "owner"})
    body = first.json()
    stamps = [d["attributes"]["updatedAt"] for d in body["data"]]
    assert stamps == sorted(stamps, reverse=True)
    assert {i["type"] for i in body["included"]} == {"user"}
    nxt = body["links"]["next"]
    assert nxt.startswith(ob.base_url + "/api/v2/accounts?") and "page%5Bafter%5D" in nxt
    again = http.get(nxt + "&page%5Bsize%5D=5&sort=-updatedAt")  # keys repeated
    assert again.status_code == 200 and len(again.json()["data"]) == 5
    assert again.json()["data"][0]["id"] not in {d["id"] for d in body["data"]}
    window = SPEC.rate_limits(dict(first.headers))["hourly"]
    assert window["limit"] == 10_000 and window["remaining"] < 10_000
    assert http.get("/accounts", headers={"Authorization": "Bearer nope"}).json()[
        "errors"][0]["id"] == "unauthorized"
    assert http.get("/accounts", params={"include": "nothing"}).status_code == 400


def test_rotated_refresh_token_is_kept(ob, tmp_path):
    ob.oauth.rotate_refresh_tokens = True
    store = tmp_path / "tokens.json"
    cfg = config(ob, standard_objects=["users"], token_store_path=str(store))
    run_tap(cfg)
    assert json.loads(store.read_text())["refresh_token"] != cfg["refresh_token"]
    assert len(run_tap(cfg)[0]["users"]) == 3  # the used token is dead; the kept one works


def test_hourly_limit_is_paced_or_stops_cleanly_and_resumes():
    with OutreachSandbox(records=3000, seed=2, tls=False, enforce_rate_limit=True,
                         limits=Limits(burst=3, window=1.0)) as sb:
        records, _, _ = run_tap(config(sb, standard_objects=["prospects", "accounts"],
                                       page_size=200))
        assert len(records["prospects"]) == sb.world.counts["contact"]
        snap = sb.accounting.snapshot()
        assert snap["rate_limit_violations"] == 0 and "429" not in snap["statuses"]
    hour = Limits(burst=4, window=3600.0)
    with OutreachSandbox(records=3000, seed=2, tls=False, enforce_rate_limit=True,
                         limits=hour) as sb:
        cfg = config(sb, standard_objects=["prospects"], page_size=200)
        first, versions, state = run_tap(cfg)  # 4 pages of 5, then the spent hour
        assert sb.accounting.snapshot()["statuses"]["429"] == 1 and not versions
        sb.bursts = Bursts(hour)  # the next hour
        second, versions, _ = run_tap(cfg, state)
        assert {**first["prospects"], **second["prospects"]}.keys() == \
            live(sb, "prospects").keys() and versions["prospects"] == 1


def test_flatten_keeps_to_one_relationship_ids():
    resource = {"type": "prospect", "id": 42, "attributes": {"firstName": "Ada"},
                "relationships": {"account": {"data": {"type": "account", "id": 7}},
                                  "owner": {"data": None}, "sequenceStates": {"data": []},
                                  "stage": {"links": {"related": "x"}}}}
    assert flatten(resource) == {"id": 42, "firstName": "Ada", "accountId": 7,
                                 "ownerId": None}
