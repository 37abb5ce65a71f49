"""The Linear twin is a GraphQL server: every query is parsed and validated against the schema
(rejected as Linear rejects it, HTTP 400 with `errors[].extensions.code`), costed
(`X-Complexity`; over 10,000 points refused), and executed over the store: filters, paging,
archived nodes, related nodes loaded when asked for more than their id."""

from __future__ import annotations

import pytest
import requests

from tap_linear.objects import OBJECTS, query
from tap_linear.sandbox import LinearSandbox


@pytest.fixture(scope="module")
def lin():
    with LinearSandbox(records=1000, seed=9, tls=False) as sb:
        yield sb


@pytest.fixture(scope="module")
def post(lin):
    session = requests.Session()
    session.headers["Authorization"] = lin.mint_api_key()

    def send(query: str, variables: dict | None = None, **extra) -> requests.Response:
        return session.post(lin.base_url + "/graphql", timeout=30,
                            json={"query": query, "variables": variables or {}, **extra})
    return send


@pytest.mark.parametrize(("query", "variables", "code", "words"), [
    ("{ issues { nodes { idd } } }", {}, "GRAPHQL_VALIDATION_FAILED", "Did you mean 'id'"),
    ("{ issues(orderBy: UpdatedAt) { nodes { id } } }", {}, "GRAPHQL_VALIDATION_FAILED",
     "does not exist in 'PaginationOrderBy' enum"),
    ("{ issues { nodes { team } } }", {}, "GRAPHQL_VALIDATION_FAILED", "must have a selection"),
    ("{ issues(first: 10 { nodes { id } } }", {}, "GRAPHQL_PARSE_FAILED", "Syntax Error"),
    ("query Q($f: IssueFilter) { issues(filter: $f) { nodes { id } } }",
     {"f": {"updatedAt": {"gte": "yesterday"}}}, "BAD_USER_INPUT", "DateTimeOrDuration"),
    ("query Q($n: Int!) { issues(first: $n) { nodes { id } } }", {}, "BAD_USER_INPUT",
     "to be provided"),
    ("{ issues(first: 251) { nodes { id } } }", {}, "INVALID_INPUT", "between 1 and 250"),
    ("{ issues(first: 250) { nodes { " + " ".join(f"t{i}: team {{ id }}" for i in range(40))
     + " } } }", {}, "RATELIMITED", "Query too complex"),  # 1 + 250 x 40 x 1.1 + 1
    ("mutation { issueCreate { id } }", {}, "GRAPHQL_VALIDATION_FAILED", "mutation"),
])
def test_invalid_queries_are_refused_as_linear_refuses_them(post, query, variables, code,
                                                             words):
    r = post(query, variables)
    assert r.status_code == 400, r.text[:300]
    error = r.json()["errors"][0]
    assert error["extensions"]["code"] == code and words in error["message"], error


def test_complexity_is_counted_per_property_object_and_page(post):
    r = post("{ teams(first: 10) { nodes { id name } pageInfo { hasNextPage } } }")
    # 1 + 10 x (nodes 1 + 2 x 0.1 + pageInfo 1 + 0.1) = 24
    assert r.status_code == 200 and r.headers["X-Complexity"] == "24"
    assert int(r.headers["X-RateLimit-Requests-Remaining"]) < \
        int(r.headers["X-RateLimit-Requests-Limit"])
    assert int(r.headers["X-RateLimit-Complexity-Reset"]) > 1_700_000_000_000  # epoch ms


def test_filters_pages_and_archived_nodes(lin, post):
    query = """query Q($first: Int, $after: String, $filter: IssueFilter, $all: Boolean) {
      issues(first: $first, after: $after, filter: $filter, includeArchived: $all,
             orderBy: updatedAt) { nodes { id updatedAt } pageInfo { hasNextPage endCursor } } }"""
    seen, after = [], None
    while True:
        page = post(query, {"first": 7, "after": after}).json()["data"]["issues"]
        seen += page["nodes"]
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    stamps = [n["updatedAt"] for n in seen]
    assert stamps == sorted(stamps, reverse=True)  # newest first
    assert len({n["id"] for n in seen}) == len(lin.all_records("issues"))

    middle = stamps[len(stamps) // 2]
    newer = post(query, {"first": 250, "filter": {"updatedAt": {"gte": middle}}}
                 ).json()["data"]["issues"]["nodes"]
    assert {n["id"] for n in newer} == {n["id"] for n in seen if n["updatedAt"] >= middle}
    strict = post(query, {"first": 250, "filter": {"updatedAt": {"gt": middle}}}
                  ).json()["data"]["issues"]["nodes"]
    assert all(n["updatedAt"] > middle for n in strict) and len(strict) < len(newer)

    archived = seen[0]["id"]
    lin.delete("issues", archived)
    live = post(query, {"first": 250}).json()["data"]["issues"]["nodes"]
    assert archived not in {n["id"] for n in live}
    everything = post(query, {"first": 250, "all": True}).json()["data"]["issues"]["nodes"]
    assert archived in {n["id"] for n in everything}
    lin.restore("issues", archived)


def test_related_nodes_exist_and_load(lin, post):
    r = post("{ comments(first: 50) { nodes { id issue { id identifier team { id key } } "
             "user { id email } } } }").json()
    teams = {doc["id"]: doc for doc, _ in lin.all_records("teams")}
    for comment in r["data"]["comments"]["nodes"]:
        issue = comment["issue"]
        assert issue["identifier"] and teams[issue["team"]["id"]]["key"] == issue["team"]["key"]
        assert "@" in comment["user"]["email"]
    missing = post('{ issue(id: "no-such-id") { id } }').json()
    assert missing["data"] is None
    assert missing["errors"][0]["extensions"]["code"] == "ENTITY_NOT_FOUND"


@pytest.mark.parametrize("query", [
    *(query(obj) for obj in OBJECTS),
    "{ issues(first: 30, orderBy: createdAt) { edges { cursor node { __typename id "
    "t: title team { key name } assignee { email } project { name lead { name } } } } "
    "pageInfo { hasNextPage hasPreviousPage startCursor endCursor } } }",
    "{ comments(first: 20, filter: {createdAt: {lt: \"-P30D\"}}) { nodes { body "
    "issue { identifier state { name } creator { id } } user { displayName } } } }",
])
def test_the_projection_answers_as_graphql_core_executes(lin, query):
    """The twin's fast path (plain selections on connections) against graphql-core's own
    execution of the same document: the same data."""
    from graphql import execute_sync, get_operation_ast, parse

    from tap_linear.sandbox.twin import ROOTS, _Context

    document = parse(query)
    variables = {"first": 250, "filter": {"updatedAt": {"gte": "2024-06-01T00:00:00.000Z"}}} \
        if query.startswith("query") else {}
    fast = _Context(lin)
    projected = lin.projector.run(get_operation_ast(document), variables,
                                  lambda field, args: lin._connection(ROOTS[field], fast, **args),
                                  fast.node)
    executed = execute_sync(lin.schema, document, context_value=_Context(lin),
                            variable_values=variables)
    assert not executed.errors and projected == executed.data
