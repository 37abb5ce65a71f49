"""The Apollo twin (`ApolloSandbox`), on the sandbox framework's twin kit."""

from tap_apollo.sandbox.twin import ApolloSandbox

__all__ = ["ApolloSandbox"]
