"""HttpClient against a real local HTTP server: retries, Retry-After, re-auth, errors."""

from __future__ import annotations

import email.utils
import random
import time

import pytest

from tenantsync.tapkit.errors import AuthError, FatalHttpError, StopSync
from tenantsync.tapkit.http import HttpClient, RetryPolicy, parse_nothing, retry_after_seconds
from tests.tapkit.scripted_server import Reply, ScriptedServer

OK = Reply(200, {"ok": True})


class Sleeps(list):
    def __call__(self, seconds: float) -> None:
        self.append(seconds)


class CountingAuth:
    def __init__(self):
        self.token, self.refreshes = "tok-0", 0

    def apply(self, headers):
        headers["Authorization"] = f"Bearer {self.token}"

    def refresh(self):
        self.refreshes += 1
        self.token = f"tok-{self.refreshes}"


def client(sleeps=None, **kw):
    return HttpClient(sleep=sleeps if sleeps is not None else Sleeps(), rng=random.Random(1),
                      retry=kw.pop("retry", RetryPolicy(max_tries=4, base_seconds=0.5)), **kw)


def test_transient_failures_are_retried_with_growing_jittered_backoff():
    sleeps = Sleeps()
    with ScriptedServer([Reply(503), Reply(500), Reply(502), OK]) as srv:
        assert client(sleeps).request("GET", srv.url + "/x") == {"ok": True}
        assert len(srv.seen) == 4
    # equal jitter: attempt n waits between half and all of 0.5 * 2**n
    for n, wait in enumerate(sleeps):
        ceiling = 0.5 * 2 ** n
        assert ceiling / 2 <= wait <= ceiling


def test_gives_up_after_max_tries_with_a_clear_error():
    with ScriptedServer(default=Reply(503, "busy")) as srv:
        with pytest.raises(FatalHttpError, match=r"GET /items: gave up after 4 attempts: HTTP 503"):
            client().request("GET", srv.url + "/items?q=1")
        assert len(srv.seen) == 4


def test_retry_after_seconds_is_honoured_exactly():
    sleeps = Sleeps()
    with ScriptedServer([Reply(429, headers={"Retry-After": "7"}), OK]) as srv:
        client(sleeps).request("GET", srv.url)
    assert 7 <= sleeps[0] <= 7.5


def test_retry_after_http_date():
    when = email.utils.formatdate(time.time() + 30, usegmt=True)
    assert 28 <= retry_after_seconds({"Retry-After": when}) <= 30
    assert retry_after_seconds({"Retry-After": "soon"}) is None
    assert retry_after_seconds({}) is None


def test_a_retry_after_beyond_the_limit_stops_the_run_cleanly():
    with ScriptedServer([Reply(429, headers={"Retry-After": "86400"})]) as srv, \
            pytest.raises(StopSync, match="86400s"):
        client().request("GET", srv.url + "/daily")


def test_truncated_json_body_of_a_200_is_fetched_again():
    with ScriptedServer([Reply(200, b'{"records": [1, 2'), Reply(200, {"records": [1, 2, 3]})]) \
            as srv:
        assert client().request("GET", srv.url) == {"records": [1, 2, 3]}
        assert len(srv.seen) == 2


def test_connection_reset_mid_body_is_retried():
    with ScriptedServer([Reply(200, {"x": "y" * 5000}, action="reset"), OK]) as srv:
        assert client().request("GET", srv.url) == {"ok": True}
        assert len(srv.seen) == 2


def test_read_timeout_is_retried():
    with ScriptedServer([Reply(200, {"slow": True}, delay=1.0), OK]) as srv:
        assert client(timeout=0.3).request("GET", srv.url) == {"ok": True}


def test_expired_session_is_refreshed_once_then_retried():
    auth = CountingAuth()
    with ScriptedServer([Reply(401, "expired"), OK]) as srv:
        assert client(auth=auth).request("GET", srv.url) == {"ok": True}
        assert [s.headers["Authorization"] for s in srv.seen] == ["Bearer tok-0", "Bearer tok-1"]
    assert auth.refreshes == 1


def test_session_rejected_after_refresh_is_an_auth_error():
    auth = CountingAuth()
    with ScriptedServer(default=Reply(401, "nope")) as srv:
        with pytest.raises(AuthError, match="rejected the session"):
            client(auth=auth).request("GET", srv.url + "/me")
        assert len(srv.seen) == 2


def test_client_errors_are_fatal_and_never_show_secrets():
    secret = "sk_live_abcdefghijklmnop"
    body = f'[{{"errorCode": "BAD", "message": "token {secret} rejected"}}]'
    with ScriptedServer([Reply(400, body)]) as srv, pytest.raises(FatalHttpError) as info:
        client(secrets=lambda: [secret]).request("GET", srv.url + "/x")
    assert secret not in str(info.value)
    assert "***" in str(info.value) and "HTTP 400" in str(info.value)
    assert info.value.status == 400


def test_one_keep_alive_connection_serves_many_requests():
    with ScriptedServer(default=OK) as srv:
        c = client()
        for _ in range(5):
            c.request("GET", srv.url)
        assert len({s.client_port for s in srv.seen}) == 1


def test_pacers_see_every_request_and_response():
    events = []

    class Recorder:
        def before_request(self):
            events.append("before")

        def after_response(self, response):
            events.append(response.status_code)

    with ScriptedServer([Reply(500), OK]) as srv:
        client(pacers=[Recorder()]).request("GET", srv.url, parse=parse_nothing)
    assert events == ["before", 500, "before", 200]
