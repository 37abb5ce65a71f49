"""HubSpot record values and documents: every property value on the wire is a string or null.

`wire_value` turns a Python value (from the data world or a test's mutation) into HubSpot's
string for the property's type, refusing what HubSpot would refuse (non-numbers for numbers,
options an enumeration does not have). `record_doc` is the stored wire record with every
property that has a value; a `projection` reads stored docs as records with just the
properties a request asked for.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import date, datetime, timezone
from functools import lru_cache

import msgspec

from tap_hubspot.sandbox.properties import Prop
from tap_hubspot.sandbox.world import hs_datetime

_EPOCH_MS = re.compile(r"-?\d{9,}")


def _moment(value) -> datetime:
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=timezone.utc)
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day, tzinfo=timezone.utc)
    if isinstance(value, int) or (isinstance(value, str) and _EPOCH_MS.fullmatch(value)):
        return datetime.fromtimestamp(int(value) / 1000, timezone.utc)
    if isinstance(value, str):
        try:
            return _moment(date.fromisoformat(value)) if len(value) == 10 else _moment(
                datetime.fromisoformat(value.replace("Z", "+00:00")))
        except ValueError:
            pass
    raise ValueError(f"{value!r} is not a date (ISO-8601 or epoch milliseconds)")


def _number(value) -> str:
    if isinstance(value, bool):
        raise ValueError(f"{value!r} is not a number")
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{value!r} is not a number") from None
    if number != number or number in (float("inf"), float("-inf")):
        raise ValueError(f"{value!r} is not a number")
    return str(int(number)) if number.is_integer() and abs(number) < 2**63 else repr(number)


def _bool(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower()
    raise ValueError(f"{value!r} is not true or false")


def wire_value(prop: Prop, value) -> str | None:
    """HubSpot's string for `value` in property `prop` (None clears); ValueError if invalid."""
    if value is None or value == "":
        return None
    kind = prop.type
    try:
        if kind == "number":
            return _number(value)
        if kind == "bool":
            return _bool(value)
        if kind == "datetime":
            return hs_datetime(_moment(value))
        if kind == "date":
            return _moment(value).date().isoformat()
    except ValueError as exc:
        raise ValueError(f"property {prop.name!r}: {exc}") from None
    text = str(value)
    if kind == "enumeration" and prop.options:
        allowed = {v for v, _ in prop.options}
        bad = [part for part in text.split(";") if part not in allowed]
        if bad:
            raise ValueError(f"property {prop.name!r}: {bad[0]!r} is not one of its options "
                             f"({', '.join(sorted(allowed))})")
    return text


def record_doc(record_id: int, props: dict[str, str], created: str, updated: str,
               archived_at: str | None = None) -> dict:
    """The stored wire record (properties that have a value, always as strings)."""
    doc = {"id": str(record_id), "properties": props, "createdAt": created,
           "updatedAt": updated, "archived": archived_at is not None}
    if archived_at is not None:
        doc["archivedAt"] = archived_at
    return doc


class Projection:
    """Decodes stored docs straight into records carrying exactly `names` as properties (null
    where a record has no value): msgspec skips every other property without building it, and
    the records encode as HubSpot's JSON. `associations` may be set on a record before encoding.
    """

    def __init__(self, names: tuple[str, ...]):
        attrs = [f"p{i}" for i in range(len(names))]  # property names need not be identifiers
        props = msgspec.defstruct("Properties", [(a, str | None, None) for a in attrs],
                                  rename=dict(zip(attrs, names, strict=True)))
        self.record = msgspec.defstruct("Record", [
            ("id", str), ("properties", props), ("createdAt", str), ("updatedAt", str),
            ("archived", bool), ("archivedAt", str | None, None),
            ("associations", dict | None, None)], omit_defaults=True)
        indexed = msgspec.defstruct("Indexed", [("r", self.record)])
        self._records = msgspec.json.Decoder(list[self.record])
        self._indexed = msgspec.json.Decoder(list[indexed])

    def records(self, docs: Sequence[str]) -> list:
        """Records from stored wire docs."""
        return self._records.decode("[" + ",".join(docs) + "]") if docs else []

    def indexed(self, docs: Sequence[str]) -> list:
        """Records from search-index docs (`{"t": ..., "r": record}`)."""
        return [i.r for i in self._indexed.decode("[" + ",".join(docs) + "]")] if docs else []


@lru_cache(maxsize=512)
def projection(names: tuple[str, ...]) -> Projection:
    return Projection(names)
