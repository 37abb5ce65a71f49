"""The Pipedrive twin (`PipedriveSandbox`), on the sandbox framework's twin kit."""

from tap_pipedrive.sandbox.twin import PipedriveSandbox

__all__ = ["PipedriveSandbox"]
