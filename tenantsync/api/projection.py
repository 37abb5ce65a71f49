"""Data Listing API records as Supaglue shaped them: the provider's own fields of the stored raw
record at the top level (Salesforce: `Id, IsDeleted, Name, ..., SystemModstamp`), next to
tenantsync's view of the row (`_supaglue_is_deleted`, `_supaglue_last_modified_at`) and, when
asked for, the stored record itself as `raw_data`.

Values are passed through as stored: the projection picks fields, it never retypes them.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

IS_DELETED = "_supaglue_is_deleted"
LAST_MODIFIED = "_supaglue_last_modified_at"
RAW_DATA = "raw_data"

# HubSpot's API envelope around an object's `properties`.
HUBSPOT_ENVELOPE = ("id", "createdAt", "updatedAt", "archived", "archivedAt")


def _salesforce(raw: dict[str, Any]) -> dict[str, Any]:
    # `attributes` (type, url) is the REST API's envelope, not a field of the object
    return {k: v for k, v in raw.items() if k != "attributes"}


def _hubspot(raw: dict[str, Any]) -> dict[str, Any]:
    properties = raw.get("properties")
    if not isinstance(properties, dict):
        # tap-hubspot stores records already flattened (properties beside the envelope)
        return dict(raw)
    fields = {k: raw[k] for k in HUBSPOT_ENVELOPE if k in raw}
    # A property named like an envelope key (e.g. `id`) would overwrite it: such a property
    # stays only in raw_data, under `properties`.
    fields.update((k, v) for k, v in properties.items() if k not in HUBSPOT_ENVELOPE)
    return fields


# provider name -> the provider fields of one of its raw records; other providers: the raw
# record's top-level fields as they are
PROVIDER_FIELDS: dict[str, Callable[[dict[str, Any]], dict[str, Any]]] = {
    "salesforce": _salesforce,
    "hubspot": _hubspot,
}


def provider_fields(provider: str, raw: Any) -> dict[str, Any] | None:
    """The provider's fields of a stored raw record, or None if it is not a JSON object."""
    if not isinstance(raw, dict):
        return None
    return PROVIDER_FIELDS.get(provider, dict)(raw)


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
