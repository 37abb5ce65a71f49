"""The HTTP server every twin runs on, and `Sandbox`, the base class a provider twin extends.

A twin declares its routes (method + regex over the path -> handler), loads its store from the
data world, and supplies the provider-specific bits through hooks: `before` (auth, quota),
`after` (headers every response carries), `error_response` (fault bodies in the provider's own
error shape), `not_found`, and the record mutations. This module provides the rest: threading
HTTP/1.1 keep-alive server on 127.0.0.1 (plain http and https on the same port), routing, fault
injection, accounting, the sandbox clock, OAuth state, and the `/_sandbox/` control API.
"""

from __future__ import annotations

import contextlib
import json
import logging
import re
import socket
import struct
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from tenantsync.sandbox.accounting import Accounting, Admission, RateWindow
from tenantsync.sandbox.clock import Clock
from tenantsync.sandbox.datagen import World
from tenantsync.sandbox.faults import Fault, FaultInjector
from tenantsync.sandbox.oauth import OAuthRegistry, default_token
from tenantsync.sandbox.store import Store

log = logging.getLogger(__name__)

CONTROL_PREFIX = "/_sandbox/"


# -- requests and responses -------------------------------------------------------------------


@dataclass
class Request:
    method: str
    path: str  # percent-decoded, without the query string
    query: dict[str, list[str]]
    headers: Message
    body: bytes
    raw_path: str = ""  # as sent, with the query string
    base_url: str = ""  # scheme://host:port the client used (https when it spoke TLS)
    params: dict[str, str] = field(default_factory=dict)  # the route regex's named groups
    route: Route | None = None
    admission: Admission | None = None
    state: dict[str, Any] = field(default_factory=dict)  # what `before` learned (e.g. the token)

    def arg(self, name: str, default: str | None = None) -> str | None:
        values = self.query.get(name)
        return values[0] if values else default

    def json(self) -> Any:
        try:
            return json.loads(self.body or b"null")
        except ValueError as exc:
            raise BadRequest(f"request body is not valid JSON: {exc}") from exc

    def form(self) -> dict[str, str]:
        """An x-www-form-urlencoded body (first value of each key)."""
        try:
            parsed = parse_qs(self.body.decode(), keep_blank_values=True)
        except UnicodeDecodeError as exc:
            raise BadRequest("form body is not UTF-8") from exc
        return {k: v[0] for k, v in parsed.items()}

    def bearer(self, *schemes: str) -> str | None:
        """The token of an `Authorization: <scheme> <token>` header (default scheme Bearer)."""
        value = self.headers.get("Authorization") or ""
        scheme, _, token = value.partition(" ")
        if scheme.lower() in {s.lower() for s in (schemes or ("Bearer",))} and token.strip():
            return token.strip()
        return None


@dataclass
class Response:
    status: int = 200
    body: bytes | str | list[bytes] = b""
    content_type: str | None = "application/json;charset=UTF-8"
    headers: dict[str, str] = field(default_factory=dict)
    records: int = 0  # records served in this response (accounting)

    @classmethod
    def json(cls, data: Any, status: int = 200, *, headers: dict[str, str] | None = None,
             records: int = 0) -> Response:
        return cls(status, json.dumps(data, separators=(",", ":")).encode(),
                   headers=dict(headers or {}), records=records)

    def body_bytes(self) -> bytes:
        if isinstance(self.body, bytes):
            return self.body
        if isinstance(self.body, str):
            return self.body.encode()
        return b"".join(self.body)


class Abort(Exception):
    """Raise from anywhere in a handler to answer with `response` (e.g. a provider error)."""

    def __init__(self, response: Response):
        super().__init__(response.status)
        self.response = response


class BadRequest(ValueError):
    """Malformed input to the sandbox itself (control API, request body)."""


Handler = Callable[[Request], Response]


@dataclass(frozen=True)
class Route:
    method: str
    pattern: str  # regex, full-matched against the decoded path
    handler: Handler
    name: str  # the endpoint name accounting counts under
    public: bool = False  # skip the twin's `before` hook (e.g. OAuth endpoints, version list)


class Router:
    def __init__(self, routes: Iterable[Route]):
        self._routes = [(r, re.compile(r.pattern)) for r in routes]

    def match(self, method: str, path: str) -> tuple[Route | None, dict[str, str], bool]:
        """(route, named groups, whether the path exists under another method)."""
        other_method = False
        for route, regex in self._routes:
            m = regex.fullmatch(path)
            if m is None:
                continue
            if route.method == method or (method == "HEAD" and route.method == "GET"):
                return route, m.groupdict(), False
            other_method = True
        return None, {}, other_method


# -- the HTTP layer ---------------------------------------------------------------------------


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128

    def __init__(self, address, sandbox: Sandbox, tls_context):
        self.sandbox = sandbox
        self.tls_context = tls_context
        self.live: set[socket.socket] = set()
        self.live_lock = threading.Lock()
        super().__init__(address, _Handler)

    def handle_error(self, request, client_address) -> None:
        log.debug("sandbox connection error from %s", client_address, exc_info=True)

    def close_live_connections(self) -> None:
        with self.live_lock:
            for sock in list(self.live):
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "tenantsync-sandbox"
    sys_version = ""
    timeout = 300
    server: _Server

    def setup(self) -> None:
        raw = self.request
        # Headers and body go out in separate writes: without this, Nagle's algorithm holds the
        # body until the client's delayed ACK (~40 ms per keep-alive request).
        raw.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        with self.server.live_lock:
            self.server.live.add(raw)
        self._scheme = "http"
        if self.server.tls_context is not None:
            raw.settimeout(self.timeout)
            if raw.recv(1, socket.MSG_PEEK) == b"\x16":  # a TLS ClientHello: speak https
                self.request = self.server.tls_context.wrap_socket(raw, server_side=True)
                self._scheme = "https"
        self._raw = raw
        super().setup()

    def finish(self) -> None:
        with contextlib.suppress(OSError):
            super().finish()
        with self.server.live_lock:
            self.server.live.discard(self._raw)

    def log_message(self, format: str, *args) -> None:
        log.debug("%s " + format, self.address_string(), *args)

    def _read_body(self) -> bytes:
        if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
            chunks = []
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    return b"".join(chunks)
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def _dispatch(self) -> None:
        split = urlsplit(self.path)
        address = self.server.server_address
        host = self.headers.get("Host") or f"{address[0]}:{address[1]}"
        try:
            body = self._read_body()
        except ValueError:  # a Content-Length or chunk size that is not a number
            self.close_connection = True
            self.send_error(400, "malformed request body framing")
            return
        request = Request(method=self.command, path=unquote(split.path),
                          query=parse_qs(split.query, keep_blank_values=True),
                          headers=self.headers, body=body, raw_path=self.path,
                          base_url=f"{self._scheme}://{host}")
        response, fault = self.server.sandbox.respond(request)
        self._send(request, response, fault)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = _dispatch

    def _send(self, request: Request, response: Response, fault: Fault | None) -> None:
        body = response.body_bytes()
        if fault is not None and fault.kind == "slow":
            time.sleep(fault.delay)
        if fault is not None and fault.kind == "truncate":
            body = body[: max(0, min(len(body) - 1, len(body) // 2))]
        self.send_response(response.status)
        if response.content_type:
            self.send_header("Content-Type", response.content_type)
        for name, value in response.headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if request.method == "HEAD":
            return
        if fault is not None and fault.kind == "reset":
            self.wfile.write(body[: len(body) // 2])
            self._reset()
            return
        self.wfile.write(body)

    def _reset(self) -> None:
        """Abort the connection with a TCP RST (SO_LINGER 0), as a dying proxy would."""
        self._raw.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.close_connection = True
        self._raw.close()


# -- the sandbox base class -------------------------------------------------------------------


def twin_client(provider: str, seed: int = 0) -> tuple[str, str]:
    """The OAuth app (client id, secret) a twin registers at start: fixed, so that files
    naming it (examples/<provider>/provider.json) work with any run of the twin."""
    return f"sandbox-{provider}-client", f"sandbox-{provider}-secret-{seed}"


class Sandbox:
    """A provider's API twin. Subclasses set `provider` and implement the hooks below."""

    provider = "base"
    rate_window: RateWindow | None = None  # the provider's burst limit, for accounting
    quota_limit: int | None = None  # the provider's daily request quota
    access_lifetime = None  # timedelta of an access token (None: until the session expires)
    max_uri_bytes: int | None = None  # longer request URIs get error_response(414)
    # the provider's own API hosts: the certificate covers them too, so that a client which
    # hard-codes them reaches the twin through tenantsync.sandbox.proxy (HTTPS_PROXY)
    public_hosts: tuple[str, ...] = ()

    def __init__(self, *, records: int = 1000, seed: int = 0, host: str = "127.0.0.1",
                 port: int = 0, clock_start: str | datetime | None = None,
                 counts: dict[str, int] | None = None, tls: bool = True,
                 db_path: str | None = None, enforce_rate_limit: bool = False):
        if host not in ("127.0.0.1", "localhost", "::1"):
            raise ValueError(f"the sandbox serves loopback only, not {host!r}")
        self.seed = seed
        self.host, self.port = host, port
        self.tls = tls
        self.enforce_rate_limit = enforce_rate_limit
        self.clock = Clock(clock_start)
        self.world = World(records, seed, now=self.clock.start, counts=counts)
        self.store = Store(db_path)
        self.faults = FaultInjector(seed)
        self.accounting = Accounting(rate_window=self.rate_window, quota_limit=self.quota_limit)
        self.oauth = OAuthRegistry(self.clock, token_factory=self.new_token,
                                   access_lifetime=self.access_lifetime)
        client = self.oauth.register_client(*twin_client(self.provider, seed))
        self.client_id, self.client_secret = client.client_id, client.client_secret
        self._router: Router | None = None
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self._populated = False

    # -- hooks a twin implements ---------------------------------------------------------------

    def routes(self) -> list[Route]:
        raise NotImplementedError

    def populate(self) -> None:
        """Create the store's tables and load `self.world` into them (batches, not all at once)."""
        raise NotImplementedError

    def before(self, request: Request) -> Response | None:
        """Runs before every non-public route: check auth, charge quota. A response stops it."""
        return None

    def after(self, request: Request, response: Response) -> None:
        """Runs on every provider response (not /_sandbox/): add the provider's headers."""

    def error_response(self, status: int, *, retry_after: float | None = None) -> Response:
        """An injected fault's response, in the provider's error shape."""
        headers = {"Retry-After": f"{retry_after:g}"} if retry_after is not None else {}
        return Response.json({"error": f"sandbox fault {status}"}, status, headers=headers)

    def not_found(self, request: Request) -> Response:
        return Response.json({"error": f"no such endpoint: {request.method} {request.path}"},
                             404)

    def malformed(self, request: Request, exc: BadRequest) -> Response:
        """A request body that does not parse (twins answer in the provider's envelope)."""
        return Response.json({"error": str(exc)}, 400)

    def new_token(self, kind: str) -> str:
        """A fresh token in the provider's format; kind: access, refresh, code, client_*."""
        return default_token(kind)

    # Record mutations, by the twin's object names. Raise KeyError for an unknown object or
    # record, ValueError for bad input, NotImplementedError where the provider has no such thing.
    def get_record(self, obj: str, record_id: str) -> dict:
        raise NotImplementedError

    def create(self, obj: str, fields: dict) -> dict:
        raise NotImplementedError

    def update(self, obj: str, record_id: str, fields: dict) -> dict:
        raise NotImplementedError

    def delete(self, obj: str, record_id: str) -> None:
        raise NotImplementedError

    def restore(self, obj: str, record_id: str) -> dict:
        raise NotImplementedError

    def add_field(self, obj: str, name: str, type: str, **options) -> dict:
        raise NotImplementedError

    def info(self) -> dict:
        """What `/_sandbox/info` reports; twins may extend it."""
        return {"provider": self.provider, "base_url": self.base_url,
                "https_base_url": self.https_base_url if self.tls else None,
                "seed": self.seed, "world": self.world.counts, "now": _iso(self.clock.now()),
                "client_id": self.client_id}

    # -- lifecycle -----------------------------------------------------------------------------

    def start(self) -> Sandbox:
        if self._server is not None:
            return self
        if not self._populated:
            self.populate()
            self._populated = True
        self._router = Router([*self._control_routes(), *self.routes()])
        tls_context = None
        if self.tls:
            from tenantsync.sandbox.tls import server_context

            tls_context = server_context(self.public_hosts)
        self._server = _Server((self.host, self.port), self, tls_context)
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={
            "poll_interval": 0.2}, name=f"sandbox-{self.provider}", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.close_live_connections()
            self._server.server_close()
            self._thread.join(timeout=5)
            self._server = None
        self.store.close()

    def __enter__(self) -> Sandbox:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    @property
    def base_url(self) -> str:
        """http://127.0.0.1:PORT (no trailing slash)."""
        return f"http://{self._netloc()}"

    @property
    def https_base_url(self) -> str:
        """The same server over https (trust `ca_file`)."""
        if not self.tls:
            raise RuntimeError("this sandbox was started with tls=False")
        return f"https://{self._netloc()}"

    @property
    def ca_file(self) -> str:
        """The certificate an https client must trust (e.g. `requests_session.verify`)."""
        from tenantsync.sandbox.tls import cert_files

        return cert_files(self.public_hosts)[0]

    def https_session(self):
        """A `requests.Session` that trusts this sandbox's certificate (for https clients).

        `trust_env` is off because requests lets REQUESTS_CA_BUNDLE override `session.verify`.
        """
        import requests

        session = requests.Session()
        session.verify = self.ca_file
        session.trust_env = False
        return session

    def _netloc(self) -> str:
        if self._server is None:
            raise RuntimeError("the sandbox is not running; use start() or a with block")
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{host}:{self.port}"

    # -- conveniences --------------------------------------------------------------------------

    def mint_refresh_token(self) -> str:
        """A valid refresh token for the default client (skips the browser consent flow)."""
        return self.oauth.mint_refresh_token(self.client_id)

    def mint_access_token(self) -> str:
        return self.oauth.mint_access_token(self.client_id)

    def advance_clock(self, seconds: float) -> datetime:
        return self.clock.advance(seconds)

    # -- request processing --------------------------------------------------------------------

    def respond(self, request: Request) -> tuple[Response, Fault | None]:
        """The response to one request, and the transport fault to apply while sending it."""
        route, params, other_method = self._router.match(request.method, request.path)
        request.route, request.params = route, params
        if route is not None and route.name.startswith("_sandbox"):
            return self._control(route, request), None
        endpoint = route.name if route is not None else "unmatched"
        request.admission = self.accounting.admit(endpoint)
        fault = self.faults.pick(request.method, request.path)
        if fault is not None and fault.kind == "status":
            response = self.error_response(fault.status, retry_after=fault.retry_after)
        elif self.max_uri_bytes and len(request.raw_path.encode()) > self.max_uri_bytes:
            response = self.error_response(414)
        elif route is None:
            response = (self.error_response(405) if other_method else self.not_found(request))
        else:
            response = self._run(route, request)
        self.after(request, response)
        retry_after = response.headers.get("Retry-After")
        if response.status in (429, 503) and retry_after:
            with contextlib.suppress(ValueError):
                self.accounting.backoff(float(retry_after))
        self.accounting.served(endpoint, response.records, response.status)
        return response, (fault if fault is not None and fault.kind != "status" else None)

    def _run(self, route: Route, request: Request) -> Response:
        try:
            if not route.public:
                early = self.before(request)
                if early is not None:
                    return early
            return route.handler(request)
        except Abort as abort:
            return abort.response
        except BadRequest as exc:  # a body that does not parse: the client's fault, a 400
            return self.malformed(request, exc)
        except Exception:
            log.exception("sandbox %s: handler %s failed", self.provider, route.name)
            return self.error_response(500)

    # -- the /_sandbox/ control API ------------------------------------------------------------

    def _control(self, route: Route, request: Request) -> Response:
        """Errors: an exception's int `status` if it has one, else KeyError 404,
        ValueError/TypeError 400, NotImplementedError 501."""
        try:
            result = route.handler(request)
        except Abort as abort:
            return abort.response
        except (KeyError, ValueError, TypeError, NotImplementedError) as exc:
            status = getattr(exc, "status", None)
            if not isinstance(status, int) or not 400 <= status <= 599:
                status = (404 if isinstance(exc, KeyError) else
                          501 if isinstance(exc, NotImplementedError) else 400)
            message = str(exc.args[0] if isinstance(exc, KeyError) and exc.args else exc)
            return Response.json({"error": message or "not supported by this provider"},
                                 status)
        return result if isinstance(result, Response) else Response.json(result)

    def _control_routes(self) -> list[Route]:
        p = "/_sandbox"
        obj = r"(?P<obj>[A-Za-z0-9_\-]+)"
        rid = r"(?P<id>[^/]+)"
        table = [
            ("GET", "/info", lambda r: self.info()),
            ("GET", "/accounting", lambda r: self.accounting.snapshot()),
            ("POST", "/accounting/reset", self._c_reset_accounting),
            ("GET", "/faults", lambda r: {"faults": self.faults.rules()}),
            ("POST", "/faults", self._c_add_faults),
            ("DELETE", "/faults", self._c_clear_faults),
            ("DELETE", r"/faults/(?P<id>\d+)", self._c_remove_fault),
            ("GET", "/clock", lambda r: {"now": _iso(self.clock.now())}),
            ("POST", "/clock/advance", self._c_advance),
            ("POST", "/auth/refresh-token", self._c_mint_refresh),
            ("POST", "/auth/access-token", lambda r: {"access_token": self.mint_access_token()}),
            ("POST", "/auth/clients", self._c_register_client),
            ("POST", "/auth/expire-after", self._c_expire_after),
            ("POST", "/auth/expire-access-tokens",
             lambda r: {"expired": self.oauth.expire_access_tokens()}),
            ("POST", "/auth/revoke-refresh-tokens", self._c_revoke),
            ("POST", f"/objects/{obj}", lambda r: self.create(r.params["obj"], _fields(r))),
            ("POST", f"/objects/{obj}/fields", self._c_add_field),
            ("GET", f"/objects/{obj}/{rid}",
             lambda r: self.get_record(r.params["obj"], r.params["id"])),
            ("PATCH", f"/objects/{obj}/{rid}",
             lambda r: self.update(r.params["obj"], r.params["id"], _fields(r))),
            ("DELETE", f"/objects/{obj}/{rid}", self._c_delete),
            ("POST", f"/objects/{obj}/{rid}/restore",
             lambda r: self.restore(r.params["obj"], r.params["id"])),
        ]
        return [Route(m, p + path, h, "_sandbox" + path.split("(")[0], public=True)
                for m, path, h in table]

    def _c_reset_accounting(self, request: Request) -> dict:
        self.accounting.reset()
        return self.accounting.snapshot()

    def _c_add_faults(self, request: Request) -> dict:
        body = request.json()
        specs = body if isinstance(body, list) else [body]
        return {"faults": [self.faults.add_from_dict(s).to_dict() for s in specs]}

    def _c_clear_faults(self, request: Request) -> dict:
        self.faults.clear()
        return {"faults": []}

    def _c_remove_fault(self, request: Request) -> dict:
        if not self.faults.remove(int(request.params["id"])):
            raise KeyError(f"no fault with id {request.params['id']}")
        return {"faults": self.faults.rules()}

    def _c_advance(self, request: Request) -> dict:
        body = request.json() or {}
        seconds = body.get("seconds") if isinstance(body, dict) else None
        if not isinstance(seconds, (int, float)) or isinstance(seconds, bool):
            raise BadRequest("POST /_sandbox/clock/advance needs {\"seconds\": <number>}")
        return {"now": _iso(self.advance_clock(seconds))}

    def _c_mint_refresh(self, request: Request) -> dict:
        body = request.json() or {}
        client_id = body.get("client_id", self.client_id)
        return {"refresh_token": self.oauth.mint_refresh_token(client_id),
                "client_id": client_id}

    def _c_register_client(self, request: Request) -> dict:
        body = request.json() or {}
        client = self.oauth.register_client(body.get("client_id"), body.get("client_secret"),
                                            body.get("redirect_uris"))
        return {"client_id": client.client_id, "client_secret": client.client_secret,
                "redirect_uris": client.redirect_uris}

    def _c_expire_after(self, request: Request) -> dict:
        body = request.json() or {}
        calls = body.get("calls")
        if calls is not None and (not isinstance(calls, int) or isinstance(calls, bool)):
            raise BadRequest("POST /_sandbox/auth/expire-after needs {\"calls\": <int or null>}")
        self.oauth.expire_access_tokens_after(calls)
        return {"calls_per_access_token": calls}

    def _c_revoke(self, request: Request) -> dict:
        body = request.json() or {}
        return {"revoked": self.oauth.revoke_refresh_tokens(body.get("refresh_token"))}

    def _c_add_field(self, request: Request) -> dict:
        body = request.json()
        if not isinstance(body, dict) or not body.get("name") or not body.get("type"):
            raise BadRequest("adding a field needs {\"name\": ..., \"type\": ..., ...options}")
        options = {k: v for k, v in body.items() if k not in ("name", "type")}
        return self.add_field(request.params["obj"], body["name"], body["type"], **options)

    def _c_delete(self, request: Request) -> Response:
        self.delete(request.params["obj"], request.params["id"])
        return Response(204, content_type=None)


def _fields(request: Request) -> dict:
    body = request.json()
    if not isinstance(body, dict):
        raise BadRequest("the request body must be a JSON object of field values")
    return body


def _iso(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")
