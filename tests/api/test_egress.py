"""Webhook egress guard: `egress.check` over a table of URLs and allow-lists; the API refuses
to register internal URLs unless allowed; the dispatcher re-checks at delivery time and never
follows a redirect. Real HTTP servers on 127.0.0.1 (and 127.0.0.2, another loopback address)."""

from __future__ import annotations

import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest
from sqlalchemy import select

from tenantsync.api import egress, keys, webhooks
from tenantsync.api.egress import AllowList, Refused
from tenantsync.api.models import WebhookDelivery, WebhookEndpoint
from tenantsync.api.service import ServiceConfig
from tenantsync.controller import crypto, db
from tenantsync.controller.models import utcnow

from .conftest import start_server

NONE = AllowList()
LOOPBACK_ONLY = AllowList.parse("127.0.0.1")

# (url, allow-list, None when allowed, else words the refusal names)
CASES = [
    ("http://8.8.8.8/hooks", NONE, None),
    ("https://8.8.8.8:8443/hooks?x=1", NONE, None),
    ("https://[2001:4860:4860::8888]/", NONE, None),
    ("http://[::ffff:8.8.8.8]/", NONE, None),  # posts to 8.8.8.8
    ("http://127.0.0.1:9000/", NONE, "127.0.0.1 is a loopback address"),
    ("http://127.8.9.10/", NONE, "loopback"),
    ("http://localhost:9000/", NONE, "'localhost' resolves to"),
    ("http://LOCALHOST:9000/", NONE, "loopback"),
    ("http://2130706433/", NONE, "resolves to 127.0.0.1, which is a loopback"),  # decimal
    ("http://0x7f.1/", NONE, "resolves to 127.0.0.1"),  # inet_aton shorthand
    ("http://0.0.0.0/", NONE, "unspecified"),
    ("http://0/", NONE, "unspecified"),
    ("http://169.254.169.254/latest/meta-data/", NONE, "link-local"),  # cloud metadata
    ("http://10.1.2.3/", NONE, "private"),
    ("http://172.16.0.1/", NONE, "private"),
    ("http://192.168.1.1/", NONE, "private"),
    ("http://100.64.0.1/", NONE, "not globally reachable"),  # carrier-grade NAT
    ("http://224.0.0.1/", NONE, "multicast"),
    ("http://240.0.0.1/", NONE, "private"),  # reserved 240/4: ipaddress calls it private
    ("http://255.255.255.255/", NONE, "private"),
    ("http://[::1]:9000/", NONE, "::1 is a loopback"),
    ("http://[::]/", NONE, "unspecified"),
    ("http://[fe80::1]/", NONE, "link-local"),
    ("http://[fd00::1]/", NONE, "private"),
    ("http://[fec0::1]/", NONE, "site-local"),
    ("http://[ff02::1]/", NONE, "multicast"),
    ("http://[::7f00:1]/", NONE, "reserved"),  # IPv4-compatible (deprecated) form
    ("http://[::ffff:127.0.0.1]/", NONE, "IPv4-mapped form of 127.0.0.1, a loopback"),
    ("http://[::ffff:a9fe:a9fe]/", NONE, "169.254.169.254, a link-local"),
    ("http://[2002:a00:1::]/", NONE, "embedding 10.0.0.1, a private"),  # 6to4
    ("http://[64:ff9b::a9fe:a9fe]/", NONE, "embedding 169.254.169.254"),  # NAT64
    # the allow-list: addresses, networks, host names
    ("http://127.0.0.1:9000/", LOOPBACK_ONLY, None),
    ("http://[::ffff:127.0.0.1]/", LOOPBACK_ONLY, None),
    ("http://127.0.0.2/", LOOPBACK_ONLY, "127.0.0.2 is a loopback"),
    ("http://10.9.8.7/", AllowList.parse("10.0.0.0/8"), None),
    ("http://11.0.0.1/", AllowList.parse("10.0.0.0/8"), None),  # public anyway
    ("http://192.168.0.1/", AllowList.parse("10.0.0.0/8"), "private"),
    ("http://[fd00::5]/", AllowList.parse("fd00::/8"), None),
    ("http://localhost/", AllowList.parse("Localhost"), None),
    ("http://localhost/", AllowList.parse("hooks.internal"), "loopback"),
    ("http://127.0.0.1/", AllowList.parse("localhost"), "loopback"),  # a name allows a name
    # not URLs tenantsync posts to, whatever the allow-list
    ("ftp://8.8.8.8/", NONE, "scheme 'ftp' is not allowed"),
    ("file:///etc/passwd", LOOPBACK_ONLY, "scheme 'file' is not allowed"),
    ("gopher://127.0.0.1/", LOOPBACK_ONLY, "scheme 'gopher'"),
    ("http://user:pw@8.8.8.8/", NONE, "must not contain a user name or password"),
    ("http://token@127.0.0.1/", LOOPBACK_ONLY, "user name or password"),
    ("http:///nohost", NONE, "has no host"),
    ("http://8.8.8.8:port/", NONE, "not valid"),
    ("http://no-such-host.invalid/", NONE, "'no-such-host.invalid' does not resolve"),
]


@pytest.mark.parametrize(("url", "allowed", "refusal"), CASES)
def test_check(url, allowed, refusal):
    if refusal is None:
        assert egress.check(url, allowed)  # the addresses it resolved to
        return
    with pytest.raises(Refused) as refused:
        egress.check(url, allowed)
    assert refusal in str(refused.value)
    assert "pw" not in str(refused.value) and "token" not in str(refused.value)


def test_refusal_names_the_allow_list():
    with pytest.raises(Refused, match=egress.ALLOWED_HOSTS_ENV):
        egress.check("http://10.0.0.1/", NONE)


def test_allow_list_parsing():
    allowed = AllowList.parse(" 127.0.0.1, 10.0.0.0/8,,Hooks.Internal., ::1 ")
    assert allowed.hosts == {"hooks.internal"}
    assert [str(n) for n in allowed.networks] == ["127.0.0.1/32", "10.0.0.0/8", "::1/128"]
    assert AllowList.parse("") == NONE
    for bad, why in (("10.0.0.1/8", "host bits set"), ("999.1.1.1", "not a valid IP"),
                     ("10.0.0.0/33", "not a valid IP"), ("hooks.internal:8443", "not a host"),
                     ("a b", "not a host"), ("-bad.example", "not a host")):
        with pytest.raises(ValueError, match=egress.ALLOWED_HOSTS_ENV) as err:
            AllowList.parse(bad)
        assert repr(bad) in str(err.value) and why in str(err.value)


def test_service_config_reads_the_environment(monkeypatch, tmp_path):
    def cfg() -> ServiceConfig:
        return ServiceConfig(registry_url="sqlite://", project=tmp_path, public_url="http://x")

    monkeypatch.delenv(egress.ALLOWED_HOSTS_ENV, raising=False)
    assert cfg().webhook_allowed_hosts == NONE
    monkeypatch.setenv(egress.ALLOWED_HOSTS_ENV, "127.0.0.1,hooks.internal")
    assert cfg().webhook_allowed_hosts == AllowList.parse("hooks.internal,127.0.0.1")
    monkeypatch.setenv(egress.ALLOWED_HOSTS_ENV, "10.0.0.0/80")
    with pytest.raises(ValueError, match=egress.ALLOWED_HOSTS_ENV):
        cfg()


# --- real servers -------------------------------------------------------------------------

class Endpoint:
    """An HTTP server on a loopback address that records POSTs and answers `status` (with
    `location`, for a redirect)."""

    def __init__(self, host: str = "127.0.0.1", status: int = 204, location: str = ""):
        self.posts: list[str] = []
        endpoint = self

        class Handler(BaseHTTPRequestHandler):
            def _answer(self):
                endpoint.posts.append(self.path)
                self.rfile.read(int(self.headers.get("content-length") or 0))
                self.send_response(status)
                if location:
                    self.send_header("location", location)
                self.send_header("content-length", "0")
                self.end_headers()

            do_POST = do_GET = _answer

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer((host, 0), Handler)
        self.url = f"http://{host}:{self.server.server_address[1]}/hooks"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def endpoint():
    e = Endpoint()
    yield e
    e.close()


@pytest.fixture(scope="module")
def guarded(api_env, tmp_path_factory):
    """A service with an empty allow-list (the default)."""
    svc, server, thread = start_server(tmp_path_factory.mktemp("egress"),
                                       webhook_allowed_hosts=NONE)
    yield svc
    server.should_exit = True
    thread.join(timeout=15)


@pytest.fixture
def client(guarded):
    guarded.cfg.webhook_allowed_hosts = NONE
    with guarded.client(guarded.key_a) as c:
        yield c
        for hook in c.get("/mgmt/v2/webhooks").json():  # no test leaves a subscription
            c.delete(f"/mgmt/v2/webhooks/{hook['id']}")


def _emit(svc) -> int:
    with svc.session() as s:
        event = webhooks.emit(s, "app-a", "connection.created", {"customer_id": "c1"})
        s.commit()
        return event.id


def _delivery(svc, hook_id: str, until) -> WebhookDelivery:
    for _ in range(300):
        with svc.session() as s:
            found = s.scalars(select(WebhookDelivery).where(
                WebhookDelivery.endpoint_id == int(hook_id))).first()
        if found is not None and until(found):
            return found
        time.sleep(0.05)
    raise AssertionError(f"no delivery to webhook {hook_id} reached the expected state")


def test_registering_an_internal_url_needs_the_allow_list(client, guarded, endpoint):
    for url, reason in ((endpoint.url, "127.0.0.1 is a loopback address"),
                        ("http://169.254.169.254/latest/meta-data/", "link-local"),
                        ("http://localhost:1/", "'localhost' resolves to"),
                        ("http://admin:hunter2@8.8.8.8/", "user name or password")):
        r = client.post("/mgmt/v2/webhooks", json={"url": url})
        assert r.status_code == 400, r.text
        (error,) = r.json()["errors"]
        assert error["code"] == "BAD_REQUEST" and reason in error["detail"]
        assert "hunter2" not in r.text
    assert client.get("/mgmt/v2/webhooks").json() == []

    guarded.cfg.webhook_allowed_hosts = LOOPBACK_ONLY
    r = client.post("/mgmt/v2/webhooks", json={"url": endpoint.url})
    assert r.status_code == 201, r.text
    _emit(guarded)
    delivery = _delivery(guarded, r.json()["id"], lambda d: d.status == "sent")
    assert delivery.attempts == 1 and endpoint.posts == ["/hooks"]


def test_delivery_rechecks_the_url(client, guarded, endpoint):
    guarded.cfg.webhook_allowed_hosts = LOOPBACK_ONLY
    hook = client.post("/mgmt/v2/webhooks", json={"url": endpoint.url}).json()
    guarded.cfg.webhook_allowed_hosts = NONE  # the operator narrowed the allow-list
    _emit(guarded)
    refused = _delivery(guarded, hook["id"], lambda d: d.attempts >= 1)
    assert refused.last_error.startswith("not sent: webhook address 127.0.0.1 is a loopback")
    assert refused.status == "pending" and refused.next_attempt_at > utcnow()  # backs off
    assert endpoint.posts == []
    # allowed again: the retry delivers
    guarded.cfg.webhook_allowed_hosts = LOOPBACK_ONLY
    sent = _delivery(guarded, hook["id"], lambda d: d.status == "sent")
    assert sent.attempts >= 2 and sent.last_error is None and endpoint.posts == ["/hooks"]


def test_redirects_are_not_followed(client, guarded):
    internal = Endpoint("127.0.0.2")  # loopback, but not on the allow-list
    redirector = Endpoint(status=302, location=internal.url)
    try:
        guarded.cfg.webhook_allowed_hosts = LOOPBACK_ONLY
        hook = client.post("/mgmt/v2/webhooks", json={"url": redirector.url}).json()
        _emit(guarded)
        delivery = _delivery(guarded, hook["id"], lambda d: d.attempts >= 1)
        assert delivery.last_error == "endpoint answered HTTP 302, a redirect (not followed)"
        assert delivery.status == "pending"  # retried like any failure, never followed
        assert redirector.posts == ["/hooks"] and internal.posts == []
    finally:
        internal.close()
        redirector.close()


def test_refused_deliveries_fail_after_max_attempts(api_env, tmp_path, endpoint):
    """The retry bookkeeping, one round at a time, on a registry of its own."""
    with db.session(f"sqlite:///{tmp_path}/registry.db") as s, httpx.Client() as http:
        keys.create_key(s, "app-x")  # creates the application
        hook = WebhookEndpoint(application_id="app-x", url=endpoint.url, event_types=[],
                               sealed_secret=crypto.seal({"secret": webhooks.new_secret()}))
        s.add(hook)
        webhooks.emit(s, "app-x", "sync.complete", {"customer_id": "c1"})
        s.commit()
        for _ in range(webhooks.MAX_ATTEMPTS):
            assert webhooks.deliver_due(s, http, NONE) == 1
            s.execute(WebhookDelivery.__table__.update().values(next_attempt_at=utcnow()))
        assert webhooks.deliver_due(s, http, NONE) == 0  # no longer due
        (delivery,) = s.scalars(select(WebhookDelivery))
        assert (delivery.status, delivery.attempts) == ("failed", webhooks.MAX_ATTEMPTS)
        assert "not sent" in delivery.last_error and "loopback" in delivery.last_error
    assert endpoint.posts == []


@pytest.mark.parametrize(("host", "allowed", "refusal"), [
    ("127.0.0.1", NONE, "127.0.0.1 is a loopback address"),
    ("localhost", NONE, "'localhost' resolves to 127.0.0.1"),
    ("127.0.0.1", LOOPBACK_ONLY, None),
    ("localhost", AllowList.parse("localhost"), None),
])
def test_the_transport_vets_the_address_it_connects_to(endpoint, host, allowed, refusal):
    """No check before the request here: the connection itself is refused, so a DNS answer
    that changed after a check cannot reach an internal address."""
    url = endpoint.url.replace("127.0.0.1", host)
    with httpx.Client(transport=egress.guarded_transport(lambda: allowed)) as http:
        if refusal is None:
            assert http.post(url, content=b"{}").status_code == 204
            assert endpoint.posts == ["/hooks"]
            return
        with pytest.raises(Refused, match=refusal):
            http.post(url, content=b"{}")
    assert endpoint.posts == []
