"""TapkitStream/TapkitTap run in-process on a toy provider: per-page STATE, ACTIVATE_VERSION at
the end of a full sync only, clean stop, resume, and the fast emission path, with records
written directly by the engine and through singer-sdk's per-record loop."""

from __future__ import annotations

import copy
import io
import json
from contextlib import redirect_stdout

import pytest
from singer_sdk import typing as th
from singer_sdk.exceptions import InvalidStreamSortException

from tenantsync.tapkit.errors import StopSync
from tenantsync.tapkit.settings import COMMON_SETTINGS
from tenantsync.tapkit.stream import TapkitStream, TapkitTap
from tenantsync.tapkit.writer import BufferedMsgSpecWriter

ROWS = [{"id": f"r{i}", "updated": f"2024-01-01T00:00:{i:02d}+00:00", "value": i}
        for i in range(10)]
SCHEMA = th.PropertiesList(
    th.Property("id", th.StringType, required=True),
    th.Property("updated", th.DateTimeType),
    th.Property("value", th.IntegerType),
).to_dict()


class ToyStream(TapkitStream):
    @property
    def prefetch_pages(self):
        return bool(self.config.get("prefetch"))

    def fetch_pages(self, plan):
        rows = [r for r in ROWS if plan.resume_from is None or r["updated"] >= plan.resume_from]
        if plan.resume_from is not None and self.config.get("lookback"):
            first = ROWS.index(rows[0])  # a coarse query: start two records early
            rows = ROWS[max(0, first - 2):]
        if self.config.get("unsorted"):
            rows = rows[::-1]
        for page, start in enumerate(range(0, len(rows), 3)):
            if self.config.get("stop_at_page") == page and self.name == "alpha":
                raise StopSync("quota reached in the toy API")
            yield [dict(r) for r in rows[start:start + 3]]


class ToyTap(TapkitTap):
    name = "tap-toy"
    config_jsonschema = th.PropertiesList(
        th.Property("stop_at_page", th.IntegerType), th.Property("unsorted", th.BooleanType),
        th.Property("lookback", th.BooleanType), th.Property("prefetch", th.BooleanType),
        *COMMON_SETTINGS).to_dict()

    def discover_streams(self):
        return [ToyStream(self, name=n, schema=SCHEMA, key="id", replication_key="updated")
                for n in ("alpha", "beta")]


@pytest.fixture(params=[False, True], ids=["inline", "prefetch"], autouse=True)
def prefetch(request):
    """Every engine test runs with pages read inline and read one page ahead."""
    PREFETCH[0] = request.param


PREFETCH = [False]
WRITES_DIRECTLY = TapkitStream._writes_directly


def per_record_loop(monkeypatch):
    monkeypatch.setattr(TapkitStream, "_writes_directly", lambda self, context: False)


@pytest.fixture(params=["direct", "per-record"], autouse=True)
def loop(request, monkeypatch):
    """...and with records written directly by the engine, and through singer-sdk's loop."""
    if request.param == "per-record":
        per_record_loop(monkeypatch)
    return request.param


def run(config=None, state=None, tap=None):
    buf = io.TextIOWrapper(io.BytesIO(), encoding="utf-8")
    with redirect_stdout(buf):
        (tap or ToyTap)(config={"prefetch": PREFETCH[0], **(config or {})},
                        state=state).sync_all()
    buf.seek(0)
    messages = [json.loads(line) for line in buf.read().splitlines()]
    last_state = [m["value"] for m in messages if m["type"] == "STATE"][-1]
    return messages, last_state


def of(messages, stream, kind):
    return [m for m in messages if m.get("stream") == stream and m["type"] == kind]


def test_full_sync_checkpoints_every_page_and_ends_with_activate_version():
    messages, state = run()
    records = of(messages, "alpha", "RECORD")
    assert [m["record"] for m in records] == ROWS
    assert all(m["time_extracted"] for m in records)
    activate = of(messages, "alpha", "ACTIVATE_VERSION")
    assert len(activate) == 1
    # ACTIVATE_VERSION comes after the stream's last record
    order = [m["type"] for m in messages if m.get("stream") == "alpha"]
    assert order[-1] == "ACTIVATE_VERSION" and order.count("RECORD") == 10
    # a STATE after each of the 4 pages, bookmark = last record of that page
    alpha_marks = []
    for m in messages:
        if m["type"] == "STATE":
            mark = m["value"]["bookmarks"].get("alpha", {}).get("replication_key_value")
            if mark and (not alpha_marks or alpha_marks[-1] != mark):
                alpha_marks.append(mark)
    assert alpha_marks == [ROWS[i]["updated"] for i in (2, 5, 8, 9)]
    alpha = state["bookmarks"]["alpha"]
    assert alpha["replication_key_value"] == ROWS[-1]["updated"]
    assert alpha["tenantsync"] == {"full_sync_version": None, "incrementals_since_full": 0}


def test_next_run_is_incremental_from_the_bookmark_inclusive():
    _, state = run()
    messages, state2 = run(state=state)
    # read from the bookmark inclusive, but r9 (already sent at that watermark) is not resent
    assert [m["record"]["id"] for m in of(messages, "alpha", "RECORD")] == []
    assert not of(messages, "alpha", "ACTIVATE_VERSION")
    assert state2["bookmarks"]["alpha"]["tenantsync"]["incrementals_since_full"] == 1


def test_the_boundary_is_exact_and_loses_no_record_sharing_the_watermark(monkeypatch):
    """An unchanged source sends nothing again; a record that arrives later with the
    bookmark's very timestamp, or a change to r9 within that timestamp, is still sent."""
    _, state = run()
    last = ROWS[-1]["updated"]
    monkeypatch.setattr("tests.tapkit.test_stream.ROWS", [
        *ROWS[:-1], {**ROWS[-1], "value": 99}, {"id": "r10", "updated": last, "value": 10}])
    messages, state2 = run(state=state)
    assert [(m["record"]["id"], m["record"]["value"])
            for m in of(messages, "alpha", "RECORD")] == [("r9", 99), ("r10", 10)]
    messages, _ = run(state=state2)
    assert of(messages, "alpha", "RECORD") == []


def test_stop_sync_stops_every_stream_cleanly_and_the_next_run_resumes():
    messages, state = run({"stop_at_page": 2})
    assert [m["record"]["id"] for m in of(messages, "alpha", "RECORD")] == \
        [f"r{i}" for i in range(6)]
    assert not of(messages, "alpha", "ACTIVATE_VERSION")
    assert not of(messages, "beta", "RECORD")  # no further API calls after the stop
    alpha = state["bookmarks"]["alpha"]
    version = alpha["tenantsync"]["full_sync_version"]
    assert version and alpha["replication_key_value"] == ROWS[5]["updated"]

    messages, state = run({}, state=state)
    assert [m["record"]["id"] for m in of(messages, "alpha", "RECORD")] == \
        [f"r{i}" for i in range(5, 10)]  # r5 again: ties at the bookmark are re-read
    assert [m["version"] for m in of(messages, "alpha", "ACTIVATE_VERSION")] == [version]
    assert len(of(messages, "beta", "RECORD")) == 10
    assert state["bookmarks"]["alpha"]["tenantsync"]["full_sync_version"] is None


def test_fast_emission_writes_what_singer_sdk_would():
    fast, _ = run()
    # flattening switches the stream to singer-sdk's own record path (flat rows: same output)
    slow, _ = run({"flattening_enabled": True, "flattening_max_depth": 1})
    strip = [({k: v for k, v in m.items() if k != "time_extracted"})
             for m in fast if m["type"] == "RECORD"]
    assert strip == [({k: v for k, v in m.items() if k not in ("time_extracted", "version")})
                     for m in slow if m["type"] == "RECORD"]


def strip(messages):
    """The messages less what differs between two runs: extraction times, version stamps."""
    out = []
    for m in copy.deepcopy(messages):
        m.pop("time_extracted", None)
        if "version" in m:
            m["version"] = "v"
        for bookmark in m.get("value", {}).get("bookmarks", {}).values():
            if bookmark.get("tenantsync", {}).get("full_sync_version"):
                bookmark["tenantsync"]["full_sync_version"] = "v"
        out.append(m)
    return out


def test_direct_writing_sends_what_singer_sdks_loop_sends(monkeypatch):
    """Every message in the same place (a STATE every STATE_MSG_FREQUENCY records too), on a
    full sync, a stopped one, its resumption and an incremental one with a tie re-read."""
    monkeypatch.setattr(ToyStream, "STATE_MSG_FREQUENCY", 2)

    def runs():
        first, state = run({"stop_at_page": 2})
        second, state = run({}, state=state)
        third, _ = run({"lookback": True}, state=state)
        return strip(first + second + third)

    monkeypatch.setattr(TapkitStream, "_writes_directly", WRITES_DIRECTLY)
    direct = runs()
    per_record_loop(monkeypatch)
    assert direct == runs()
    assert sum(m["type"] == "STATE" for m in direct) > 20


def test_the_direct_path_skips_singer_sdks_per_record_calls(monkeypatch, loop):
    """Not one `_increment_stream_state` call, and the bookmark still follows the records."""
    if loop != "direct":
        pytest.skip("the direct path only")

    def refuse(*args, **kwargs):
        raise AssertionError("singer-sdk's per-record loop ran")

    monkeypatch.setattr(TapkitStream, "_increment_stream_state", refuse)
    messages, state = run()
    assert len(of(messages, "alpha", "RECORD")) == 10
    assert state["bookmarks"]["alpha"]["replication_key_value"] == ROWS[-1]["updated"]


class Dropping(ToyStream):
    def post_process(self, row, context=None):
        return None if row["value"] == 3 else row


class DroppingTap(ToyTap):
    def discover_streams(self):
        return [Dropping(self, name="alpha", schema=SCHEMA, key="id",
                         replication_key="updated")]


def test_a_stream_overriding_a_per_record_hook_keeps_singer_sdks_loop():
    messages, _ = run(tap=DroppingTap)
    assert [m["record"]["value"] for m in of(messages, "alpha", "RECORD")] == \
        [0, 1, 2, 4, 5, 6, 7, 8, 9]


def test_stream_maps_still_apply():
    messages, _ = run({"stream_maps": {"alpha": {"value": "__NULL__"}}})
    assert all("value" not in m["record"] for m in of(messages, "alpha", "RECORD"))
    assert all("value" in m["record"] for m in of(messages, "beta", "RECORD"))


def test_records_out_of_watermark_order_are_refused():
    with pytest.raises(InvalidStreamSortException, match="went backwards"):
        run({"unsorted": True})


def test_reading_from_before_the_bookmark_never_moves_it_back():
    _, state = run()
    messages, state2 = run({"lookback": True}, state=state)
    # the provider's earlier start is read again; r9, sent at the bookmark itself, is not
    assert [m["record"]["id"] for m in of(messages, "alpha", "RECORD")] == ["r7", "r8"]
    assert state2["bookmarks"]["alpha"]["replication_key_value"] == ROWS[-1]["updated"]


class LazyPages(TapkitStream):
    """One page, a generator of 40 records with distinct watermarks (the last two tied), that
    notes how many records it had built ahead of the emission (the writer's count) when it
    built each one."""

    built: list[int] = []
    emitted = 0

    def fetch_pages(self, plan):
        cls = type(self)

        def page():
            for i in range(40):
                updated = f"2024-01-01T00:00:{min(i, 38):02d}+00:00"
                if plan.resume_from is None or updated >= plan.resume_from:
                    cls.built.append(i - cls.emitted)  # built, not yet emitted
                    yield {"id": f"r{i}", "updated": updated, "value": i}
        yield page()


class CountingWriter(BufferedMsgSpecWriter):
    def write_record(self, stream, record, time_extracted):
        LazyPages.emitted += 1
        super().write_record(stream, record, time_extracted)


class LazyTap(ToyTap):
    message_writer_class = CountingWriter

    def discover_streams(self):
        return [LazyPages(self, name="lazy", schema=SCHEMA, key="id",
                          replication_key="updated")]


def test_a_page_is_emitted_as_it_is_read_not_held_whole():
    """A page's records go out one at a time as the page yields them (a Bulk page is a
    generator of 50,000 rows), only the records at its last watermark held back to be
    fingerprinted; the boundary they make still leaves nothing to send again."""
    LazyPages.built, LazyPages.emitted = [], 0
    messages, state = run(tap=LazyTap)
    assert [m["record"]["value"] for m in of(messages, "lazy", "RECORD")] == list(range(40))
    assert max(LazyPages.built) <= 2  # held back: the previous record and this one at most
    boundary = state["bookmarks"]["lazy"]["boundary"]
    assert boundary["value"] == "2024-01-01T00:00:38+00:00" and len(boundary["records"]) == 2
    LazyPages.built, LazyPages.emitted = [], 0
    again, _ = run(state=state, tap=LazyTap)
    assert of(again, "lazy", "RECORD") == []  # r38 and r39 were sent at the bookmark
