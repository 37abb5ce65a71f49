"""Data Listing API records as Supaglue shaped them: the provider's own fields of the stored raw
record at the top level (what each provider's spec `projection` picks), next to
tenantsync's view of the row (`_supaglue_is_deleted`, `_supaglue_last_modified_at`) and, when
asked for, the stored record itself as `raw_data`.

Values are passed through as stored: the projection picks fields, it never retypes them.
"""

from __future__ import annotations

from typing import Any

from tenantsync import providers

IS_DELETED = "_supaglue_is_deleted"
LAST_MODIFIED = "_supaglue_last_modified_at"
RAW_DATA = "raw_data"


def provider_fields(provider: str, raw: Any) -> dict[str, Any] | None:
    """The provider's fields of a stored raw record, or None if it is not a JSON object."""
    if not isinstance(raw, dict):
        return None
    spec = providers.find(provider)
    # an unregistered provider (any Singer tap's): the raw record's top-level fields as they are
    return (spec.projection if spec is not None else dict)(raw)


def record(provider: str, raw: Any, *, is_deleted: bool, last_modified_at: Any,
           include_raw_data: bool) -> dict[str, Any]:
    """One data-listing record. Provider field names never start with `_supaglue_` (the
    target even strips these two from raw data), so tenantsync's columns hide none. With
    include_raw_data the stored record is `raw_data` (a provider field of that name is then
    only inside it). A raw record that is not a JSON object has no fields to project: it is
    returned as raw_data whatever include_raw_data says, or the record would be empty."""
    fields = provider_fields(provider, raw)
    out = {**(fields or {}), IS_DELETED: is_deleted, LAST_MODIFIED: last_modified_at}
    if include_raw_data or fields is None:
        out[RAW_DATA] = raw
    return out
