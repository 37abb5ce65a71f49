"""tap-intercom against its twin: everything equal to the twin, incremental search by the
bookmark's day, the single-scroll rule (a second scroll is refused; an open scroll's params
resume it; an expired one restarts the pass), the version header, and the OAuth token that
never expires."""

from __future__ import annotations

import io
import json
import time
from contextlib import redirect_stdout

import httpx
import pytest

from tap_intercom.sandbox import IntercomSandbox
from tap_intercom.spec import SPEC
from tap_intercom.tap import TapIntercom

FAST = {"backoff_base_seconds": 0.01}


def run(config: dict, state: dict | None = None) -> tuple[dict[str, list], dict]:
    buf = io.TextIOWrapper(io.BytesIO(), encoding="utf-8")
    with redirect_stdout(buf):
        TapIntercom(config=config, state=state).sync_all()
    buf.seek(0)
    records: dict[str, list] = {}
    state = {}
    for line in buf.read().splitlines():
        m = json.loads(line)
        if m["type"] == "RECORD":
            records.setdefault(m["stream"], []).append(m["record"])
        elif m["type"] == "STATE":
            state = m["value"]
    return records, state


@pytest.fixture
def ic():
    with IntercomSandbox(records=500, seed=4, tls=False, scroll_ttl=1.0) as sb:
        yield sb


def test_full_then_incremental_equal_the_twin(ic):
    config = {**SPEC.twin.tap_config(ic), **FAST}
    records, state = run(config)
    for obj in SPEC.twin.objects:
        want = SPEC.twin.records(ic, obj)
        got = {r["id"]: r for r in records[obj]}
        assert set(got) == set(want), obj
        assert all(got[k][f] == v for k, (fields, _) in want.items()
                   for f, v in fields.items()), obj
    ic.advance_clock(5)
    SPEC.twin.mutate(ic, 1)
    again, _ = run(config, state)
    assert [r["name"] for r in again["contact"]][-1] == "New contact 1 (renamed)"
    assert len(again["contact"]) < 10 and len(again["conversation"]) < 10
    assert len(again["company"]) == len(records["company"]) - 1  # full only; one deleted


def test_one_scroll_at_a_time_and_an_expired_scroll_restarts(ic):
    url, token = ic.base_url, ic.mint_token()
    headers = {"Authorization": f"Bearer {token}"}
    first = httpx.get(f"{url}/companies/scroll", headers=headers)
    assert first.status_code == 200 and len(first.json()["data"]) == 50
    second = httpx.get(f"{url}/companies/scroll", headers=headers)
    assert second.status_code == 400
    assert second.json()["errors"][0]["code"] == "scroll_exists"
    param = first.json()["scroll_param"]
    page = httpx.get(f"{url}/companies/scroll", params={"scroll_param": param},
                     headers=headers).json()
    again = httpx.get(f"{url}/companies/scroll", params={"scroll_param": param},
                      headers=headers).json()
    assert page["data"] == again["data"]  # a param sent again serves its page again
    time.sleep(1.2)
    gone = httpx.get(f"{url}/companies/scroll", params={"scroll_param": param},
                     headers=headers)
    assert gone.status_code == 404
    # a saved scroll whose scroll has expired: the pass starts over and reads every company
    state = {"bookmarks": {"company": {"rest_full_sync": {
        "version": 1, "started": True, "next": {"url": "/companies/scroll",
                                                "params": {"scroll_param": param}}}}}}
    records, _ = run({"access_token": token, "api_url": url, **FAST,
                      "standard_objects": ["company"]}, state)
    assert {r["id"] for r in records["company"]} == set(SPEC.twin.records(ic, "company"))


def test_version_header_and_the_oauth_token_that_never_expires(ic):
    bad = httpx.get(f"{ic.base_url}/admins", headers={
        "Authorization": f"Bearer {ic.mint_token()}", "Intercom-Version": "9.9"})
    assert bad.status_code == 400
    assert bad.json()["type"] == "error.list"
    code = ic.oauth.issue_code(ic.client_id, "https://app.example/cb", "")
    answer = httpx.post(f"{ic.base_url}/auth/eagle/token", data={
        "code": code, "client_id": ic.client_id, "client_secret": ic.client_secret})
    body = answer.json()
    assert answer.status_code == 200 and "refresh_token" not in body
    ic.oauth.expire_access_tokens_after(0)  # the OAuth registry's tokens die; Intercom's not
    records, _ = run({"access_token": body["access_token"], "api_url": ic.base_url,
                      "standard_objects": ["admin"]})
    assert len(records["admin"]) == 3
