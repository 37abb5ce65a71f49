"""What tap-hubspot knows about HubSpot objects, as data: the standard object types, their
created/modified properties, default associations, and the mapping of the CRM common objects.

Stream names (tenantsync.contract): a standard object is named by its singular HubSpot object
name (`company`, `line_item`): Supaglue's standard-object names, so the target writes them to
Supaglue's tables (`hubspot_company`, `hubspot_line_item`). Custom objects are
`custom__<name>` (`custom__pets` -> view `hubspot_pets`); common objects `crm_accounts`, ...
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from tenantsync.common_schema import LIFECYCLE_STAGES
from tenantsync.tapkit.common import (
    CommonMapping,
    emails,
    phones,
    src,
    timestamp,
    to_float,
    to_int,
)


@dataclass(frozen=True)
class ObjectType:
    name: str  # singular: the sync-config name and the stream name ("line_item")
    api: str  # how the CRM API addresses it ("line_items", custom "p_pets")
    modified: str  # the last-modified property (search filter, replication key)
    created: str
    custom: bool = False


def _std(name: str, api: str, modified: str = "hs_lastmodifieddate",
         created: str = "createdate") -> ObjectType:
    return ObjectType(name, api, modified, created)


_ENGAGEMENT = {"modified": "hs_lastmodifieddate", "created": "hs_createdate"}

# Supaglue's HUBSPOT_STANDARD_OBJECT_TYPES. Contacts use `lastmodifieddate` (provider-apis §2.5).
STANDARD_OBJECTS: dict[str, ObjectType] = {o.name: o for o in (
    _std("company", "companies"),
    _std("contact", "contacts", modified="lastmodifieddate"),
    _std("deal", "deals"),
    _std("line_item", "line_items"),
    _std("product", "products"),
    _std("ticket", "tickets"),
    _std("quote", "quotes", created="hs_createdate"),
    _std("call", "calls", **_ENGAGEMENT),
    _std("communication", "communications", **_ENGAGEMENT),
    _std("email", "emails", **_ENGAGEMENT),
    _std("meeting", "meetings", **_ENGAGEMENT),
    _std("note", "notes", **_ENGAGEMENT),
    _std("postal_mail", "postal_mail", **_ENGAGEMENT),
    _std("task", "tasks", **_ENGAGEMENT),
)}
# Owners are not a CRM object (no properties, no search): their own API and stream.
OWNER = "owner"
BY_API_NAME = {o.api: o for o in STANDARD_OBJECTS.values()}
# Names users may write in associations_to_fetch and object lists besides the singular names.
ALIASES = {"account": "company", "opportunity": "deal", **{a: o.name for a, o in
                                                          BY_API_NAME.items()}}


def custom_object(name: str) -> ObjectType:
    # `p_{name}` addresses a custom object in every CRM endpoint (provider-apis §2.4).
    return ObjectType(name, f"p_{name}", "hs_lastmodifieddate", "hs_createdate", custom=True)


def canonical(name: str) -> str:
    """A standard object's singular name from any spelling (plural, alias); else unchanged."""
    return ALIASES.get(name, name)


# Contacts and deals always carry their companies: the common objects need `account_id`.
DEFAULT_ASSOCIATIONS: dict[str, tuple[str, ...]] = {"contact": ("company",),
                                                    "deal": ("company",)}

# Envelope fields of a record (camelCase: HubSpot property names are lower case, so these
# never collide with a property) and the associations field, next to the flat properties.
ENVELOPE = ("id", "createdAt", "updatedAt", "archived", "archivedAt")
ASSOCIATIONS = "_associations"

# --- common objects ------------------------------------------------------------------------


def _bool(value: Any) -> bool:
    return value is True or (isinstance(value, str) and value.lower() == "true")


def _first(kind: str) -> Callable[[Mapping[str, Any]], Any]:
    """The first associated record of `kind` (Supaglue: account_id = first company)."""
    def get(record: Mapping[str, Any]) -> Any:
        ids = (record.get(ASSOCIATIONS) or {}).get(kind) or ()
        return ids[0] if ids else None
    return get


def _lifecycle(record: Mapping[str, Any]) -> str | None:
    value = record.get("lifecyclestage")
    if not value:
        return None
    return value if value in LIFECYCLE_STAGES else "other"  # portal-defined stages


def _address(record: Mapping[str, Any]) -> list[dict]:
    parts = {"street_1": record.get("address"), "street_2": record.get("address2"),
             "city": record.get("city"), "state": record.get("state"),
             "postal_code": record.get("zip"), "country": record.get("country")}
    if not any(parts.values()):
        return []
    return [{**{k: (v or None) for k, v in parts.items()}, "address_type": "primary"}]


def stage_outcome(metadata: Mapping[str, Any]) -> str:
    """OPEN / WON / LOST of a deal stage from its pipelines-API metadata."""
    if not _bool(metadata.get("isClosed")):
        return "OPEN"
    try:
        return "WON" if float(metadata.get("probability") or 0) >= 1 else "LOST"
    except ValueError:
        return "LOST"


def _status(stage_outcomes: Mapping[str, str]) -> Callable[[Mapping[str, Any]], str]:
    """Supaglue's rule on hs_is_closed_won / hs_is_closed; where a portal's deals lack those
    calculated properties, the outcome of the deal's stage."""
    def get(record: Mapping[str, Any]) -> str:
        won, closed = record.get("hs_is_closed_won"), record.get("hs_is_closed")
        if won is None and closed is None:
            return stage_outcomes.get(record.get("dealstage"), "OPEN")
        if _bool(won):
            return "WON"
        return "LOST" if _bool(closed) else "OPEN"
    return get


def _label(field: str, labels: Mapping[str, str]) -> Callable[[Mapping[str, Any]], Any]:
    def get(record: Mapping[str, Any]) -> Any:
        value = record.get(field)
        return labels.get(value, value) if value else None
    return get


def _mapping(table: str, modified: str, **fields: Any) -> CommonMapping:
    return CommonMapping(table, id="id", last_modified_at=modified, created_at="createdate",
                         updated_at=modified, is_deleted="archived", fields=fields)


def account_mapping() -> CommonMapping:
    return _mapping(
        "crm_accounts", "hs_lastmodifieddate",
        name=src("name"), description=src("description"), industry=src("industry"),
        website=src("website"), number_of_employees=src("numberofemployees", to_int),
        addresses=_address, phone_numbers=phones(primary="phone"),
        last_activity_at=timestamp("notes_last_updated"), lifecycle_stage=_lifecycle,
        owner_id=src("hubspot_owner_id"))


def contact_mapping() -> CommonMapping:
    return _mapping(
        "crm_contacts", "lastmodifieddate",
        first_name=src("firstname"), last_name=src("lastname"), addresses=_address,
        email_addresses=emails(primary="email", work="work_email"),
        phone_numbers=phones(primary="phone", mobile="mobilephone", fax="fax"),
        last_activity_at=timestamp("notes_last_updated"), lifecycle_stage=_lifecycle,
        account_id=_first("company"), owner_id=src("hubspot_owner_id"))


def opportunity_mapping(stage_labels: Mapping[str, str], pipeline_labels: Mapping[str, str],
                        stage_outcomes: Mapping[str, str]) -> CommonMapping:
    """Deals; stage and pipeline ids become labels (ids without a known label stay ids)."""
    return _mapping(
        "crm_opportunities", "hs_lastmodifieddate",
        name=src("dealname"), description=src("description"), amount=src("amount", to_float),
        stage=_label("dealstage", stage_labels), status=_status(stage_outcomes),
        close_date=timestamp("closedate"), pipeline=_label("pipeline", pipeline_labels),
        account_id=_first("company"), owner_id=src("hubspot_owner_id"),
        last_activity_at=timestamp("notes_last_updated"))


def _owner_name(record: Mapping[str, Any]) -> str | None:
    name = " ".join(p for p in (record.get("firstName"), record.get("lastName")) if p)
    return name or None


USER_MAPPING = CommonMapping(
    "crm_users", id="id", last_modified_at="updatedAt", created_at="createdAt",
    updated_at="updatedAt", fields={
        "name": _owner_name, "email": src("email"),
        "is_active": lambda record: not record.get("archived")})

# Sync-config name -> (object, common table). `lead`: HubSpot has no lead object.
COMMON_OBJECTS: dict[str, tuple[str, str]] = {
    "account": ("company", "crm_accounts"),
    "contact": ("contact", "crm_contacts"),
    "opportunity": ("deal", "crm_opportunities"),
    "user": (OWNER, "crm_users"),
}
UNSUPPORTED_COMMON = {
    "lead": "HubSpot has no lead object in its CRM API (Supaglue did not sync HubSpot leads "
            "either); sync 'contact' and use its lifecycle_stage instead",
}
COMMON_BY_TABLE = {table: (name, obj) for name, (obj, table) in COMMON_OBJECTS.items()}
