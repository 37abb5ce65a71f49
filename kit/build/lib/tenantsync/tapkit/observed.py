"""What a tap saw of the provider during its run, for whoever runs it to keep (tenantsync's
credential source stores it on the connection when the tap exits): response headers, the
latest value of each (rate-limit counters live there), and the latest token response without
its secrets. Provider-neutral: each provider's spec reads its own headers and token fields."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

# never kept: they carry sessions or secrets
_PRIVATE_HEADERS = ("set-cookie", "authorization", "www-authenticate")

headers: dict[str, str] = {}
token: dict[str, Any] = {}


def saw_response(response_headers: Mapping[str, str]) -> None:
    headers.update((k, v) for k, v in response_headers.items()
                   if k.lower() not in _PRIVATE_HEADERS)


def saw_token(response: Mapping[str, Any]) -> None:
    """`response` is a token response with its secrets already removed."""
    token.clear()
    token.update(response)
