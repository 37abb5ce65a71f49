"""The portal on the service as it runs (tests/api's server: uvicorn on 127.0.0.1, a SQLite
registry, apps "app-a" and "app-b"), and browsers-as-HTTP-clients signed in to it."""

from __future__ import annotations

import re

import httpx
import pytest

from tests.api.conftest import Service, api_env, service

__all__ = ["api_env", "service"]
CSRF = re.compile(r'name="csrf" value="([^"]+)"')


class Browser:
    """An HTTP client that behaves like a signed-in browser: cookies kept, CSRF token read
    from the last page."""

    def __init__(self, svc: Service, key: str | None):
        self.http = httpx.Client(base_url=svc.url, timeout=30)
        self.csrf = ""
        if key is not None:
            page = self.http.get("/portal/login")
            done = self.http.post("/portal/login", data={"csrf": self.token(page.text),
                                                         "api_key": key})
            assert done.status_code == 303, done.text
            self.get("/portal/")

    @staticmethod
    def token(text: str) -> str:
        found = CSRF.search(text)
        assert found, "no CSRF token on the page"
        return found.group(1)

    def get(self, path: str, **kw) -> httpx.Response:
        r = self.http.get(path, **kw)
        if r.status_code == 200 and (found := CSRF.search(r.text)):
            self.csrf = found.group(1)
        return r

    def post(self, path: str, data: dict | None = None, *, csrf: bool = True,
             **kw) -> httpx.Response:
        form = {**(data or {}), **({"csrf": self.csrf} if csrf else {})}
        return self.http.post(path, data=form, **kw)

    def close(self) -> None:
        self.http.close()


@pytest.fixture
def browser_a(service):
    b = Browser(service, service.key_a)
    yield b
    b.close()


@pytest.fixture
def browser_b(service):
    b = Browser(service, service.key_b)
    yield b
    b.close()
