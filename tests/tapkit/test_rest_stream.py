"""RestStream in a toy tap against a real local HTTP server: a declared object read with
tapkit's engine (per-page STATE, ACTIVATE_VERSION, resume), its deletes, and the bookmark of
APIs that cannot sort by the watermark."""

from __future__ import annotations

import io
import json
import time
from contextlib import redirect_stdout
from urllib.parse import parse_qs, urlsplit

from singer_sdk import typing as th

from tenantsync.tapkit.http import HttpClient, RetryPolicy
from tenantsync.tapkit.rest import (
    CursorPaging,
    Deletes,
    Incremental,
    OffsetPaging,
    RestClient,
    RestObject,
    RestStream,
)
from tenantsync.tapkit.settings import COMMON_SETTINGS
from tenantsync.tapkit.stream import TapkitTap
from tests.tapkit.scripted_server import Reply, ScriptedServer

SCHEMA = th.PropertiesList(th.Property("id", th.IntegerType),
                           th.Property("updated", th.DateTimeType),
                           th.Property("gone", th.BooleanType)).to_dict()
DEALS = RestObject(
    "deals", "/deals", CursorPaging(("next",), 2), key="id",
    incremental=Incremental("updated", param="updated_since", sort={"sort_by": "updated"}),
    deletes=Deletes(flag="gone", include={"status": "all"}), modified="updated")
NOTES = RestObject("notes", "/notes", OffsetPaging(2), modified="updated")
LEADS = RestObject(
    "leads", "/leads", OffsetPaging(2),
    incremental=Incremental("updated", param="since", sorted=False),
    deletes=Deletes(listing=RestObject("leads_gone", "/leads/deleted", OffsetPaging(2),
                                       modified="updated")), modified="updated")


def stamp(second):
    return f"2024-01-01T00:00:{second:02d}Z"


def row(i, second, **extra):
    return {"id": i, "updated": stamp(second), **extra}


class ToyTap(TapkitTap):
    name = "tap-toy-rest"
    config_jsonschema = th.PropertiesList(th.Property("url", th.StringType),
                                          th.Property("objects", th.ArrayType(th.StringType)),
                                          *COMMON_SETTINGS).to_dict()

    @property
    def client(self):
        if not hasattr(self, "_client"):
            self._client = RestClient(HttpClient(retry=RetryPolicy(
                max_tries=2, max_retry_after_seconds=5)), self.config["url"])
        return self._client

    def discover_streams(self):
        objects = {o.name: o for o in (DEALS, NOTES, LEADS)}
        return [RestStream(self, obj=objects[n], name=n, schema=SCHEMA)
                for n in self.config["objects"]]


def run(server, objects, state=None):
    buf = io.TextIOWrapper(io.BytesIO(), encoding="utf-8")
    with redirect_stdout(buf):
        ToyTap(config={"url": server.url, "objects": objects}, state=state).sync_all()
    buf.seek(0)
    messages = [json.loads(line) for line in buf.read().splitlines()]
    return messages, [m["value"] for m in messages if m["type"] == "STATE"][-1]


def records(messages):
    return [m["record"] for m in messages if m["type"] == "RECORD"]


def query(seen):
    return {k: v[0] for k, v in parse_qs(urlsplit(seen.path).query).items()}


def test_incremental_object_in_watermark_order_with_a_deleted_flag():
    pages = [Reply(200, {"data": [row(1, 1), row(2, 2)], "next": "c1"}),
             Reply(200, {"data": [row(3, 3, gone=True)]})]
    with ScriptedServer(pages) as server:
        messages, state = run(server, ["deals"])
        assert query(server.seen[0]) == {"status": "all", "sort_by": "updated", "limit": "2"}
    got = records(messages)
    assert [r["id"] for r in got] == [1, 2, 3]
    assert got[2]["_supaglue_is_deleted"] is True
    assert got[2]["_sdc_deleted_at"] == "2024-01-01T00:00:03.000+00:00"
    assert "_supaglue_is_deleted" not in got[0]
    marks = [m["value"]["bookmarks"]["deals"].get("replication_key_value")
             for m in messages if m["type"] == "STATE" and "deals" in m["value"]["bookmarks"]]
    assert stamp(2) in marks and marks[-1] == stamp(3)  # a checkpoint after each page
    assert [m["type"] for m in messages if m.get("stream") == "deals"][-1] == "ACTIVATE_VERSION"

    with ScriptedServer([Reply(200, {"data": [row(3, 3), row(4, 9)]})]) as server:
        messages, state = run(server, ["deals"], state)
        assert query(server.seen[0])["updated_since"] == stamp(3)  # inclusive, from the bookmark
    assert not [m for m in messages if m["type"] == "ACTIVATE_VERSION"]
    assert state["bookmarks"]["deals"]["replication_key_value"] == stamp(9)


def test_full_only_object_resumes_at_the_page_it_stopped_at():
    quota = Reply(429, {"error": "daily limit"}, {"Retry-After": "3600"})
    with ScriptedServer([Reply(200, {"data": [row(1, 5), row(2, 1)]}), quota]) as server:
        messages, state = run(server, ["notes"])
    assert [r["id"] for r in records(messages)] == [1, 2]
    assert records(messages)[0]["_supaglue_last_modified_at"] == "2024-01-01T00:00:05.000+00:00"
    assert not [m for m in messages if m["type"] == "ACTIVATE_VERSION"]
    progress = state["bookmarks"]["notes"]
    version = progress["tenantsync"]["full_sync_version"]
    assert progress["rest_full_sync"]["next"]["params"] == {"offset": 2, "limit": 2}

    with ScriptedServer([Reply(200, {"data": [row(3, 2)]})]) as server:
        messages, state = run(server, ["notes"], state)
        assert query(server.seen[0]) == {"offset": "2", "limit": "2"}
    assert [r["id"] for r in records(messages)] == [3]
    assert [m["version"] for m in messages if m["type"] == "ACTIVATE_VERSION"] == [version]
    assert "rest_full_sync" not in state["bookmarks"]["notes"]
    assert state["bookmarks"]["notes"]["tenantsync"]["full_sync_version"] is None


def marks_of(messages, stream):
    return [m["value"]["bookmarks"].get(stream, {}).get("replication_key_value")
            for m in messages if m["type"] == "STATE"]


def test_unsortable_listing_is_emitted_as_read_and_bookmarked_when_the_pass_completes():
    replies = [Reply(200, {"data": [row(1, 30), row(2, 10)]}), Reply(200, {"data": [row(3, 20)]}),
               Reply(200, {"data": [row(9, 15)]})]
    with ScriptedServer(replies) as server:
        messages, state = run(server, ["leads"])
        assert [s.path.split("?")[0] for s in server.seen] == ["/leads", "/leads",
                                                               "/leads/deleted"]
    got = records(messages)
    assert [r["id"] for r in got] == [1, 2, 3, 9]  # as read: nothing held back
    assert got[-1]["_supaglue_is_deleted"] is True
    marks = marks_of(messages, "leads")
    assert set(marks[:-1]) == {None} and marks[-1] == stamp(30)  # no STATE claims a part
    assert state["bookmarks"]["leads"]["boundary"]["value"] == stamp(30)
    assert len(state["bookmarks"]["leads"]["boundary"]["records"]) == 1

    # The next run reads from the bookmark, inclusive: the record already sent at it is not
    # sent again; the newest read, wherever it comes in the listing, is the new bookmark.
    replies = [Reply(200, {"data": [row(5, 31), row(1, 30)]}), Reply(200, {"data": [row(4, 40)]}),
               Reply(200, {"data": []})]
    with ScriptedServer(replies) as server:
        messages, state = run(server, ["leads"], state)
        assert query(server.seen[0])["since"] == stamp(30)
    assert [r["id"] for r in records(messages)] == [5, 4]
    assert marks_of(messages, "leads")[:-1] == [stamp(30)] * 2
    assert state["bookmarks"]["leads"]["replication_key_value"] == stamp(40)


def test_an_interrupted_unsortable_pass_keeps_the_previous_bookmark():
    first = [Reply(200, {"data": [row(1, 30)]}), Reply(200, {"data": []})]
    with ScriptedServer(first) as server:
        _, state = run(server, ["leads"])
    quota = Reply(429, {"error": "daily limit"}, {"Retry-After": "3600"})
    with ScriptedServer([Reply(200, {"data": [row(7, 50), row(6, 45)]}), quota]) as server:
        messages, stopped = run(server, ["leads"], state)
    assert [r["id"] for r in records(messages)] == [7, 6]  # emitted, but the pass is not whole
    assert set(marks_of(messages, "leads")) == {stamp(30)}
    assert stopped["bookmarks"]["leads"]["replication_key_value"] == stamp(30)
    assert stopped["bookmarks"]["leads"]["boundary"] == state["bookmarks"]["leads"]["boundary"]

    again = [Reply(200, {"data": [row(7, 50), row(6, 45)]}), Reply(200, {"data": [row(8, 35)]}),
             Reply(200, {"data": []})]
    with ScriptedServer(again) as server:
        messages, state = run(server, ["leads"], stopped)
        assert query(server.seen[0])["since"] == stamp(30)  # read again from where it was
    assert [r["id"] for r in records(messages)] == [7, 6, 8]
    assert state["bookmarks"]["leads"]["replication_key_value"] == stamp(50)


def test_catalog_metadata_says_how_deletes_are_detected_and_the_replication_mode():
    catalog = ToyTap(config={"url": "http://127.0.0.1:9", "objects": ["deals", "notes", "leads"]}
                     ).catalog_dict
    root = {s["stream"]: next(m["metadata"] for m in s["metadata"] if m["breadcrumb"] == [])
            for s in catalog["streams"]}
    assert {s: (m["tenantsync-delete-detection"], m["tenantsync-replication"])
            for s, m in root.items()} == {"deals": ("flag field gone", "incremental"),
                                          "notes": ("full-sync sweep", "full only"),
                                          "leads": ("deleted listing", "incremental")}


def test_the_next_page_is_read_while_one_is_worked_on_and_progress_never_runs_ahead():
    pages = [Reply(200, {"data": [row(1, 1), row(2, 2)]}),
             Reply(200, {"data": [row(3, 3), row(4, 4)]}), Reply(200, {"data": [row(5, 5)]})]
    with ScriptedServer(pages) as server:
        client = RestClient(HttpClient(), server.url)
        progress: dict = {}
        read = client.pages(NOTES, NOTES.paging.first(NOTES.call()), progress)
        first = next(read)
        deadline = time.monotonic() + 10
        while len(server.seen) < 2 and time.monotonic() < deadline:
            time.sleep(0.01)
        assert len(server.seen) == 2  # the second page was requested ahead
        assert [r["id"] for r in first.records] == [1, 2]
        assert progress["next"]["params"] == {"offset": 2, "limit": 2}  # not the third page
        assert [[r["id"] for r in p.records] for p in read] == [[3, 4], [5]]
        assert progress["next"] is None
        assert len(server.seen) == 3
