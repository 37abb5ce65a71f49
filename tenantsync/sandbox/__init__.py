"""Sandbox twins of provider APIs: real HTTP servers on 127.0.0.1 that behave like the providers.

This package is the framework; each twin lives in its provider's folder (`taps/tap_<p>/sandbox`)
and is found through the provider registry (tenantsync.providers). See README.md here.
"""

from __future__ import annotations

from tenantsync import providers


def twin_providers() -> list[str]:
    """The registered providers that have a twin."""
    return [spec.name for spec in providers.with_twins()]


def sandbox_class(provider: str):
    """The twin class of `provider` (raises ValueError naming the providers with twins)."""
    spec = providers.find(provider)
    if spec is None or spec.twin is None:
        raise ValueError(f"no sandbox for provider {provider!r}; "
                         f"known: {', '.join(twin_providers())}")
    return spec.twin.sandbox_class()
