"""Mapping provider records to Supaglue's common objects (tenantsync.common_schema).

A provider declares, per common table, a `CommonMapping`: where the base fields come from and
one getter per common field, built from the helpers below (`src`, `address`, `phones`, ...).
`CommonMapping.to_common(record)` then yields the common record with `raw_data` = the provider
record. The mapping is checked against the common schema when it is declared, so a typo in a
field name fails at import, not in a customer's table.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from typing import Any

from tenantsync.common_schema import (
    ADDRESS_TYPES,
    COMMON_OBJECTS,
    CRM_EMAIL_TYPES,
    CRM_PHONE_TYPES,
    JSONB,
    json_schema,
)

Getter = Callable[[Mapping[str, Any]], Any]


_OFFSET = re.compile(r"(Z|[+-]\d{2}:?\d{2})$")


def parse_timestamp(value: Any) -> datetime:
    """An aware UTC datetime from a provider's datetime string (`Z`, `+0000` or `+00:00`
    offsets; none means UTC), a date string (midnight UTC), epoch millis or seconds (told
    apart by magnitude, as target-postgres does: Intercom's times are seconds), or a datetime."""
    if isinstance(value, datetime):
        parsed = value
    elif isinstance(value, (int, float)) and not isinstance(value, bool):
        parsed = datetime.fromtimestamp(value / (1000 if abs(value) > 1e11 else 1),
                                        tz=timezone.utc)
    elif isinstance(value, str) and len(value) == 10:
        parsed = datetime.combine(date.fromisoformat(value), datetime.min.time())
    elif isinstance(value, str):
        try:  # Python 3.11+ reads `Z` and `+0000` itself (the common case, and hot: sorting)
            return _utc(datetime.fromisoformat(value))
        except ValueError:
            pass

        def colon(m: re.Match) -> str:
            off = m.group(1)
            return "+00:00" if off == "Z" else (off if ":" in off else f"{off[:3]}:{off[3:]}")
        try:
            parsed = datetime.fromisoformat(_OFFSET.sub(colon, value.strip()))
        except ValueError:
            raise ValueError(f"not an ISO 8601 timestamp: {value!r}") from None
    else:
        raise ValueError(f"not a timestamp: {value!r}")
    return _utc(parsed)


def _utc(parsed: datetime) -> datetime:
    if parsed.tzinfo is None:
        return parsed.replace(tzinfo=timezone.utc)
    return parsed.astimezone(timezone.utc)


def iso_timestamp(value: Any) -> str | None:
    """RFC 3339 UTC with milliseconds (`2024-01-02T03:04:05.000+00:00`), see parse_timestamp."""
    if value is None or value == "":
        return None
    if isinstance(value, str) and len(value) == 28 and value.endswith("+0000") \
            and value[10] == "T":
        return value[:23] + "+00:00"  # Salesforce's own format: no parsing needed
    return parse_timestamp(value).isoformat(timespec="milliseconds")


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def src(name: str, convert: Callable[[Any], Any] | None = None) -> Getter:
    """The provider field `name`, optionally converted (None stays None)."""
    if convert is None:
        return lambda record: record.get(name)

    def get(record: Mapping[str, Any]) -> Any:
        value = record.get(name)
        return None if value is None else convert(value)
    return get


def const(value: Any) -> Getter:
    return lambda record: value


def timestamp(name: str) -> Getter:
    return lambda record: iso_timestamp(record.get(name))


def to_int(value: Any) -> int | None:
    if _blank(value):
        return None
    return int(float(value))


def to_float(value: Any) -> float | None:
    return None if _blank(value) else float(value)


def address(address_type: str, *, street: str | None = None, city: str | None = None,
            state: str | None = None, postal_code: str | None = None,
            country: str | None = None) -> Getter:
    """A common Address from the named provider fields; a multi-line street fills street_1 and
    street_2. Yields None when every part is empty (dropped by `addresses`)."""
    if address_type not in ADDRESS_TYPES:
        raise ValueError(f"address_type {address_type!r} not in {ADDRESS_TYPES}")

    def get(record: Mapping[str, Any]) -> dict | None:
        parts = {k: (record.get(v) if v else None) for k, v in
                 (("city", city), ("state", state), ("postal_code", postal_code),
                  ("country", country))}
        raw_street = record.get(street) if street else None
        street_1, _, street_2 = (raw_street or "").partition("\n")
        if _blank(raw_street) and all(_blank(v) for v in parts.values()):
            return None
        return {"street_1": street_1.strip() or None, "street_2": street_2.strip() or None,
                **{k: (None if _blank(v) else v) for k, v in parts.items()},
                "address_type": address_type}
    return get


def addresses(*getters: Getter) -> Getter:
    return lambda record: [a for a in (g(record) for g in getters) if a is not None]


def _typed(what: str, types: tuple[str, ...], value_key: str, by_type: dict[str, str]
           ) -> Getter:
    """The common schema's typed lists: `[{value_key: field value, <value_key>_type: kind}]`
    for each non-empty field, in the order given."""
    for kind in by_type:
        if kind not in types:
            raise ValueError(f"{what} type {kind!r} not in {types}")
    pairs = tuple(by_type.items())
    return lambda record: [{value_key: record[f], f"{value_key}_type": kind}
                           for kind, f in pairs if not _blank(record.get(f))]


def phones(**by_type: str) -> Getter:
    """`phones(primary="Phone", mobile="MobilePhone")`: non-empty numbers, in that order."""
    return _typed("phone", CRM_PHONE_TYPES, "phone_number", by_type)


def emails(**by_type: str) -> Getter:
    """`emails(primary="Email")`: non-empty addresses, in that order."""
    return _typed("email", CRM_EMAIL_TYPES, "email_address", by_type)


def opportunity_status(is_closed: str, is_won: str) -> Getter:
    """OPEN / WON / LOST from a provider's closed and won flags."""
    def get(record: Mapping[str, Any]) -> str:
        if record.get(is_won):
            return "WON"
        return "LOST" if record.get(is_closed) else "OPEN"
    return get


def _obj(**props: dict) -> dict:
    return {"type": ["object", "null"], "properties": props}


_TEXT = {"type": ["string", "null"]}
_ADDRESS = _obj(street_1=_TEXT, street_2=_TEXT, city=_TEXT, state=_TEXT, postal_code=_TEXT,
                country=_TEXT)
# The JSON Schema of the common schema's JSONB fields (supaglue.md §2.2, §2.4).
JSONB_SCHEMAS: dict[str, dict] = {
    "addresses": {"type": ["array", "null"], "items": _obj(
        **_ADDRESS["properties"], address_type=_TEXT)},
    "email_addresses": {"type": ["array", "null"], "items": _obj(
        email_address=_TEXT, email_address_type=_TEXT)},
    "phone_numbers": {"type": ["array", "null"], "items": _obj(
        phone_number=_TEXT, phone_number_type=_TEXT)},
    "address": _ADDRESS,
    "tags": {"type": ["array", "null"], "items": {"type": "string"}},
    "metrics": {"type": ["object", "null"], "additionalProperties": {"type": "number"}},
}


def common_stream_schema(table: str) -> dict:
    """`common_schema.json_schema(table)` with its JSONB fields typed (arrays of addresses,
    phones, emails, ...), so catalogs and Singer tooling know their shape."""
    schema = json_schema(table)
    for f in COMMON_OBJECTS[table].fields:
        if f.type == JSONB:
            schema["properties"][f.name] = copy.deepcopy(JSONB_SCHEMAS[f.name])
    return schema


@dataclass(frozen=True)
class CommonMapping:
    table: str  # e.g. "crm_accounts"
    id: str  # provider field names of the base fields
    last_modified_at: str
    created_at: str | None = None
    updated_at: str | None = None
    is_deleted: str | None = None
    fields: Mapping[str, Getter] = field(default_factory=dict)

    def __post_init__(self) -> None:
        obj = COMMON_OBJECTS.get(self.table)
        if obj is None:
            raise ValueError(f"unknown common table {self.table!r}")
        expected = {f.name for f in obj.fields}
        if set(self.fields) != expected:
            missing = sorted(expected - set(self.fields))
            extra = sorted(set(self.fields) - expected)
            raise ValueError(f"mapping for {self.table}: missing {missing}, unknown {extra}")

    def to_common(self, record: Mapping[str, Any]) -> dict[str, Any]:
        out: dict[str, Any] = {
            "id": str(record[self.id]),  # the common schema's ids are strings
            "created_at": iso_timestamp(record.get(self.created_at)) if self.created_at
            else None,
            "updated_at": iso_timestamp(record.get(self.updated_at)) if self.updated_at
            else None,
            "is_deleted": bool(record.get(self.is_deleted)) if self.is_deleted else False,
            "last_modified_at": iso_timestamp(record[self.last_modified_at]),
        }
        for name, get in self.fields.items():
            out[name] = get(record)
        out["raw_data"] = record
        return out
