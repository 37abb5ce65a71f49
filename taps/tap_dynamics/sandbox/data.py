"""The data world as Dataverse records: entity metadata (`EntityDefinitions` with their
attributes and types) and records keyed by GUIDs, lookups as `_<attribute>_value`, times as
`YYYY-MM-DDTHH:MM:SSZ`. Documentation: learn.microsoft.com/power-apps/developer/data-platform
/webapi (query-data-web-api, retrieve-metadata-name-metadataid, use-change-tracking)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime

from tenantsync.sandbox.datagen import DEAL_STAGES, World

_NS = uuid.UUID("6f1d3c1e-5b0a-4f44-9a39-3f0b7c9d2e11")
PREFIX = "cr1a2"  # the default publisher's customization prefix of this org
PROCESS = "Lead to Opportunity Sales Process"


@dataclass(frozen=True)
class Entity:
    """One table: logical name, entity set, primary id, change tracking, attributes
    ("name:AttributeType ..."; a Lookup/Owner/Customer `x` is `_x_value` in records)."""

    logical: str
    set: str
    attributes: str
    change_tracking: bool = True
    custom: bool = False

    @property
    def key(self) -> str:
        return f"{self.logical}id"

    def attribute_types(self) -> dict[str, str]:
        return dict(item.split(":") for item in self.attributes.split())


_STAMPS = "createdon:DateTime modifiedon:DateTime ownerid:Owner statecode:State"
_ADDRESS = ("address1_line1:String address1_city:String address1_stateorprovince:String "
            "address1_postalcode:String address1_country:String")
ENTITIES = {e.set: e for e in (
    Entity("account", "accounts", f"accountid:Uniqueidentifier name:String description:Memo "
           f"industrycode:Picklist websiteurl:String numberofemployees:Integer revenue:Money "
           f"telephone1:String {_ADDRESS} {PREFIX}_tier:String {_STAMPS}"),
    Entity("contact", "contacts", f"contactid:Uniqueidentifier firstname:String "
           f"lastname:String fullname:String emailaddress1:String telephone1:String "
           f"mobilephone:String jobtitle:String parentcustomerid:Customer {_ADDRESS} "
           f"{_STAMPS}"),
    Entity("lead", "leads", f"leadid:Uniqueidentifier subject:String firstname:String "
           f"lastname:String companyname:String emailaddress1:String telephone1:String "
           f"leadsourcecode:Picklist parentcontactid:Lookup parentaccountid:Lookup "
           f"{_ADDRESS} {_STAMPS}"),
    Entity("opportunity", "opportunities", f"opportunityid:Uniqueidentifier name:String "
           f"description:Memo estimatedvalue:Money estimatedclosedate:DateTime "
           f"actualclosedate:DateTime closeprobability:Integer parentaccountid:Lookup "
           f"stageid:Uniqueidentifier {_STAMPS}"),
    Entity("systemuser", "systemusers", "systemuserid:Uniqueidentifier fullname:String "
           "firstname:String lastname:String internalemailaddress:String title:String "
           "isdisabled:Boolean createdon:DateTime modifiedon:DateTime",
           change_tracking=False),
    Entity(f"{PREFIX}_project", f"{PREFIX}_projects", f"{PREFIX}_projectid:Uniqueidentifier "
           f"{PREFIX}_name:String {PREFIX}_budget:Money {PREFIX}_status:Picklist {_STAMPS}",
           change_tracking=False, custom=True),
)}
LOOKUPS = ("Lookup", "Owner", "Customer")


def record_field(attribute: str, kind: str) -> str:
    return f"_{attribute}_value" if kind in LOOKUPS else attribute


def stamp(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def guid(seed: int, kind: str, index: int | None) -> str | None:
    return None if index is None else str(uuid.uuid5(_NS, f"{seed}:{kind}:{index}"))


class DynamicsWorld:
    def __init__(self, world: World, seed: int):
        self.w, self.seed = world, seed

    def _base(self, kind: str, entity: str, e: dict) -> dict:
        return {f"{entity}id": guid(self.seed, kind, e["index"]),
                "_ownerid_value": guid(self.seed, "user", e.get("owner")),
                "createdon": stamp(e["created"]), "modifiedon": stamp(e["modified"]),
                "statecode": 0, "@odata.etag": f'W/"{1000 + e["index"]}"'}

    @staticmethod
    def _address(a: dict) -> dict:
        return {"address1_line1": a["street"], "address1_city": a["city"],
                "address1_stateorprovince": a["state"], "address1_postalcode": a["postal_code"],
                "address1_country": a["country"]}

    def systemusers(self) -> Iterator[dict]:
        for u in self.w.iter("user"):
            yield {"systemuserid": guid(self.seed, "user", u["index"]),
                   "fullname": f"{u['first_name']} {u['last_name']}",
                   "firstname": u["first_name"], "lastname": u["last_name"],
                   "internalemailaddress": u["email"], "title": u["title"],
                   "isdisabled": not u["active"], "createdon": stamp(u["created"]),
                   "modifiedon": stamp(u["modified"]), "@odata.etag": f'W/"{u["index"]}"'}

    def accounts(self) -> Iterator[dict]:
        for c in self.w.iter("company"):
            yield {**self._base("company", "account", c), "name": c["name"],
                   "description": c["description"], "industrycode": 1 + len(c["industry"]) % 30,
                   "websiteurl": c["website"], "numberofemployees": c["employees"],
                   "revenue": float(c["annual_revenue"]), "telephone1": c["phone"],
                   **self._address(c["address"]), f"{PREFIX}_tier": c["tier"]}

    def contacts(self) -> Iterator[dict]:
        for p in self.w.iter("contact"):
            yield {**self._base("contact", "contact", p), "firstname": p["first_name"],
                   "lastname": p["last_name"], "fullname": f"{p['first_name']} {p['last_name']}",
                   "emailaddress1": p["email"], "telephone1": p["phone"],
                   "mobilephone": p["mobile"], "jobtitle": p["title"],
                   "_parentcustomerid_value": guid(self.seed, "company", p["company"]),
                   **self._address(p["address"])}

    def leads(self) -> Iterator[dict]:
        for ld in self.w.iter("lead"):
            converted = ld["converted"]
            yield {**self._base("lead", "lead", ld), "subject": f"{ld['company_name']} lead",
                   "firstname": ld["first_name"], "lastname": ld["last_name"],
                   "companyname": ld["company_name"], "emailaddress1": ld["email"],
                   "telephone1": ld["phone"], "leadsourcecode": 1 + len(ld["lead_source"]) % 10,
                   "_parentcontactid_value": None, "_parentaccountid_value": None,
                   **self._address(ld["address"]), "statecode": 1 if converted else 0}

    def opportunities(self) -> Iterator[dict]:
        for d in self.w.iter("deal"):
            state = (1 if d["won"] else 2) if d["closed"] else 0
            yield {**self._base("deal", "opportunity", d), "name": d["name"],
                   "description": d["description"], "estimatedvalue": float(d["amount"]),
                   "estimatedclosedate": f"{d['close_date']}T00:00:00Z",
                   "actualclosedate": f"{d['close_date']}T00:00:00Z" if d["closed"] else None,
                   "closeprobability": d["probability"],
                   "_parentaccountid_value": guid(self.seed, "company", d["company"]),
                   "stageid": self.stage_id(d["stage"]), "statecode": state}

    def cr1a2_projects(self) -> Iterator[dict]:
        for c in self.w.iter("campaign"):
            base = self._base("campaign", f"{PREFIX}_project", c)
            yield {**base, f"{PREFIX}_name": c["name"], f"{PREFIX}_budget": float(c["budget"]),
                   f"{PREFIX}_status": 1 + ["Planned", "In Progress", "Completed",
                                            "Aborted"].index(c["status"])}

    def stage_id(self, name: str) -> str:
        return str(uuid.uuid5(_NS, f"stage:{name}"))

    def processstages(self) -> Iterator[dict]:
        for name, *_ in DEAL_STAGES:
            yield {"processstageid": self.stage_id(name), "stagename": name,
                   "modifiedon": stamp(self.w.start)}
