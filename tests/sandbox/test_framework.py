"""The sandbox framework, through a minimal twin defined here (a real server, real sockets)."""

from __future__ import annotations

import json
import socket
from datetime import timedelta

import pytest
import requests

from tenantsync.sandbox.accounting import RateWindow
from tenantsync.sandbox.clock import Clock
from tenantsync.sandbox.datagen import World
from tenantsync.sandbox.server import Response, Route, Sandbox


class MiniSandbox(Sandbox):
    """Companies as `items`, listed in pages of `limit`; Bearer tokens; 10 req/s burst."""

    provider = "mini"
    rate_window = RateWindow(max_requests=10, seconds=1)
    quota_limit = 1000
    access_lifetime = timedelta(hours=1)

    def routes(self):
        return [Route("GET", r"/items", self.list_items, "items.list"),
                Route("GET", r"/items/(?P<id>\d+)", self.get_item, "items.get"),
                Route("POST", r"/token", self.token, "token", public=True)]

    def populate(self):
        self.store.create_table("items", {"modified": "TEXT"})
        self.store.insert_many("items", (
            (str(e["index"]), 0, e["modified"].isoformat(),
             json.dumps({"id": str(e["index"]), "name": e["name"],
                         "modified": e["modified"].isoformat()}))
            for e in self.world.iter("company")))

    def before(self, request):
        if self.oauth.use(request.bearer()) is None:
            return Response.json({"error": "unauthorized"}, 401)
        self.accounting.use_quota()
        return None

    def after(self, request, response):
        response.headers["X-Quota-Used"] = str(self.accounting.quota_used())

    def error_response(self, status, *, retry_after=None):
        headers = {"Retry-After": f"{retry_after:g}"} if retry_after is not None else {}
        return Response.json({"mini_error": status}, status, headers=headers)

    def token(self, request):
        form = request.form()
        from tenantsync.sandbox.oauth import OAuthError

        try:
            access, _ = self.oauth.refresh(form.get("client_id"), form.get("client_secret"),
                                           form.get("refresh_token"))
        except OAuthError as exc:
            return Response.json({"error": exc.reason}, 400)
        return Response.json({"access_token": access.token})

    def list_items(self, request):
        limit = int(request.arg("limit", "50"))
        after = int(request.arg("after", "0"))
        since = request.arg("since", "")
        rowids = self.store.select_rowids("items", "deleted = 0 AND modified >= ?", [since],
                                          order_by="modified")
        docs = [d for (d,) in self.store.fetch_docs("items", rowids[after:after + limit])]
        body = f'{{"total":{len(rowids)},"items":[{",".join(docs)}]}}'.encode()
        return Response(body=body, records=len(docs))

    def get_item(self, request):
        rec = self.store.get("items", request.params["id"])
        if rec is None or rec.deleted:
            return Response.json({"error": "not found"}, 404)
        return Response(body=rec.doc, records=1)

    # mutations
    def get_record(self, obj, record_id):
        rec = self._rec(obj, record_id)
        return json.loads(rec.doc)

    def create(self, obj, fields):
        self._table(obj)
        new_id = str(self.store.count("items") + 1000)
        return self._write(new_id, {"id": new_id, **fields})

    def update(self, obj, record_id, fields):
        return self._write(record_id, {**self.get_record(obj, record_id), **fields})

    def delete(self, obj, record_id):
        rec = self._rec(obj, record_id)
        self.store.put("items", record_id, rec.doc, deleted=True, **rec.columns)

    def _table(self, obj):
        if obj != "items":
            raise KeyError(f"no object {obj!r}")

    def _rec(self, obj, record_id):
        self._table(obj)
        rec = self.store.get("items", record_id)
        if rec is None:
            raise KeyError(f"no item {record_id}")
        return rec

    def _write(self, record_id, doc):
        doc["modified"] = self.clock.stamp().isoformat()
        self.store.put("items", record_id, json.dumps(doc), modified=doc["modified"])
        return doc


@pytest.fixture
def mini():
    with MiniSandbox(records=300, seed=3) as sb:
        sb.token = sb.mint_access_token()
        yield sb


def get(sb, path, **kw):
    return requests.get(sb.base_url + path, headers={"Authorization": f"Bearer {sb.token}"},
                        timeout=10, **kw)


def test_world_is_deterministic_and_consistent():
    a, b = World(2000, seed=11), World(2000, seed=11)
    assert a.counts == b.counts
    for kind in a.counts:
        assert list(a.iter(kind, 0, 20)) == list(b.iter(kind, 0, 20))
    assert World(2000, seed=12).get("contact", 5) != a.get("contact", 5)
    for i in range(a.counts["contact"]):  # contacts_of is the inverse of company_of_contact
        assert i in a.contacts_of(a.company_of_contact(i))
    deal = a.get("deal", 7)
    assert deal["contact"] in a.contacts_of(deal["company"])
    assert all(a.deal_company(d) == a.get("deal", d)["company"]
               for d in range(a.counts["deal"]))
    for role in a.iter("deal_contact"):
        assert role["contact"] in a.contacts_of(a.deal_company(role["deal"]))
    for kind in a.counts:
        e = a.get(kind, a.counts[kind] - 1)
        assert a.start <= e["created"] <= e["modified"] <= a.now


def test_world_rejects_unknown_kind():
    with pytest.raises(ValueError, match="unknown world kind 'gizmo'"):
        World(10, counts={"gizmo": 3})


def test_clock_advances_and_stamps_strictly_increase():
    clock = Clock("2024-06-01T00:00:00Z", ticking=False)
    first, second = clock.stamp(), clock.stamp()
    assert second > first
    clock.advance(3600)
    assert clock.now() >= clock.start + timedelta(hours=1)
    with pytest.raises(ValueError, match="only moves forward"):
        clock.advance(-1)


def test_pages_auth_and_accounting(mini):
    n = mini.world.counts["company"]
    first = get(mini, "/items", params={"limit": 20}).json()
    assert first["total"] == n and len(first["items"]) == 20
    mods = [i["modified"] for i in first["items"]]
    assert mods == sorted(mods)
    assert requests.get(mini.base_url + "/items", timeout=10).status_code == 401
    acct = mini.accounting.snapshot()
    assert acct["requests"] == {"items.list": 2}
    assert acct["records_served"] == {"items.list": 20}
    assert acct["quota"] == {"used": 1, "limit": 1000}
    assert acct["statuses"] == {"200": 1, "401": 1}
    over_http = requests.get(mini.base_url + "/_sandbox/accounting", timeout=10).json()
    assert over_http["total_requests"] == 2  # control calls are not counted
    requests.post(mini.base_url + "/_sandbox/accounting/reset", timeout=10)
    assert mini.accounting.snapshot()["total_requests"] == 0


def test_unknown_path_is_404_and_wrong_method_is_405(mini):
    assert get(mini, "/nope").status_code == 404
    assert requests.delete(mini.base_url + "/items", timeout=10).status_code == 405


def test_counted_status_fault_with_retry_after_and_violation(mini):
    mini.faults.add("status", status=429, retry_after=30, path="^/items$", count=2)
    r1 = get(mini, "/items")
    assert r1.status_code == 429 and r1.json() == {"mini_error": 429}
    assert r1.headers["Retry-After"] == "30"
    r2 = get(mini, "/items")  # the client did not wait: impolite
    assert r2.status_code == 429
    assert get(mini, "/items").status_code == 200  # count used up
    acct = mini.accounting.snapshot()
    assert acct["rate_limit_violations"] == 2
    assert "Retry-After" in acct["violations"][0]
    assert mini.faults.rules() == []


def test_status_fault_without_retry_after_and_server_errors(mini):
    for status in (429, 500, 502, 503):
        mini.faults.add("status", status=status, path="/items/", count=1)
        r = get(mini, "/items/1")
        assert r.status_code == status and "Retry-After" not in r.headers
    assert get(mini, "/items/1").status_code == 200
    assert mini.accounting.snapshot()["rate_limit_violations"] == 0


def test_probabilistic_faults_are_seeded():
    def run():
        with MiniSandbox(records=50, seed=9) as sb:
            sb.token = sb.mint_access_token()
            sb.faults.add("status", status=503, probability=0.5, path="/items")
            return [get(sb, "/items/1").status_code for _ in range(16)]
    first = run()
    assert set(first) == {200, 503}
    assert run() == first


def test_rate_window_violations(mini):
    for _ in range(12):
        get(mini, "/items/1")
    acct = mini.accounting.snapshot()
    assert acct["rate_limit_violations"] >= 2
    assert "more than 10 requests in 1s" in acct["violations"][-1]


def test_truncated_body_is_bad_json(mini):
    mini.faults.add("truncate", path="/items")
    r = get(mini, "/items")
    assert r.status_code == 200
    with pytest.raises(ValueError):
        r.json()
    assert get(mini, "/items").json()["total"] > 0


def test_connection_reset_mid_body(mini):
    mini.faults.add("reset", path="/items")
    with pytest.raises((requests.exceptions.ConnectionError,
                        requests.exceptions.ChunkedEncodingError), match="reset by peer"):
        get(mini, "/items", params={"limit": 100})
    assert get(mini, "/items").status_code == 200


def test_slow_fault_delays_then_answers(mini):
    mini.faults.add("slow", delay=0.5, path="/items")
    auth = {"Authorization": f"Bearer {mini.token}"}
    with pytest.raises(requests.exceptions.Timeout):
        requests.get(mini.base_url + "/items/1", headers=auth, timeout=0.1)
    assert requests.get(mini.base_url + "/items/1", headers=auth, timeout=10).status_code == 200


def test_fault_control_api(mini):
    url = mini.base_url + "/_sandbox/faults"
    added = requests.post(url, json=[{"kind": "status", "status": 502, "count": 3},
                                     {"kind": "slow", "delay": 0.1, "probability": 0.2}],
                          timeout=10).json()["faults"]
    assert [f["kind"] for f in added] == ["status", "slow"]
    bad = requests.post(url, json={"kind": "explode"}, timeout=10)
    assert bad.status_code == 400 and "kind must be one of" in bad.json()["error"]
    assert requests.delete(f"{url}/{added[0]['id']}", timeout=10).json()["faults"][0]["kind"] \
        == "slow"
    requests.delete(url, timeout=10)
    assert mini.faults.rules() == []


def test_access_token_expiry_after_calls_and_refresh_revocation(mini):
    refresh = mini.mint_refresh_token()
    form = {"client_id": mini.client_id, "client_secret": mini.client_secret,
            "refresh_token": refresh}
    token = requests.post(mini.base_url + "/token", data=form, timeout=10).json()["access_token"]
    requests.post(mini.base_url + "/_sandbox/auth/expire-after", json={"calls": 2}, timeout=10)
    auth = {"Authorization": f"Bearer {token}"}
    codes = [requests.get(mini.base_url + "/items/1", headers=auth, timeout=10).status_code
             for _ in range(3)]
    assert codes == [200, 200, 401]
    mini.oauth.expire_access_tokens_after(None)
    assert requests.post(mini.base_url + "/token", data={**form, "client_secret": "wrong"},
                         timeout=10).json() == {"error": "invalid_client"}
    requests.post(mini.base_url + "/_sandbox/auth/revoke-refresh-tokens", json={}, timeout=10)
    assert requests.post(mini.base_url + "/token", data=form, timeout=10).json() == {
        "error": "invalid_refresh_token"}


def test_access_token_lifetime_follows_the_sandbox_clock(mini):
    assert get(mini, "/items/1").status_code == 200
    requests.post(mini.base_url + "/_sandbox/clock/advance", json={"seconds": 3601}, timeout=10)
    assert get(mini, "/items/1").status_code == 401


def test_mutations_over_http_are_visible_and_stamped(mini):
    ctl = mini.base_url + "/_sandbox/objects/items"
    before = mini.clock.now()
    created = requests.post(ctl, json={"name": "Zeta Labs"}, timeout=10).json()
    assert created["modified"] >= before.isoformat()
    assert get(mini, f"/items/{created['id']}").json()["name"] == "Zeta Labs"
    newest = get(mini, "/items", params={"since": before.isoformat()}).json()
    assert [i["id"] for i in newest["items"]] == [created["id"]]
    changed = requests.patch(f"{ctl}/{created['id']}", json={"name": "Zeta"}, timeout=10).json()
    assert changed["modified"] > created["modified"]
    assert requests.delete(f"{ctl}/{created['id']}", timeout=10).status_code == 204
    assert get(mini, f"/items/{created['id']}").status_code == 404
    assert requests.get(f"{ctl}/nope", timeout=10).status_code == 404
    assert requests.post(mini.base_url + "/_sandbox/objects/gizmos", json={},
                         timeout=10).status_code == 404
    restore = requests.post(f"{ctl}/{created['id']}/restore", timeout=10)
    assert restore.status_code == 501  # the mini provider has no recycle bin


def test_https_on_the_same_port(mini):
    r = requests.get(mini.https_base_url + "/items/1", verify=mini.ca_file,
                     headers={"Authorization": f"Bearer {mini.token}"}, timeout=10)
    assert r.status_code == 200 and r.json()["id"] == "1"
    assert requests.get(mini.base_url + "/items/1", timeout=10,
                        headers={"Authorization": f"Bearer {mini.token}"}).status_code == 200


def test_keep_alive_and_stop_releases_the_port():
    sb = MiniSandbox(records=50).start()
    token = sb.mint_access_token()
    with requests.Session() as s:
        for _ in range(5):
            assert s.get(sb.base_url + "/items/1", timeout=10,
                         headers={"Authorization": f"Bearer {token}"}).status_code == 200
        port = sb.port
        sb.stop()
        with socket.socket() as probe:
            assert probe.connect_ex(("127.0.0.1", port)) != 0


def test_loopback_only():
    with pytest.raises(ValueError, match="loopback only"):
        MiniSandbox(host="0.0.0.0")


def test_cli_serves_until_interrupted():
    import signal
    import subprocess
    import sys

    proc = subprocess.Popen([sys.executable, "-c", "from tenantsync.cli import main; main()",
                             "sandbox", "serve", "salesforce", "--records", "50", "--seed", "2"],
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        base_url = proc.stdout.readline().strip()
        assert base_url.startswith("http://127.0.0.1:")
        info = requests.get(base_url + "/_sandbox/info", timeout=10).json()
        assert info["provider"] == "salesforce" and info["seed"] == 2
        assert requests.get(base_url + "/services/data/", timeout=10).status_code == 200
    finally:
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=30) == 0


def test_unknown_provider_is_named():
    from tenantsync.sandbox import sandbox_class, twin_providers

    with pytest.raises(ValueError, match="no sandbox for provider 'acme'; known: "
                                         + ", ".join(twin_providers())):
        sandbox_class("acme")


def test_malformed_framing_is_a_400(mini):
    with socket.create_connection(("127.0.0.1", mini.port), timeout=10) as raw:
        raw.sendall(b"POST /items HTTP/1.1\r\nHost: x\r\nContent-Length: lots\r\n\r\n")
        assert raw.recv(100).startswith(b"HTTP/1.1 400")
