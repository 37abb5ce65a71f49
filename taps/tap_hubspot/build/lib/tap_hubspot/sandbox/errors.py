"""HubSpot's error envelope (provider-apis.md §2.2):
`{"status":"error","message","correlationId","category","subCategory"?,"context"?}`."""

from __future__ import annotations

import uuid

from tenantsync.sandbox.server import Abort, Response


def correlation_id() -> str:
    return str(uuid.uuid4())


def error(status: int, message: str, category: str, *, sub_category: str | None = None,
          context: dict[str, list[str]] | None = None,
          headers: dict[str, str] | None = None) -> Response:
    body: dict = {"status": "error", "message": message, "correlationId": correlation_id(),
                  "category": category}
    if sub_category:
        body["subCategory"] = sub_category
    if context:
        body["context"] = context
    return Response.json(body, status, headers=headers)


def fail(status: int, message: str, category: str, **kw) -> Abort:
    """An `Abort` to raise from a handler: `raise fail(400, "...", "VALIDATION_ERROR")`."""
    return Abort(error(status, message, category, **kw))


def validation(message: str, **kw) -> Abort:
    return fail(400, message, "VALIDATION_ERROR", **kw)


def rate_limited(policy: str, message: str, retry_after: int | None) -> Response:
    """429 as HubSpot sends it: `errorType` RATE_LIMIT and the policy that refused the call."""
    body = {"status": "error", "message": message, "errorType": "RATE_LIMIT",
            "correlationId": correlation_id(), "policyName": policy,
            "requestId": correlation_id()}
    headers = {"Retry-After": str(retry_after)} if retry_after is not None else {}
    return Response.json(body, 429, headers=headers)
