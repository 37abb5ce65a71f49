"""The Intercom twin (`IntercomSandbox`), on the sandbox framework's twin kit."""

from tap_intercom.sandbox.twin import IntercomSandbox

__all__ = ["IntercomSandbox"]
