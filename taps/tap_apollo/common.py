"""Supaglue's engagement common objects from Apollo records, as Supaglue's Apollo mappers made
them: account = account, contact = contact, user = user, sequence = emailer campaign, mailbox =
email account, sequence_state = one of a contact's `contact_campaign_statuses`.

Apollo keeps no update time on accounts, users, sequences or memberships: their
`last_modified_at` is their creation time (`added_at` for memberships), a mailbox's its
`last_synced_at`, a contact's its `updated_at`. Engagement counts of contacts are 0 (Apollo's
contact has none); a sequence is deleted (and archived) when `archived`."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from tenantsync.tapkit.common import CommonMapping, const, src

# Supaglue's sync-config name -> (Apollo object, common table)
COMMON_OBJECTS: dict[str, tuple[str, str]] = {
    "account": ("accounts", "engagement_accounts"),
    "contact": ("contacts", "engagement_contacts"),
    "user": ("users", "engagement_users"),
    "sequence": ("emailer_campaigns", "engagement_sequences"),
    "mailbox": ("email_accounts", "engagement_mailboxes"),
    "sequence_state": ("contacts", "engagement_sequence_states"),
}
COMMON_BY_TABLE = {table: (name, obj) for name, (obj, table) in COMMON_OBJECTS.items()}
PHONE_TYPES = {"home": "home", "mobile": "mobile", "work": "work", "work_hq": "work",
               "other": "other"}
METRICS = ("unique_scheduled", "unique_delivered", "unique_bounced", "unique_clicked",
           "unique_opened", "unique_replied", "unique_demoed", "bounce_rate", "open_rate",
           "click_rate", "reply_rate", "spam_blocked_rate", "demo_rate")


def _address(record: Mapping[str, Any]) -> dict:
    return {"street_1": record.get("street_address"), "street_2": None,
            "city": record.get("city"), "state": record.get("state"),
            "country": record.get("country"), "postal_code": record.get("postal_code")}


def _emails(record: Mapping[str, Any]) -> list[dict]:
    email = record.get("email")
    return [{"email_address": email, "email_address_type": "primary"}] if email else []


def _phones(record: Mapping[str, Any]) -> list[dict]:
    return [{"phone_number": p.get("sanitized_number"),
             "phone_number_type": PHONE_TYPES.get(p.get("type"))}
            for p in record.get("phone_numbers") or [] if isinstance(p, dict)]


def _metrics(record: Mapping[str, Any]) -> dict[str, float]:
    return {name: record.get(name) or 0 for name in METRICS}


MAPPINGS: dict[str, CommonMapping] = {m.table: m for m in (
    CommonMapping("engagement_accounts", id="id", last_modified_at="created_at",
                  created_at="created_at", fields={
                      "name": src("name"), "domain": src("domain"),
                      "owner_id": src("owner_id")}),
    CommonMapping("engagement_contacts", id="id", last_modified_at="updated_at",
                  created_at="created_at", updated_at="updated_at", fields={
                      "first_name": src("first_name"), "last_name": src("last_name"),
                      "job_title": src("title"), "address": _address,
                      "email_addresses": _emails, "phone_numbers": _phones,
                      "owner_id": src("owner_id"), "account_id": src("account_id"),
                      "open_count": const(0), "click_count": const(0),
                      "reply_count": const(0), "bounced_count": const(0)}),
    CommonMapping("engagement_users", id="id", last_modified_at="created_at",
                  created_at="created_at", fields={
                      "first_name": src("first_name"), "last_name": src("last_name"),
                      "email": src("email")}),
    CommonMapping("engagement_sequences", id="id", last_modified_at="created_at",
                  created_at="created_at", is_deleted="archived", fields={
                      "owner_id": src("user_id"), "name": src("name"),
                      "tags": lambda r: list(r.get("label_ids") or []),
                      "num_steps": lambda r: int(r.get("num_steps") or 0),
                      "metrics": _metrics, "is_enabled": lambda r: bool(r.get("active"))}),
    CommonMapping("engagement_mailboxes", id="id", last_modified_at="last_synced_at",
                  updated_at="last_synced_at", fields={
                      "email": src("email"), "user_id": src("user_id")}),
    CommonMapping("engagement_sequence_states", id="id", last_modified_at="added_at",
                  created_at="added_at", fields={
                      "sequence_id": src("emailer_campaign_id"),
                      "contact_id": src("contact_id"),
                      "mailbox_id": src("send_email_from_email_account_id"),
                      "user_id": src("added_by_user_id"), "state": src("status")}),
)}


def sequence_states(contact: Mapping[str, Any]) -> list[dict]:
    """A contact's memberships as raw sequence-state records (the contact's id added)."""
    return [{**status, "contact_id": contact["id"]}
            for status in contact.get("contact_campaign_statuses") or []
            if isinstance(status, dict)]
