"""Reading back a catalog a tapkit tap discovered: each entry with its destination under the
stream contract, so a tap rebuilds its streams without API calls."""

from __future__ import annotations

from collections.abc import Collection, Iterator, Mapping
from dataclasses import dataclass

from singer_sdk.exceptions import DiscoveryError
from singer_sdk.singerlib import Catalog, CatalogEntry

from tenantsync.contract import ContractError, Destination, resolve
from tenantsync.tapkit.settings import wanted_objects


@dataclass(frozen=True)
class CatalogStream:
    name: str
    dest: Destination
    schema: dict
    props: dict
    entry: CatalogEntry


def catalog_streams(catalog: Catalog, provider: str, label: str,
                    common_tables: Collection[str]) -> Iterator[CatalogStream]:
    """Every catalog entry, refusing a stream name that breaks the contract and a common table
    this provider (`label`, as users know it) has no mapping to."""
    for entry in catalog.streams:
        name = entry.tap_stream_id
        try:
            dest = resolve(name, provider)
        except ContractError as exc:
            raise DiscoveryError(f"catalog stream {name!r}: {exc}") from None
        if dest.kind == "common" and dest.table not in common_tables:
            raise DiscoveryError(f"catalog stream {name!r}: {label} has no mapping to "
                                 f"{dest.table}")
        schema = entry.schema.to_dict()
        yield CatalogStream(name, dest, schema, schema.get("properties") or {}, entry)


def standard_only_streams(tap, provider: str, label: str, objects: Collection[str],
                          make) -> list:
    """The streams of a provider with standard objects only (no common or custom ones):
    from the input catalog when there is one, else from `standard_objects` (empty: all).
    `make(name, object, schema or None)` builds one stream."""
    config = tap.config
    if tap.input_catalog is not None:
        streams = []
        for item in catalog_streams(tap.input_catalog, provider, label, ()):
            if item.dest.kind != "standard" or item.dest.object not in objects:
                raise DiscoveryError(f"catalog stream {item.name!r}: not a {label} object "
                                     f"({', '.join(objects)})")
            streams.append(make(item.name, item.dest.object, item.schema))
        return streams
    _, wanted = wanted_objects(config, (), objects, label)
    return [make(n, n, None) for n in wanted]


def object_streams(tap, provider: str, label: str, common_objects: Mapping[str, tuple[str, str]],
                   objects: Collection[str], make) -> list:
    """The streams of a provider with standard and common objects (no custom ones): from the
    input catalog when there is one (its schemas kept), else from `common_objects` /
    `standard_objects` (both empty: all). `common_objects` maps a common object to (provider
    object, common table); `make(name, schema or None)` builds the stream of a standard object
    or a common table."""
    tables = {table for _, table in common_objects.values()}
    if tap.input_catalog is not None:
        streams = []
        for item in catalog_streams(tap.input_catalog, provider, label, tables):
            name = item.dest.table if item.dest.kind == "common" else item.dest.object
            if item.dest.kind == "custom" or name not in {*objects, *tables}:
                raise DiscoveryError(f"catalog stream {item.name!r}: not one of {label}'s "
                                     "objects")
            streams.append(make(name, item.schema))
        return streams
    common, standard = wanted_objects(tap.config, common_objects, objects, label)
    return [*(make(o, None) for o in standard),
            *(make(common_objects[c][1], None) for c in common)]
