"""gql, an independent GraphQL client from PyPI, unchanged against the Linear twin: it fetches
the schema by introspection, validates its documents against it, pages a connection, and
gets the server's validation and input errors as Linear sends them."""

from __future__ import annotations

import pytest
from gql import Client, gql
from gql.transport.exceptions import TransportQueryError
from gql.transport.requests import RequestsHTTPTransport
from graphql import GraphQLError

from tap_linear.sandbox import LinearSandbox


@pytest.fixture(scope="module")
def lin():
    with LinearSandbox(records=1000, seed=11) as sandbox:
        yield sandbox


def _client(lin, *, schema: bool) -> Client:
    transport = RequestsHTTPTransport(url=lin.https_base_url + "/graphql", verify=lin.ca_file,
                                      headers={"Authorization": lin.mint_api_key()},
                                      timeout=30)
    return Client(transport=transport, fetch_schema_from_transport=schema)


def test_gql_introspects_and_pages_issues(lin):
    with _client(lin, schema=True) as session:
        assert session.client.schema.get_type("IssueConnection") is not None
        query = gql("""query Page($after: String) {
          issues(first: 40, after: $after, includeArchived: true) {
            nodes { id identifier team { id key } } pageInfo { hasNextPage endCursor } } }""")
        ids, after = set(), None
        while True:
            page = session.execute(query, variable_values={"after": after})["issues"]
            ids |= {n["id"] for n in page["nodes"]}
            if not page["pageInfo"]["hasNextPage"]:
                break
            after = page["pageInfo"]["endCursor"]
        assert ids == {doc["id"] for doc, _ in lin.all_records("issues")}
        with pytest.raises(GraphQLError, match="Cannot query field 'titel'"):
            session.execute(gql("{ issues { nodes { titel } } }"))  # gql's own validation


def test_the_server_refuses_what_gql_does_not_check(lin):
    with _client(lin, schema=False) as session:
        with pytest.raises(TransportQueryError) as refused:
            session.execute(gql("{ issues { nodes { titel } } }"))
        assert refused.value.errors[0]["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"
        with pytest.raises(TransportQueryError) as bad:
            session.execute(gql("query Q($f: IssueFilter) { issues(filter: $f) { nodes { id } } }"),
                            variable_values={"f": {"updatedAt": {"gt": "last tuesday"}}})
        assert bad.value.errors[0]["extensions"]["code"] == "BAD_USER_INPUT"
        viewer = session.execute(gql("{ viewer { id email admin } }"))["viewer"]
        assert viewer["admin"] is True and "@" in viewer["email"]
