"""OAuth refresh against a real local token endpoint; rotated tokens reach file and callback
sinks; the token store chain; errors without secrets."""

from __future__ import annotations

import json
import os
import stat
import sys
import types
from urllib.parse import parse_qs

import pytest

from tenantsync.tapkit.errors import AuthError, FatalHttpError, TokenSinkError
from tenantsync.tapkit.http import HttpClient, RetryPolicy
from tenantsync.tapkit.oauth import RefreshTokenAuth, StaticTokenAuth
from tenantsync.tapkit.tokens import FileTokenStore, TokenUpdate, fingerprint, load_sink
from tests.tapkit.scripted_server import Reply, ScriptedServer

SECRET = "client-secret-123456"


def auth_for(srv, refresh="rt-original-0001", sinks=(), **kw):
    http = HttpClient(retry=RetryPolicy(max_tries=3, base_seconds=0.01), sleep=lambda s: None)
    auth = RefreshTokenAuth(http=http, token_url=srv.url + "/token", client_id="cid",
                            client_secret=SECRET, refresh_token=refresh, provider="Acme",
                            sinks=sinks, extra_keys=("instance_url",), **kw)
    http.auth = auth
    return http, auth


def test_refresh_sends_the_grant_and_uses_the_access_token():
    with ScriptedServer([Reply(200, {"access_token": "at-1", "instance_url": "https://x"}),
                         Reply(200, {"ok": 1})]) as srv:
        http, auth = auth_for(srv)
        assert http.request("GET", srv.url + "/data") == {"ok": 1}
        form = {k: v[0] for k, v in parse_qs(srv.seen[0].body.decode()).items()}
        assert form == {"grant_type": "refresh_token", "refresh_token": "rt-original-0001",
                        "client_id": "cid", "client_secret": SECRET}
        assert srv.seen[1].headers["Authorization"] == "Bearer at-1"
        assert auth.token_response == {"instance_url": "https://x"}  # no secrets kept there


def test_rotated_refresh_token_reaches_file_store_and_callback(tmp_path):
    got: list[TokenUpdate] = []
    store = FileTokenStore(tmp_path / "sub" / "tokens.json")
    with ScriptedServer([
        Reply(200, {"access_token": "at-1", "refresh_token": "rt-rotated-0002",
                    "instance_url": "https://org"}),
        Reply(401, "expired"),
        Reply(200, {"access_token": "at-2", "refresh_token": "rt-rotated-0003",
                    "instance_url": "https://org"}),
        Reply(200, {"ok": 1}),
    ]) as srv:
        http, _auth = auth_for(srv, sinks=[store, got.append])
        http.request("GET", srv.url + "/data")
        # the second refresh sent the rotated token, not the configured one
        assert b"rt-rotated-0002" in srv.seen[2].body
    assert [u.refresh_token for u in got] == ["rt-rotated-0002", "rt-rotated-0003"]
    assert got[0].origin == got[1].origin == fingerprint("rt-original-0001")
    assert got[1].replaces == fingerprint("rt-rotated-0002")
    assert "rt-rotated" not in repr(got[0])
    path = tmp_path / "sub" / "tokens.json"
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    saved = json.loads(path.read_text())
    assert saved["refresh_token"] == "rt-rotated-0003" and saved["instance_url"] == "https://org"
    assert [p.name for p in path.parent.iterdir()] == ["tokens.json"]  # no temp files left
    # the next run starts from the newest token while the configuration is unchanged ...
    assert store.load("rt-original-0001") == "rt-rotated-0003"
    # ... and from the configuration once it was re-authorized
    assert store.load("rt-reauthorized-9999") is None


def test_unreadable_token_store_is_a_clear_error(tmp_path):
    path = tmp_path / "tokens.json"
    path.write_text("{not json")
    with pytest.raises(TokenSinkError, match="unreadable"):
        FileTokenStore(path).load("x")
    path.write_text("{}")
    with pytest.raises(TokenSinkError, match="refresh_token"):
        FileTokenStore(path).load("x")
    assert FileTokenStore(tmp_path / "absent.json").load("x") is None


def test_invalid_grant_is_an_auth_error_without_secrets():
    with ScriptedServer([Reply(400, {"error": "invalid_grant",
                                     "error_description": "expired access/refresh token"})]) as srv:
        http, _ = auth_for(srv)
        with pytest.raises(AuthError) as info:
            http.request("GET", srv.url + "/data")
    text = str(info.value)
    assert "invalid_grant" in text and "Re-authorize" in text
    assert f"refused the refresh token at {srv.url.split('//')[1]} (" in text
    assert SECRET not in text and "rt-original-0001" not in text


def test_an_unreachable_token_endpoint_is_named_by_its_host():
    """A token endpoint that cannot be reached is named by its host (whatever the cause)."""
    import socket

    with socket.socket() as closed:  # a port nobody listens on
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    http = HttpClient(retry=RetryPolicy(max_tries=2, base_seconds=0.01), sleep=lambda s: None)
    http.auth = RefreshTokenAuth(http=http, token_url=f"http://127.0.0.1:{port}/token",
                                 client_id="cid", client_secret=SECRET, refresh_token="rt-1",
                                 provider="Acme")
    with pytest.raises(FatalHttpError) as info:
        http.request("GET", f"http://127.0.0.1:{port}/data")
    # nothing listens on this machine's port: said at once, not after minutes of retries
    assert str(info.value).startswith(f"Acme token endpoint 127.0.0.1:{port}: POST /token: "
                                      f"connection refused at 127.0.0.1:{port}: nothing "
                                      "listens there")
    assert "\n" not in str(info.value) and SECRET not in str(info.value)


def test_a_failing_sink_stops_with_a_clear_error_naming_no_token():
    def broken(update):
        raise OSError(f"disk full writing {update.refresh_token}")

    with ScriptedServer([Reply(200, {"access_token": "a", "refresh_token": "rt-new-00000001"})]) \
            as srv:
        http, _ = auth_for(srv, sinks=[broken])
        with pytest.raises(TokenSinkError) as info:
            http.request("GET", srv.url)
    assert "broken" in str(info.value) and "rt-new" not in str(info.value)


def test_declared_expiry_triggers_a_proactive_refresh():
    now = [0.0]
    with ScriptedServer([Reply(200, {"access_token": "a1", "expires_in": 1800}),
                         Reply(200, {"ok": 1}), Reply(200, {"ok": 2}),
                         Reply(200, {"access_token": "a2", "expires_in": 1800}),
                         Reply(200, {"ok": 3})]) as srv:
        http, auth = auth_for(srv, clock=lambda: now[0])
        http.request("GET", srv.url)
        now[0] = 1000
        http.request("GET", srv.url)
        now[0] = 1800
        assert http.request("GET", srv.url) == {"ok": 3}
        assert auth.refreshes == 2


def test_static_token_cannot_refresh():
    auth = StaticTokenAuth("00Dabc!secret-session", "Acme")
    headers = {}
    auth.apply(headers)
    assert headers == {"Authorization": "Bearer 00Dabc!secret-session"}
    with pytest.raises(AuthError, match="refresh_token"):
        auth.refresh()


def test_load_sink_resolves_module_function_and_names_mistakes():
    module = types.ModuleType("tapkit_test_sinks")
    module.keep = lambda update: None
    sys.modules["tapkit_test_sinks"] = module
    try:
        assert load_sink("tapkit_test_sinks:keep") is module.keep
        with pytest.raises(TokenSinkError, match=r"package\.module:function"):
            load_sink("no_colon")
        with pytest.raises(TokenSinkError, match="cannot import"):
            load_sink("no_such_module_xyz:f")
        with pytest.raises(TokenSinkError, match="no callable 'missing'"):
            load_sink("tapkit_test_sinks:missing")
    finally:
        del sys.modules["tapkit_test_sinks"]
