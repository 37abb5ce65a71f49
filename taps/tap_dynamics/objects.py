"""Dataverse entities as data: the standard ones tap-dynamics offers, JSON types per attribute
type, and the `RestObject` that reads an entity (OData query options; tapkit's REST engine).
Documentation: learn.microsoft.com/power-apps/developer/data-platform/webapi/query-data-web-api
and .../entity-metadata (AttributeTypeCode).

Every entity with `modifiedon` is incremental: `$filter=modifiedon gt <bound>` with `$orderby=
modifiedon asc` (the bound one second under the bookmark, so nothing is skipped). Pages follow
`@odata.nextLink` verbatim. Deletes: where the entity has change tracking enabled, its delta
link (`$deletedEntity` entries; streams.py); else, and for common objects, the full-sync sweep
(ACTIVATE_VERSION).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from tenantsync.tapkit.rest import Incremental, NextLinkPaging, RestObject

STANDARD = ("accounts", "contacts", "leads", "opportunities", "systemusers")
PAGING = NextLinkPaging(("@odata.nextLink",))
SINCE = Incremental("modifiedon", param="$filter", template="modifiedon gt {}", format="iso",
                    inclusive=False, sort={"$orderby": "modifiedon asc"})
LOOKUPS = ("Lookup", "Owner", "Customer")
_STRING = {"type": ["string", "null"]}
TYPES: dict[str, dict] = {
    "String": _STRING, "Memo": _STRING, "Uniqueidentifier": _STRING, "EntityName": _STRING,
    "Lookup": _STRING, "Owner": _STRING, "Customer": _STRING,
    "Integer": {"type": ["integer", "null"]}, "BigInt": {"type": ["integer", "null"]},
    "Picklist": {"type": ["integer", "null"]}, "State": {"type": ["integer", "null"]},
    "Status": {"type": ["integer", "null"]},
    "Decimal": {"type": ["number", "null"]}, "Double": {"type": ["number", "null"]},
    "Money": {"type": ["number", "null"]}, "Boolean": {"type": ["boolean", "null"]},
    "DateTime": {"type": ["string", "null"], "format": "date-time"},
}
# attribute types Dataverse annotates with a formatted value (when asked; the raw record keeps
# `<field>@OData.Community.Display.V1.FormattedValue` as sent): query-data-web-api#formatted-values
FORMATTED = "@OData.Community.Display.V1.FormattedValue"
FORMATTED_TYPES = ("Picklist", "State", "Status", "Boolean", "Money", "Integer", "BigInt",
                   "Decimal", "Double", "DateTime", *LOOKUPS)
# what opportunities expand to resolve stage and pipeline names (as Supaglue did)
OPPORTUNITY_EXPAND = ("stageid_processstage($select=stagename),"
                      "opportunity_leadtoopportunitysalesprocess($select=name)")
EXPANDED = {"stageid_processstage": {"type": ["object", "null"], "properties": {
                "stagename": _STRING, "processstageid": _STRING}},
            "opportunity_leadtoopportunitysalesprocess": {"type": ["array", "null"],
                                                         "items": {"type": "object"}}}


@dataclass(frozen=True)
class Entity:
    """An entity as `EntityDefinitions` describes it; `fields`: record field -> attribute
    type (lookups as `_<name>_value`)."""

    logical: str
    set: str
    key: str
    change_tracking: bool
    custom: bool
    fields: dict[str, str]

    @classmethod
    def from_definition(cls, d: dict) -> Entity:
        fields = {(f"_{a['LogicalName']}_value" if a["AttributeType"] in LOOKUPS
                   else a["LogicalName"]): a["AttributeType"]
                  for a in d.get("Attributes") or [] if a.get("IsValidForRead", True)
                  and a["AttributeType"] in TYPES}
        return cls(d["LogicalName"], d["EntitySetName"], d["PrimaryIdAttribute"],
                   bool(d.get("ChangeTrackingEnabled")), bool(d.get("IsCustomEntity")), fields)

    @property
    def unprefixed(self) -> str:
        """A custom entity as Supaglue addressed it: without the publisher prefix."""
        return self.logical.partition("_")[2] if self.custom else self.logical

    def schema(self, only: Iterable[str] | None = None, formatted: bool = True) -> dict:
        """The record's schema; `formatted`: with the formatted-value annotations."""
        names = [f for f in self.fields if only is None or f in only or f == self.key]
        props = {f: dict(TYPES[self.fields[f]]) for f in names}
        if formatted:
            props.update({f + FORMATTED: dict(_STRING) for f in names
                          if self.fields[f] in FORMATTED_TYPES})
        return {"type": "object", "properties": props}


def _drop_annotations(stream: Any, record: dict) -> dict:
    record.pop("@odata.etag", None)  # a version stamp, not a field
    return record


def rest_object(entity: Entity, fields: Iterable[str], expand: str | None = None
                ) -> RestObject:
    params = {"$select": ",".join(f for f in fields if f in entity.fields)}
    if expand:
        params["$expand"] = expand
    incremental = SINCE if "modifiedon" in entity.fields else None
    return RestObject(
        entity.set, f"/{entity.set}", PAGING, records=("value",), key=entity.key,
        params=params, incremental=incremental, modified="modifiedon" if incremental else None,
        transform=_drop_annotations,
        note=("incremental: $filter=modifiedon gt, $orderby=modifiedon asc" if incremental
              else "full only: no modifiedon"))
