"""The Dynamics 365 Sales (Dataverse Web API) twin, on the sandbox framework's twin kit."""

from tap_dynamics.sandbox.twin import DynamicsSandbox

__all__ = ["DynamicsSandbox"]
