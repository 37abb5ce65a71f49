"""Formatted values as Dataverse returns them when a request carries `Prefer:
odata.include-annotations="OData.Community.Display.V1.FormattedValue"` (or `"*"`, or a pattern
matching it): `<field>@OData.Community.Display.V1.FormattedValue` next to each non-null
option-set, state/status, boolean, money, whole-number, date-time and lookup value, formatted
for an en-US user in UTC (option labels, "$1,234.50", "1,200", "1/15/2024 3:04 PM", the
looked-up row's primary name).
Documentation: learn.microsoft.com/power-apps/developer/data-platform/webapi/
query-data-web-api#formatted-values and .../compose-http-requests-handle-errors#prefer-headers.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime
from fnmatch import fnmatchcase
from typing import Any

FORMATTED = "OData.Community.Display.V1.FormattedValue"
_INCLUDE = re.compile(r'odata\.include-annotations="([^"]*)"')

# option-set labels of the attributes the twin has (Dataverse's default labels)
INDUSTRIES = (
    "Accounting", "Agriculture and Non-petrol Natural Resource Extraction",
    "Broadcasting Printing and Publishing", "Brokers", "Building Supply Retail",
    "Business Services", "Consulting", "Consumer Services",
    "Design, Direction and Creative Management", "Distributors, Dispatchers and Processors",
    "Doctor's Offices and Clinics", "Durable Manufacturing", "Eating and Drinking Places",
    "Entertainment Retail", "Equipment Rental and Leasing", "Financial",
    "Food and Tobacco Processing", "Inbound Capital Intensive Processing",
    "Inbound Repair and Services", "Insurance", "Legal Services",
    "Non-Durable Merchandise Retail", "Outbound Consumer Service",
    "Petrochemical Extraction and Distribution", "Service Retail", "SIG Affiliations",
    "Social Services", "Special Outbound Trade Contractors", "Specialty Realty",
    "Transportation", "Utility Creation and Distribution", "Vehicle Retail", "Wholesale")
LEAD_SOURCES = ("Advertisement", "Employee Referral", "External Referral", "Partner",
                "Public Relations", "Seminar", "Trade Show", "Web", "Word of Mouth", "Other")
ACTIVE = {0: "Active", 1: "Inactive"}
OPTIONS: dict[str, dict[int, str]] = {
    "industrycode": dict(enumerate(INDUSTRIES, 1)),
    "leadsourcecode": dict(enumerate(LEAD_SOURCES, 1)),
    "cr1a2_status": dict(enumerate(("Planned", "In Progress", "Completed", "Aborted"), 1)),
}
STATES: dict[str, dict[int, str]] = {  # statecode labels per entity set
    "leads": {0: "Open", 1: "Qualified", 2: "Disqualified"},
    "opportunities": {0: "Open", 1: "Won", 2: "Lost"},
}
BOOLEANS = {"isdisabled": ("Enabled", "Disabled")}  # (false, true) labels; else No / Yes
# lookup attribute -> (entity set it points at, that entity's primary name attribute)
LOOKUP_TARGETS = {"ownerid": ("systemusers", "fullname"),
                  "parentcustomerid": ("accounts", "name"),
                  "parentaccountid": ("accounts", "name"),
                  "parentcontactid": ("contacts", "fullname")}


def asked(prefer: str | None) -> str | None:
    """The include-annotations preference (quoted, as Preference-Applied echoes it) when it
    names the formatted values, else None."""
    found = _INCLUDE.search(prefer or "")
    if found and any(fnmatchcase(FORMATTED, p.strip()) for p in found.group(1).split(",")
                     if p.strip() and not p.strip().startswith("-")):
        return f'"{found.group(1)}"'
    return None


def _datetime(value: str) -> str:
    moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    hour = moment.hour % 12 or 12
    return (f"{moment.month}/{moment.day}/{moment.year} {hour}:{moment.minute:02d} "
            f"{'AM' if moment.hour < 12 else 'PM'}")


FORMATS: dict[str, Callable[[str, str, Any], str | None]] = {
    "Picklist": lambda _set, attr, v: OPTIONS.get(attr, {}).get(v, str(v)),
    "State": lambda set_, _attr, v: STATES.get(set_, ACTIVE).get(v, str(v)),
    "Status": lambda _set, _attr, v: str(v),
    "Boolean": lambda _set, attr, v: BOOLEANS.get(attr, ("No", "Yes"))[bool(v)],
    "Money": lambda _set, _attr, v: f"${v:,.2f}" if v >= 0 else f"-${-v:,.2f}",
    "Integer": lambda _set, _attr, v: f"{v:,}",
    "DateTime": lambda _set, _attr, v: _datetime(v),
}


def formatted_values(entity_set: str, types: dict[str, str], doc: dict,
                     name_of: Callable[[str, str, str], str | None]) -> dict[str, str]:
    """The annotations Dataverse adds to `doc` (a row of `entity_set`, fields as listed);
    `name_of(set, id, name attribute)` reads a looked-up row's primary name."""
    out = {}
    for attr, kind in types.items():
        field = f"_{attr}_value" if kind in ("Lookup", "Owner", "Customer") else attr
        value = doc.get(field)
        if value is None or field not in doc:
            continue
        if field != attr:
            target = LOOKUP_TARGETS.get(attr)
            text = name_of(target[0], value, target[1]) if target else None
        elif kind in FORMATS:
            text = FORMATS[kind](entity_set, attr, value)
        else:
            continue
        if text is not None:
            out[f"{field}@{FORMATTED}"] = text
    return out
