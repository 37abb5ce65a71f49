"""Supaglue's common objects: one table of fields that both the taps (mapping) and target-postgres
(DDL, typed columns) read, so the two can never disagree.

Field types are Postgres column types, as Supaglue declared them (reference/supaglue.md §2, §3.4).
Every common record also carries the shared base: id, created_at, updated_at, is_deleted,
last_modified_at and raw_data.
"""

from __future__ import annotations

from dataclasses import dataclass

TEXT, INTEGER, FLOAT, BOOLEAN, TIMESTAMP, JSONB = (
    "TEXT",
    "INTEGER",
    "FLOAT",
    "BOOLEAN",
    "TIMESTAMP(3)",
    "JSONB",
)


@dataclass(frozen=True)
class Field:
    name: str
    type: str
    not_null: bool = False


@dataclass(frozen=True)
class CommonObject:
    category: str  # "crm" | "engagement"
    name: str  # singular object name used in sync configs: "account", "sequence_state", ...
    table: str  # destination table: "crm_accounts", ...
    fields: tuple[Field, ...]  # object-specific fields, in Supaglue's column order


BASE_FIELDS: tuple[Field, ...] = (
    Field("id", TEXT, not_null=True),
    Field("created_at", TIMESTAMP),
    Field("updated_at", TIMESTAMP),
    Field("is_deleted", BOOLEAN, not_null=True),
    Field("last_modified_at", TIMESTAMP, not_null=True),
)


def _f(spec: str) -> tuple[Field, ...]:
    """Parse 'name:TYPE[!]' tokens; '!' marks NOT NULL. Keeps the tables below readable."""
    out = []
    for token in spec.split():
        name, _, kind = token.partition(":")
        not_null = kind.endswith("!")
        kind = {"text": TEXT, "int": INTEGER, "float": FLOAT, "bool": BOOLEAN, "ts": TIMESTAMP,
                "json": JSONB}[kind.rstrip("!")]
        out.append(Field(name, kind, not_null))
    return tuple(out)


COMMON_OBJECTS: dict[str, CommonObject] = {
    o.table: o
    for o in (
        CommonObject("crm", "account", "crm_accounts", _f(
            "name:text description:text industry:text website:text number_of_employees:int "
            "addresses:json phone_numbers:json last_activity_at:ts lifecycle_stage:text "
            "owner_id:text")),
        CommonObject("crm", "contact", "crm_contacts", _f(
            "first_name:text last_name:text addresses:json! email_addresses:json! "
            "phone_numbers:json! lifecycle_stage:text account_id:text owner_id:text "
            "last_activity_at:ts")),
        CommonObject("crm", "lead", "crm_leads", _f(
            "lead_source:text title:text company:text first_name:text last_name:text "
            "addresses:json email_addresses:json phone_numbers:json converted_date:ts "
            "converted_contact_id:text converted_account_id:text owner_id:text")),
        CommonObject("crm", "opportunity", "crm_opportunities", _f(
            "name:text description:text amount:float stage:text status:text close_date:ts "
            "pipeline:text account_id:text owner_id:text last_activity_at:ts")),
        CommonObject("crm", "user", "crm_users", _f("name:text email:text is_active:bool")),
        CommonObject("engagement", "account", "engagement_accounts", _f(
            "name:text domain:text owner_id:text")),
        CommonObject("engagement", "contact", "engagement_contacts", _f(
            "first_name:text last_name:text job_title:text address:json email_addresses:json! "
            "phone_numbers:json! owner_id:text account_id:text open_count:int! "
            "click_count:int! reply_count:int! bounced_count:int!")),
        CommonObject("engagement", "mailbox", "engagement_mailboxes", _f(
            "email:text user_id:text")),
        CommonObject("engagement", "sequence", "engagement_sequences", _f(
            "owner_id:text name:text tags:json num_steps:int! metrics:json is_enabled:bool!")),
        CommonObject("engagement", "sequence_state", "engagement_sequence_states", _f(
            "sequence_id:text contact_id:text mailbox_id:text user_id:text state:text")),
        CommonObject("engagement", "user", "engagement_users", _f(
            "first_name:text last_name:text email:text")),
    )
}

# Enumerations of the common schema (supaglue.md §2.2).
OPPORTUNITY_STATUSES = ("OPEN", "WON", "LOST")
LIFECYCLE_STAGES = (
    "subscriber", "lead", "marketingqualifiedlead", "salesqualifiedlead", "opportunity",
    "customer", "evangelist", "other",
)
ADDRESS_TYPES = ("primary", "billing", "mailing", "other", "shipping")
CRM_PHONE_TYPES = ("primary", "mobile", "fax", "other")
CRM_EMAIL_TYPES = ("primary", "work", "other")


def common_object(category: str, name: str) -> CommonObject:
    """Look up a common object by category and sync-config name ("crm", "account")."""
    for obj in COMMON_OBJECTS.values():
        if obj.category == category and obj.name == name:
            return obj
    known = sorted(o.name for o in COMMON_OBJECTS.values() if o.category == category)
    raise KeyError(f"unknown {category} common object {name!r}; known: {', '.join(known)}")


_JSON_TYPES = {
    TEXT: {"type": ["string", "null"]},
    INTEGER: {"type": ["integer", "null"]},
    FLOAT: {"type": ["number", "null"]},
    BOOLEAN: {"type": ["boolean", "null"]},
    TIMESTAMP: {"type": ["string", "null"], "format": "date-time"},
    JSONB: {},  # arrays or objects; validated by their producer
}


def json_schema(table: str) -> dict:
    """The Singer JSON Schema of a common-object stream: base fields, object fields, raw_data."""
    obj = COMMON_OBJECTS[table]
    props = {f.name: dict(_JSON_TYPES[f.type]) for f in (*BASE_FIELDS, *obj.fields)}
    props["raw_data"] = {"type": ["object", "null"]}
    required = [f.name for f in BASE_FIELDS if f.not_null]
    return {"type": "object", "properties": props, "required": required}
