"""A token sink the tests name by `module:function`, as the controller will."""

from __future__ import annotations

RECEIVED: list = []


def keep(update) -> None:
    RECEIVED.append(update)
