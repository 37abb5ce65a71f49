"""Each pagination style of the REST engine against a real local HTTP server: the records of
every page, the requests it sends, and where it stops."""

from __future__ import annotations

import json
from urllib.parse import parse_qs, urlsplit

import pytest

from tenantsync.tapkit.http import HttpClient
from tenantsync.tapkit.rest import (
    Call,
    CursorPaging,
    GraphQLPaging,
    Incremental,
    NextLinkPaging,
    OffsetPaging,
    PageNumberPaging,
    RestClient,
    RestObject,
    jsonapi_paging,
)
from tests.tapkit.scripted_server import Reply, ScriptedServer


def read(server, obj, call=None):
    rest = RestClient(HttpClient(), server.url)
    pages = rest.pages(obj, obj.paging.first(call or obj.call()))
    return [[r["id"] for r in page.records] for page in pages]


def sent(server):
    return [{k: v[0] for k, v in parse_qs(urlsplit(s.path).query).items()} for s in server.seen]


def rows(*ids):
    return [{"id": i} for i in ids]


def test_offset_paging_with_the_next_offset_in_the_body():
    obj = RestObject("persons", "/v1/persons", OffsetPaging(
        2, "start", "limit", next_offset_path=("additional_data", "pagination", "next_start")))
    pages = [Reply(200, {"data": rows(1, 2), "additional_data": {"pagination": {
        "next_start": 2}}}), Reply(200, {"data": rows(3, 4), "additional_data": {
            "pagination": {"next_start": 4}}}),
        Reply(200, {"data": rows(5), "additional_data": {"pagination": {}}})]
    with ScriptedServer(pages) as server:
        assert read(server, obj) == [[1, 2], [3, 4], [5]]
    assert [(q["start"], q["limit"]) for q in sent(server)] == [("0", "2"), ("2", "2"),
                                                                ("4", "2")]


def test_offset_paging_by_full_pages_and_by_a_more_flag():
    full = RestObject("x", "/x", OffsetPaging(2))
    with ScriptedServer([Reply(200, {"data": rows(1, 2)}), Reply(200, {"data": rows(3, 4)}),
                         Reply(200, {"data": None})]) as server:
        assert read(server, full) == [[1, 2], [3, 4], []]  # `data: null` is an empty page
    assert [q["offset"] for q in sent(server)] == ["0", "2", "4"]
    flagged = RestObject("x", "/x", OffsetPaging(5, more_path=("more",)))
    with ScriptedServer([Reply(200, {"data": rows(1), "more": True}),
                         Reply(200, {"data": rows(2), "more": False})]) as server:
        assert read(server, flagged) == [[1], [2]]
    assert [q["offset"] for q in sent(server)] == ["0", "1"]


def test_page_number_paging():
    obj = RestObject("people", "/v2/people", PageNumberPaging(2), records=("data",))
    with ScriptedServer([Reply(200, {"data": rows(1, 2)}), Reply(200, {"data": rows(3)})]
                        ) as server:
        assert read(server, obj) == [[1, 2], [3]]
    assert [(q["page"], q["per_page"]) for q in sent(server)] == [("1", "2"), ("2", "2")]
    told = RestObject("p", "/p", PageNumberPaging(
        2, next_page_path=("metadata", "paging", "next_page")))
    with ScriptedServer([Reply(200, {"data": rows(1, 2), "metadata": {"paging": {
            "next_page": 2}}}), Reply(200, {"data": rows(3, 4), "metadata": {"paging": {
                "next_page": None}}})]) as server:
        assert read(server, told) == [[1, 2], [3, 4]]  # a full last page: the body says stop


def test_cursor_paging_as_a_parameter_and_in_the_body():
    obj = RestObject("deals", "/api/v2/deals", CursorPaging(
        ("additional_data", "next_cursor"), 2), params={"sort_by": "update_time"})
    with ScriptedServer([Reply(200, {"data": rows(1, 2), "additional_data": {
            "next_cursor": "c1"}}), Reply(200, {"data": rows(3), "additional_data": {}})]
                        ) as server:
        assert read(server, obj) == [[1, 2], [3]]
    assert sent(server) == [{"sort_by": "update_time", "limit": "2"},
                            {"sort_by": "update_time", "limit": "2", "cursor": "c1"}]
    search = RestObject("contacts", "/search", CursorPaging(
        ("pages", "next", "starting_after"), 50, "starting_after", "per_page", in_body=True),
        method="POST", body={"query": {"field": "updated_at"}})
    with ScriptedServer([Reply(200, {"data": rows(1), "pages": {"next": {
            "starting_after": "abc"}}}), Reply(200, {"data": rows(2), "pages": {}})]) as server:
        assert read(server, search) == [[1], [2]]
    bodies = [json.loads(s.body) for s in server.seen]
    assert bodies == [{"query": {"field": "updated_at"}, "per_page": 50},
                      {"query": {"field": "updated_at"}, "per_page": 50,
                       "starting_after": "abc"}]


def test_next_link_paging_from_the_body_and_from_the_link_header():
    with ScriptedServer() as server:
        server.replies = [
            Reply(200, {"value": rows(1), "@odata.nextLink": f"{server.url}/x?$skiptoken=2"}),
            Reply(200, {"value": rows(2)})]
        obj = RestObject("accounts", "/x", NextLinkPaging(("@odata.nextLink",)),
                         records=("value",), params={"$select": "name"})
        assert read(server, obj) == [[1], [2]]
        assert [s.path for s in server.seen] == ["/x?%24select=name", "/x?$skiptoken=2"]
    with ScriptedServer() as server:
        server.replies = [
            Reply(200, [{"id": 1}], {"Link": f'<{server.url}/items?page=2>; rel="next", '
                                             f'<{server.url}/items?page=9>; rel="last"'}),
            Reply(200, [{"id": 2}])]
        obj = RestObject("items", "/items", NextLinkPaging(None), records=())
        assert read(server, obj) == [[1], [2]]
        assert server.seen[1].path == "/items?page=2"


def test_jsonapi_links_next():
    with ScriptedServer() as server:
        link = f"{server.url}/api/v2/prospects?page%5Bsize%5D=2&page%5Bafter%5D=xyz"
        server.replies = [Reply(200, {"data": rows(1, 2), "links": {"next": link}}),
                          Reply(200, {"data": rows(3), "links": {}})]
        obj = RestObject("prospects", "/api/v2/prospects", jsonapi_paging(2))
        assert read(server, obj) == [[1, 2], [3]]
        assert sent(server)[0] == {"page[size]": "2"}
        assert server.seen[1].path == "/api/v2/prospects?page%5Bsize%5D=2&page%5Bafter%5D=xyz"


def test_graphql_connection_paging_with_a_body_filter():
    paging = GraphQLPaging(("data", "issues"), 2)
    obj = RestObject("issues", "/graphql", paging, method="POST",
                     body={"query": "query($first:Int,$after:String,$since:DateTime){...}"},
                     incremental=Incremental("updatedAt", body_path=("variables", "since"),
                                             format="iso_ms"))
    replies = [Reply(200, {"data": {"issues": {"nodes": rows("a", "b"), "pageInfo": {
        "hasNextPage": True, "endCursor": "E1"}}}}),
        Reply(200, {"data": {"issues": {"edges": [{"node": {"id": "c"}}], "pageInfo": {
            "hasNextPage": False, "endCursor": "E2"}}}})]
    with ScriptedServer(replies) as server:
        call = obj.incremental.apply(obj.call(), "2024-05-01T10:00:00.123456+00:00")
        assert read(server, obj, call) == [["a", "b"], ["c"]]
    variables = [json.loads(s.body)["variables"] for s in server.seen]
    assert variables == [{"since": "2024-05-01T10:00:00.123Z", "first": 2},
                         {"since": "2024-05-01T10:00:00.123Z", "first": 2, "after": "E1"}]


@pytest.mark.parametrize(("fmt", "inclusive", "expected"), [
    ("iso", True, "2024-05-01T10:00:07Z"),
    ("iso", False, "2024-05-01T10:00:06Z"),  # strict: one unit earlier, nothing skipped
    ("space", True, "2024-05-01 10:00:07"),
    ("iso_ms", False, "2024-05-01T10:00:07.499Z"),
    ("epoch_s", True, 1714557607),
    ("epoch_ms", True, 1714557607500),
    ("date", False, "2024-04-30"),
])
def test_incremental_bounds_never_skip_a_record(fmt, inclusive, expected):
    inc = Incremental("updated", param="since", format=fmt, inclusive=inclusive,
                      sort={"sort": "updated"})
    call = inc.apply(Call("/x"), "2024-05-01T10:00:07.500Z")
    assert call.params == {"sort": "updated", "since": expected}


def test_an_incremental_declares_exactly_one_place_for_its_bound():
    with pytest.raises(ValueError, match="exactly one"):
        Incremental("updated")
    with pytest.raises(ValueError, match="format"):
        Incremental("updated", param="since", format="rfc822")
