"""The twin kit on a toy provider declared from a table: paging styles as the provider
serves them, the provider's 400 for an oversized page or a bad parameter, its 401, burst and
budget limits enforced and counted, rate-limit headers, OAuth with Basic client credentials."""

from __future__ import annotations

import base64

import pytest
import requests

from tenantsync.sandbox.twinkit import Filter, Limits, OAuthEndpoints, Resource, RestTwin, Table


def envelope(docs, info):
    return {"items": docs, "paging": {k: v for k, v in info.items() if k.startswith("next")}}


class ToyTwin(RestTwin):
    provider = "toy"
    api_key_header = "x-key"
    limits = Limits(burst=5, window=2.0, daily_budget=35)
    tables = [Table("things", {"updated": ("TEXT", lambda d: d["updated"])})]

    def docs(self, table):
        return ({"id": i, "updated": f"2024-01-{1 + i % 3:02d}"} for i in range(1, 8))

    def resources(self):
        common = {"filters": (Filter("since", "updated", ">=", str),), "sort_param": "sort",
                  "sorts": {"id": "rid", "updated": "updated"}, "max_size": 3, "default_size": 3,
                  "cost": 5}
        return [Resource("offset", "/offset", "things", envelope, **common),
                Resource("cursor", "/cursor", "things", envelope, paging="cursor",
                         position_param="cursor", **common),
                Resource("page", "/page", "things", envelope, paging="page",
                         position_param="page", **common)]

    def extra_routes(self):
        return OAuthEndpoints(adds=lambda sb: {"api_domain": sb.base_url}).routes(self)

    def error(self, status, message):
        from tenantsync.sandbox.server import Response

        return Response.json({"ok": False, "message": message, "code": status}, status)


@pytest.fixture
def twin():
    with ToyTwin(tls=False, enforce_rate_limit=True) as sb:
        sb.key = sb.api_keys.add("k-1") or "k-1"
        yield sb


def get(sb, path, **params):
    return requests.get(sb.base_url + path, params=params, headers={"x-key": "k-1"}, timeout=10)


def walk(sb, path, position, read_next, **params):
    ids, value = [], None
    while True:
        extra = {position: value} if value is not None else {}
        body = get(sb, path, limit=3, **params, **extra).json()
        ids.append([d["id"] for d in body["items"]])
        value = read_next(body["paging"])
        if value is None:
            return ids


def test_each_paging_style_walks_the_whole_listing_in_the_asked_order(twin):
    assert walk(twin, "/offset", "start", lambda p: p.get("next_start")) == \
        [[1, 2, 3], [4, 5, 6], [7]]
    twin.accounting.reset()
    twin.bursts._windows.clear()
    assert walk(twin, "/cursor", "cursor", lambda p: p.get("next_cursor"), sort="updated",
                since="2024-01-02") == [[1, 4, 7], [2, 5]]
    twin.bursts._windows.clear()
    assert walk(twin, "/page", "page", lambda p: p.get("next_page"), sort="updated") == \
        [[3, 6, 1], [4, 7, 2], [5]]


def test_bad_requests_get_the_providers_error(twin):
    cases = [({"limit": 4}, "at most 3"), ({"sort": "name"}, "allowed: id, updated"),
             ({"limit": "x"}, "must be an integer"), ({"start": -1}, "at least 0")]
    for params, message in cases:
        response = get(twin, "/offset", **params)
        assert response.status_code == 400
        assert response.json()["code"] == 400 and message in response.json()["message"]
    bad_cursor = get(twin, "/cursor", cursor="!!")
    assert bad_cursor.status_code == 400 and "invalid cursor" in bad_cursor.json()["message"]
    assert requests.get(twin.base_url + "/offset", timeout=10).json() == {
        "ok": False, "message": "unauthorized access", "code": 401}
    assert get(twin, "/nowhere").status_code == 404


def test_burst_window_and_daily_budget_are_enforced_counted_and_announced(twin):
    statuses = [get(twin, "/offset") for _ in range(6)]
    assert [r.status_code for r in statuses] == [200] * 5 + [429]
    assert [r.headers["x-ratelimit-remaining"] for r in statuses[:5]] == ["4", "3", "2", "1",
                                                                           "0"]
    assert statuses[5].headers["Retry-After"] and statuses[5].headers["x-ratelimit-limit"] == "5"
    snapshot = twin.accounting.snapshot()
    assert snapshot["rate_limit_violations"] == 1
    assert snapshot["quota"] == {"used": 25, "limit": 35}
    twin.bursts._windows.clear()
    assert [get(twin, "/offset").status_code for _ in range(3)] == [200, 200, 429]  # budget


def test_oauth_token_endpoint_takes_basic_client_credentials(twin):
    refresh = twin.mint_refresh_token()
    basic = base64.b64encode(f"{twin.client_id}:{twin.client_secret}".encode()).decode()
    body = requests.post(twin.base_url + "/oauth/token", headers={
        "Authorization": f"Basic {basic}"}, data={"grant_type": "refresh_token",
                                                 "refresh_token": refresh}, timeout=10).json()
    assert body["api_domain"] == twin.base_url and body["token_type"] == "bearer"
    ok = requests.get(twin.base_url + "/offset", headers={
        "Authorization": f"Bearer {body['access_token']}"}, timeout=10)
    assert ok.status_code == 200
    wrong = base64.b64encode(f"{twin.client_id}:nope".encode()).decode()
    refused = requests.post(twin.base_url + "/oauth/token", headers={
        "Authorization": f"Basic {wrong}"}, data={"grant_type": "refresh_token",
                                                 "refresh_token": refresh}, timeout=10)
    assert refused.status_code == 401 and refused.json()["error"] == "invalid_client"
