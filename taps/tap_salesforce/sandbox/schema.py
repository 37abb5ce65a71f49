"""The sObjects the Salesforce twin serves, as data: fields in describe order, per object.

A `Field` row holds what differs between fields; `describe_field` expands it into the ~45
properties of a real describe. Objects share the system fields (`Id`, `IsDeleted`, audit
fields, `SystemModstamp`); compound address and geolocation fields come with their components.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from tenantsync.sandbox import datagen as dg

# Types a describe may carry (tap-salesforce raises on any other; never invent one).
FIELD_TYPES = {
    "id", "string", "picklist", "textarea", "phone", "url", "reference", "multipicklist",
    "combobox", "encryptedstring", "email", "complexvalue", "masterrecord",
    "datacategorygroupreference", "double", "currency", "percent", "int", "long", "date",
    "datetime", "time", "boolean", "address", "location", "base64", "byte", "anyType", "json",
}
SOAP_TYPES = {
    "id": "tns:ID", "reference": "tns:ID", "masterrecord": "tns:ID", "boolean": "xsd:boolean",
    "double": "xsd:double", "currency": "xsd:double", "percent": "xsd:double", "int": "xsd:int",
    "long": "xsd:long", "date": "xsd:date", "datetime": "xsd:dateTime", "time": "xsd:time",
    "address": "urn:address", "location": "urn:location", "anyType": "xsd:anyType",
    "base64": "xsd:base64Binary", "json": "urn:JsonType",
}
DEFAULT_LENGTH = {"id": 18, "reference": 18, "string": 255, "picklist": 255, "multipicklist": 4099,
                  "combobox": 255, "textarea": 32000, "phone": 40, "url": 255, "email": 80,
                  "encryptedstring": 175}
COMPOUND = {"address", "location"}
NUMERIC = {"double", "currency", "percent", "int", "long"}
# Types whose values are text in SOQL comparisons (quoted literals).
TEXTUAL = {"id", "reference", "string", "picklist", "textarea", "phone", "url", "multipicklist",
           "combobox", "encryptedstring", "email", "masterrecord"}


@dataclass(frozen=True)
class Field:
    name: str
    type: str
    label: str = ""
    length: int | None = None
    precision: int = 0
    scale: int = 0
    nillable: bool = True
    writable: bool = True  # createable and updateable
    reference_to: tuple[str, ...] = ()
    relationship: str | None = None
    picklist: tuple[str, ...] = ()
    # a picklist that refuses values outside its list (standard picklists such as Industry
    # are unrestricted: any value is stored; restricted ones are custom fields made so)
    restricted: bool = False
    compound: str | None = None  # the compound field this one is a component of
    name_field: bool = False
    external_id: bool = False
    unique: bool = False
    long_text: bool = False  # a long text area: not filterable or sortable

    def __post_init__(self) -> None:
        if self.type not in FIELD_TYPES:
            raise ValueError(f"field {self.name!r}: unknown Salesforce field type {self.type!r}")

    @property
    def custom(self) -> bool:
        return self.name.endswith(("__c", "__s"))

    @property
    def filterable(self) -> bool:
        return self.type not in COMPOUND and not self.long_text and self.type != "anyType"


def f(name: str, type: str, label: str = "", **kw) -> Field:
    return Field(name, type, label or _label(name), **kw)


def _label(name: str) -> str:
    core = name.removesuffix("__c").removesuffix("Id") if name != "Id" else "Record ID"
    out = ""
    for i, ch in enumerate(core.replace("_", " ")):
        if ch.isupper() and i and core[i - 1].islower():
            out += " "
        out += ch
    return out


def ref(name: str, to: str | tuple[str, ...], relationship: str, **kw) -> Field:
    targets = (to,) if isinstance(to, str) else to
    return f(name, "reference", reference_to=targets, relationship=relationship, **kw)


def pick(name: str, values, **kw) -> Field:
    return f(name, "picklist", picklist=tuple(values), **kw)


def address(prefix: str, label: str) -> list[Field]:
    """The components of a compound address, then the compound field itself."""
    c = f"{prefix}Address"
    label = f"{label} " if label else ""
    return [
        f(f"{prefix}Street", "textarea", f"{label}Street", length=255, compound=c),
        f(f"{prefix}City", "string", f"{label}City", length=40, compound=c),
        f(f"{prefix}State", "string", f"{label}State/Province", length=80, compound=c),
        f(f"{prefix}PostalCode", "string", f"{label}Zip/Postal Code", length=20, compound=c),
        f(f"{prefix}Country", "string", f"{label}Country", length=80, compound=c),
        f(f"{prefix}Latitude", "double", f"{label}Latitude", precision=18, scale=15,
          compound=c),
        f(f"{prefix}Longitude", "double", f"{label}Longitude", precision=18, scale=15,
          compound=c),
        pick(f"{prefix}GeocodeAccuracy", ("Address", "NearAddress", "Block", "Street",
                                          "ExtendedZip", "Zip", "City", "County", "State",
                                          "Unknown"), label=f"{label}Geocode Accuracy",
             compound=c),
        f(c, "address", f"{label}Address", writable=False),
    ]


def geolocation(name: str, label: str) -> list[Field]:
    """A custom geolocation field: its compound `location` and the two `__s` components."""
    base = name.removesuffix("__c")
    return [
        f(name, "location", label, writable=False),
        f(f"{base}__Latitude__s", "double", f"{label} (Latitude)", precision=3, scale=15,
          compound=name),
        f(f"{base}__Longitude__s", "double", f"{label} (Longitude)", precision=3, scale=15,
          compound=name),
    ]


def _audit() -> list[Field]:
    return [
        f("CreatedDate", "datetime", "Created Date", nillable=False, writable=False),
        ref("CreatedById", "User", "CreatedBy", label="Created By ID", nillable=False,
            writable=False),
        f("LastModifiedDate", "datetime", "Last Modified Date", nillable=False, writable=False),
        ref("LastModifiedById", "User", "LastModifiedBy", label="Last Modified By ID",
            nillable=False, writable=False),
        f("SystemModstamp", "datetime", "System Modstamp", nillable=False, writable=False),
    ]


ID = f("Id", "id", "Record ID", nillable=False, writable=False)
IS_DELETED = f("IsDeleted", "boolean", "Deleted", nillable=False, writable=False)


def _owner(label="Owner ID") -> Field:
    return ref("OwnerId", "User", "Owner", label=label, nillable=False)


@dataclass
class SObject:
    name: str
    label: str
    plural: str
    key_prefix: str
    fields: list[Field]
    world_kind: str | None = None
    mergeable: bool = False
    extra: dict = field(default_factory=dict)  # describe properties that differ from defaults

    @property
    def custom(self) -> bool:
        return self.name.endswith("__c")

    def field(self, name: str) -> Field | None:
        return self.by_lower().get(name.lower())

    def by_lower(self) -> dict[str, Field]:
        return {fl.name.lower(): fl for fl in self.fields}

    @property
    def replication_key(self) -> str | None:
        for key in ("SystemModstamp", "LastModifiedDate", "CreatedDate"):
            if self.field(key):
                return key
        return None


def _objects() -> list[SObject]:
    industries = dg.INDUSTRIES
    sources = dg.LEAD_SOURCES
    ratings = ("Hot", "Warm", "Cold")
    account = SObject("Account", "Account", "Accounts", "001", [
        ID, IS_DELETED,
        ref("MasterRecordId", "Account", "MasterRecord", label="Master Record ID",
            writable=False),
        f("Name", "string", "Account Name", nillable=False, name_field=True),
        pick("Type", ("Prospect", "Customer", "Partner", "Other"), label="Account Type"),
        ref("ParentId", "Account", "Parent", label="Parent Account ID"),
        *address("Billing", "Billing"), *address("Shipping", "Shipping"),
        f("Phone", "phone", "Account Phone"), f("Fax", "phone", "Account Fax"),
        f("AccountNumber", "string", "Account Number", length=40),
        f("Website", "url"), pick("Industry", industries),
        f("AnnualRevenue", "currency", "Annual Revenue", precision=18, scale=0),
        f("NumberOfEmployees", "int", "Employees", precision=8),
        pick("Ownership", ("Public", "Private", "Subsidiary", "Other")),
        f("Description", "textarea", "Account Description", long_text=True),
        pick("Rating", ratings, label="Account Rating"),
        _owner(), *_audit(),
        f("LastActivityDate", "date", "Last Activity", writable=False),
        f("LastViewedDate", "datetime", "Last Viewed Date", writable=False),
        pick("AccountSource", sources, label="Account Source"),
        pick("Tier__c", dg.TIERS, label="Tier"),
        f("Customer_Since__c", "date", "Customer Since"),
        f("Health_Score__c", "percent", "Health Score", precision=5, scale=2),
        *geolocation("HQ_Location__c", "HQ Location"),
    ], world_kind="company", mergeable=True)
    contact = SObject("Contact", "Contact", "Contacts", "003", [
        ID, IS_DELETED,
        ref("MasterRecordId", "Contact", "MasterRecord", label="Master Record ID",
            writable=False),
        ref("AccountId", "Account", "Account"),
        f("LastName", "string", "Last Name", length=80, nillable=False),
        f("FirstName", "string", "First Name", length=40),
        pick("Salutation", ("Mr.", "Ms.", "Mrs.", "Dr.", "Prof.")),
        f("Name", "string", "Full Name", length=121, writable=False, name_field=True),
        *address("Mailing", "Mailing"),
        f("Phone", "phone", "Business Phone"), f("MobilePhone", "phone", "Mobile Phone"),
        f("Email", "email"), f("Title", "string", length=128),
        f("Department", "string", length=80),
        pick("LeadSource", sources, label="Lead Source"),
        f("Birthdate", "date"), f("Description", "textarea", "Contact Description",
                                  long_text=True),
        _owner(), f("HasOptedOutOfEmail", "boolean", "Email Opt Out", nillable=False),
        f("DoNotCall", "boolean", "Do Not Call", nillable=False), *_audit(),
        f("LastActivityDate", "date", "Last Activity", writable=False),
        f("NPS_Score__c", "double", "NPS Score", precision=2, scale=0),
        f("Preferred_Call_Time__c", "time", "Preferred Call Time"),
        f("Tax_Id__c", "encryptedstring", "Tax ID", length=11),
        f("Interests__c", "multipicklist", "Interests",
          picklist=("Analytics", "Integrations", "Security", "Mobile", "AI", "Reporting")),
    ], world_kind="contact", mergeable=True)
    lead = SObject("Lead", "Lead", "Leads", "00Q", [
        ID, IS_DELETED,
        ref("MasterRecordId", "Lead", "MasterRecord", label="Master Record ID", writable=False),
        f("LastName", "string", "Last Name", length=80, nillable=False),
        f("FirstName", "string", "First Name", length=40),
        f("Name", "string", "Full Name", length=121, writable=False, name_field=True),
        f("Title", "string", length=128),
        f("Company", "string", length=255, nillable=False),
        *address("", ""),
        f("Phone", "phone"), f("Email", "email"), f("Website", "url"),
        f("Description", "textarea", long_text=True),
        pick("LeadSource", sources, label="Lead Source"),
        pick("Status", ("Open - Not Contacted", "Working - Contacted", "Closed - Converted",
                        "Closed - Not Converted"), nillable=False),
        pick("Industry", industries), pick("Rating", ratings),
        f("NumberOfEmployees", "int", "Employees", precision=8),
        _owner(), f("IsConverted", "boolean", "Converted", nillable=False, writable=False),
        f("ConvertedDate", "date", "Converted Date", writable=False),
        ref("ConvertedAccountId", "Account", "ConvertedAccount", writable=False),
        ref("ConvertedContactId", "Contact", "ConvertedContact", writable=False),
        *_audit(),
    ], world_kind="lead", mergeable=True)
    opportunity = SObject("Opportunity", "Opportunity", "Opportunities", "006", [
        ID, IS_DELETED, ref("AccountId", "Account", "Account", label="Account ID"),
        f("Name", "string", length=120, nillable=False, name_field=True),
        f("Description", "textarea", long_text=True),
        pick("StageName", [s[0] for s in dg.DEAL_STAGES], label="Stage", nillable=False),
        f("Amount", "currency", precision=18, scale=2),
        f("Probability", "percent", "Probability (%)", precision=3, scale=0),
        f("CloseDate", "date", "Close Date", nillable=False),
        pick("Type", ("New Business", "Existing Business - Upgrade",
                      "Existing Business - Renewal"), label="Opportunity Type"),
        f("NextStep", "string", "Next Step", length=255),
        pick("LeadSource", sources, label="Lead Source"),
        f("IsClosed", "boolean", "Closed", nillable=False, writable=False),
        f("IsWon", "boolean", "Won", nillable=False, writable=False),
        pick("ForecastCategoryName", ("Pipeline", "Best Case", "Commit", "Omitted", "Closed"),
             label="Forecast Category"),
        ref("CampaignId", "Campaign", "Campaign", label="Campaign ID"),
        ref("ContactId", "Contact", "Contact", label="Contact ID"),
        _owner(), *_audit(),
        f("LastActivityDate", "date", "Last Activity", writable=False),
        f("Fiscal_Quarter__c", "combobox", "Fiscal Quarter", picklist=("Q1", "Q2", "Q3", "Q4")),
    ], world_kind="deal")
    user = SObject("User", "User", "Users", "005", [
        ID, f("Username", "string", length=80, nillable=False, unique=True),
        f("LastName", "string", "Last Name", length=80, nillable=False),
        f("FirstName", "string", "First Name", length=40),
        f("Name", "string", "Full Name", length=121, writable=False, name_field=True),
        f("CompanyName", "string", "Company Name", length=80),
        f("Department", "string", length=80), f("Title", "string", length=80),
        *address("", ""), f("Email", "email", nillable=False), f("Phone", "phone"),
        f("Alias", "string", length=8, nillable=False),
        f("IsActive", "boolean", "Active", nillable=False),
        pick("TimeZoneSidKey", dg.TIMEZONES, label="Time Zone", nillable=False),
        pick("UserType", ("Standard", "PowerPartner", "CsnOnly", "Guest"), label="User Type",
             writable=False),
        f("LastLoginDate", "datetime", "Last Login", writable=False),
        *_audit(),
    ], world_kind="user", extra={"deletable": False, "undeletable": False})
    activity_refs = [
        ref("WhoId", ("Contact", "Lead"), "Who", label="Name ID"),
        ref("WhatId", ("Account", "Opportunity", "Campaign", "Case"), "What",
            label="Related To ID"),
    ]
    task = SObject("Task", "Task", "Tasks", "00T", [
        ID, *activity_refs,
        f("Subject", "combobox", picklist=dg.TASK_SUBJECTS),
        f("ActivityDate", "date", "Due Date Only"),
        pick("Status", ("Not Started", "In Progress", "Completed", "Waiting on someone else",
                        "Deferred"), nillable=False),
        pick("Priority", ("High", "Normal", "Low"), nillable=False),
        _owner("Assigned To ID"), f("Description", "textarea", long_text=True),
        pick("Type", ("Call", "Email", "Meeting", "Other")),
        IS_DELETED, ref("AccountId", "Account", "Account", writable=False),
        f("IsClosed", "boolean", "Closed", nillable=False, writable=False), *_audit(),
        f("CompletedDateTime", "datetime", "Completed Date/Time", writable=False),
    ], world_kind="task")
    event = SObject("Event", "Event", "Events", "00U", [
        ID, *activity_refs, f("Subject", "combobox", picklist=dg.EVENT_SUBJECTS),
        f("Location", "string", length=255),
        f("IsAllDayEvent", "boolean", "All-Day Event", nillable=False),
        f("ActivityDateTime", "datetime", "Due Date Time"),
        f("ActivityDate", "date", "Due Date Only"),
        f("DurationInMinutes", "int", "Duration", precision=8),
        f("StartDateTime", "datetime", "Start Date Time"),
        f("EndDateTime", "datetime", "End Date Time"),
        f("Description", "textarea", long_text=True),
        ref("AccountId", "Account", "Account", writable=False), _owner("Assigned To ID"),
        IS_DELETED, *_audit(),
    ], world_kind="event")
    campaign = SObject("Campaign", "Campaign", "Campaigns", "701", [
        ID, IS_DELETED, f("Name", "string", length=80, nillable=False, name_field=True),
        ref("ParentId", "Campaign", "Parent", label="Parent Campaign ID"),
        pick("Type", ("Webinar", "Conference", "Email", "Advertisement", "Trade Show",
                      "Referral")),
        pick("Status", ("Planned", "In Progress", "Completed", "Aborted")),
        f("StartDate", "date", "Start Date"), f("EndDate", "date", "End Date"),
        f("ExpectedRevenue", "currency", "Expected Revenue in Campaign", precision=18, scale=0),
        f("BudgetedCost", "currency", "Budgeted Cost in Campaign", precision=18, scale=0),
        f("IsActive", "boolean", "Active", nillable=False),
        f("Description", "textarea", long_text=True),
        f("NumberOfOpportunities", "int", "Opportunities in Campaign", precision=9,
          writable=False),
        _owner(), *_audit(),
    ], world_kind="campaign")
    case = SObject("Case", "Case", "Cases", "500", [
        ID, IS_DELETED, f("CaseNumber", "string", "Case Number", length=30, writable=False,
                          name_field=True, unique=True),
        ref("ContactId", "Contact", "Contact", label="Contact ID"),
        ref("AccountId", "Account", "Account", label="Account ID"),
        f("SuppliedEmail", "email", "Web Email"),
        pick("Type", ("Question", "Problem", "Feature Request"), label="Case Type"),
        pick("Status", ("New", "Working", "Escalated", "Closed")),
        pick("Origin", ("Email", "Phone", "Web", "Chat"), label="Case Origin"),
        f("Subject", "string", length=255),
        pick("Priority", ("Low", "Medium", "High", "Critical")),
        f("Description", "textarea", long_text=True),
        f("IsClosed", "boolean", "Closed", nillable=False, writable=False),
        f("ClosedDate", "datetime", "Closed Date", writable=False),
        f("IsEscalated", "boolean", "Escalated", nillable=False), _owner(), *_audit(),
    ], world_kind="ticket")
    role = SObject("OpportunityContactRole", "Opportunity Contact Role",
                   "Opportunity Contact Role", "00K", [
        ID, ref("OpportunityId", "Opportunity", "Opportunity", label="Opportunity ID",
                nillable=False),
        ref("ContactId", "Contact", "Contact", label="Contact ID", nillable=False),
        pick("Role", ("Decision Maker", "Economic Buyer", "Technical Buyer", "Influencer",
                      "Evaluator", "Executive Sponsor")),
        f("IsPrimary", "boolean", "Primary", nillable=False), *_audit(), IS_DELETED,
    ], world_kind="deal_contact")
    invoice = SObject("Invoice__c", "Invoice", "Invoices", "a0I", [
        ID, _owner(), IS_DELETED, f("Name", "string", "Invoice Number", length=80,
                                    nillable=False, name_field=True, external_id=True),
        *_audit(),
        f("LastViewedDate", "datetime", "Last Viewed Date", writable=False),
        ref("Account__c", "Account", "Account__r", label="Account"),
        ref("Opportunity__c", "Opportunity", "Opportunity__r", label="Opportunity"),
        f("Amount__c", "currency", "Amount", precision=16, scale=2),
        pick("Currency__c", ("USD", "EUR", "GBP"), label="Currency"),
        pick("Status__c", ("Draft", "Sent", "Paid", "Overdue", "Void"), label="Status"),
        f("Issue_Date__c", "date", "Issue Date"), f("Due_Date__c", "date", "Due Date"),
        f("Paid_Date__c", "date", "Paid Date"),
        f("Is_Overdue__c", "boolean", "Overdue", nillable=False),
    ], world_kind="invoice")
    history = SObject("AccountHistory", "Account History", "Account History", "017", [
        ID, IS_DELETED, ref("AccountId", "Account", "Account", label="Account ID",
                            writable=False),
        ref("CreatedById", "User", "CreatedBy", label="Created By ID", writable=False),
        f("CreatedDate", "datetime", "Created Date", nillable=False, writable=False),
        pick("Field", ("Rating", "Type", "Industry", "Owner"), label="Changed Field",
             writable=False),
        pick("DataType", ("Text", "Picklist", "EntityId"), label="Data Type", writable=False),
        f("OldValue", "anyType", "Old Value", writable=False),
        f("NewValue", "anyType", "New Value", writable=False),
    ], world_kind=None, extra={"createable": False, "updateable": False, "deletable": False,
                               "undeletable": False, "layoutable": False,
                               "triggerable": False, "searchable": False})
    return [account, contact, lead, opportunity, user, task, event, campaign, case, role,
            invoice, history]


def default_objects() -> dict[str, SObject]:
    """A fresh, mutable copy of the twin's objects (each sandbox can add fields to its own)."""
    return {o.name: replace(o, fields=list(o.fields)) for o in _objects()}


# -- describe ----------------------------------------------------------------------------------


def describe_field(fl: Field) -> dict:
    length = fl.length if fl.length is not None else DEFAULT_LENGTH.get(fl.type, 0)
    numeric = fl.type in ("double", "currency", "percent")
    system = not fl.writable
    return {
        "aggregatable": fl.filterable and fl.type not in ("textarea",),
        "aiPredictionField": False,
        "autoNumber": False,
        "byteLength": length * 3 if fl.type not in ("id", "reference") else length,
        "calculated": False,
        "calculatedFormula": None,
        "cascadeDelete": False,
        "caseSensitive": fl.type == "id",
        "compoundFieldName": fl.compound,
        "controllerName": None,
        "createable": fl.writable and fl.type != "id",
        "custom": fl.custom,
        "defaultValue": False if fl.type == "boolean" and fl.writable else None,
        "defaultValueFormula": None,
        "defaultedOnCreate": fl.type == "boolean" or (system and fl.type != "id"),
        "dependentPicklist": False,
        "deprecatedAndHidden": False,
        "digits": fl.precision if fl.type in ("int", "long") else 0,
        "displayLocationInDecimal": fl.type == "location",
        "encrypted": fl.type == "encryptedstring",
        "externalId": fl.external_id,
        "extraTypeInfo": {"textarea": "plaintextarea", "location": None}.get(fl.type),
        "filterable": fl.filterable,
        "filteredLookupInfo": None,
        "formulaTreatNullNumberAsZero": False,
        "groupable": fl.filterable and fl.type not in NUMERIC and fl.type not in (
            "datetime", "time", "textarea"),
        "highScaleNumber": False,
        "htmlFormatted": False,
        "idLookup": fl.type == "id" or fl.unique or fl.external_id,
        "inlineHelpText": None,
        "label": fl.label,
        "length": length,
        "mask": "lastFour" if fl.type == "encryptedstring" else None,
        "maskType": "ssn" if fl.type == "encryptedstring" else None,
        "name": fl.name,
        "nameField": fl.name_field,
        "namePointing": fl.name in ("WhoId", "WhatId"),
        "nillable": fl.nillable,
        "permissionable": fl.nillable and fl.writable,
        "picklistValues": [{"active": True, "defaultValue": False, "label": v,
                            "validFor": None, "value": v} for v in fl.picklist],
        "polymorphicForeignKey": len(fl.reference_to) > 1,
        "precision": fl.precision if numeric else 0,
        "queryByDistance": fl.type == "location",
        "referenceTargetField": None,
        "referenceTo": list(fl.reference_to),
        "relationshipName": fl.relationship,
        "relationshipOrder": None,
        "restrictedDelete": False,
        "restrictedPicklist": fl.restricted,
        "scale": fl.scale if numeric else 0,
        "searchPrefilterable": fl.type == "reference",
        "soapType": SOAP_TYPES.get(fl.type, "xsd:string"),
        "sortable": fl.filterable and fl.type != "multipicklist",
        "type": fl.type,
        "unique": fl.unique,
        "updateable": fl.writable and fl.type != "id",
        "writeRequiresMasterRead": False,
    }


_OBJECT_DEFAULTS = {
    "activateable": False, "associateEntityType": None, "associateParentEntity": None,
    "compactLayoutable": True, "createable": True, "customSetting": False,
    "deepCloneable": False, "defaultImplementation": None, "deletable": True,
    "deprecatedAndHidden": False, "extendedBy": None, "extendsInterfaces": None,
    "feedEnabled": True, "hasSubtypes": False, "implementedBy": None,
    "implementsInterfaces": None, "isInterface": False, "isSubtype": False, "layoutable": True,
    "lookupLayoutable": True, "mruEnabled": True, "queryable": True, "replicateable": True,
    "retrieveable": True, "searchable": True, "triggerable": True, "undeletable": True,
    "updateable": True,
}


def sobject_summary(obj: SObject, version: str) -> dict:
    """One entry of the global describe (`/sobjects`)."""
    base = f"/services/data/v{version}/sobjects/{obj.name}"
    return {**_OBJECT_DEFAULTS, "custom": obj.custom, "keyPrefix": obj.key_prefix,
            "label": obj.label, "labelPlural": obj.plural, "mergeable": obj.mergeable,
            "name": obj.name, **obj.extra,
            "urls": {"sobject": base, "describe": f"{base}/describe",
                     "rowTemplate": f"{base}/{{ID}}"}}


def describe(obj: SObject, version: str, objects: dict[str, SObject]) -> dict:
    """The full describe of `obj` (`/sobjects/{obj}/describe`)."""
    summary = sobject_summary(obj, version)
    children = [
        {"cascadeDelete": False, "childSObject": other.name, "deprecatedAndHidden": False,
         "field": fl.name, "junctionIdListNames": [], "junctionReferenceTo": [],
         "relationshipName": _child_relationship(other, fl), "restrictedDelete": False}
        for other in objects.values() for fl in other.fields
        if obj.name in fl.reference_to and fl.name not in ("CreatedById", "LastModifiedById")
    ]
    base = summary["urls"]["sobject"]
    return {
        **summary,
        "actionOverrides": [], "childRelationships": children,
        "fields": [describe_field(fl) for fl in obj.fields],
        "listviewable": None, "namedLayoutInfos": [], "networkScopeFieldName": None,
        "recordTypeInfos": [{"active": True, "available": True, "defaultRecordTypeMapping": True,
                             "developerName": "Master", "master": True, "name": "Master",
                             "recordTypeId": "012000000000000AAA",
                             "urls": {"layout": f"{base}/describe/layouts/012000000000000AAA"}}],
        "sobjectDescribeOption": "FULL",
        "supportedScopes": [{"label": "All " + obj.plural.lower(), "name": "everything"},
                            {"label": "My " + obj.plural.lower(), "name": "mine"}],
        "urls": {**summary["urls"], "compactLayouts": f"{base}/describe/compactLayouts",
                 "approvalLayouts": f"{base}/describe/approvalLayouts",
                 "layouts": f"{base}/describe/layouts", "quickActions": f"{base}/quickActions"},
    }


def _child_relationship(child: SObject, fl: Field) -> str | None:
    if child.custom:
        return child.plural.replace(" ", "_") + "__r"
    if fl.name in ("WhoId", "WhatId", "AccountId", "OwnerId") or child.name.endswith("History"):
        return {"Task": "Tasks", "Event": "Events", "AccountHistory": "Histories"}.get(
            child.name, child.plural.replace(" ", ""))
    return None
