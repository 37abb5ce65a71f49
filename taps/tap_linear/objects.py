"""Linear's objects as data: one GraphQL connection each (developers.linear.app), the fields
the tap selects (one table gives both the query's selection and the stream's JSON schema),
and the `RestObject` that reads it on tapkit's REST engine (GraphQL connection paging).

Every object is incremental on `updatedAt`: `filter: {updatedAt: {gte: <bookmark>}}` (gte is
inclusive), `includeArchived: true`, `orderBy: updatedAt`. Linear returns that order newest
first, so records are emitted as read and the bookmark moves to the newest one read when the
object's pass is complete (the engine's `sorted=False`). Archived nodes (`archivedAt` set:
Linear's soft delete) are deletes; a hard delete leaves no trace, and a full sync's sweep
removes it.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from tenantsync.tapkit.rest import Deletes, GraphQLPaging, Incremental, RestObject

PAGE_SIZE = 250  # Linear's largest page; ~2,500 complexity points for issues (cap: 10,000)
GRAPHQL_PATH = "/graphql"

# field[:kind]: s string (default), n number, b boolean, t date-time, d date, r a related
# node ({id}), w a workflow state ({id name type color})
FIELDS = {
    "issues": "id identifier number:n title description priority:n priorityLabel estimate:n "
              "url dueDate:d createdAt:t updatedAt:t archivedAt:t startedAt:t completedAt:t "
              "canceledAt:t state:w team:r assignee:r creator:r project:r",
    "comments": "id body url createdAt:t updatedAt:t archivedAt:t editedAt:t issue:r user:r",
    "users": "id name displayName email active:b admin:b guest:b timezone url createdAt:t "
             "updatedAt:t archivedAt:t",
    "projects": "id name description state url progress:n startDate:d targetDate:d "
                "createdAt:t updatedAt:t archivedAt:t completedAt:t canceledAt:t lead:r",
    "teams": "id key name description private:b timezone createdAt:t updatedAt:t "
             "archivedAt:t",
}
NODES = {"issues": "Issue", "comments": "Comment", "users": "User", "projects": "Project",
         "teams": "Team"}

_STR = {"type": ["string", "null"]}
_KINDS: dict[str, tuple[str, dict]] = {
    "s": ("", _STR),
    "n": ("", {"type": ["number", "null"]}),
    "b": ("", {"type": ["boolean", "null"]}),
    "t": ("", {"type": ["string", "null"], "format": "date-time"}),
    "d": ("", {"type": ["string", "null"], "format": "date"}),
    "r": (" { id }", {"type": ["object", "null"], "properties": {"id": _STR}}),
    "w": (" { id name type color }", {"type": ["object", "null"], "properties": {
        k: _STR for k in ("id", "name", "type", "color")}}),
}


def _fields(obj: str) -> list[tuple[str, str, dict]]:
    """(name, selection, JSON schema) per field of `obj`."""
    out = []
    for item in FIELDS[obj].split():
        name, _, kind = item.partition(":")
        selection, schema = _KINDS[kind or "s"]
        out.append((name, name + selection, schema))
    return out


# complexity points of a field by kind (Linear: property 0.1, object 1 plus its properties)
_POINTS = {"r": 1.1, "w": 1.4}


def complexity(obj: str) -> int:
    """The points Linear charges for one page of `obj`'s query: the connection multiplies its
    children (the nodes and pageInfo, each an object) by the page size."""
    node = 1 + sum(_POINTS.get(item.partition(":")[2], 0.1) for item in FIELDS[obj].split())
    page_info = 1 + 0.1 * 2
    return math.ceil(1 + PAGE_SIZE * (node + page_info) - 1e-9)


def schema(obj: str) -> dict:
    return {"type": "object", "properties": {n: s for n, _, s in _fields(obj)}}


def query(obj: str) -> str:
    node = NODES[obj]
    selection = " ".join(sel for _, sel, _ in _fields(obj))
    return (f"query {node}Sync($first: Int, $after: String, $filter: {node}Filter) {{ "
            f"{obj}(first: $first, after: $after, filter: $filter, includeArchived: true, "
            f"orderBy: updatedAt) {{ nodes {{ {selection} }} "
            f"pageInfo {{ hasNextPage endCursor }} }} }}")


@dataclass(frozen=True)
class Archived(Deletes):
    """Linear's soft delete: `archivedAt` holds when the node was archived."""

    flag: str | None = "archivedAt"

    def is_deleted(self, record: Mapping[str, Any]) -> bool:
        return record.get(self.flag) is not None

    @property
    def detection(self) -> str:
        return "archivedAt set (read with includeArchived: true)"


def graphql_object(obj: str) -> RestObject:
    return RestObject(
        obj, GRAPHQL_PATH, GraphQLPaging(("data", obj), PAGE_SIZE), method="POST",
        body={"query": query(obj), "variables": {}},
        incremental=Incremental("updatedAt", body_path=("variables", "filter", "updatedAt",
                                                        "gte"), format="iso_ms", sorted=False),
        deletes=Archived(), modified="updatedAt",
        note="GraphQL connection, newest first: the bookmark moves when the object's pass is "
             "complete")


OBJECTS: dict[str, RestObject] = {obj: graphql_object(obj) for obj in FIELDS}
