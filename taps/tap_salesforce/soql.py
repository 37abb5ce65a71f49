"""SOQL text, built from names that are checked first (a catalog is user input)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from tenantsync.tapkit.common import parse_timestamp

_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")


def check_name(name: str, what: str = "field") -> str:
    if not _NAME.match(name or ""):
        raise ValueError(f"{what} name {name!r} is not a Salesforce API name")
    return name


def datetime_literal(value: Any) -> str:
    """A SOQL datetime literal, floored to the second: with `>=` a floor never skips a record."""
    return parse_timestamp(value).strftime("%Y-%m-%dT%H:%M:%SZ")


def select(sobject: str, fields: Sequence[str], watermark: str | None,
           since: Any = None, until: Any = None) -> str:
    """`SELECT ... FROM obj [WHERE wm >= since [AND wm < until]] [ORDER BY wm ASC]`: ordered
    by the watermark so bookmarks can advance record by record. `until` (a date window's end)
    must be a whole second: the next window starts there."""
    query = f"SELECT {', '.join(check_name(f) for f in fields)} FROM " \
            f"{check_name(sobject, 'object')}"
    if watermark:
        check_name(watermark)
        bounds = ([f"{watermark} >= {datetime_literal(since)}"] if since is not None else []) + \
            ([f"{watermark} < {datetime_literal(until)}"] if until is not None else [])
        if bounds:
            query += " WHERE " + " AND ".join(bounds)
        query += f" ORDER BY {watermark} ASC"
    return query
