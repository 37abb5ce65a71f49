"""Outreach's JSON:API resources as flat records: `id`, the attributes at the top level, and
each to-one relationship as `<name>Id` (the shape singer-io tap-outreach emits).
https://developers.outreach.io/api/making-requests/"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def flatten(resource: Mapping[str, Any]) -> dict[str, Any]:
    """A JSON:API resource object as a flat record. To-many and link-only relationships are
    left out (their ids are not in the resource)."""
    record: dict[str, Any] = {"id": resource["id"], **(resource.get("attributes") or {})}
    for name, rel in (resource.get("relationships") or {}).items():
        if not isinstance(rel, Mapping) or "data" not in rel:
            continue
        data = rel["data"]
        if isinstance(data, list):
            continue
        record.setdefault(f"{name}Id", data.get("id") if isinstance(data, Mapping) else None)
    return record
