"""An HTTPS forward proxy that sends a provider's own hosts to its twin.

Some independent clients hard-code the provider's host (`https://api.provider.example`)
and take no base URL setting. Run them with
`HTTPS_PROXY=<proxy.url>` and `REQUESTS_CA_BUNDLE=<twin.ca_file>`: each `CONNECT host:443`
for a host of the map is tunnelled to the twin (whose certificate names the twin's
`public_hosts`), byte for byte; the client's code and TLS checks stay as they are. Any other
host is refused (403): nothing leaves the machine. Put `127.0.0.1` in `NO_PROXY` so that
URLs the twin hands out (e.g. an instance URL in a token response) are reached directly.
"""

from __future__ import annotations

import contextlib
import select
import socket
import threading
from socketserver import StreamRequestHandler, ThreadingTCPServer


class _Handler(StreamRequestHandler):
    server: _Server

    def handle(self) -> None:
        line = self.rfile.readline(65537).decode("latin-1").split()
        while self.rfile.readline(65537) not in (b"\r\n", b"\n", b""):
            pass  # the request's headers: nothing in them matters here
        target = self.server.routes.get(line[1].lower()) if len(line) == 3 and \
            line[0].upper() == "CONNECT" else None
        if target is None:
            self.wfile.write(b"HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n")
            return
        try:
            upstream = socket.create_connection(target, timeout=10)
        except OSError:
            self.wfile.write(b"HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\n\r\n")
            return
        self.wfile.write(b"HTTP/1.1 200 Connection established\r\n\r\n")
        self.wfile.flush()
        # no Nagle on either leg: a relayed TLS record split across segments otherwise waits
        # for the peer's delayed ACK (about 40 ms per request on Linux)
        for sock in (self.connection, upstream):
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        with upstream:
            _pipe(self.connection, upstream)


def _pipe(a: socket.socket, b: socket.socket) -> None:
    """Copy bytes both ways until either side closes."""
    peers = {a: b, b: a}
    while True:
        readable, _, _ = select.select(list(peers), [], [], 60)
        if not readable:
            return
        for sock in readable:
            try:
                data = sock.recv(65536)
            except OSError:
                return
            if not data:
                return
            peers[sock].sendall(data)


class _Server(ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, routes: dict[str, tuple[str, int]]):
        self.routes = routes
        super().__init__(("127.0.0.1", 0), _Handler)


class Proxy:
    """`Proxy({"api.provider.example:443": ("127.0.0.1", twin.port)})`; a context manager."""

    def __init__(self, routes: dict[str, tuple[str, int]]):
        self._server = _Server({k.lower(): v for k, v in routes.items()})
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True,
                                        name="sandbox-proxy")

    @classmethod
    def to(cls, sandbox) -> Proxy:
        """A proxy sending each of the twin's `public_hosts` (port 443) to the twin."""
        return cls({f"{host}:443": (sandbox.host, sandbox.port)
                    for host in sandbox.public_hosts})

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def env(self, sandbox) -> dict[str, str]:
        """What a client's environment needs to reach `sandbox` through this proxy."""
        return {"HTTPS_PROXY": self.url, "https_proxy": self.url,
                "NO_PROXY": "127.0.0.1,localhost", "no_proxy": "127.0.0.1,localhost",
                "REQUESTS_CA_BUNDLE": sandbox.ca_file, "SSL_CERT_FILE": sandbox.ca_file}

    def start(self) -> Proxy:
        self._thread.start()
        return self

    def stop(self) -> None:
        with contextlib.suppress(OSError):
            self._server.shutdown()
            self._server.server_close()

    def __enter__(self) -> Proxy:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()
