"""What tap-salesforce knows about Salesforce objects, as data: field types, watermarks, objects
that cannot be synced, and the mapping of the five CRM common objects."""

from __future__ import annotations

from tenantsync.tapkit.common import (
    CommonMapping,
    address,
    addresses,
    const,
    emails,
    opportunity_status,
    phones,
    src,
    timestamp,
    to_float,
    to_int,
)

_STRING = {"type": ["string", "null"]}

# Salesforce field type -> JSON Schema. A type missing here becomes a string, with a warning.
FIELD_TYPES: dict[str, dict] = {
    **{kind: _STRING for kind in (
        "id", "string", "picklist", "textarea", "phone", "url", "reference", "multipicklist",
        "combobox", "encryptedstring", "email", "complexvalue", "masterrecord",
        "datacategorygroupreference", "calculated", "json", "byte")},
    **{kind: {"type": ["number", "null"]} for kind in ("double", "currency", "percent")},
    **{kind: {"type": ["integer", "null"]} for kind in ("int", "long")},
    "boolean": {"type": ["boolean", "null"]},
    "date": {"type": ["string", "null"], "format": "date"},
    "datetime": {"type": ["string", "null"], "format": "date-time"},
    "time": {"type": ["string", "null"], "format": "time"},
    "anyType": {"type": ["string", "number", "boolean", "null"]},
}

# Types that are not synced as fields: compound address/location fields (their components,
# e.g. BillingStreet or Loc__Latitude__s, are ordinary fields and are synced) and base64 blobs
# (REST returns a URL, not content). Bulk API 2.0 cannot select any of them, so leaving them
# out keeps REST and Bulk records identical.
SKIPPED_TYPES = frozenset({"address", "location", "base64"})

# Watermark fields, best first: SystemModstamp also moves on system updates.
WATERMARKS = ("SystemModstamp", "LastModifiedDate", "CreatedDate")

# Objects a tap cannot query without a filter on a parent id, or that are not data.
UNSYNCABLE_OBJECTS = frozenset({
    "ContentDocumentLink", "ContentFolderItem", "ContentFolderMember", "ContentHubItem",
    "DataStatistics", "DatacloudAddress", "EntityParticle", "FieldDefinition", "FlexQueueItem",
    "IdeaComment", "OwnerChangeOptionInfo", "PicklistValueInfo", "PlatformAction",
    "RelationshipDomain", "RelationshipInfo", "SearchLayout", "UserEntityAccess",
    "UserFieldAccess", "UserRecordAccess", "Vote", "RecentlyViewed",
})
UNSYNCABLE_SUFFIXES = ("ChangeEvent", "__e", "__x", "__b")


def is_custom_object(name: str) -> bool:
    return name.endswith("__c")


def _street(prefix: str, kind: str):
    return address(kind, street=f"{prefix}Street", city=f"{prefix}City", state=f"{prefix}State",
                   postal_code=f"{prefix}PostalCode", country=f"{prefix}Country")


def _mapping(table: str, **fields) -> CommonMapping:
    return CommonMapping(table, id="Id", last_modified_at="SystemModstamp",
                         created_at="CreatedDate", updated_at="SystemModstamp",
                         is_deleted="IsDeleted", fields=fields)


# Sync-config name -> (SObject, mapping to the common schema), following Supaglue's mappers.
COMMON_OBJECTS: dict[str, tuple[str, CommonMapping]] = {
    "account": ("Account", _mapping(
        "crm_accounts",
        name=src("Name"), description=src("Description"), industry=src("Industry"),
        website=src("Website"), number_of_employees=src("NumberOfEmployees", to_int),
        addresses=addresses(_street("Billing", "billing"), _street("Shipping", "shipping")),
        phone_numbers=phones(primary="Phone", fax="Fax"),
        last_activity_at=timestamp("LastActivityDate"), lifecycle_stage=const(None),
        owner_id=src("OwnerId"))),
    "contact": ("Contact", _mapping(
        "crm_contacts",
        first_name=src("FirstName"), last_name=src("LastName"),
        addresses=addresses(_street("Mailing", "mailing"), _street("Other", "other")),
        email_addresses=emails(primary="Email"),
        phone_numbers=phones(primary="Phone", mobile="MobilePhone", fax="Fax"),
        lifecycle_stage=const(None), account_id=src("AccountId"), owner_id=src("OwnerId"),
        last_activity_at=timestamp("LastActivityDate"))),
    "lead": ("Lead", _mapping(
        "crm_leads",
        lead_source=src("LeadSource"), title=src("Title"), company=src("Company"),
        first_name=src("FirstName"), last_name=src("LastName"),
        addresses=addresses(_street("", "primary")),
        email_addresses=emails(primary="Email"), phone_numbers=phones(primary="Phone"),
        converted_date=timestamp("ConvertedDate"),
        converted_contact_id=src("ConvertedContactId"),
        converted_account_id=src("ConvertedAccountId"), owner_id=src("OwnerId"))),
    "opportunity": ("Opportunity", _mapping(
        "crm_opportunities",
        name=src("Name"), description=src("Description"), amount=src("Amount", to_float),
        stage=src("StageName"), status=opportunity_status("IsClosed", "IsWon"),
        close_date=timestamp("CloseDate"), pipeline=const(None), account_id=src("AccountId"),
        owner_id=src("OwnerId"), last_activity_at=timestamp("LastActivityDate"))),
    "user": ("User", _mapping(
        "crm_users", name=src("Name"), email=src("Email"), is_active=src("IsActive"))),
}
COMMON_BY_TABLE = {mapping.table: (name, sobject, mapping)
                   for name, (sobject, mapping) in COMMON_OBJECTS.items()}
