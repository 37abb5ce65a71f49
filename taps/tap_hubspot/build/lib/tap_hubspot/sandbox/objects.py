"""The object types the HubSpot twin serves: one row each, the mechanics read this table.

A type is addressed on the wire by its name (`contacts`), its object type id (`0-1`, custom
`2-1234567`), or, for custom objects, `p_{name}` / the fully qualified `p{portal}_{name}`.
"""

from __future__ import annotations

from dataclasses import dataclass

from tap_hubspot.sandbox.properties import (
    STANDARD_PROPERTIES,
    Prop,
    PropertyTable,
    custom_object_properties,
)


@dataclass(frozen=True)
class ObjectType:
    name: str  # plural wire name: "contacts", or a custom object's name: "pets"
    type_id: str  # "0-1", custom "2-<n>"
    singular: str  # association type names: "contact_to_company"
    group: str  # default property group
    defaults: tuple[str, ...]  # properties returned when the request names none
    searchable: tuple[str, ...]  # what the search `query` text looks in
    id_base: int  # first record id, so ids of different types never look alike
    custom: bool = False

    @property
    def created_prop(self) -> str:
        return self.defaults[0]

    @property
    def modified_prop(self) -> str:
        return self.defaults[1]


def _t(name, type_id, singular, group, defaults, searchable, id_base) -> ObjectType:
    return ObjectType(name, type_id, singular, group, tuple(defaults.split()),
                      tuple(searchable.split()), id_base)


# Default properties per the docs' table (created and modified property first, by convention).
STANDARD_TYPES: tuple[ObjectType, ...] = (
    _t("contacts", "0-1", "contact", "contactinformation",
       "createdate lastmodifieddate email firstname hs_object_id lastname",
       "firstname lastname email phone company", 51),
    _t("companies", "0-2", "company", "companyinformation",
       "createdate hs_lastmodifieddate domain hs_object_id name", "name domain website phone",
       5_000_000_001),
    _t("deals", "0-3", "deal", "dealinformation",
       "createdate hs_lastmodifieddate amount closedate dealname dealstage hs_object_id pipeline",
       "dealname", 9_000_000_001),
    _t("tickets", "0-5", "ticket", "ticketinformation",
       "createdate hs_lastmodifieddate content hs_object_id hs_pipeline hs_pipeline_stage "
       "hs_ticket_category hs_ticket_priority subject", "subject content", 1_000_001),
    _t("products", "0-7", "product", "productinformation",
       "createdate hs_lastmodifieddate description hs_object_id name price", "name hs_sku",
       1_500_000_001),
    _t("line_items", "0-8", "line_item", "lineiteminformation",
       "createdate hs_lastmodifieddate amount hs_object_id hs_product_id name price quantity",
       "name", 3_000_000_001),
    _t("quotes", "0-14", "quote", "quoteinformation",
       "hs_createdate hs_lastmodifieddate hs_expiration_date hs_object_id hs_title", "hs_title",
       6_000_000_001),
    _t("calls", "0-48", "call", "call", "hs_createdate hs_lastmodifieddate hs_object_id",
       "hs_call_title hs_call_body", 20_000_000_001),
    _t("emails", "0-49", "email", "email", "hs_createdate hs_lastmodifieddate hs_object_id",
       "hs_email_subject hs_email_text", 21_000_000_001),
    _t("meetings", "0-47", "meeting", "meeting", "hs_createdate hs_lastmodifieddate hs_object_id",
       "hs_meeting_title hs_meeting_body", 22_000_000_001),
    _t("notes", "0-46", "note", "note", "hs_createdate hs_lastmodifieddate hs_object_id",
       "hs_note_body", 23_000_000_001),
    _t("tasks", "0-27", "task", "task", "hs_createdate hs_lastmodifieddate hs_object_id",
       "hs_task_subject hs_task_body", 24_000_000_001),
    _t("communications", "0-18", "communication", "communication",
       "hs_createdate hs_lastmodifieddate hs_object_id", "hs_communication_body",
       25_000_000_001),
    _t("postal_mail", "0-116", "postal_mail", "postal_mail",
       "hs_createdate hs_lastmodifieddate hs_object_id", "hs_postal_mail_body", 26_000_000_001),
    _t("leads", "0-136", "lead", "lead_information",
       "hs_createdate hs_lastmodifieddate hs_object_id hs_lead_name", "hs_lead_name",
       27_000_000_001),
    _t("goal_targets", "0-74", "goal_target", "goal_target_information",
       "hs_createdate hs_lastmodifieddate hs_object_id hs_goal_name", "hs_goal_name",
       28_000_000_001),
    _t("feedback_submissions", "0-19", "feedback_submission", "feedback_submission_information",
       "hs_createdate hs_lastmodifieddate hs_object_id", "hs_survey_name", 29_000_000_001),
)


@dataclass(frozen=True)
class CustomObjectSpec:
    """A portal-defined object (`/crm/v3/schemas`)."""

    name: str  # "pets"
    type_id: str  # "2-1234567"
    singular_label: str
    plural_label: str
    primary_display: str
    properties: tuple[Prop, ...]
    required: tuple[str, ...] = ()


PETS = CustomObjectSpec(
    "pets", "2-1234567", "Pet", "Pets", "pet_name",
    (
        Prop("pet_name", "Pet name", hubspot_defined=False),
        Prop("species", "Species", "enumeration", "select",
             (("dog", "Dog"), ("cat", "Cat"), ("rabbit", "Rabbit"), ("parrot", "Parrot")),
             hubspot_defined=False),
        Prop("age_years", "Age (years)", "number", hubspot_defined=False),
        Prop("vaccinated", "Vaccinated", "bool", hubspot_defined=False),
        Prop("adopted_on", "Adopted on", "date", hubspot_defined=False),
    ),
    required=("pet_name",),
)


def custom_type(spec: CustomObjectSpec, id_base: int) -> ObjectType:
    return ObjectType(
        spec.name, spec.type_id, spec.name.rstrip("s") or spec.name, f"{spec.name}_information",
        ("hs_createdate", "hs_lastmodifieddate", "hs_object_id", spec.primary_display),
        (spec.primary_display,), id_base, custom=True)


class TypeRegistry:
    """Resolves every wire spelling of an object type; owns the live property tables."""

    def __init__(self, portal_id: int, created_at: str):
        self.portal_id = portal_id
        self.created_at = created_at
        self.types: dict[str, ObjectType] = {}
        self.properties: dict[str, PropertyTable] = {}
        self.custom: dict[str, CustomObjectSpec] = {}
        self._aliases: dict[str, str] = {}
        for t in STANDARD_TYPES:
            self._register(t, STANDARD_PROPERTIES[t.name], (t.singular, t.type_id))

    def _register(self, t: ObjectType, props: tuple[Prop, ...], aliases: tuple[str, ...]):
        self.types[t.name] = t
        self.properties[t.name] = PropertyTable.of(t.group, self.created_at, props)
        # Custom objects are addressed by id or p_ name only, never by their bare name.
        for alias in (*aliases, *(() if t.custom else (t.name,))):
            self._aliases[alias.lower()] = t.name

    def add_custom(self, spec: CustomObjectSpec) -> ObjectType:
        if spec.name in self.types:
            raise ValueError(f"object type {spec.name!r} already exists")
        t = custom_type(spec, 40_000_000_001 + 1_000_000_000 * len(self.custom))
        self.custom[spec.name] = spec
        self._register(t, custom_object_properties(spec.properties),
                       (spec.type_id, f"p_{spec.name}", self.fully_qualified(spec.name)))
        return t

    def fully_qualified(self, name: str) -> str:
        return f"p{self.portal_id}_{name}"

    def resolve(self, spelling: str) -> ObjectType | None:
        name = self._aliases.get(spelling.lower())
        return self.types[name] if name else None
