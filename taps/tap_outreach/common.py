"""Supaglue's engagement common objects from Outreach resources, as Supaglue mapped them
(its Outreach mappers): account = accounts, contact = prospects, user = users, sequence =
sequences, mailbox = mailboxes, sequence_state = sequenceStates. Ids are strings; a
relationship's id comes from `relationships.<name>.data.id` (`<name>Id` of the flat record);
nothing is ever deleted (Outreach lists no deleted records: is_deleted false, as in
Supaglue)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from tenantsync.tapkit.common import CommonMapping, src

# Supaglue's sync-config name -> (Outreach object, common table)
COMMON_OBJECTS: dict[str, tuple[str, str]] = {
    "account": ("accounts", "engagement_accounts"),
    "contact": ("prospects", "engagement_contacts"),
    "user": ("users", "engagement_users"),
    "sequence": ("sequences", "engagement_sequences"),
    "mailbox": ("mailboxes", "engagement_mailboxes"),
    "sequence_state": ("sequenceStates", "engagement_sequence_states"),
}
COMMON_BY_TABLE = {table: (name, obj) for name, (obj, table) in COMMON_OBJECTS.items()}
# phone lists in Supaglue's order, with their common type (VoIP numbers are "other")
PHONES = (("mobilePhones", "mobile"), ("homePhones", "home"), ("workPhones", "work"),
          ("otherPhones", "other"), ("voipPhones", "other"))
METRICS = ("scheduleCount", "openCount", "optOutCount", "clickCount", "replyCount",
           "deliverCount", "failureCount", "neutralReplyCount", "negativeReplyCount",
           "positiveReplyCount", "numRepliedProspects", "numContactedProspects")


def _id(name: str):
    return src(name, str)


def _count(name: str):
    return lambda r: r.get(name) or 0


def _address(r: Mapping[str, Any]) -> dict:
    return {"street_1": r.get("addressStreet"), "street_2": r.get("addressStreet2"),
            "city": r.get("addressCity"), "state": r.get("addressState"),
            "postal_code": r.get("addressZip"), "country": r.get("addressCountry")}


def _emails(r: Mapping[str, Any]) -> list[dict]:
    return [{"email_address": e.get("email"), "email_address_type": e.get("email_type")}
            for e in r.get("emailContacts") or [] if isinstance(e, Mapping)]


def _phones(r: Mapping[str, Any]) -> list[dict]:
    return [{"phone_number": number, "phone_number_type": kind}
            for field, kind in PHONES for number in r.get(field) or []]


def _mapping(table: str, **fields: Any) -> CommonMapping:
    return CommonMapping(table, id="id", last_modified_at="updatedAt", created_at="createdAt",
                         updated_at="updatedAt", fields=fields)


MAPPINGS: dict[str, CommonMapping] = {m.table: m for m in (
    _mapping("engagement_accounts", name=src("name"), domain=src("domain"),
             owner_id=_id("ownerId")),
    _mapping("engagement_contacts", first_name=src("firstName"), last_name=src("lastName"),
             job_title=src("title"), address=_address, email_addresses=_emails,
             phone_numbers=_phones, owner_id=_id("ownerId"), account_id=_id("accountId"),
             open_count=_count("openCount"), click_count=_count("clickCount"),
             reply_count=_count("replyCount"), bounced_count=_count("bouncedCount")),
    _mapping("engagement_users", first_name=src("firstName"), last_name=src("lastName"),
             email=src("email")),
    _mapping("engagement_sequences", owner_id=_id("ownerId"), name=src("name"),
             tags=lambda r: r.get("tags") or [], num_steps=_count("sequenceStepCount"),
             metrics=lambda r: {m: r.get(m) or 0 for m in METRICS},
             is_enabled=lambda r: bool(r.get("enabled"))),
    _mapping("engagement_mailboxes", email=src("email"), user_id=_id("userId")),
    _mapping("engagement_sequence_states", sequence_id=_id("sequenceId"),
             contact_id=_id("prospectId"), mailbox_id=_id("mailboxId"),
             user_id=_id("creatorId"), state=src("state")),
)}
