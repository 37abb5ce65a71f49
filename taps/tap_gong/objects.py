"""Gong's standard objects as data: one `RestObject` row each, and their fields.
Documentation: https://gong.app.gong.io/settings/api/documentation (Calls).

- `call`: `GET /v2/calls`, `fromDateTime` (the call's start, inclusive) as the watermark,
  `records.cursor` sent back as the `cursor` parameter;
- `detailedCall`: `POST /v2/calls/extensive`, the same window in `filter.fromDateTime` and the
  cursor in the body; each item is `{metaData, parties, content, interaction, ...}`, so the
  record also carries `id` and `started` from its `metaData` (key and watermark);
- `callTranscript`: `POST /v2/calls/transcript`, full only (a transcript appears hours after
  its call and has no time of its own; Supaglue read it whole every run).
Pages are Gong's fixed 100 calls. Gong has no deleted-records feed: a full sync's sweep
removes what is gone (a transcript whose recording was deleted).
"""

from __future__ import annotations

from typing import Any

from tenantsync.tapkit.rest import CursorPaging, Incremental, RestObject

PAGE_SIZE = 100  # fixed by Gong
QUERY_CURSOR = CursorPaging(("records", "cursor"), PAGE_SIZE, size_param=None)
BODY_CURSOR = CursorPaging(("records", "cursor"), PAGE_SIZE, size_param=None, in_body=True)
# What the extensive endpoint is asked to expose (Supaglue sent none, and got metaData only).
CONTENT_SELECTOR = {"context": "Extended",
                    "exposedFields": {"parties": True, "content": {"topics": True},
                                      "interaction": {"speakers": True}}}

_S = {"type": ["string", "null"]}
_T = {"type": ["string", "null"], "format": "date-time"}
_I = {"type": ["integer", "null"]}
_B = {"type": ["boolean", "null"]}
_O = {"type": ["object", "null"]}
_A = {"type": ["array", "null"]}
CALL_FIELDS = {
    "id": _S, "url": _S, "title": _S, "scheduled": _T, "started": _T, "duration": _I,
    "primaryUserId": _S, "direction": _S, "system": _S, "scope": _S, "media": _S,
    "language": _S, "workspaceId": _S, "sdrDisposition": _S, "clientUniqueId": _S,
    "customData": _S, "purpose": _S, "meetingUrl": _S, "isPrivate": _B, "calendarEventId": _S}
FIELDS: dict[str, dict[str, Any]] = {
    "call": CALL_FIELDS,
    "detailedCall": {"id": _S, "started": _T, "metaData": _O, "context": _A, "parties": _A,
                     "content": _O, "interaction": _O, "collaboration": _O, "media": _O},
    "callTranscript": {"callId": _S, "transcript": _A},
}


def lift_meta(stream: Any, item: dict) -> dict:
    """An extensive call item with its `metaData.id` and `.started` at the top (key and
    watermark of the stream); the item is kept as Gong sent it."""
    meta = item.get("metaData") or {}
    item["id"], item["started"] = meta.get("id"), meta.get("started")
    return item


OBJECTS: dict[str, RestObject] = {o.name: o for o in (
    RestObject("call", "/v2/calls", QUERY_CURSOR, records=("calls",),
               incremental=Incremental("started", param="fromDateTime"), modified="started",
               note="incremental: fromDateTime (the call's start)"),
    RestObject("detailedCall", "/v2/calls/extensive", BODY_CURSOR, records=("calls",),
               method="POST", body={"filter": {}, "contentSelector": CONTENT_SELECTOR},
               incremental=Incremental("started", body_path=("filter", "fromDateTime")),
               modified="started", transform=lift_meta,
               note="incremental: filter.fromDateTime (the call's start)"),
    RestObject("callTranscript", "/v2/calls/transcript", BODY_CURSOR,
               records=("callTranscripts",), key="callId", method="POST", body={"filter": {}},
               note="full only: a transcript has no time of its own"),
)}


def schema(obj: str) -> dict:
    return {"type": "object", "properties": dict(FIELDS[obj])}
