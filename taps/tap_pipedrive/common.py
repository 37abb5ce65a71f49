"""Supaglue's CRM common objects from Pipedrive records: account = organization, contact =
person, lead = lead, opportunity = deal, user = user (Supaglue's Pipedrive field mappings;
lifecycle_stage is always null for Pipedrive). Deleted: deals' `is_deleted`, archived leads;
users never."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from tenantsync.tapkit.common import CommonMapping, const, src, timestamp, to_float

# Supaglue's sync-config name -> (Pipedrive object, common table)
COMMON_OBJECTS: dict[str, tuple[str, str]] = {
    "account": ("organizations", "crm_accounts"),
    "contact": ("persons", "crm_contacts"),
    "lead": ("leads", "crm_leads"),
    "opportunity": ("deals", "crm_opportunities"),
    "user": ("users", "crm_users"),
}
COMMON_BY_TABLE = {table: (name, obj) for name, (obj, table) in COMMON_OBJECTS.items()}


def _id(name: str):
    """A related record's id as the common schema's string id."""
    return src(name, lambda v: str(v.get("value") or v.get("id")) if isinstance(v, dict)
               else str(v))


def _address(record: Mapping[str, Any]) -> list[dict]:
    a = record.get("address") or record.get("postal_address")
    if not isinstance(a, dict) or not any(a.values()):
        return []
    street = " ".join(p for p in (a.get("street_number"), a.get("route")) if p) or None
    return [{"street_1": street, "street_2": a.get("subpremise"), "city": a.get("locality"),
             "state": a.get("admin_area_level_1"), "postal_code": a.get("postal_code"),
             "country": a.get("country"), "address_type": "primary"}]


def _typed(field: str, key: str, kinds: Mapping[str, str], fallback: str):
    """Pipedrive's `[{value, primary, label}]` lists as the common schema's typed lists: the
    primary entry is `primary`, others by their label."""
    def get(record: Mapping[str, Any]) -> list[dict]:
        out = []
        for item in record.get(field) or []:
            if not isinstance(item, dict) or not item.get("value"):
                continue
            kind = "primary" if item.get("primary") else kinds.get(item.get("label"), fallback)
            out.append({key: item["value"], f"{key}_type": kind})
        return out
    return get


def _status(record: Mapping[str, Any]) -> str:
    return {"won": "WON", "lost": "LOST"}.get(record.get("status"), "OPEN")


def _close_date(record: Mapping[str, Any]) -> Any:
    return timestamp("close_time")(record) or timestamp("expected_close_date")(record)


def _label(field: str, labels: Mapping[int, str]):
    return lambda record: labels.get(record.get(field)) if record.get(field) else None


def _mapping(table: str, deleted: str | None = "is_deleted", **fields: Any) -> CommonMapping:
    return CommonMapping(table, id="id", last_modified_at="update_time", created_at="add_time",
                         updated_at="update_time", is_deleted=deleted, fields=fields)


ACCOUNT = _mapping(
    "crm_accounts", name=src("name"), description=const(None), industry=const(None),
    website=const(None), number_of_employees=const(None), addresses=_address,
    phone_numbers=const([]), last_activity_at=const(None), lifecycle_stage=const(None),
    owner_id=_id("owner_id"))
CONTACT = _mapping(
    "crm_contacts", first_name=src("first_name"), last_name=src("last_name"),
    addresses=_address,
    email_addresses=_typed("emails", "email_address", {"work": "work"}, "other"),
    phone_numbers=_typed("phones", "phone_number", {"mobile": "mobile", "fax": "fax"},
                         "other"),
    last_activity_at=const(None), lifecycle_stage=const(None), account_id=_id("org_id"),
    owner_id=_id("owner_id"))
LEAD = _mapping(
    "crm_leads", deleted="is_archived", lead_source=src("source_name"), title=src("title"),
    company=const(None), first_name=const(None), last_name=const(None), addresses=const([]),
    email_addresses=const([]), phone_numbers=const([]), converted_date=const(None),
    converted_contact_id=_id("person_id"), converted_account_id=_id("organization_id"),
    owner_id=_id("owner_id"))
USER = CommonMapping(
    "crm_users", id="id", last_modified_at="modified", created_at="created",
    updated_at="modified", fields={"name": src("name"), "email": src("email"),
                                   "is_active": src("active_flag", bool)})


def opportunity(stages: Mapping[int, str], pipelines: Mapping[int, str]) -> CommonMapping:
    """Deals; stage and pipeline ids become their names (from /v1/stages, /v1/pipelines)."""
    return _mapping(
        "crm_opportunities", name=src("title"), description=const(None),
        amount=src("value", to_float), stage=_label("stage_id", stages), status=_status,
        last_activity_at=const(None), close_date=_close_date,
        pipeline=_label("pipeline_id", pipelines), account_id=_id("org_id"),
        owner_id=_id("owner_id"))


MAPPINGS: dict[str, CommonMapping | None] = {
    "crm_accounts": ACCOUNT, "crm_contacts": CONTACT, "crm_leads": LEAD, "crm_users": USER,
    "crm_opportunities": None,  # built when first needed: it needs the stage names
}
