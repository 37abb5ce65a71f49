"""Pagination styles as data. A style turns the first request of a listing into the next one,
from what the previous page returned; the request (`Call`) is plain JSON, so a full sync can
keep it in its state and resume from the page it stopped at.

Styles: `OffsetPaging` (offset/limit, or start/limit with the next offset in the body),
`PageNumberPaging`, `CursorPaging` (a cursor in the body, sent back as a parameter or in the
JSON body), `NextLinkPaging` (a next-page URL in the body or the Link header; JSON:API's
`links.next` is `jsonapi_paging`), `GraphQLPaging` (a connection's `pageInfo`).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Protocol

Path = tuple[str, ...]


def dig(body: Any, path: Sequence[str]) -> Any:
    """The value at `path` in nested dicts (None where any step is missing)."""
    for key in path:
        if not isinstance(body, Mapping):
            return None
        body = body.get(key)
    return body


def put(body: dict, path: Sequence[str], value: Any) -> dict:
    """A copy of `body` with `value` set at `path` (intermediate dicts copied or created)."""
    out = dict(body)
    node = out
    for key in path[:-1]:
        node[key] = dict(node.get(key) or {})
        node = node[key]
    node[path[-1]] = value
    return out


@dataclass(frozen=True)
class Call:
    """One request of a listing: URL (absolute, or a path under the base URL), query
    parameters and JSON body."""

    url: str
    params: Mapping[str, Any] = field(default_factory=dict)
    json: Any = None

    def with_params(self, **params: Any) -> Call:
        return replace(self, params={**self.params, **params})

    def to_state(self) -> dict:
        return {"url": self.url, "params": dict(self.params), "json": self.json}

    @classmethod
    def from_state(cls, state: Mapping[str, Any]) -> Call:
        return cls(state["url"], dict(state.get("params") or {}), state.get("json"))


@dataclass(frozen=True)
class Page:
    records: list
    body: Any
    headers: Mapping[str, str] = field(default_factory=dict)


class Paging(Protocol):
    def first(self, call: Call) -> Call:
        """The first request (page size and start position added)."""

    def next(self, call: Call, page: Page) -> Call | None:
        """The request after `call`, which returned `page`; None when it was the last."""


@dataclass(frozen=True)
class OffsetPaging:
    """`?offset=0&limit=100`. The next offset is read from the body where the provider says it
    (`next_offset_path`), or is offset + records while a `more_path` flag is true, or while a
    page is full."""

    page_size: int = 100
    offset_param: str = "offset"
    limit_param: str = "limit"
    next_offset_path: Path | None = None
    more_path: Path | None = None

    def first(self, call: Call) -> Call:
        return call.with_params(**{self.offset_param: 0, self.limit_param: self.page_size})

    def next(self, call: Call, page: Page) -> Call | None:
        if not page.records:
            return None
        if self.next_offset_path is not None:
            nxt = dig(page.body, self.next_offset_path)
            return None if nxt is None else call.with_params(**{self.offset_param: int(nxt)})
        if self.more_path is not None:
            more = bool(dig(page.body, self.more_path))
        else:
            more = len(page.records) >= self.page_size
        offset = int(call.params.get(self.offset_param) or 0) + len(page.records)
        return call.with_params(**{self.offset_param: offset}) if more else None


@dataclass(frozen=True)
class PageNumberPaging:
    """`?page=1&per_page=100`: the next page number from the body (`next_page_path`), or the
    following number while a page is full."""

    page_size: int = 100
    page_param: str = "page"
    size_param: str = "per_page"
    first_page: int = 1
    next_page_path: Path | None = None

    def first(self, call: Call) -> Call:
        return call.with_params(**{self.page_param: self.first_page,
                                   self.size_param: self.page_size})

    def next(self, call: Call, page: Page) -> Call | None:
        if self.next_page_path is not None:
            nxt = dig(page.body, self.next_page_path)
            return None if nxt in (None, "") else call.with_params(**{self.page_param: nxt})
        if len(page.records) < self.page_size:
            return None
        return call.with_params(**{self.page_param: int(call.params[self.page_param]) + 1})


@dataclass(frozen=True)
class CursorPaging:
    """An opaque cursor in the body (`cursor_path`) sent back as `cursor_param`, as a query
    parameter or, with `in_body`, at that path of the JSON body (search APIs)."""

    cursor_path: Path
    page_size: int = 100
    cursor_param: str = "cursor"
    size_param: str | None = "limit"
    in_body: bool = False

    def first(self, call: Call) -> Call:
        if self.size_param is None:
            return call
        if self.in_body:
            return replace(call, json=put(call.json or {}, (self.size_param,), self.page_size))
        return call.with_params(**{self.size_param: self.page_size})

    def next(self, call: Call, page: Page) -> Call | None:
        cursor = dig(page.body, self.cursor_path)
        if cursor in (None, "") or not page.records:
            return None
        if self.in_body:
            return replace(call, json=put(call.json or {}, (self.cursor_param,), cursor))
        return call.with_params(**{self.cursor_param: cursor})


_LINK_NEXT = re.compile(r'<([^>]+)>\s*;[^,]*\brel="?next"?', re.IGNORECASE)


@dataclass(frozen=True)
class NextLinkPaging:
    """The next page's full URL, from the body (`next_path`) or the `Link: <...>; rel="next"`
    header (`next_path` None). The link carries every parameter: it is followed verbatim."""

    next_path: Path | None = ("next",)
    page_size: int | None = None
    size_param: str | None = None

    def first(self, call: Call) -> Call:
        if self.size_param is None or self.page_size is None:
            return call
        return call.with_params(**{self.size_param: self.page_size})

    def next(self, call: Call, page: Page) -> Call | None:
        if self.next_path is not None:
            link = dig(page.body, self.next_path)
        else:
            match = _LINK_NEXT.search(page.headers.get("Link") or "")
            link = match.group(1) if match else None
        if not link:
            return None
        return Call(str(link), {}, call.json)


def jsonapi_paging(page_size: int = 100) -> NextLinkPaging:
    """JSON:API: `page[size]=N`, then `links.next` until it is missing."""
    return NextLinkPaging(("links", "next"), page_size, "page[size]")


@dataclass(frozen=True)
class GraphQLPaging:
    """A GraphQL connection at `connection_path` of the response: `first`/`after` variables,
    `pageInfo {hasNextPage endCursor}`. The call's JSON is `{"query": ..., "variables": ...}`."""

    connection_path: Path
    page_size: int = 100
    first_var: str = "first"
    after_var: str = "after"

    def first(self, call: Call) -> Call:
        return replace(call, json=put(call.json or {}, ("variables", self.first_var),
                                      self.page_size))

    def next(self, call: Call, page: Page) -> Call | None:
        info = dig(page.body, (*self.connection_path, "pageInfo")) or {}
        if not info.get("hasNextPage") or not info.get("endCursor"):
            return None
        return replace(call, json=put(call.json, ("variables", self.after_var),
                                      info["endCursor"]))

    def records(self, body: Any) -> list:
        """The connection's nodes (`nodes`, or `edges[].node`)."""
        connection = dig(body, self.connection_path) or {}
        if "nodes" in connection:
            return list(connection["nodes"] or [])
        return [edge["node"] for edge in connection.get("edges") or []]
