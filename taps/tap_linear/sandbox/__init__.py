"""The Linear twin (`LinearSandbox`): a GraphQL server on graphql-core."""

from tap_linear.sandbox.twin import LinearSandbox

__all__ = ["LinearSandbox"]
