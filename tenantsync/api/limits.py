"""Bounds on what a request may carry, checked once for every route before any handler: the
body's size, and in a JSON body every field's size (text length, items of a list or object)
and the nesting depth. Whatever passes is stored at most this large; whatever does not gets a
400 naming the field (`config.settings.login_url: ...`)."""

from __future__ import annotations

import json
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from tenantsync.api.errors import respond

MAX_BODY_BYTES = 1024 * 1024
MAX_TEXT_CHARS = 16 * 1024  # one string value or key
MAX_ITEMS = 1000  # entries of one JSON object or list
MAX_DEPTH = 16


class TooLarge(ValueError):
    """A request beyond the limits; the message names the field."""


def check_json(value: Any, path: str = "body", depth: int = 0) -> None:
    """Raise TooLarge naming the first field beyond the limits."""
    if depth > MAX_DEPTH:
        raise TooLarge(f"{path}: nested deeper than {MAX_DEPTH} levels")
    if isinstance(value, str):
        if len(value) > MAX_TEXT_CHARS:
            raise TooLarge(f"{path}: text longer than {MAX_TEXT_CHARS} characters")
    elif isinstance(value, (dict, list)):
        if len(value) > MAX_ITEMS:
            raise TooLarge(f"{path}: more than {MAX_ITEMS} entries")
        items = value.items() if isinstance(value, dict) else enumerate(value)
        for key, item in items:
            if isinstance(key, str) and len(key) > MAX_TEXT_CHARS:
                raise TooLarge(f"{path}: a key longer than {MAX_TEXT_CHARS} characters")
            where = str(key) if path == "body" else f"{path}.{key}"
            check_json(item, where, depth + 1)


class RequestLimits:
    """ASGI middleware: reads the body (refusing it past MAX_BODY_BYTES, by Content-Length
    or as it arrives), checks a JSON body's fields, then hands the body on unchanged."""

    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        try:
            length = int(dict(scope["headers"]).get(b"content-length", b"0"))
        except ValueError:
            length = 0
        chunks, size, more = [], 0, True
        try:
            if length > MAX_BODY_BYTES:
                raise TooLarge(f"request body: larger than {MAX_BODY_BYTES} bytes")
            while more:
                message = await receive()
                if message["type"] != "http.request":
                    break
                chunks.append(message.get("body", b""))
                size += len(chunks[-1])
                if size > MAX_BODY_BYTES:
                    raise TooLarge(f"request body: larger than {MAX_BODY_BYTES} bytes")
                more = message.get("more_body", False)
            body = b"".join(chunks)
            if body.lstrip()[:1] in (b"{", b"["):
                try:
                    doc = json.loads(body)
                except RecursionError:
                    raise TooLarge(f"body: nested deeper than {MAX_DEPTH} levels") from None
                except ValueError:
                    doc = None  # not JSON: the route's own parsing says what is wrong
                check_json(doc)
        except TooLarge as exc:
            return await respond(400, "Request too large", str(exc))(scope, receive, send)

        delivered = False

        async def replay() -> Message:
            nonlocal delivered
            if not delivered:
                delivered = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)
