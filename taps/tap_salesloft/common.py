"""Supaglue's engagement common objects from Salesloft records, as Supaglue mapped them (its
Salesloft mappers): account = accounts, contact = people, user = users, sequence = cadences
(`num_steps` counted from /v2/steps), sequence_state = cadence_memberships (no mailbox: Supaglue
listed none for Salesloft, and Salesloft has no mailbox object; here a mailbox is each user's
sending address, the user's `from_address`, with the user's id). Ids are strings; references
are `{"_href", "id"}` objects."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from tenantsync.tapkit.common import CommonMapping, src

# Supaglue's sync-config name -> (Salesloft object, common table)
COMMON_OBJECTS: dict[str, tuple[str, str]] = {
    "account": ("accounts", "engagement_accounts"),
    "contact": ("people", "engagement_contacts"),
    "user": ("users", "engagement_users"),
    "sequence": ("cadences", "engagement_sequences"),
    "sequence_state": ("cadence_memberships", "engagement_sequence_states"),
    "mailbox": ("users", "engagement_mailboxes"),
}
COMMON_BY_TABLE = {table: (name, obj) for name, (obj, table) in COMMON_OBJECTS.items()}
EMAILS = (("email_address", "primary"), ("personal_email_address", "personal"),
          ("secondary_email_address", None))
PHONES = (("phone", "primary"), ("home_phone", "home"), ("mobile_phone", "mobile"))


def ref(name: str):
    """A reference's id as a string (`owner: {"_href", "id"}`)."""
    def get(r: Mapping[str, Any]) -> str | None:
        value = r.get(name)
        return str(value["id"]) if isinstance(value, Mapping) and value.get("id") is not None \
            else None
    return get


def _count(name: str):
    return lambda r: (r.get("counts") or {}).get(name) or 0


def _typed(pairs, key: str):
    return lambda r: [{key: r[field], f"{key}_type": kind} for field, kind in pairs
                      if r.get(field)]


def _camel(name: str) -> str:
    return re.sub(r"_([a-z0-9])", lambda m: m.group(1).upper(), name)


def _mapping(table: str, **fields: Any) -> CommonMapping:
    return CommonMapping(table, id="id", last_modified_at="updated_at", created_at="created_at",
                         updated_at="updated_at", fields=fields)


MAPPINGS: dict[str, CommonMapping] = {m.table: m for m in (
    _mapping("engagement_accounts", name=src("name"), domain=src("domain"),
             owner_id=ref("owner")),
    _mapping("engagement_contacts", first_name=src("first_name"), last_name=src("last_name"),
             job_title=src("title"),
             address=lambda r: {"street_1": None, "street_2": None, "city": r.get("city"),
                                "state": r.get("state"), "postal_code": None,
                                "country": r.get("country")},
             email_addresses=_typed(EMAILS, "email_address"),
             phone_numbers=_typed(PHONES, "phone_number"), owner_id=ref("owner"),
             account_id=ref("account"), open_count=_count("emails_viewed"),
             click_count=_count("emails_clicked"), reply_count=_count("emails_replied_to"),
             bounced_count=_count("emails_bounced")),
    _mapping("engagement_users", first_name=src("first_name"), last_name=src("last_name"),
             email=src("email")),
    _mapping("engagement_mailboxes", email=lambda r: r.get("from_address") or r.get("email"),
             user_id=src("id", str)),
    _mapping("engagement_sequence_states", sequence_id=ref("cadence"),
             contact_id=ref("person"), mailbox_id=lambda r: None, user_id=ref("user"),
             state=src("current_state")),
)}


def sequence_mapping(steps: Mapping[str, int]) -> CommonMapping:
    """Cadences, `num_steps` from the cadence's count of /v2/steps (Supaglue read them all),
    `metrics` = the cadence's counts camelCased, deleted = archived."""
    return CommonMapping(
        "engagement_sequences", id="id", last_modified_at="updated_at",
        created_at="created_at", updated_at="updated_at", is_deleted="archived_at", fields={
            "owner_id": ref("owner"), "name": src("name"),
            "tags": lambda r: r.get("tags") or [],
            "num_steps": lambda r: steps.get(str(r["id"]), 0),
            "metrics": lambda r: {_camel(k): v for k, v in (r.get("counts") or {}).items()},
            "is_enabled": lambda r: not r.get("draft")})
