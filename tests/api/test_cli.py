"""`tenantsync api-keys create` prints a key once; `tenantsync serve` serves with it."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
from click.testing import CliRunner

from tenantsync.cli import main
from tenantsync.controller import crypto, db

from .conftest import SECRET_KEY


def test_create_key_then_serve(tmp_path):
    env = {**os.environ, crypto.KEY_ENV: SECRET_KEY, db.URL_ENV: f"sqlite:///{tmp_path}/r.db",
           db.PROJECT_ENV: str(tmp_path)}
    result = CliRunner().invoke(main, ["api-keys", "create", "--application", "cli-app"],
                                env=env)
    assert result.exit_code == 0, result.output
    key = result.output.strip()
    assert key.startswith("tsk_") and len(key) > 40
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    exe = str(Path(sys.executable).with_name("tenantsync"))
    proc = subprocess.Popen([exe, "serve", "--port", str(port)], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        url = f"http://127.0.0.1:{port}"
        for _ in range(400):
            try:
                if httpx.get(f"{url}/health").status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.05)
        else:
            raise AssertionError(proc.stdout.read().decode()[-2000:] if proc.poll() else
                                 "server did not answer")
        r = httpx.put(f"{url}/mgmt/v2/customers", headers={"x-api-key": key},
                      json={"customer_id": "acme"})
        assert r.status_code == 200 and r.json()["application_id"] == "cli-app"
        assert httpx.get(f"{url}/mgmt/v2/customers").status_code == 401
        assert (tmp_path / "tenantsync.meltano.yml").exists()  # a change re-renders
        httpx.get(f"{url}/oauth/callback", params={"code": "auth-code-s3cret", "state": "x"})
    finally:
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=30)
    log = proc.stdout.read().decode()
    assert "/oauth/callback?[redacted]" in log  # the access log keeps the route...
    assert "auth-code-s3cret" not in log  # ...never the authorization code
    revoked = CliRunner().invoke(main, ["api-keys", "revoke", key[:10]], env=env)
    assert revoked.output.strip() == "revoked 1 key(s)"
