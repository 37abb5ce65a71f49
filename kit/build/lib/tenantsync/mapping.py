"""Field mappings as the target applies them: `_supaglue_mapped_data` from a raw record.

A mapping of one object is `{"fields": {schema field: provider field | None},
"additional_fields": {name: provider field}}`; the mapped data is
`{schema field: value, ..., "_supaglue_additional_fields": {name: value}}` (Supaglue's
shape; the additional key only when the mapping has additional fields). A provider field is a
top-level field of the raw record, or `parent.child` for a field of a nested object (e.g. a
CRM's `properties`); a field the record lacks maps to null. Shared by target-postgres and the
controller, which lists the same paths from a stream's JSON Schema (`field_paths`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

ADDITIONAL = "_supaglue_additional_fields"
KEYS = ("fields", "additional_fields")


class MappingError(ValueError):
    """A malformed mapping; the message names where."""


def value_at(record: Mapping[str, Any], path: str) -> Any:
    """The value of `path` in `record`: the whole name first, else its dotted parts."""
    if path in record:
        return record[path]
    value: Any = record
    for part in path.split("."):
        if not isinstance(value, Mapping) or part not in value:
            return None
        value = value[part]
    return value


def mapped_data(record: Mapping[str, Any], mapping: Mapping[str, Any]) -> dict[str, Any]:
    out = {name: value_at(record, path) if path else None
           for name, path in mapping["fields"].items()}
    if mapping.get("additional_fields"):
        out[ADDITIONAL] = {name: value_at(record, path)
                           for name, path in mapping["additional_fields"].items()}
    return out


def check(mappings: Any, where: str) -> dict[str, dict[str, Any]]:
    """`{object: mapping}` validated; raises MappingError naming the bad part."""
    if not isinstance(mappings, Mapping):
        raise MappingError(f"{where} must be an object of object name -> mapping")
    out = {}
    for obj, mapping in mappings.items():
        at = f"{where}[{obj!r}]"
        if not isinstance(mapping, Mapping) or set(mapping) - set(KEYS) \
                or not isinstance(mapping.get("fields", {}), Mapping) \
                or not isinstance(mapping.get("additional_fields", {}), Mapping):
            raise MappingError(f"{at} must be {{'fields': {{...}}, 'additional_fields': {{...}}}}")
        for key in KEYS:
            for name, path in (mapping.get(key) or {}).items():
                if not (path is None and key == "fields") and \
                        not (isinstance(path, str) and path):
                    raise MappingError(f"{at}.{key}[{name!r}] must be a provider field name")
        out[str(obj)] = {"fields": dict(mapping.get("fields") or {}),
                         "additional_fields": dict(mapping.get("additional_fields") or {})}
    return out


def field_paths(schema: Mapping[str, Any]) -> list[str]:
    """The fields of a stream's JSON Schema a mapping may name: its properties, and the
    properties of its object-typed properties as `parent.child`."""
    paths = []
    for name, prop in (schema.get("properties") or {}).items():
        paths.append(name)
        for child in (prop or {}).get("properties") or {}:
            paths.append(f"{name}.{child}")
    return paths
