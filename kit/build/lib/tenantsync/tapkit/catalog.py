"""Reading back a catalog a tapkit tap discovered: each entry with its destination under the
stream contract, so a tap rebuilds its streams without API calls."""

from __future__ import annotations

from collections.abc import Collection, Iterator
from dataclasses import dataclass

from singer_sdk.exceptions import DiscoveryError
from singer_sdk.singerlib import Catalog, CatalogEntry

from tenantsync.contract import ContractError, Destination, resolve


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
