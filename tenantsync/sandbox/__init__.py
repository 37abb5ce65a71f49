"""Sandbox twins of provider APIs: real HTTP servers on 127.0.0.1 that behave like the providers.

`PROVIDERS` maps a provider name to its twin class ("module:Class"); `sandbox_class(name)` loads
it. See README.md in this folder for how a twin plugs into the framework.
"""

from __future__ import annotations

import importlib

PROVIDERS = {
    "salesforce": "tenantsync.sandbox.salesforce:SalesforceSandbox",
    "hubspot": "tenantsync.sandbox.hubspot:HubSpotSandbox",
}


def sandbox_class(provider: str):
    """The twin class of `provider` (raises ValueError naming the known providers)."""
    try:
        target = PROVIDERS[provider]
    except KeyError:
        raise ValueError(f"no sandbox for provider {provider!r}; "
                         f"known: {', '.join(sorted(PROVIDERS))}") from None
    module, _, name = target.partition(":")
    return getattr(importlib.import_module(module), name)
