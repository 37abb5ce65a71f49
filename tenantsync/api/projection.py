"""Data Listing API records as Supaglue shaped them: the provider's own fields of the stored raw
record at the top level (what each provider's spec `projection` picks), next to
tenantsync's view of the row (`_supaglue_is_deleted`, `_supaglue_last_modified_at`) and the
stored record itself as `raw_data`.

Provider-neutral normalization happens here: the fields a provider's spec lists for an
object (`listed_fields`, Supaglue's documented ones) are always present, null when the
record lacks them; date-times are UTC ISO-8601 (`2024-05-01T10:00:00.000Z`), whatever offset
notation the provider used (`+0000`) or a date-only value; the spec's `deleted_field` carries
tenantsync's deleted flag. Other values pass through as stored.
"""

from __future__ import annotations

import re
from datetime import date, datetime, timezone
from typing import Any

from tenantsync import providers

IS_DELETED = "_supaglue_is_deleted"
LAST_MODIFIED = "_supaglue_last_modified_at"
RAW_DATA = "raw_data"
# a full timestamp with an explicit offset (`Z`, `+00:00`, `+0000`): unambiguous to normalize
_TIMESTAMP = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})$")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def iso_utc(value: datetime) -> str:
    if value.tzinfo is None:
        value = value.replace(tzinfo=timezone.utc)
    return value.astimezone(timezone.utc).isoformat(timespec="milliseconds") \
        .replace("+00:00", "Z")


def normalize_timestamp(value: Any, *, date_only: bool = False) -> Any:
    """A timestamp string as UTC ISO-8601 with milliseconds; a date-only string too when
    `date_only` (a field documented as a date-time: midnight UTC); anything else unchanged."""
    if not isinstance(value, str):
        return value
    if _TIMESTAMP.match(value):
        text = value.replace("Z", "+00:00")
        if re.search(r"[+-]\d{4}$", text):  # +0000 -> +00:00 (fromisoformat before 3.11)
            text = f"{text[:-2]}:{text[-2:]}"
        try:
            return iso_utc(datetime.fromisoformat(text))
        except ValueError:
            return value
    if date_only and _DATE.match(value):
        try:
            return iso_utc(datetime.combine(date.fromisoformat(value), datetime.min.time()))
        except ValueError:
            return value
    return value
MAPPED_DATA = "_supaglue_mapped_data"


def provider_fields(provider: str, raw: Any) -> dict[str, Any] | None:
    """The provider's fields of a stored raw record, or None if it is not a JSON object."""
    if not isinstance(raw, dict):
        return None
    spec = providers.find(provider)
    # an unregistered provider (any Singer tap's): the raw record's top-level fields as they are
    return (spec.projection if spec is not None else dict)(raw)


def record(provider: str, obj: str, raw: Any, *, is_deleted: bool, last_modified_at: Any,
           include_raw_data: bool = True, mapped_data: Any = None) -> dict[str, Any]:
    """One data-listing record of object `obj` (as the sync config names it). Provider field
    names never start with `_supaglue_` (the target even strips these two from raw data), so
    tenantsync's columns hide none. The stored record is `raw_data` (a provider field of that
    name is then only inside it), unless include_raw_data is false; a raw record that is not a
    JSON object has no fields to project and is always returned as raw_data. An object with a
    schema attached also has its `_supaglue_mapped_data` (`mapped_data`)."""
    fields = provider_fields(provider, raw)
    out = {k: normalize_timestamp(v) for k, v in (fields or {}).items()}
    spec = providers.find(provider)
    if spec is not None and fields is not None:
        for name, kind in spec.listed_fields.get(obj, {}).items():
            out[name] = normalize_timestamp(out.get(name), date_only=kind == "date-time")
        if spec.deleted_field:
            out[spec.deleted_field] = is_deleted
    out.update({IS_DELETED: is_deleted, LAST_MODIFIED: last_modified_at})
    if mapped_data is not None:
        out[MAPPED_DATA] = mapped_data
    if include_raw_data or fields is None:
        out[RAW_DATA] = raw
    return out
