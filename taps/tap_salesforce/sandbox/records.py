"""World entities -> Salesforce records (field values, in describe order) and wire formats."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, timedelta, timezone

from tap_salesforce.sandbox.ids import make_id
from tap_salesforce.sandbox.schema import SObject

# world kind -> the sObject key prefix its ids use
KIND_PREFIX = {"user": "005", "company": "001", "contact": "003", "lead": "00Q",
               "deal": "006", "deal_contact": "00K", "task": "00T", "event": "00U",
               "campaign": "701", "ticket": "500", "invoice": "a0I"}
HISTORY_PREFIX = "017"
CITY_COORDINATES = {
    "San Francisco": (37.7749, -122.4194), "New York": (40.7128, -74.006),
    "Austin": (30.2672, -97.7431), "Chicago": (41.8781, -87.6298),
    "Seattle": (47.6062, -122.3321), "Boston": (42.3601, -71.0589),
    "Denver": (39.7392, -104.9903), "Atlanta": (33.749, -84.388),
    "Toronto": (43.6532, -79.3832), "London": (51.5072, -0.1276), "Berlin": (52.52, 13.405),
    "Paris": (48.8566, 2.3522), "Amsterdam": (52.3676, 4.9041), "Sydney": (-33.8688, 151.2093),
    "Singapore": (1.3521, 103.8198), "Tokyo": (35.6762, 139.6503),
    "São Paulo": (-23.5558, -46.6396), "Dublin": (53.3498, -6.2603),
}


def sf_datetime(moment: datetime) -> str:
    """REST datetime: `2024-01-02T03:04:05.000+0000` (UTC, millis, no colon in the offset)."""
    m = moment.astimezone(timezone.utc) if moment.tzinfo is not timezone.utc else moment
    return m.isoformat(timespec="milliseconds")[:23] + "+0000"


def bulk_datetime(rest_value: str) -> str:
    """Bulk CSV datetime (`...000Z`) from the stored REST form."""
    return rest_value[:-5] + "Z"


def parse_sf_datetime(value: str) -> datetime:
    return datetime.strptime(value, "%Y-%m-%dT%H:%M:%S.%f%z")


def wid(kind: str, index: int | None) -> str | None:
    """The Salesforce id of world entity `index` of `kind`."""
    return None if index is None else make_id(KIND_PREFIX[kind], index + 1)


def _h(i: int, salt: int) -> int:
    """A cheap deterministic hash for values the world does not carry."""
    return ((i + 1) * 2654435761 + salt * 40503) % 4294967291


def _address(prefix: str, a: dict | None) -> dict:
    if not a:
        return {}
    return {f"{prefix}Street": a["street"], f"{prefix}City": a["city"],
            f"{prefix}State": a["state"] or None, f"{prefix}PostalCode": a["postal_code"],
            f"{prefix}Country": a["country"]}


def compound_address(values: dict, prefix: str) -> dict | None:
    """The compound address value (alphabetical keys, as Salesforce sends it)."""
    parts = {k: values.get(f"{prefix}{k}") for k in ("City", "Country", "GeocodeAccuracy",
                                                      "Latitude", "Longitude", "PostalCode",
                                                      "State", "Street")}
    if all(v is None for v in parts.values()):
        return None
    return {"city": parts["City"], "country": parts["Country"],
            "geocodeAccuracy": parts["GeocodeAccuracy"], "latitude": parts["Latitude"],
            "longitude": parts["Longitude"], "postalCode": parts["PostalCode"],
            "state": parts["State"], "street": parts["Street"]}


def _account(e: dict) -> dict:
    i = e["index"]
    lat, lon = CITY_COORDINATES.get(e["address"]["city"], (None, None))
    values = {
        "Name": e["name"], "Type": e["type"],
        "ParentId": wid("company", i // 25) if i % 25 == 24 else None,
        **_address("Billing", e["address"]), **_address("Shipping", e["address"]),
        "Phone": e["phone"], "AccountNumber": f"ACC-{i + 1:07d}", "Website": e["website"],
        "Industry": e["industry"], "AnnualRevenue": e["annual_revenue"],
        "NumberOfEmployees": e["employees"],
        "Ownership": ("Private", "Public", "Subsidiary", "Private", "Other")[_h(i, 1) % 5],
        "Description": e["description"], "Rating": e["rating"],
        "OwnerId": wid("user", e["owner"]), "LastActivityDate": e["modified"].date().isoformat(),
        "AccountSource": ("Web", "Partner Referral", "Trade Show", "Other")[_h(i, 2) % 4],
        "Tier__c": e["tier"],
        "Customer_Since__c": e["customer_since"] if e["type"] == "Customer" else None,
        "Health_Score__c": round(40 + _h(i, 3) % 6000 / 100, 2),
        "HQ_Location__Latitude__s": lat, "HQ_Location__Longitude__s": lon,
    }
    values["HQ_Location__c"] = {"latitude": lat, "longitude": lon} if lat is not None else None
    return values


def _contact(e: dict) -> dict:
    i = e["index"]
    interests = ("Analytics", "Integrations", "Security", "Mobile", "AI", "Reporting")
    picked = [v for n, v in enumerate(interests) if _h(i, 4) >> n & 1]
    return {
        "AccountId": wid("company", e["company"]), "LastName": e["last_name"],
        "FirstName": e["first_name"],
        "Salutation": (None, "Dr.", None, "Prof.", None)[_h(i, 5) % 5],
        "Name": f"{e['first_name']} {e['last_name']}", **_address("Mailing", e["address"]),
        "Phone": e["phone"], "MobilePhone": e["mobile"], "Email": e["email"],
        "Title": e["title"], "Department": e["department"], "LeadSource": e["lead_source"],
        "Birthdate": e["birthdate"], "OwnerId": wid("user", e["owner"]),
        "HasOptedOutOfEmail": _h(i, 6) % 10 == 0, "DoNotCall": e["do_not_call"],
        "LastActivityDate": e["modified"].date().isoformat(),
        "NPS_Score__c": float(e["nps"]) if e["nps"] is not None else None,
        "Preferred_Call_Time__c": f"{9 + _h(i, 7) % 8:02d}:{(_h(i, 8) % 4) * 15:02d}:00.000Z",
        "Tax_Id__c": f"***-**-{_h(i, 9) % 10000:04d}",
        "Interests__c": ";".join(picked) or None,
    }


def _lead(e: dict) -> dict:
    i = e["index"]
    converted = e["converted"]
    return {
        "LastName": e["last_name"], "FirstName": e["first_name"],
        "Name": f"{e['first_name']} {e['last_name']}", "Title": e["title"],
        "Company": e["company_name"], **_address("", e["address"]), "Phone": e["phone"],
        "Email": e["email"], "Description": e["description"], "LeadSource": e["lead_source"],
        "Status": e["status"], "Industry": e["industry"], "Rating": e["rating"],
        "NumberOfEmployees": e["employees"], "OwnerId": wid("user", e["owner"]),
        "IsConverted": converted,
        "ConvertedDate": e["modified"].date().isoformat() if converted else None,
        "ConvertedAccountId": wid("company", i % 97) if converted else None,
        "ConvertedContactId": wid("contact", i % 89) if converted else None,
    }


def _opportunity(e: dict) -> dict:
    close = date.fromisoformat(e["close_date"])
    return {
        "AccountId": wid("company", e["company"]), "Name": e["name"],
        "Description": e["description"], "StageName": e["stage"], "Amount": e["amount"],
        "Probability": float(e["probability"]), "CloseDate": e["close_date"], "Type": e["type"],
        "NextStep": e["next_step"], "LeadSource": e["lead_source"], "IsClosed": e["closed"],
        "IsWon": e["won"], "ForecastCategoryName": e["forecast"],
        "CampaignId": wid("campaign", e["campaign"]), "ContactId": wid("contact", e["contact"]),
        "OwnerId": wid("user", e["owner"]),
        "LastActivityDate": e["modified"].date().isoformat(),
        "Fiscal_Quarter__c": f"Q{(close.month - 1) // 3 + 1}",
    }


def _user(e: dict) -> dict:
    return {
        "Username": e["username"], "LastName": e["last_name"], "FirstName": e["first_name"],
        "Name": f"{e['first_name']} {e['last_name']}", "CompanyName": "Tenantsync Demo Inc.",
        "Department": e["department"], "Title": e["title"], "Email": e["email"],
        "Phone": e["phone"],
        "Alias": (e["first_name"][0] + e["last_name"][:4]).lower()[:8],
        "IsActive": e["active"], "TimeZoneSidKey": e["timezone"], "UserType": "Standard",
        "LastLoginDate": sf_datetime(e["modified"]),
    }


def _activity(e: dict) -> dict:
    what = wid("deal", e["deal"]) if e["deal"] is not None else wid("company", e["company"])
    return {"WhoId": wid("contact", e["contact"]), "WhatId": what,
            "AccountId": wid("company", e["company"]), "OwnerId": wid("user", e["owner"]),
            "Subject": e["subject"], "Description": e["description"]}


def _task(e: dict) -> dict:
    return {**_activity(e), "ActivityDate": e["due_date"], "Status": e["status"],
            "Priority": e["priority"], "Type": e["type"], "IsClosed": e["completed"],
            "CompletedDateTime": sf_datetime(e["modified"]) if e["completed"] else None}


def _event(e: dict) -> dict:
    start = sf_datetime(e["start"])
    return {**_activity(e), "Location": e["location"], "IsAllDayEvent": False,
            "ActivityDateTime": start, "ActivityDate": e["start"].date().isoformat(),
            "DurationInMinutes": e["duration_minutes"], "StartDateTime": start,
            "EndDateTime": sf_datetime(e["end"])}


def _campaign(e: dict) -> dict:
    return {"Name": e["name"], "Type": e["type"], "Status": e["status"],
            "StartDate": e["start_date"], "EndDate": e["end_date"],
            "ExpectedRevenue": e["expected_revenue"], "BudgetedCost": e["budget"],
            "IsActive": e["active"], "Description": e["description"],
            "NumberOfOpportunities": 0, "OwnerId": wid("user", e["owner"])}


def _case(e: dict) -> dict:
    return {"CaseNumber": f"{e['index'] + 1:08d}", "ContactId": wid("contact", e["contact"]),
            "AccountId": wid("company", e["company"]), "Type": e["type"],
            "Status": e["status"], "Origin": e["origin"], "Subject": e["subject"],
            "Priority": e["priority"], "Description": e["description"],
            "IsClosed": e["closed"],
            "ClosedDate": sf_datetime(e["modified"]) if e["closed"] else None,
            "IsEscalated": e["status"] == "Escalated", "OwnerId": wid("user", e["owner"])}


def _contact_role(e: dict) -> dict:
    return {"OpportunityId": wid("deal", e["deal"]), "ContactId": wid("contact", e["contact"]),
            "Role": e["role"], "IsPrimary": e["primary"]}


def _invoice(e: dict) -> dict:
    return {"Name": e["number"], "Account__c": wid("company", e["company"]),
            "Opportunity__c": wid("deal", e["deal"]), "Amount__c": e["amount"],
            "Currency__c": e["currency"], "Status__c": e["status"],
            "Issue_Date__c": e["issue_date"], "Due_Date__c": e["due_date"],
            "Paid_Date__c": e["paid_date"], "Is_Overdue__c": e["status"] == "Overdue",
            "OwnerId": wid("user", e["owner"])}


MAPPERS: dict[str, Callable[[dict], dict]] = {
    "Account": _account, "Contact": _contact, "Lead": _lead, "Opportunity": _opportunity,
    "User": _user, "Task": _task, "Event": _event, "Campaign": _campaign, "Case": _case,
    "OpportunityContactRole": _contact_role, "Invoice__c": _invoice,
}


def from_entity(obj: SObject, e: dict, now: datetime) -> dict:
    """The full record of world entity `e` as `obj`, every field present, in describe order."""
    values = MAPPERS[obj.name](e)
    i = e["index"]
    modified = modified_sys = e["modified"]
    if i % 7 == 3:  # a later system-only update: SystemModstamp moves, LastModifiedDate not
        modified_sys = max(modified, min(modified + timedelta(hours=1 + i % 5), now))
    creator = values.get("OwnerId") or wid("user", 0)
    values.update({
        "Id": wid(obj.world_kind, i), "IsDeleted": False,
        "CreatedDate": sf_datetime(e["created"]), "CreatedById": creator,
        "LastModifiedDate": sf_datetime(modified), "LastModifiedById": creator,
        "SystemModstamp": sf_datetime(modified_sys),
    })
    return complete(obj, values)


def complete(obj: SObject, values: dict) -> dict:
    """`values` with every field of `obj` (missing ones null) in describe order; compound
    address and location values derived from their components."""
    for fl in obj.fields:
        if fl.type == "address":
            values[fl.name] = compound_address(values, fl.name.removesuffix("Address"))
        elif fl.type == "location":
            base = fl.name.removesuffix("__c")
            lat, lon = values.get(f"{base}__Latitude__s"), values.get(f"{base}__Longitude__s")
            values[fl.name] = ({"latitude": lat, "longitude": lon}
                               if lat is not None or lon is not None else None)
    return {fl.name: values.get(fl.name) for fl in obj.fields}


def history_row(company: dict, obj: SObject, n: int) -> dict:
    """An AccountHistory row: the rating change behind the company's last modification."""
    old = ("Cold", "Warm", "Hot")[(_h(company["index"], 10)) % 3]
    values = {"Id": make_id(HISTORY_PREFIX, n + 1), "IsDeleted": False,
              "AccountId": wid("company", company["index"]),
              "CreatedById": wid("user", company["owner"]),
              "CreatedDate": sf_datetime(company["modified"]), "Field": "Rating",
              "DataType": "Picklist", "OldValue": old, "NewValue": company["rating"]}
    return complete(obj, values)
