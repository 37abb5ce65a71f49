"""A tiny real HTTP server for engine tests: answers each request with the next scripted reply
and records what it received."""

from __future__ import annotations

import json
import socket
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Reply:
    status: int = 200
    body: Any = b""  # bytes, str, or JSON-able
    headers: dict[str, str] = field(default_factory=dict)
    action: str = ""  # "" | "reset": send half the body, then reset the connection
    delay: float = 0.0


@dataclass
class Seen:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes
    client_port: int
    at: float


class ScriptedServer:
    def __init__(self, replies: list[Reply] | None = None, default: Reply | None = None):
        self.replies = list(replies or [])
        self.default = default
        self.seen: list[Seen] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                pass

            def _serve(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                server.seen.append(Seen(self.command, self.path, dict(self.headers), body,
                                        self.client_address[1], time.monotonic()))
                reply = server.replies.pop(0) if server.replies else server.default
                if reply is None:
                    reply = Reply(599, b"script exhausted")
                if reply.delay:
                    time.sleep(reply.delay)
                data = reply.body
                if not isinstance(data, (bytes, str)):
                    data = json.dumps(data)
                data = data.encode() if isinstance(data, str) else data
                self.send_response(reply.status)
                for k, v in reply.headers.items():
                    self.send_header(k, v)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                if reply.action == "reset":
                    self.wfile.write(data[: len(data) // 2])
                    self.wfile.flush()
                    self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                                               b"\x01\x00\x00\x00\x00\x00\x00\x00")
                    self.close_connection = True
                    self.connection.close()
                    return
                self.wfile.write(data)

            do_GET = do_POST = do_PATCH = do_DELETE = _serve

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self._thread = threading.Thread(target=self.httpd.serve_forever, args=(0.05,),
                                        daemon=True)

    def __enter__(self) -> ScriptedServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
