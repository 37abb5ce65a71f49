"""Schemas and customer field mappings, in Supaglue's shapes (its management API v2).

A schema is an application's named list of fields of a standard object, `{name, config:
{fields: [{name, mapped_name?, is_required?}], allow_additional_field_mappings}}`, attached
to a standard object of a sync config (`{object, schema_id}`). A field with `mapped_name` is
mapped by the application for every customer; each customer maps the others (and, where the
schema allows, fields of its own) on its connection: `[{schema_field, mapped_field?}]` per
object. What a connection's syncs write as `_supaglue_mapped_data` follows from both
(`effective`), and reaches target-postgres through its `field_mapping_source` hook (`load`).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from sqlalchemy.exc import SQLAlchemyError

from tenantsync.controller.models import Connection, Schema

# A schema field becomes a key of `_supaglue_mapped_data`: plain names, none of Supaglue's own.
_FIELD_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,127}$")
RESERVED_PREFIX = "_supaglue"
FIELD_KEYS = ("name", "mapped_name", "is_required")
HOOK = "tenantsync.controller.schemas:load"


class MappingRefused(ValueError):
    """A field mapping the schema or the provider does not allow; the message names it."""


def field_name(value: Any, where: str) -> str:
    if not isinstance(value, str) or not _FIELD_NAME.match(value) \
            or value.startswith(RESERVED_PREFIX):
        raise MappingRefused(f"{where} {value!r} must be a name of letters, digits and _ "
                             f"(not starting with a digit or {RESERVED_PREFIX!r})")
    return value


def normalize_schema(doc: Mapping[str, Any]) -> tuple[str, list[dict[str, Any]], bool]:
    """(name, fields, allow_additional_field_mappings) of a schema document."""
    name = doc.get("name")
    if not isinstance(name, str) or not name.strip():
        raise MappingRefused("schema needs a non-empty string 'name'")
    config = doc.get("config")
    if not isinstance(config, Mapping) or not isinstance(config.get("fields"), list):
        raise MappingRefused(f"schema {name!r} needs config.fields, a list of {{name, "
                             "mapped_name?, is_required?}")
    allow = config.get("allow_additional_field_mappings", False)
    if not isinstance(allow, bool):
        raise MappingRefused(f"schema {name!r}: config.allow_additional_field_mappings must "
                             "be true or false")
    fields, seen = [], set()
    for i, item in enumerate(config["fields"]):
        where = f"schema {name!r}: config.fields[{i}]"
        if not isinstance(item, Mapping) or set(item) - set(FIELD_KEYS):
            raise MappingRefused(f"{where} must be {{name, mapped_name?, is_required?}}")
        fname = field_name(item.get("name"), f"{where}.name")
        if fname in seen:
            raise MappingRefused(f"schema {name!r} lists field {fname!r} twice")
        seen.add(fname)
        field: dict[str, Any] = {"name": fname}
        if item.get("mapped_name") is not None:
            if not isinstance(item["mapped_name"], str) or not item["mapped_name"]:
                raise MappingRefused(f"{where}.mapped_name must be a provider field name")
            field["mapped_name"] = item["mapped_name"]
        if item.get("is_required") is not None:
            if not isinstance(item["is_required"], bool):
                raise MappingRefused(f"{where}.is_required must be true or false")
            field["is_required"] = item["is_required"]
        fields.append(field)
    return name, fields, allow


def schema_doc(row: Schema) -> dict[str, Any]:
    return {"id": str(row.id), "application_id": row.application_id, "name": row.name,
            "config": {"fields": list(row.fields),
                       "allow_additional_field_mappings": row.allow_additional_field_mappings}}


def customer_mappings(conn: Connection, object_name: str) -> list[dict[str, Any]]:
    return list((conn.field_mappings or {}).get(object_name) or [])


def check_mappings(schema: Schema, object_name: str, items: Any) -> list[dict[str, Any]]:
    """A customer's `[{schema_field, mapped_field?}]` for `object_name`, checked against the
    schema (Supaglue's rules): a field the schema maps is not re-mapped; a field outside the
    schema needs allow_additional_field_mappings; a required field must be mapped."""
    where = f"field mappings of {object_name!r}"
    if not isinstance(items, list):
        raise MappingRefused(f"{where} must be a list of {{schema_field, mapped_field?}}")
    fields = {f["name"]: f for f in schema.fields}
    out, seen = [], set()
    for i, item in enumerate(items):
        at = f"{where}[{i}]"
        if not isinstance(item, Mapping) or set(item) - {"schema_field", "mapped_field"}:
            raise MappingRefused(f"{at} must be {{schema_field, mapped_field?}}")
        name = field_name(item.get("schema_field"), f"{at}.schema_field")
        if name in seen:
            raise MappingRefused(f"{where} maps {name!r} twice")
        seen.add(name)
        mapped = item.get("mapped_field")
        if mapped is not None and (not isinstance(mapped, str) or not mapped):
            raise MappingRefused(f"{at}.mapped_field must be a provider field name")
        field = fields.get(name)
        if field is None and not schema.allow_additional_field_mappings:
            raise MappingRefused(f"field {name!r} is not in schema {schema.name!r}, which "
                                 "allows no additional field mappings")
        if field is not None and field.get("mapped_name") and mapped:
            raise MappingRefused(f"field {name!r} is already mapped to "
                                 f"{field['mapped_name']!r} by schema {schema.name!r}")
        out.append({"schema_field": name, **({"mapped_field": mapped} if mapped else {})})
    mapped_names = {m["schema_field"] for m in out if m.get("mapped_field")}
    unmapped = [f["name"] for f in schema.fields if f.get("is_required")
                and not f.get("mapped_name") and f["name"] not in mapped_names]
    if unmapped:
        raise MappingRefused(f"schema {schema.name!r} requires a mapping of "
                             f"{', '.join(map(repr, unmapped))}")
    return out


def provider_fields_of(schema: Schema, items: list[dict[str, Any]]) -> list[str]:
    """Every provider field the schema and the customer's mappings name."""
    named = [f["mapped_name"] for f in schema.fields if f.get("mapped_name")]
    return list(dict.fromkeys([*named, *(m["mapped_field"] for m in items
                                         if m.get("mapped_field"))]))


def merged_info(schema: Schema, object_name: str, items: list[dict[str, Any]]
                ) -> dict[str, Any]:
    """Supaglue's object field mapping: the schema's fields with the application's or the
    customer's mapped name, then the fields the customer added."""
    theirs = {m["schema_field"]: m.get("mapped_field") for m in items}
    fields = []
    for f in schema.fields:
        entry: dict[str, Any] = {"name": f["name"], "is_added_by_customer": False}
        if f.get("mapped_name"):
            entry["schema_mapped_name"] = f["mapped_name"]
        elif theirs.get(f["name"]):
            entry["customer_mapped_name"] = theirs[f["name"]]
        fields.append(entry)
    own = {f["name"] for f in schema.fields}
    fields += [{"name": name, "is_added_by_customer": True, "customer_mapped_name": mapped}
               for name, mapped in theirs.items() if name not in own and mapped]
    return {"object_name": object_name, "object_type": "standard",
            "schema_id": str(schema.id),
            "allow_additional_field_mappings": schema.allow_additional_field_mappings,
            "fields": fields}


def effective(schema: Schema, items: list[dict[str, Any]]) -> dict[str, Any]:
    """The target's mapping of one object (tenantsync.mapping): schema fields to the
    application's or the customer's provider field (None: unmapped, written as null), and
    the customer's additional fields."""
    theirs = {m["schema_field"]: m.get("mapped_field") for m in items}
    own = {f["name"] for f in schema.fields}
    return {"fields": {f["name"]: f.get("mapped_name") or theirs.get(f["name"])
                       for f in schema.fields},
            "additional_fields": {n: p for n, p in theirs.items() if n not in own and p}}


def load(config: Mapping[str, Any]) -> dict[str, Any]:
    """target-postgres's field_mapping_source: the mappings of the tenant the target writes
    for (its application_id, customer_id and provider_name), read from the registry."""
    # imported here: the target has singer-sdk loaded, `tenantsync run` would pay 0.2 s for it
    from singer_sdk.exceptions import ConfigValidationError

    from tenantsync.controller import db
    from tenantsync.controller.registry import Registry, RegistryError

    tenant = [config.get(k) for k in ("application_id", "customer_id", "provider_name")]
    if not all(isinstance(v, str) and v for v in tenant):
        raise ConfigValidationError(f"{HOOK} needs application_id, customer_id and "
                                    "provider_name settings")
    app, customer, provider = tenant
    try:
        with db.session(upgrade=False) as s:
            return Registry(s, app).effective_mappings(customer, provider)
    except RegistryError as exc:
        raise ConfigValidationError(f"{exc} ({db.URL_ENV} may point elsewhere)") from None
    except SQLAlchemyError as exc:
        raise ConfigValidationError(
            f"{HOOK}: cannot read the registry ({type(exc).__name__}); set {db.URL_ENV} to "
            "the registry the sync belongs to") from None
