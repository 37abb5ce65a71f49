"""Linear's GraphQL schema (the part a sync reads; names and types as in Linear's published
schema, developers.linear.app) built with graphql-core, and its query complexity.

Complexity, as Linear documents it (developers.linear.app, rate limiting): each property
0.1 point, each object 1 point, a connection multiplies its children by its page size
(`first`, default 50); the sum is rounded up."""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLNamedType,
    GraphQLObjectType,
    GraphQLScalarType,
    GraphQLSchema,
    InlineFragmentNode,
    OperationDefinitionNode,
    SelectionSetNode,
    ValueNode,
    build_schema,
    get_named_type,
    value_from_ast,
)

# object types a sync reads: name -> its connection's root field
CONNECTIONS = {"Issue": "issues", "Comment": "comments", "User": "users", "Project": "projects",
               "Team": "teams"}

_TYPES = """
scalar DateTime
scalar TimelessDate
scalar DateTimeOrDuration

enum PaginationOrderBy { createdAt updatedAt }

type PageInfo {
  hasPreviousPage: Boolean!
  hasNextPage: Boolean!
  startCursor: String
  endCursor: String
}

input DateComparator {
  eq: DateTimeOrDuration, neq: DateTimeOrDuration, gt: DateTimeOrDuration,
  gte: DateTimeOrDuration, lt: DateTimeOrDuration, lte: DateTimeOrDuration,
  in: [DateTimeOrDuration!], nin: [DateTimeOrDuration!]
}
input NullableDateComparator {
  eq: DateTimeOrDuration, neq: DateTimeOrDuration, gt: DateTimeOrDuration,
  gte: DateTimeOrDuration, lt: DateTimeOrDuration, lte: DateTimeOrDuration,
  null: Boolean
}
input IDComparator { eq: ID, neq: ID, in: [ID!], nin: [ID!] }

type WorkflowState { id: ID! name: String! type: String! color: String! }

type User {
  id: ID! name: String! displayName: String! email: String! active: Boolean!
  admin: Boolean! guest: Boolean! timezone: String url: String!
  createdAt: DateTime! updatedAt: DateTime! archivedAt: DateTime
}
type Team {
  id: ID! key: String! name: String! description: String private: Boolean!
  timezone: String! createdAt: DateTime! updatedAt: DateTime! archivedAt: DateTime
}
type Project {
  id: ID! name: String! description: String! state: String! url: String! progress: Float!
  startDate: TimelessDate targetDate: TimelessDate lead: User
  createdAt: DateTime! updatedAt: DateTime! archivedAt: DateTime completedAt: DateTime
  canceledAt: DateTime
}
type Issue {
  id: ID! identifier: String! number: Float! title: String! description: String
  priority: Float! priorityLabel: String! estimate: Float url: String! dueDate: TimelessDate
  createdAt: DateTime! updatedAt: DateTime! archivedAt: DateTime startedAt: DateTime
  completedAt: DateTime canceledAt: DateTime state: WorkflowState! team: Team!
  assignee: User creator: User project: Project
}
type Comment {
  id: ID! body: String! url: String! createdAt: DateTime! updatedAt: DateTime!
  archivedAt: DateTime editedAt: DateTime issue: Issue user: User
}
"""


def _connection(node: str) -> str:
    return f"""
type {node}Edge {{ node: {node}! cursor: String! }}
type {node}Connection {{ edges: [{node}Edge!]! nodes: [{node}!]! pageInfo: PageInfo! }}
input {node}Filter {{
  id: IDComparator, createdAt: DateComparator, updatedAt: DateComparator,
  and: [{node}Filter!], or: [{node}Filter!]
}}
"""


def _query() -> str:
    fields = [f"""  {field}(filter: {node}Filter, before: String, after: String, first: Int,
    last: Int, includeArchived: Boolean = false, orderBy: PaginationOrderBy): {node}Connection!
  {node[0].lower() + node[1:]}(id: String!): {node}!""" for node, field in CONNECTIONS.items()]
    return "type Query {\n" + "\n".join(fields) + "\n  viewer: User!\n}\n"


SDL = _TYPES + "".join(_connection(node) for node in CONNECTIONS) + _query()

_DURATION = re.compile(r"^(-)?P(?:(\d+)Y)?(?:(\d+)M)?(?:(\d+)W)?(?:(\d+)D)?"
                       r"(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+)S)?)?$")


def parse_moment(value: Any, now: datetime) -> datetime:
    """A DateTimeOrDuration: an ISO-8601 instant, or a duration from now (`-P2W`: two weeks
    ago). A ValueError otherwise."""
    if not isinstance(value, str) or not value:
        raise ValueError(f"expected an ISO-8601 date-time or duration, got {value!r}")
    match = _DURATION.match(value)
    if match and value not in ("P", "-P", "PT", "-PT"):
        sign = -1 if match.group(1) else 1
        y, mo, w, d, h, mi, s = (int(g or 0) for g in match.groups()[1:])
        return now + sign * timedelta(days=365 * y + 30 * mo + 7 * w + d, hours=h, minutes=mi,
                                      seconds=s)
    moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    if moment.tzinfo is None:
        raise ValueError(f"date-time {value!r} has no time zone")
    return moment


def _check_moment(value: Any) -> Any:
    parse_moment(value, datetime.now().astimezone())
    return value


def _check_date(value: Any) -> Any:
    if not isinstance(value, str) or not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
        raise ValueError(f"expected a date YYYY-MM-DD, got {value!r}")
    return value


def build() -> GraphQLSchema:
    schema = build_schema(SDL)
    checks = {"DateTime": _check_moment, "DateTimeOrDuration": _check_moment,
              "TimelessDate": _check_date}
    for name, check in checks.items():
        scalar = schema.type_map[name]
        assert isinstance(scalar, GraphQLScalarType)
        scalar.coerce_input_value = check  # graphql-core 3.3's hooks
        scalar.coerce_input_literal = lambda node, check=check: check(
            getattr(node, "value", None))
    return schema


# -- complexity -------------------------------------------------------------------------------

DEFAULT_PAGE = 50


class Complexity:
    """The complexity of one operation of a validated document."""

    def __init__(self, schema: GraphQLSchema, document: DocumentNode,
                 variables: Mapping[str, Any] | None):
        self.schema = schema
        self.variables = dict(variables or {})
        self.fragments = {d.name.value: d for d in document.definitions
                          if isinstance(d, FragmentDefinitionNode)}

    def of(self, operation: OperationDefinitionNode) -> int:
        root = self.schema.query_type
        return math.ceil(self._selection(operation.selection_set, root) - 1e-9)

    def _selection(self, selection: SelectionSetNode | None, parent: GraphQLNamedType) -> float:
        if selection is None or not isinstance(parent, GraphQLObjectType):
            return 0.0
        total = 0.0
        for node in selection.selections:
            if isinstance(node, FieldNode):
                total += self._field(node, parent)
            elif isinstance(node, InlineFragmentNode):
                total += self._selection(node.selection_set, parent)
            elif isinstance(node, FragmentSpreadNode):
                fragment = self.fragments.get(node.name.value)
                if fragment is not None:
                    total += self._selection(fragment.selection_set, parent)
        return total

    def _field(self, node: FieldNode, parent: GraphQLObjectType) -> float:
        if node.name.value.startswith("__"):
            return 0.0
        definition = parent.fields.get(node.name.value)
        if definition is None:
            return 0.0
        kind = get_named_type(definition.type)
        if node.selection_set is None:
            return 0.1
        children = self._selection(node.selection_set, kind)
        if kind.name.endswith("Connection"):
            return 1 + self._page(node, definition) * children
        return 1 + children

    def _page(self, node: FieldNode, definition) -> int:
        for arg in node.arguments or ():
            if arg.name.value in ("first", "last"):
                value = self._value(arg.value, definition.args[arg.name.value].type)
                if isinstance(value, int):
                    return value
        return DEFAULT_PAGE

    def _value(self, node: ValueNode, type_) -> Any:
        try:
            return value_from_ast(node, type_, self.variables)
        except GraphQLError:
            return None
