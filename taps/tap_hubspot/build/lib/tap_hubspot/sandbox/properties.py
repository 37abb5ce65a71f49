"""HubSpot property definitions of the twin, as `GET /crm/v3/properties/{type}` serves them.

One table per object type: each row names a property and its HubSpot `type`; the wire shape
(`fieldType`, `groupName`, `options`, `modificationMetadata`, ...) is derived in one place.
Every property value on the wire is a string (or null), whatever its `type`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

# HubSpot `type` -> default `fieldType` (provider-apis.md §2.6).
FIELD_TYPES = {
    "string": "text",
    "number": "number",
    "date": "date",
    "datetime": "date",
    "enumeration": "select",
    "bool": "booleancheckbox",
    "phone_number": "phonenumber",
}

BOOL_OPTIONS = (("true", "Yes"), ("false", "No"))


@dataclass(frozen=True)
class Prop:
    name: str
    label: str
    type: str = "string"
    field_type: str = ""  # "" -> FIELD_TYPES[type]
    options: tuple[tuple[str, str], ...] = ()  # (value, label) for enumerations
    calculated: bool = False  # computed by HubSpot: read-only value
    unique: bool = False
    hubspot_defined: bool = True
    group: str = ""  # "" -> the object type's default group
    description: str = ""

    def __post_init__(self):
        if self.type not in FIELD_TYPES:
            raise ValueError(f"property {self.name!r}: unknown HubSpot type {self.type!r}")

    def to_wire(self, group: str, created_at: str) -> dict:
        options = BOOL_OPTIONS if self.type == "bool" else self.options
        read_only = self.calculated or self.name in READ_ONLY_NAMES
        return {
            "name": self.name,
            "label": self.label,
            "type": self.type,
            "fieldType": self.field_type or FIELD_TYPES[self.type],
            "description": self.description,
            "groupName": self.group or group,
            "options": [
                {"label": label, "value": value, "description": "", "displayOrder": i,
                 "hidden": False}
                for i, (value, label) in enumerate(options)
            ],
            "displayOrder": -1,
            "calculated": self.calculated,
            "externalOptions": False,
            "hasUniqueValue": self.unique,
            "hidden": False,
            "hubspotDefined": self.hubspot_defined,
            "formField": not read_only and self.type != "datetime",
            "createdAt": created_at,
            "updatedAt": created_at,
            "archived": False,
            "dataSensitivity": "non_sensitive",
            "modificationMetadata": {
                "archivable": not self.hubspot_defined,
                "readOnlyDefinition": self.hubspot_defined,
                "readOnlyValue": read_only,
            },
        }


# Values HubSpot maintains itself; a client can never write them.
READ_ONLY_NAMES = frozenset({
    "hs_object_id", "createdate", "hs_createdate", "lastmodifieddate", "hs_lastmodifieddate",
    "notes_last_updated",
})


def _opts(*pairs: str) -> tuple[tuple[str, str], ...]:
    """'value=Label' tokens -> option pairs."""
    return tuple(tuple(p.split("=", 1)) for p in pairs)  # type: ignore[misc]


LIFECYCLE = _opts(
    "subscriber=Subscriber", "lead=Lead", "marketingqualifiedlead=Marketing Qualified Lead",
    "salesqualifiedlead=Sales Qualified Lead", "opportunity=Opportunity", "customer=Customer",
    "evangelist=Evangelist", "other=Other")
INDUSTRIES = _opts(
    "COMPUTER_SOFTWARE=Computer Software", "MACHINERY=Machinery",
    "HOSPITAL_HEALTH_CARE=Hospital & Health Care", "FINANCIAL_SERVICES=Financial Services",
    "RETAIL=Retail", "OIL_ENERGY=Oil & Energy", "EDUCATION_MANAGEMENT=Education Management",
    "MEDIA_PRODUCTION=Media Production",
    "TRANSPORTATION_TRUCKING_RAILROAD=Transportation/Trucking/Railroad",
    "HOSPITALITY=Hospitality", "CONSTRUCTION=Construction", "INSURANCE=Insurance",
    "TELECOMMUNICATIONS=Telecommunications", "BIOTECHNOLOGY=Biotechnology",
    "MANAGEMENT_CONSULTING=Management Consulting",
    "GOVERNMENT_ADMINISTRATION=Government Administration", "FARMING=Farming")
DEAL_STAGES = _opts(
    "appointmentscheduled=Appointment Scheduled", "qualifiedtobuy=Qualified To Buy",
    "presentationscheduled=Presentation Scheduled",
    "decisionmakerboughtin=Decision Maker Bought-In",
    "contractsent=Contract Sent", "closedwon=Closed Won", "closedlost=Closed Lost")
PIPELINES = _opts("default=Sales Pipeline")
TICKET_PIPELINES = _opts("0=Support Pipeline")
TICKET_STAGES = _opts("1=New", "2=Waiting on contact", "3=Waiting on us", "4=Closed")
PRIORITIES = _opts("LOW=Low", "MEDIUM=Medium", "HIGH=High")
TASK_STATUSES = _opts("NOT_STARTED=Not started", "IN_PROGRESS=In progress", "WAITING=Waiting",
                      "COMPLETED=Completed", "DEFERRED=Deferred")
DIRECTIONS = _opts("INBOUND=Inbound", "OUTBOUND=Outbound")


def _address() -> tuple[Prop, ...]:
    return (
        Prop("address", "Street Address"), Prop("city", "City"), Prop("state", "State/Region"),
        Prop("zip", "Postal Code"), Prop("country", "Country/Region"),
    )


def _record_meta(created: str, modified: str) -> tuple[Prop, ...]:
    """The bookkeeping properties every object has (names differ between object types)."""
    return (
        Prop("hs_object_id", "Record ID", "number", unique=True),
        Prop(created, "Create Date", "datetime"),
        Prop(modified, "Last Modified Date", "datetime"),
    )


_OWNER = Prop("hubspot_owner_id", "Owner", "enumeration", "select",
              description="The owner of the record: an owner id from /crm/v3/owners.")
_ACTIVITY = Prop("notes_last_updated", "Last Activity Date", "datetime", calculated=True)
_TIMESTAMP = Prop("hs_timestamp", "Activity date", "datetime")

# The CRM objects' property tables, keyed by object type name.
STANDARD_PROPERTIES: dict[str, tuple[Prop, ...]] = {
    "contacts": (
        *_record_meta("createdate", "lastmodifieddate"),
        Prop("firstname", "First Name"), Prop("lastname", "Last Name"),
        Prop("email", "Email", unique=True), Prop("phone", "Phone Number", "string",
                                                  "phonenumber"),
        Prop("mobilephone", "Mobile Phone Number", "string", "phonenumber"),
        Prop("fax", "Fax Number"), Prop("jobtitle", "Job Title"), Prop("company", "Company Name"),
        Prop("website", "Website URL"), *_address(),
        Prop("lifecyclestage", "Lifecycle Stage", "enumeration", "radio", LIFECYCLE),
        Prop("hs_lead_status", "Lead Status", "enumeration", "radio", _opts(
            "NEW=New", "OPEN=Open", "IN_PROGRESS=In Progress", "CONNECTED=Connected",
            "UNQUALIFIED=Unqualified")),
        Prop("associatedcompanyid", "Primary Associated Company ID", "number", calculated=True),
        _OWNER, _ACTIVITY,
    ),
    "companies": (
        *_record_meta("createdate", "hs_lastmodifieddate"),
        Prop("name", "Company name"), Prop("domain", "Company Domain Name", unique=True),
        Prop("description", "Description", field_type="textarea"),
        Prop("industry", "Industry", "enumeration", "select", INDUSTRIES),
        Prop("numberofemployees", "Number of Employees", "number"),
        Prop("annualrevenue", "Annual Revenue", "number"),
        Prop("phone", "Phone Number", "string", "phonenumber"), Prop("website", "Website URL"),
        *_address(),
        Prop("lifecyclestage", "Lifecycle Stage", "enumeration", "radio", LIFECYCLE),
        Prop("type", "Type", "enumeration", "select", _opts(
            "PROSPECT=Prospect", "PARTNER=Partner", "RESELLER=Reseller", "VENDOR=Vendor",
            "OTHER=Other")),
        _OWNER, _ACTIVITY,
    ),
    "deals": (
        *_record_meta("createdate", "hs_lastmodifieddate"),
        Prop("dealname", "Deal Name"), Prop("amount", "Amount", "number"),
        Prop("description", "Deal Description", field_type="textarea"),
        Prop("dealstage", "Deal Stage", "enumeration", "radio", DEAL_STAGES),
        Prop("pipeline", "Pipeline", "enumeration", "select", PIPELINES),
        Prop("closedate", "Close Date", "datetime"),
        Prop("hs_is_closed", "Is Deal Closed?", "bool", calculated=True),
        Prop("hs_is_closed_won", "Is Closed Won", "bool", calculated=True),
        _OWNER, _ACTIVITY,
    ),
    "tickets": (
        *_record_meta("createdate", "hs_lastmodifieddate"),
        Prop("subject", "Ticket name"), Prop("content", "Ticket description",
                                             field_type="textarea"),
        Prop("hs_pipeline", "Pipeline", "enumeration", "select", TICKET_PIPELINES),
        Prop("hs_pipeline_stage", "Ticket status", "enumeration", "select", TICKET_STAGES),
        Prop("hs_ticket_priority", "Priority", "enumeration", "select", PRIORITIES),
        Prop("hs_ticket_category", "Category", "enumeration", "checkbox", _opts(
            "PRODUCT_ISSUE=Product issue", "BILLING_ISSUE=Billing issue",
            "FEATURE_REQUEST=Feature request", "GENERAL_INQUIRY=General inquiry")),
        _OWNER,
    ),
    "products": (
        *_record_meta("createdate", "hs_lastmodifieddate"),
        Prop("name", "Name"), Prop("description", "Description", field_type="textarea"),
        Prop("price", "Unit price", "number"), Prop("hs_sku", "SKU"),
        Prop("hs_cost_of_goods_sold", "Unit cost", "number"),
    ),
    "line_items": (
        *_record_meta("createdate", "hs_lastmodifieddate"),
        Prop("name", "Name"), Prop("hs_product_id", "Product ID", "number"),
        Prop("quantity", "Quantity", "number"), Prop("price", "Unit price", "number"),
        Prop("amount", "Net price", "number", calculated=True),
    ),
    "quotes": (
        *_record_meta("hs_createdate", "hs_lastmodifieddate"),
        Prop("hs_title", "Quote name"), Prop("hs_expiration_date", "Expiration date", "date"),
        Prop("hs_status", "Quote approval status", "enumeration", "select", _opts(
            "DRAFT=Draft", "PENDING_APPROVAL=Pending approval", "APPROVED=Approved",
            "REJECTED=Rejected")),
        Prop("hs_quote_amount", "Amount", "number", calculated=True),
    ),
    "calls": (
        *_record_meta("hs_createdate", "hs_lastmodifieddate"), _TIMESTAMP,
        Prop("hs_call_title", "Call Title"), Prop("hs_call_body", "Call notes",
                                                  field_type="html"),
        Prop("hs_call_duration", "Call duration", "number"),
        Prop("hs_call_direction", "Call direction", "enumeration", "select", DIRECTIONS),
        Prop("hs_call_status", "Call status", "enumeration", "select", _opts(
            "COMPLETED=Completed", "BUSY=Busy", "NO_ANSWER=No answer", "FAILED=Failed")),
        _OWNER,
    ),
    "emails": (
        *_record_meta("hs_createdate", "hs_lastmodifieddate"), _TIMESTAMP,
        Prop("hs_email_subject", "Email subject"), Prop("hs_email_text", "Email body",
                                                        field_type="textarea"),
        Prop("hs_email_direction", "Email direction", "enumeration", "select", _opts(
            "EMAIL=Logged email", "INCOMING_EMAIL=Incoming email",
            "FORWARDED_EMAIL=Forwarded email")),
        Prop("hs_email_status", "Email send status", "enumeration", "select", _opts(
            "SENT=Sent", "BOUNCED=Bounced", "FAILED=Failed", "SCHEDULED=Scheduled")),
        _OWNER,
    ),
    "meetings": (
        *_record_meta("hs_createdate", "hs_lastmodifieddate"), _TIMESTAMP,
        Prop("hs_meeting_title", "Meeting name"), Prop("hs_meeting_body", "Meeting description",
                                                       field_type="html"),
        Prop("hs_meeting_start_time", "Start time", "datetime"),
        Prop("hs_meeting_end_time", "End time", "datetime"),
        Prop("hs_meeting_outcome", "Meeting outcome", "enumeration", "select", _opts(
            "SCHEDULED=Scheduled", "COMPLETED=Completed", "RESCHEDULED=Rescheduled",
            "NO_SHOW=No show", "CANCELED=Canceled")),
        _OWNER,
    ),
    "notes": (
        *_record_meta("hs_createdate", "hs_lastmodifieddate"), _TIMESTAMP,
        Prop("hs_note_body", "Note body", field_type="html"), _OWNER,
    ),
    "tasks": (
        *_record_meta("hs_createdate", "hs_lastmodifieddate"), _TIMESTAMP,
        Prop("hs_task_subject", "Task Title"), Prop("hs_task_body", "Notes", field_type="html"),
        Prop("hs_task_status", "Task Status", "enumeration", "select", TASK_STATUSES),
        Prop("hs_task_priority", "Priority", "enumeration", "select",
             (("NONE", "None"), *PRIORITIES)),
        Prop("hs_task_type", "Task Type", "enumeration", "select", _opts(
            "CALL=Call", "EMAIL=Email", "TODO=To-do")),
        _OWNER,
    ),
    # Types HubSpot has that the twin's world leaves empty (no records are generated), so
    # clients that list their properties or records find them as on HubSpot.
    "communications": (
        *_record_meta("hs_createdate", "hs_lastmodifieddate"), _TIMESTAMP,
        Prop("hs_communication_channel_type", "Channel type", "enumeration", "select", _opts(
            "WHATS_APP=WhatsApp", "LINKEDIN_MESSAGE=LinkedIn", "SMS=SMS")),
        Prop("hs_communication_body", "Communication body", field_type="html"), _OWNER,
    ),
    "postal_mail": (
        *_record_meta("hs_createdate", "hs_lastmodifieddate"), _TIMESTAMP,
        Prop("hs_postal_mail_body", "Postal mail body", field_type="html"), _OWNER,
    ),
    "leads": (
        *_record_meta("hs_createdate", "hs_lastmodifieddate"),
        Prop("hs_lead_name", "Lead name"), _OWNER,
    ),
    "goal_targets": (
        *_record_meta("hs_createdate", "hs_lastmodifieddate"),
        Prop("hs_goal_name", "Goal name"), Prop("hs_target_amount", "Target", "number"),
    ),
    "feedback_submissions": (
        *_record_meta("hs_createdate", "hs_lastmodifieddate"),
        Prop("hs_survey_name", "Survey name"), Prop("hs_content", "Response"),
    ),
}


def custom_object_properties(own: tuple[Prop, ...]) -> tuple[Prop, ...]:
    """A custom object's properties: HubSpot's bookkeeping ones plus the portal-defined ones."""
    return (*_record_meta("hs_createdate", "hs_lastmodifieddate"), _OWNER, *own)


@dataclass
class PropertyTable:
    """The live property definitions of one object type; portal users may add properties."""

    group: str
    created_at: str  # when HubSpot's own properties appeared (the portal's creation)
    props: dict[str, Prop] = field(default_factory=dict)
    added_at: dict[str, str] = field(default_factory=dict)  # property -> when a user added it

    @classmethod
    def of(cls, group: str, created_at: str, props: tuple[Prop, ...]) -> PropertyTable:
        return cls(group, created_at, {p.name: p for p in props})

    def add(self, prop: Prop, added_at: str) -> None:
        if prop.name in self.props:
            raise ValueError(f"property {prop.name!r} already exists")
        self.props[prop.name] = prop
        self.added_at[prop.name] = added_at

    def get(self, name: str) -> Prop | None:
        return self.props.get(name)

    def types(self) -> dict[str, str]:
        return {name: p.type for name, p in self.props.items()}

    def wire(self, name: str | None = None) -> list[dict]:
        props = self.props.values() if name is None else [self.props[name]]
        return [p.to_wire(self.group, self.added_at.get(p.name, self.created_at))
                for p in props]
