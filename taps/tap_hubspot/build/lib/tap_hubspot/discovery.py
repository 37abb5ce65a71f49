"""Which streams tap-hubspot offers: discovered from the portal (properties API per object,
schemas API for custom objects), or rebuilt from a given catalog (a sync run: no discovery
calls; the catalog's properties and selection are used as they are)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from singer_sdk import Tap
from singer_sdk.exceptions import ConfigValidationError, DiscoveryError
from singer_sdk.singerlib import Catalog

from tap_hubspot.client import HubSpotClient
from tap_hubspot.objects import (
    COMMON_BY_TABLE,
    COMMON_OBJECTS,
    DEFAULT_ASSOCIATIONS,
    OWNER,
    STANDARD_OBJECTS,
    UNSUPPORTED_COMMON,
    ObjectType,
    account_mapping,
    canonical,
    contact_mapping,
    custom_object,
)
from tap_hubspot.streams import (
    META_SCHEMA,
    OWNER_SCHEMA,
    CommonObjectStream,
    HubSpotStream,
    ObjectStream,
    OwnerStream,
    object_schema,
)
from tenantsync.contract import stream_name
from tenantsync.tapkit.catalog import catalog_streams
from tenantsync.tapkit.common import common_stream_schema
from tenantsync.tapkit.errors import FatalHttpError

PROVIDER = "hubspot"
COMMON_MAPPINGS = {"crm_accounts": account_mapping, "crm_contacts": contact_mapping}


def _wanted(config: Mapping[str, Any]) -> tuple[list[str], list[str], list[str], bool]:
    """(common, standard, custom) object names the config asks for, checked; and whether it
    asks for nothing (then everything the portal has is offered)."""
    common = list(config.get("common_objects") or [])
    standard = [canonical(n) for n in config.get("standard_objects") or []]
    custom = list(config.get("custom_objects") or [])
    if not (common or standard or custom):
        return list(COMMON_OBJECTS), [*STANDARD_OBJECTS, OWNER], [], True
    problems = []
    for name in common:
        if name in UNSUPPORTED_COMMON:
            problems.append(f"common object {name!r} is not supported by HubSpot: "
                            f"{UNSUPPORTED_COMMON[name]}")
        elif name not in COMMON_OBJECTS:
            problems.append(f"common object {name!r} is not one of "
                            f"{', '.join(COMMON_OBJECTS)}")
    for name in standard:
        if name not in STANDARD_OBJECTS and name != OWNER:
            problems.append(f"standard object {name!r} is not a HubSpot standard object "
                            f"({', '.join([*STANDARD_OBJECTS, OWNER])}); custom objects go in "
                            "custom_objects")
    for name in custom:
        if not isinstance(name, str) or not name or canonical(name) in STANDARD_OBJECTS:
            problems.append(f"custom object {name!r} must be a custom object's name "
                            "(as in the schemas API), not a standard object")
    if problems:
        raise ConfigValidationError("; ".join(problems))
    return common, list(dict.fromkeys(standard)), list(dict.fromkeys(custom)), False


def object_type(name: str) -> ObjectType:
    return STANDARD_OBJECTS.get(canonical(name)) or custom_object(name)


def associations_for(config: Mapping[str, Any], obj: ObjectType) -> list[ObjectType]:
    """The objects whose ids `obj`'s records carry: the defaults plus associations_to_fetch
    (keys and values: object names, plural names, or the aliases account / opportunity)."""
    configured = config.get("associations_to_fetch") or {}
    if not isinstance(configured, Mapping):
        raise ConfigValidationError("associations_to_fetch must be an object: "
                                    '{"contact": ["deal", "ticket"], ...}')
    names = list(DEFAULT_ASSOCIATIONS.get(obj.name, ()))
    for key, targets in configured.items():
        if object_type(key).name != obj.name:
            continue
        if not isinstance(targets, list) or not all(isinstance(t, str) for t in targets):
            raise ConfigValidationError(f"associations_to_fetch[{key!r}] must be a list of "
                                        "object names")
        names.extend(object_type(t).name for t in targets)
    return [object_type(n) for n in dict.fromkeys(names) if n != obj.name]


def _property_names(properties: list[dict]) -> list[str]:
    # An envelope name used as a property (impossible for HubSpot-defined ones) is dropped.
    return [p["name"] for p in properties if p.get("name") and p["name"] not in META_SCHEMA]


def discover(tap: Tap, client: HubSpotClient) -> list[HubSpotStream | OwnerStream]:
    config = tap.config
    common, standard, custom, everything = _wanted(config)
    properties: dict[str, list[str]] = {}
    needed = [*standard, *(COMMON_OBJECTS[c][0] for c in common)]
    for name in dict.fromkeys(needed):
        if name == OWNER:
            continue
        try:
            properties[name] = _property_names(client.properties(STANDARD_OBJECTS[name].api))
        except FatalHttpError as exc:
            # 400/404: the portal has no such object; 403: the app lacks its scopes.
            if exc.status not in (400, 403, 404):
                raise
            why = ("the connection lacks its scopes" if exc.status == 403
                   else "this HubSpot portal does not offer it")
            if not everything:
                raise ConfigValidationError(
                    f"standard object {name!r}: {why} ({exc})") from None
            tap.logger.warning("Standard object %s not offered: %s.", name, why)
    schemas = {s["name"]: s for s in client.schemas()} if (custom or everything) else {}
    missing = [n for n in custom if n not in schemas]
    if missing:
        raise ConfigValidationError(
            f"custom object(s) {', '.join(map(repr, missing))} not found in this portal's "
            f"schemas (it has: {', '.join(sorted(schemas)) or 'none'})")
    if everything:
        custom = sorted(schemas)
        common = [c for c in common if COMMON_OBJECTS[c][0] in properties
                  or COMMON_OBJECTS[c][0] == OWNER]
    for name in custom:
        properties[name] = _property_names(schemas[name].get("properties") or [])

    streams: list[HubSpotStream | OwnerStream] = []
    for name in standard:
        if name == OWNER:
            streams.append(_owner_stream(tap, stream_name("standard", OWNER), common=False))
        elif name in properties:
            streams.append(_object_stream(tap, STANDARD_OBJECTS[name], properties[name]))
    for name in custom:
        streams.append(_object_stream(tap, custom_object(name), properties[name]))
    for cname in common:
        obj_name, table = COMMON_OBJECTS[cname]
        if obj_name == OWNER:
            streams.append(_owner_stream(tap, table, common=True))
        else:
            streams.append(_common_stream(tap, table, STANDARD_OBJECTS[obj_name],
                                          properties[obj_name]))
    return streams


def _object_stream(tap: Tap, obj: ObjectType, properties: list[str]) -> ObjectStream:
    return ObjectStream(
        tap, name=stream_name("custom" if obj.custom else "standard", obj.name),
        schema=object_schema(properties, obj.modified), obj=obj, properties=properties,
        associations=associations_for(tap.config, obj), replication_key=obj.modified)


def _common_stream(tap: Tap, table: str, obj: ObjectType, properties: list[str]
                   ) -> CommonObjectStream:
    schema = common_stream_schema(table)
    schema["properties"]["raw_data"]["properties"] = object_schema(
        properties, obj.modified)["properties"]
    factory = COMMON_MAPPINGS.get(table)
    return CommonObjectStream(
        tap, name=table, schema=schema, obj=obj, properties=properties,
        associations=associations_for(tap.config, obj),
        mapping=factory() if factory else None)


def _owner_stream(tap: Tap, name: str, *, common: bool) -> OwnerStream:
    if common:
        schema = common_stream_schema("crm_users")
        schema["properties"]["raw_data"]["properties"] = dict(OWNER_SCHEMA["properties"])
    else:
        schema = OWNER_SCHEMA
    return OwnerStream(tap, name=name, schema=schema, common=common)


def from_catalog(tap: Tap, catalog: Catalog) -> list[HubSpotStream | OwnerStream]:
    """Streams rebuilt from a catalog this tap discovered (no API calls)."""
    streams: list[HubSpotStream | OwnerStream] = []
    for item in catalog_streams(catalog, PROVIDER, "HubSpot", COMMON_BY_TABLE):
        name, dest, schema, props = item.name, item.dest, item.schema, item.props
        if dest.kind == "common":
            obj_name = COMMON_BY_TABLE[dest.table][1]
            if obj_name == OWNER:
                streams.append(OwnerStream(tap, name=name, schema=schema, common=True))
                continue
            raw = (props.get("raw_data") or {}).get("properties")
            if not raw:
                raise DiscoveryError(f"catalog stream {name!r} lacks the raw_data property "
                                     "list; run discovery again")
            obj = STANDARD_OBJECTS[obj_name]
            factory = COMMON_MAPPINGS.get(dest.table)
            streams.append(CommonObjectStream(
                tap, name=name, schema=schema, obj=obj,
                properties=[p for p in raw if p not in META_SCHEMA],
                associations=associations_for(tap.config, obj),
                mapping=factory() if factory else None))
        elif dest.kind == "standard" and dest.object == OWNER:
            streams.append(OwnerStream(tap, name=name, schema=schema, common=False))
        else:
            if dest.kind == "standard" and dest.object not in STANDARD_OBJECTS:
                raise DiscoveryError(f"catalog stream {name!r}: not a HubSpot standard object")
            obj = (custom_object(dest.object) if dest.kind == "custom"
                   else STANDARD_OBJECTS[dest.object])
            streams.append(ObjectStream(
                tap, name=name, schema=schema, obj=obj,
                properties=[p for p in props if p not in META_SCHEMA],
                associations=associations_for(tap.config, obj), replication_key=obj.modified))
    return streams
