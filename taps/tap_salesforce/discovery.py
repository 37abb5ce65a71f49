"""Which streams the tap offers: from the org's describe (discovery), or from a given catalog
(a sync run: no describe calls, the catalog's schemas and field selection are used as-is)."""

from __future__ import annotations

import copy
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from singer_sdk import Tap
from singer_sdk.exceptions import ConfigValidationError, DiscoveryError
from singer_sdk.singerlib import Catalog

from tap_salesforce.client import SalesforceClient
from tap_salesforce.objects import (
    COMMON_BY_TABLE,
    COMMON_OBJECTS,
    FIELD_TYPES,
    SKIPPED_TYPES,
    UNSYNCABLE_OBJECTS,
    UNSYNCABLE_SUFFIXES,
    WATERMARKS,
    is_custom_object,
)
from tap_salesforce.streams import DELETED_AT, CommonObjectStream, ObjectStream, SalesforceStream
from tenantsync.contract import stream_name
from tenantsync.tapkit.catalog import catalog_streams
from tenantsync.tapkit.common import common_stream_schema

PROVIDER = "salesforce"


@dataclass(frozen=True)
class ObjectSpec:
    sobject: str
    fields: dict[str, dict]  # syncable field -> JSON Schema, describe order
    watermark: str | None


def object_spec(describe: Mapping[str, Any], warn: Callable[[str], None]) -> ObjectSpec | None:
    """The syncable fields and watermark of an object describe; None if it has no Id."""
    name = describe["name"]
    fields: dict[str, dict] = {}
    for field in describe.get("fields") or []:
        kind = field.get("type")
        if kind in SKIPPED_TYPES:
            continue
        schema = FIELD_TYPES.get(kind)
        if schema is None:
            warn(f"{name}.{field['name']}: unknown Salesforce field type {kind!r}; "
                 "synced as a string")
            schema = FIELD_TYPES["string"]
        fields[field["name"]] = copy.deepcopy(schema)
    if "Id" not in fields:
        warn(f"{name} has no Id field; skipped")
        return None
    fields["Id"] = {"type": ["string"]}
    watermark = next((w for w in WATERMARKS
                      if fields.get(w, {}).get("format") == "date-time"), None)
    return ObjectSpec(name, fields, watermark)


def syncable(sobject: Mapping[str, Any]) -> bool:
    name = sobject["name"]
    return (bool(sobject.get("queryable")) and sobject.get("retrieveable", True)
            and not sobject.get("deprecatedAndHidden") and name not in UNSYNCABLE_OBJECTS
            and not name.endswith(UNSYNCABLE_SUFFIXES))


def _wanted(config: Mapping[str, Any], sobjects: dict[str, dict]
            ) -> tuple[list[str], list[str]]:
    """(common object names, raw SObject names) the sync config asks for, checked."""
    common = list(config.get("common_objects") or [])
    standard = list(config.get("standard_objects") or [])
    custom = list(config.get("custom_objects") or [])
    if not (common or standard or custom):  # nothing listed: everything
        return ([c for c, (so, _) in COMMON_OBJECTS.items() if so in sobjects],
                sorted(n for n, o in sobjects.items() if syncable(o)))
    problems = []
    for name in common:
        if name not in COMMON_OBJECTS:
            problems.append(f"common object {name!r} is not one of "
                            f"{', '.join(COMMON_OBJECTS)}")
        elif COMMON_OBJECTS[name][0] not in sobjects:
            problems.append(f"common object {name!r}: this org has no "
                            f"{COMMON_OBJECTS[name][0]} object")
    for name in standard:
        if is_custom_object(name):
            problems.append(f"standard object {name!r} is a custom object: list it in "
                            "custom_objects")
        elif name not in sobjects:
            problems.append(f"standard object {name!r} does not exist in this org")
    for name in custom:
        if not is_custom_object(name):
            problems.append(f"custom object {name!r} must be an API name ending in __c")
        elif name not in sobjects:
            problems.append(f"custom object {name!r} does not exist in this org")
    for name in standard + custom:
        if name in sobjects and not sobjects[name].get("queryable"):
            problems.append(f"object {name!r} cannot be queried")
    if problems:
        raise ConfigValidationError("; ".join(problems))
    return common, standard + custom


def discover(tap: Tap, client: SalesforceClient) -> list[SalesforceStream]:
    sobjects = {o["name"]: o for o in client.describe_global()}
    common, raw = _wanted(tap.config, sobjects)
    names = sorted({*raw, *(COMMON_OBJECTS[c][0] for c in common)})
    describes = client.describe(names)
    specs = {n: object_spec(describes[n], tap.logger.warning) for n in names}
    streams: list[SalesforceStream] = []
    for name in raw:
        spec = specs[name]
        if spec is not None:
            streams.append(_object_stream(tap, spec))
    for cname in common:
        sobject, mapping = COMMON_OBJECTS[cname]
        spec = specs[sobject]
        if spec is None or spec.watermark is None:
            raise DiscoveryError(f"{sobject} lacks Id or a watermark field: cannot map it to "
                                 f"{mapping.table}")
        schema = common_stream_schema(mapping.table)
        schema["properties"]["raw_data"]["properties"] = spec.fields  # the raw field list
        streams.append(CommonObjectStream(
            tap, name=mapping.table, schema=schema, sobject=sobject, fields=spec.fields,
            watermark=spec.watermark, mapping=mapping))
    return streams


def _object_stream(tap: Tap, spec: ObjectSpec) -> ObjectStream:
    kind = "custom" if is_custom_object(spec.sobject) else "standard"
    return ObjectStream(tap, name=stream_name(kind, spec.sobject),
                        schema=ObjectStream.schema_for(spec.fields), sobject=spec.sobject,
                        fields=spec.fields, watermark=spec.watermark,
                        replication_key=spec.watermark)


def from_catalog(tap: Tap, catalog: Catalog) -> list[SalesforceStream]:
    """Streams rebuilt from a catalog this tap discovered (no API calls)."""
    streams: list[SalesforceStream] = []
    for item in catalog_streams(catalog, PROVIDER, "Salesforce", COMMON_BY_TABLE):
        name, dest, schema, props = item.name, item.dest, item.schema, item.props
        root = item.entry.metadata.get(())
        rk = item.entry.replication_key or getattr(root, "replication_key", None)
        if dest.kind == "common":
            _, sobject, mapping = COMMON_BY_TABLE[dest.table]
            fields = (props.get("raw_data") or {}).get("properties")
            if not fields:
                raise DiscoveryError(f"catalog stream {name!r} lacks the raw_data field list; "
                                     "run discovery again")
            watermark = next((w for w in WATERMARKS if w in fields), None)
            streams.append(CommonObjectStream(
                tap, name=name, schema=schema, sobject=sobject, fields=fields,
                watermark=watermark, mapping=mapping))
        else:
            fields = {k: v for k, v in props.items() if k != DELETED_AT}
            if "Id" not in fields:
                raise DiscoveryError(f"catalog stream {name!r} has no Id property")
            watermark = rk if rk in fields else None
            streams.append(ObjectStream(
                tap, name=name, schema=schema, sobject=dest.object, fields=fields,
                watermark=watermark, replication_key=watermark))
    return streams
