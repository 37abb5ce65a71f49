"""Supaglue's CRM common objects from Dataverse records (Supaglue's Dynamics 365 Sales
mappings): account = accounts, contact = contacts, lead = leads, opportunity = opportunities
(stage and pipeline names from the `$expand`ed process stage and sales process), user =
systemusers (`is_active = !isdisabled`). lifecycle_stage and last_activity_at: always null;
is_deleted: false (deleted rows go by the full-sync sweep)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from tenantsync.tapkit.common import (
    CommonMapping,
    address,
    addresses,
    const,
    emails,
    phones,
    src,
    timestamp,
)

# Supaglue's sync-config name -> (entity set, common table)
COMMON_OBJECTS: dict[str, tuple[str, str]] = {
    "account": ("accounts", "crm_accounts"),
    "contact": ("contacts", "crm_contacts"),
    "lead": ("leads", "crm_leads"),
    "opportunity": ("opportunities", "crm_opportunities"),
    "user": ("systemusers", "crm_users"),
}
COMMON_BY_TABLE = {table: (name, obj) for name, (obj, table) in COMMON_OBJECTS.items()}
ADDRESS = addresses(address("primary", street="address1_line1", city="address1_city",
                            state="address1_stateorprovince",
                            postal_code="address1_postalcode", country="address1_country"))
OWNER = src("_ownerid_value")
_STATUS = {0: "OPEN", 1: "WON", 2: "LOST"}  # opportunity statecode


def _stage(record: Mapping[str, Any]) -> str | None:
    stage = record.get("stageid_processstage")
    return stage.get("stagename") if isinstance(stage, dict) else None


def _pipeline(record: Mapping[str, Any]) -> str | None:
    process = record.get("opportunity_leadtoopportunitysalesprocess")
    return process[0].get("name") if isinstance(process, list) and process else None


def _mapping(table: str, key: str, **fields: Any) -> CommonMapping:
    return CommonMapping(table, id=key, last_modified_at="modifiedon", created_at="createdon",
                         updated_at="modifiedon", fields=fields)


MAPPINGS: dict[str, CommonMapping] = {m.table: m for m in (
    _mapping("crm_accounts", "accountid", name=src("name"), description=src("description"),
             industry=src("industrycode", str), website=src("websiteurl"),
             number_of_employees=src("numberofemployees"), addresses=ADDRESS,
             phone_numbers=phones(primary="telephone1"), last_activity_at=const(None),
             lifecycle_stage=const(None), owner_id=OWNER),
    _mapping("crm_contacts", "contactid", first_name=src("firstname"),
             last_name=src("lastname"), addresses=ADDRESS,
             email_addresses=emails(primary="emailaddress1"),
             phone_numbers=phones(primary="telephone1", mobile="mobilephone"),
             last_activity_at=const(None), lifecycle_stage=const(None),
             account_id=src("_parentcustomerid_value"), owner_id=OWNER),
    _mapping("crm_leads", "leadid", lead_source=src("leadsourcecode", str),
             title=src("subject"), company=src("companyname"), first_name=src("firstname"),
             last_name=src("lastname"), addresses=ADDRESS,
             email_addresses=emails(primary="emailaddress1"),
             phone_numbers=phones(primary="telephone1"), converted_date=const(None),
             converted_contact_id=src("_parentcontactid_value"),
             converted_account_id=src("_parentaccountid_value"), owner_id=OWNER),
    _mapping("crm_opportunities", "opportunityid", name=src("name"),
             description=src("description"), amount=src("estimatedvalue"), stage=_stage,
             status=lambda r: _STATUS.get(r.get("statecode"), "OPEN"),
             last_activity_at=const(None),
             close_date=lambda r: timestamp("actualclosedate")(r)
             or timestamp("estimatedclosedate")(r),
             pipeline=_pipeline, account_id=src("_parentaccountid_value"), owner_id=OWNER),
    _mapping("crm_users", "systemuserid", name=src("fullname"),
             email=src("internalemailaddress"),
             is_active=lambda r: not r.get("isdisabled")),
)}
