"""The neutral data world (tenantsync.sandbox.datagen) as HubSpot records.

One mapper per HubSpot object type: it reads world entities and yields `Seed`s (record id,
property values as HubSpot types them, created/modified times, associations). Record ids derive
from (type, world index) so references need no lookup. Where HubSpot models a world kind
differently, the table below says how:

    company -> companies        contact, lead -> contacts (leads: lifecyclestage "lead")
    deal -> deals, plus one line item and one note per deal (its next step)
    deal_contact -> extra deal-contact associations     ticket -> tickets
    task -> calls / emails / tasks by task type          event -> meetings
    invoice -> quotes          user -> owners            products: the world's catalogue
    pets (custom object): one per four contacts
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone

from tenantsync.sandbox.datagen import PRODUCTS, World

# Owners and users: ids in HubSpot's ranges, derived from the world's user index.
OWNER_BASE, USER_BASE = 41_000_001, 7_100_001


def hs_datetime(moment: datetime) -> str:
    """HubSpot's datetime value: ISO-8601 UTC with milliseconds and `Z`."""
    m = moment.astimezone(timezone.utc)
    return m.strftime("%Y-%m-%dT%H:%M:%S.") + f"{m.microsecond // 1000:03d}Z"


def owner_id(user_index: int | None) -> str | None:
    return None if user_index is None else str(OWNER_BASE + user_index)


@dataclass
class Seed:
    id: int
    props: dict[str, object]  # values as Python values; the twin formats them as HubSpot does
    created: datetime
    modified: datetime
    links: list[tuple[str, int]] = field(default_factory=list)  # (to type, to id)


def _midnight(day: str) -> datetime:
    return datetime.combine(date.fromisoformat(day), datetime.min.time(), timezone.utc)


def _h(i: int, salt: int) -> int:
    """A cheap deterministic hash for values the world does not carry."""
    return ((i + 1) * 2654435761 + salt * 40503) % 4294967291


INDUSTRY = {
    "Technology": "COMPUTER_SOFTWARE", "Manufacturing": "MACHINERY",
    "Healthcare": "HOSPITAL_HEALTH_CARE", "Finance": "FINANCIAL_SERVICES", "Retail": "RETAIL",
    "Energy": "OIL_ENERGY", "Education": "EDUCATION_MANAGEMENT", "Media": "MEDIA_PRODUCTION",
    "Transportation": "TRANSPORTATION_TRUCKING_RAILROAD", "Hospitality": "HOSPITALITY",
    "Construction": "CONSTRUCTION", "Insurance": "INSURANCE",
    "Telecommunications": "TELECOMMUNICATIONS", "Biotechnology": "BIOTECHNOLOGY",
    "Consulting": "MANAGEMENT_CONSULTING", "Government": "GOVERNMENT_ADMINISTRATION",
    "Agriculture": "FARMING",
}
COMPANY_TYPE = {"Customer": (None, "customer"), "Prospect": ("PROSPECT", "opportunity"),
                "Partner": ("PARTNER", "evangelist"), "Other": ("OTHER", "other")}
CONTACT_STAGES = ("subscriber", "lead", "marketingqualifiedlead", "salesqualifiedlead",
                  "opportunity", "customer", "customer", "evangelist", "lead", "customer")
LEAD_STATUS = {"Open - Not Contacted": "NEW", "Working - Contacted": "IN_PROGRESS",
               "Closed - Converted": "CONNECTED", "Closed - Not Converted": "UNQUALIFIED"}
DEAL_STAGE = {"Prospecting": "appointmentscheduled", "Qualification": "qualifiedtobuy",
              "Needs Analysis": "presentationscheduled", "Proposal": "decisionmakerboughtin",
              "Negotiation": "contractsent", "Closed Won": "closedwon",
              "Closed Lost": "closedlost"}
TICKET_STAGE = {"New": "1", "Working": "2", "Escalated": "3", "Closed": "4"}
TICKET_PRIORITY = {"Low": "LOW", "Medium": "MEDIUM", "High": "HIGH", "Critical": "HIGH"}
TICKET_CATEGORY = {"Question": "GENERAL_INQUIRY", "Problem": "PRODUCT_ISSUE",
                   "Feature Request": "FEATURE_REQUEST"}
TASK_STATUS = {"Completed": "COMPLETED", "Not Started": "NOT_STARTED",
               "In Progress": "IN_PROGRESS", "Waiting on someone else": "WAITING"}
TASK_PRIORITY = {"High": "HIGH", "Normal": "MEDIUM", "Low": "LOW"}
QUOTE_STATUS = {"Draft": "DRAFT", "Sent": "PENDING_APPROVAL", "Paid": "APPROVED",
                "Overdue": "APPROVED", "Void": "REJECTED"}
# world task type -> the HubSpot engagement type it is logged as
TASK_KIND = {"Call": "calls", "Email": "emails", "Meeting": "tasks", "Other": "tasks"}
PRODUCT_PRICES = (12_000, 48_000, 6_500, 15_000, 1_200, 8_000, 4_500, 9_900, 25_000)
PET_NAMES = ("Biscuit", "Luna", "Max", "Bella", "Charlie", "Daisy", "Milo", "Coco", "Rocky",
             "Pepper", "Nala", "Oscar", "Ziggy", "Hazel", "Toby")
PET_SPECIES = ("dog", "cat", "rabbit", "parrot")


class HubSpotWorld:
    """Maps a `World` onto HubSpot object types; `id_base`: type name -> first record id."""

    def __init__(self, world: World, id_base: dict[str, int], seed: int):
        self.w, self.base, self.seed = world, id_base, seed

    def rid(self, type_name: str, index: int | None) -> int | None:
        return None if index is None else self.base[type_name] + index

    def contact_id(self, kind: str, index: int | None) -> int | None:
        """Contacts come from world contacts, then world leads, in one id sequence."""
        if index is None:
            return None
        offset = 0 if kind == "contact" else self.w.counts["contact"]
        return self.base["contacts"] + offset + index

    def mappers(self) -> dict[str, Callable[[], Iterator[Seed]]]:
        return {"companies": self.companies, "contacts": self.contacts, "deals": self.deals,
                "line_items": self.line_items, "notes": self.notes, "tickets": self.tickets,
                "products": self.products, "quotes": self.quotes, "meetings": self.meetings,
                **{t: (lambda t=t: self.engagements(t)) for t in ("calls", "emails", "tasks")}}

    def owners(self) -> Iterator[dict]:
        for u in self.w.iter("user"):
            i = u["index"]
            yield {"id": owner_id(i), "email": u["email"], "firstName": u["first_name"],
                   "lastName": u["last_name"], "userId": USER_BASE + i,
                   "userIdIncludingInactive": USER_BASE + i, "type": "PERSON",
                   "createdAt": hs_datetime(u["created"]), "updatedAt": hs_datetime(u["modified"]),
                   "archived": not u["active"],
                   "teams": [{"id": "5100001", "name": "Sales", "primary": True}]}

    # -- CRM objects ---------------------------------------------------------------------------

    def companies(self) -> Iterator[Seed]:
        for e in self.w.iter("company"):
            kind, stage = COMPANY_TYPE[e["type"]]
            a = e["address"]
            yield Seed(self.rid("companies", e["index"]), {
                "name": e["name"], "domain": e["domain"], "website": e["website"],
                "description": e["description"], "industry": INDUSTRY[e["industry"]],
                "numberofemployees": e["employees"], "annualrevenue": e["annual_revenue"],
                "phone": e["phone"], "address": a["street"], "city": a["city"],
                "state": a["state"], "zip": a["postal_code"], "country": a["country"],
                "lifecyclestage": stage, "type": kind, "hubspot_owner_id": owner_id(e["owner"]),
            }, e["created"], e["modified"])

    def contacts(self) -> Iterator[Seed]:
        for e in self.w.iter("contact"):
            a, i = e["address"], e["index"]
            company = self.rid("companies", e["company"])
            yield Seed(self.contact_id("contact", i), {
                "firstname": e["first_name"], "lastname": e["last_name"], "email": e["email"],
                "phone": e["phone"], "mobilephone": e["mobile"], "jobtitle": e["title"],
                "company": self.w.company_name(e["company"]), "address": a["street"],
                "city": a["city"], "state": a["state"], "zip": a["postal_code"],
                "country": a["country"], "lifecyclestage": CONTACT_STAGES[i % 10],
                "associatedcompanyid": company, "hubspot_owner_id": owner_id(e["owner"]),
            }, e["created"], e["modified"], [("companies", company)])
        for e in self.w.iter("lead"):
            a = e["address"]
            yield Seed(self.contact_id("lead", e["index"]), {
                "firstname": e["first_name"], "lastname": e["last_name"], "email": e["email"],
                "phone": e["phone"], "jobtitle": e["title"], "company": e["company_name"],
                "address": a["street"], "city": a["city"], "state": a["state"],
                "zip": a["postal_code"], "country": a["country"], "lifecyclestage": "lead",
                "hs_lead_status": LEAD_STATUS[e["status"]],
                "hubspot_owner_id": owner_id(e["owner"]),
            }, e["created"], e["modified"])

    def deals(self) -> Iterator[Seed]:
        for e in self.w.iter("deal"):
            links = [("companies", self.rid("companies", e["company"])),
                     ("contacts", self.contact_id("contact", e["contact"]))]
            yield Seed(self.rid("deals", e["index"]), {
                "dealname": e["name"], "amount": e["amount"], "description": e["description"],
                "dealstage": DEAL_STAGE[e["stage"]], "pipeline": "default",
                "closedate": _midnight(e["close_date"]), "hs_is_closed": e["closed"],
                "hs_is_closed_won": e["won"], "hubspot_owner_id": owner_id(e["owner"]),
            }, e["created"], e["modified"], [link for link in links if link[1] is not None])

    def contact_roles(self) -> Iterator[tuple[str, int, str, int]]:
        """The world's extra deal contacts, as deal-contact associations."""
        for e in self.w.iter("deal_contact"):
            if e["deal"] is not None and e["contact"] is not None:
                yield ("deals", self.rid("deals", e["deal"]), "contacts",
                       self.contact_id("contact", e["contact"]))

    def line_items(self) -> Iterator[Seed]:
        for e in self.w.iter("deal"):
            product = e["name"].rsplit(" - ", 1)[-1]
            p = PRODUCTS.index(product) if product in PRODUCTS else 0
            quantity = 1 + _h(e["index"], 3) % 5
            yield Seed(self.rid("line_items", e["index"]), {
                "name": PRODUCTS[p], "hs_product_id": self.rid("products", p),
                "quantity": quantity, "price": e["amount"], "amount": e["amount"] * quantity,
            }, e["created"], e["modified"], [("deals", self.rid("deals", e["index"]))])

    def notes(self) -> Iterator[Seed]:
        for e in self.w.iter("deal"):
            links = [("deals", self.rid("deals", e["index"])),
                     ("companies", self.rid("companies", e["company"]))]
            yield Seed(self.rid("notes", e["index"]), {
                "hs_timestamp": e["modified"],
                "hs_note_body": f"<p>Next step: {e['next_step']}. {e['description']}</p>",
                "hubspot_owner_id": owner_id(e["owner"]),
            }, e["created"], e["modified"], [link for link in links if link[1] is not None])

    def tickets(self) -> Iterator[Seed]:
        for e in self.w.iter("ticket"):
            links = [("contacts", self.contact_id("contact", e["contact"])),
                     ("companies", self.rid("companies", e["company"]))]
            yield Seed(self.rid("tickets", e["index"]), {
                "subject": e["subject"], "content": e["description"], "hs_pipeline": "0",
                "hs_pipeline_stage": TICKET_STAGE[e["status"]],
                "hs_ticket_priority": TICKET_PRIORITY[e["priority"]],
                "hs_ticket_category": TICKET_CATEGORY[e["type"]],
                "hubspot_owner_id": owner_id(e["owner"]),
            }, e["created"], e["modified"], [link for link in links if link[1] is not None])

    def products(self) -> Iterator[Seed]:
        start = self.w.start
        for i, name in enumerate(PRODUCTS):
            created = start + timedelta(days=i)
            yield Seed(self.rid("products", i), {
                "name": name, "description": f"{name} (annual)", "price": PRODUCT_PRICES[i],
                "hs_sku": f"SKU-{1001 + i}", "hs_cost_of_goods_sold": PRODUCT_PRICES[i] // 4,
            }, created, created + timedelta(days=30 + i))

    def quotes(self) -> Iterator[Seed]:
        for e in self.w.iter("invoice"):
            links = [("deals", self.rid("deals", e["deal"]))]
            yield Seed(self.rid("quotes", e["index"]), {
                "hs_title": f"Quote {e['number'].replace('INV', 'Q')}",
                "hs_expiration_date": e["due_date"], "hs_status": QUOTE_STATUS[e["status"]],
                "hs_quote_amount": e["amount"],
            }, e["created"], e["modified"], [link for link in links if link[1] is not None])

    def _activity_links(self, e: dict) -> list[tuple[str, int]]:
        links = [("contacts", self.contact_id("contact", e["contact"])),
                 ("companies", self.rid("companies", e["company"])),
                 ("deals", self.rid("deals", e["deal"]))]
        return [link for link in links if link[1] is not None]

    def engagements(self, type_name: str) -> Iterator[Seed]:
        """Calls, emails and tasks: the world's tasks, split by their type."""
        for e in self.w.iter("task"):
            if TASK_KIND[e["type"]] != type_name:
                continue
            i, due = e["index"], _midnight(e["due_date"])
            props: dict[str, object] = {"hs_timestamp": due,
                                        "hubspot_owner_id": owner_id(e["owner"])}
            if type_name == "calls":
                props |= {"hs_call_title": e["subject"], "hs_call_body": e["description"],
                          "hs_call_duration": 60_000 * (1 + _h(i, 5) % 30),
                          "hs_call_direction": "OUTBOUND",
                          "hs_call_status": "COMPLETED" if e["completed"] else "NO_ANSWER"}
            elif type_name == "emails":
                props |= {"hs_email_subject": e["subject"], "hs_email_text": e["description"],
                          "hs_email_direction": "EMAIL", "hs_email_status": "SENT"}
            else:
                props |= {"hs_task_subject": e["subject"], "hs_task_body": e["description"],
                          "hs_task_status": TASK_STATUS[e["status"]],
                          "hs_task_priority": TASK_PRIORITY[e["priority"]],
                          "hs_task_type": "TODO"}
            yield Seed(self.rid(type_name, i), props, e["created"], e["modified"],
                       self._activity_links(e))

    def meetings(self) -> Iterator[Seed]:
        for e in self.w.iter("event"):
            yield Seed(self.rid("meetings", e["index"]), {
                "hs_timestamp": e["start"], "hs_meeting_title": e["subject"],
                "hs_meeting_body": e["description"], "hs_meeting_start_time": e["start"],
                "hs_meeting_end_time": e["end"],
                "hs_meeting_outcome": "COMPLETED" if e["end"] < self.w.now else "SCHEDULED",
                "hubspot_owner_id": owner_id(e["owner"]),
            }, e["created"], e["modified"], self._activity_links(e))

    def pets(self, type_name: str) -> Iterator[Seed]:
        """The custom object: one pet per four contacts, owned by the first of them."""
        for i in range(self.w.counts["contact"] // 4):
            rng = random.Random(self.seed * 1_000_003 + i)
            contact = self.w.get("contact", 4 * i)
            created = contact["created"] + timedelta(days=rng.randrange(1, 90))
            created = min(created, self.w.now - timedelta(days=1))
            yield Seed(self.rid(type_name, i), {
                "pet_name": rng.choice(PET_NAMES), "species": rng.choice(PET_SPECIES),
                "age_years": rng.randrange(1, 16), "vaccinated": rng.random() < 0.8,
                "adopted_on": (created - timedelta(days=rng.randrange(30, 2000))).date(),
                "hubspot_owner_id": owner_id(contact["owner"]),
            }, created, min(created + timedelta(hours=rng.randrange(1, 500)), self.w.now),
                [("contacts", self.contact_id("contact", 4 * i))])
