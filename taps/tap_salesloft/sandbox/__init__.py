"""The Salesloft twin (`SalesloftSandbox`), on the sandbox framework's twin kit."""

from tap_salesloft.sandbox.twin import SalesloftSandbox

__all__ = ["SalesloftSandbox"]
