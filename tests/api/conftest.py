"""The service as it runs: uvicorn on 127.0.0.1 in a thread, a real HTTP client, a SQLite
registry in a temporary directory, the hosted destination on the session's PostgreSQL."""

from __future__ import annotations

import os
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
import uvicorn

from tenantsync.api import data, egress, hosted, keys
from tenantsync.api.app import create_app
from tenantsync.api.service import ServiceConfig
from tenantsync.controller import crypto, db
from tenantsync.controller.registry import Registry

SECRET_KEY = "api-test-secret-key-0123456789abcdef"


@dataclass
class Service:
    url: str
    cfg: ServiceConfig
    key_a: str  # application "app-a"
    key_b: str  # application "app-b"

    def client(self, key: str | None = None) -> httpx.Client:
        headers = {"x-api-key": key} if key else {}
        return httpx.Client(base_url=self.url, headers=headers, timeout=30)

    def session(self):
        return db.session(self.cfg.registry_url)

    def registry(self, app: str = "app-a") -> Registry:
        return Registry(self.session(), app)


@pytest.fixture(scope="session")
def api_env(pg_server_uri):
    """The process environment the service reads (secret key, hosted database)."""
    saved = {k: os.environ.get(k) for k in (crypto.KEY_ENV, hosted.URL_ENV)}
    os.environ[crypto.KEY_ENV] = SECRET_KEY
    os.environ[hosted.URL_ENV] = pg_server_uri
    data.reset_dsn()
    yield
    for k, v in saved.items():
        if v is None:
            os.environ.pop(k, None)
        else:
            os.environ[k] = v
    data.reset_dsn()


def drop_hosted_schema(application_id: str = "app-a") -> None:
    """Test modules share the session's PostgreSQL: each starts and ends with no hosted data."""
    import psycopg2

    with psycopg2.connect(os.environ[hosted.URL_ENV]) as conn, conn.cursor() as cur:
        cur.execute(f'DROP SCHEMA IF EXISTS "{hosted.schema_for(application_id)}" CASCADE')


def start_server(tmp: Path, **cfg_overrides) -> tuple[Service, uvicorn.Server, threading.Thread]:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    url = f"http://127.0.0.1:{port}"
    cfg = ServiceConfig(**{"registry_url": f"sqlite:///{tmp}/registry.db",
                           "project": tmp / "project", "public_url": url,
                           "run_on_trigger": False,
                           # the tests' webhook receivers listen on loopback
                           "webhook_allowed_hosts": egress.AllowList.parse("127.0.0.1"),
                           # destinations may be on loopback or the 10/8 network here
                           "destination_allowed_hosts": egress.AllowList.parse(
                               "127.0.0.1,10.0.0.0/8", egress.DESTINATION_ALLOWED_HOSTS_ENV,
                               "destination"),
                           **cfg_overrides})
    with db.session(cfg.registry_url) as s:
        key_a, key_b = keys.create_key(s, "app-a"), keys.create_key(s, "app-b")
        s.commit()
    server = uvicorn.Server(uvicorn.Config(create_app(cfg), log_level="warning"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    for _ in range(500):
        if server.started:
            break
        time.sleep(0.01)
    assert server.started, "the API server did not start"
    return Service(url, cfg, key_a, key_b), server, thread


@contextmanager
def running_service(tmp: Path) -> Iterator[Service]:
    """The service that runs syncs when triggered (real `meltano run`), Meltano's logs kept
    under `tmp`, the hosted schema dropped before and after."""
    saved = os.environ.get("XDG_STATE_HOME")
    os.environ["XDG_STATE_HOME"] = str(tmp / "state")  # Meltano's logs stay in the sandbox
    drop_hosted_schema()
    svc, server, thread = start_server(tmp, run_on_trigger=True)
    try:
        yield svc
    finally:
        server.should_exit = True
        thread.join(timeout=15)
        if saved is None:
            os.environ.pop("XDG_STATE_HOME", None)
        else:
            os.environ["XDG_STATE_HOME"] = saved
        drop_hosted_schema()


@pytest.fixture(scope="module")
def service(api_env, tmp_path_factory):
    drop_hosted_schema()
    svc, server, thread = start_server(tmp_path_factory.mktemp("api"))
    yield svc
    server.should_exit = True
    thread.join(timeout=15)
    drop_hosted_schema()


@pytest.fixture
def a(service):
    with service.client(service.key_a) as client:
        yield client


@pytest.fixture
def b(service):
    with service.client(service.key_b) as client:
        yield client
