"""The Gong twin (`GongSandbox`), on the sandbox framework's twin kit."""

from tap_gong.sandbox.twin import GongSandbox

__all__ = ["GongSandbox"]
