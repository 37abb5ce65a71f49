"""The Outreach twin (`OutreachSandbox`), on the sandbox framework's twin kit."""

from tap_outreach.sandbox.twin import OutreachSandbox

__all__ = ["OutreachSandbox"]
