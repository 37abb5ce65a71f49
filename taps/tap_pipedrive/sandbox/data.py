"""The data world as Pipedrive records: v2 shapes for deals, persons, organizations,
activities and products (RFC 3339 times, `custom_fields` nested, real booleans), v1 shapes for
notes, leads, pipelines, stages and users (`YYYY-MM-DD HH:MM:SS` times, custom fields at the
root under 40-hex keys). Documentation: developers.pipedrive.com/docs/api/v1 and /v2."""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Iterator
from datetime import datetime

from tenantsync.sandbox.datagen import DEAL_STAGES, PRODUCTS, World

PIPELINE_ID = 1
# Pipedrive stages are the open ones; won / lost is the deal's status.
OPEN_STAGES = [s for s in DEAL_STAGES if not s[2]]


def v2_time(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def v1_time(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M:%S")


def field_key(seed: int, entity: str, name: str) -> str:
    """A custom field's key: 40 hex characters, as Pipedrive makes them."""
    return hashlib.sha1(f"{seed}:{entity}:{name}".encode()).hexdigest()  # noqa: S324


# entity -> its custom fields (name, field_type); values come from the world
CUSTOM_FIELDS = {"deal": (("Forecast", "varchar"),), "person": (("NPS", "int"),),
                 "organization": (("Tier", "varchar"), ("Customer since", "date")),
                 "activity": (), "product": (), "note": ()}


def fields_of(seed: int, entity: str, standard: tuple[tuple[str, str, str], ...]) -> list[dict]:
    """The `/v1/{entity}Fields` listing: standard fields, then the custom ones."""
    out = [{"id": n + 1, "key": key, "name": name, "field_type": kind, "edit_flag": False}
           for n, (key, name, kind) in enumerate(standard)]
    for name, kind in CUSTOM_FIELDS[entity]:
        out.append({"id": len(out) + 1, "key": field_key(seed, entity, name), "name": name,
                    "field_type": kind, "edit_flag": True})
    return out


STANDARD_FIELDS = {
    "deal": (("title", "Title", "varchar"), ("value", "Value", "monetary"),
             ("stage_id", "Stage", "stage"), ("status", "Status", "status")),
    "person": (("name", "Name", "varchar"), ("email", "Email", "varchar"),
               ("phone", "Phone", "phone"), ("org_id", "Organization", "org")),
    "organization": (("name", "Name", "varchar"), ("address", "Address", "address")),
    "activity": (("subject", "Subject", "varchar"), ("type", "Type", "enum")),
    "product": (("name", "Name", "varchar"), ("code", "Product code", "varchar")),
    "note": (("content", "Content", "text"),),
}


class PipedriveWorld:
    def __init__(self, world: World, seed: int):
        self.w, self.seed = world, seed

    def custom(self, entity: str, **values) -> dict:
        return {field_key(self.seed, entity, name): values.get(name)
                for name, _ in CUSTOM_FIELDS[entity]}

    def user_id(self, index: int | None) -> int | None:
        return None if index is None else 1000 + index

    def users(self) -> Iterator[dict]:
        for u in self.w.iter("user"):
            yield {"id": self.user_id(u["index"]), "name": f"{u['first_name']} {u['last_name']}",
                   "email": u["email"], "active_flag": u["active"], "is_admin": u["index"] == 0,
                   "timezone_name": u["timezone"], "phone": u["phone"],
                   "created": v1_time(u["created"]), "modified": v1_time(u["modified"])}

    def organizations(self) -> Iterator[dict]:
        for c in self.w.iter("company"):
            a = c["address"]
            yield {"id": c["index"] + 1, "name": c["name"], "owner_id": self.user_id(c["owner"]),
                   "add_time": v2_time(c["created"]), "update_time": v2_time(c["modified"]),
                   "is_deleted": False, "visible_to": 3, "label_ids": [],
                   "address": {"value": f"{a['street']}, {a['city']}", "street_number":
                               a["street"].split(" ", 1)[0], "route": a["street"].split(" ", 1)[1],
                               "locality": a["city"], "admin_area_level_1": a["state"] or None,
                               "country": a["country"], "postal_code": a["postal_code"]},
                   "custom_fields": self.custom("organization", **{
                       "Tier": c["tier"], "Customer since": c["customer_since"]})}

    def persons(self) -> Iterator[dict]:
        for p in self.w.iter("contact"):
            yield {"id": p["index"] + 1, "name": f"{p['first_name']} {p['last_name']}",
                   "first_name": p["first_name"], "last_name": p["last_name"],
                   "owner_id": self.user_id(p["owner"]), "org_id": p["company"] + 1,
                   "add_time": v2_time(p["created"]), "update_time": v2_time(p["modified"]),
                   "is_deleted": False, "visible_to": 3, "label_ids": [],
                   "emails": [{"value": p["email"], "primary": True, "label": "work"}],
                   "phones": [{"value": p["phone"], "primary": True, "label": "work"},
                              {"value": p["mobile"], "primary": False, "label": "mobile"}],
                   "job_title": p["title"],
                   "custom_fields": self.custom("person", NPS=p["nps"])}

    def deals(self) -> Iterator[dict]:
        for d in self.w.iter("deal"):
            stage = next((n for n, s in enumerate(OPEN_STAGES, 1) if s[0] == d["stage"]),
                         len(OPEN_STAGES))
            status = "won" if d["won"] else "lost" if d["closed"] else "open"
            closed = v2_time(d["modified"]) if d["closed"] else None
            yield {"id": d["index"] + 1, "title": d["name"], "value": d["amount"],
                   "currency": "USD", "status": status, "stage_id": stage,
                   "pipeline_id": PIPELINE_ID, "probability": d["probability"],
                   "owner_id": self.user_id(d["owner"]),
                   "org_id": None if d["company"] is None else d["company"] + 1,
                   "person_id": None if d["contact"] is None else d["contact"] + 1,
                   "add_time": v2_time(d["created"]), "update_time": v2_time(d["modified"]),
                   "expected_close_date": d["close_date"], "close_time": closed,
                   "won_time": closed if status == "won" else None,
                   "lost_time": closed if status == "lost" else None,
                   "lost_reason": "Price" if status == "lost" else None,
                   "is_deleted": False, "visible_to": 3, "label_ids": [],
                   "custom_fields": self.custom("deal", Forecast=d["forecast"])}

    def activities(self) -> Iterator[dict]:
        for t in self.w.iter("task"):
            yield {"id": t["index"] + 1, "subject": t["subject"], "type": t["type"].lower(),
                   "done": t["completed"], "due_date": t["due_date"],
                   "owner_id": self.user_id(t["owner"]),
                   "deal_id": None if t["deal"] is None else t["deal"] + 1,
                   "person_id": None if t["contact"] is None else t["contact"] + 1,
                   "org_id": None if t["company"] is None else t["company"] + 1,
                   "note": t["description"], "add_time": v2_time(t["created"]),
                   "update_time": v2_time(t["modified"]), "is_deleted": False,
                   "custom_fields": {}}

    def products(self) -> Iterator[dict]:
        start = self.w.start
        for n, name in enumerate(PRODUCTS, 1):
            yield {"id": n, "name": name, "code": f"P-{n:03d}", "unit": "seat",
                   "tax": 0, "is_deleted": False, "is_linkable": True, "visible_to": 3,
                   "owner_id": self.user_id(0), "add_time": v2_time(start),
                   "update_time": v2_time(start),
                   "prices": [{"price": 100.0 * n, "currency": "USD", "cost": 0}],
                   "custom_fields": {}}

    def notes(self) -> Iterator[dict]:
        for e in self.w.iter("event"):
            yield {"id": e["index"] + 1, "content": f"{e['subject']}: {e['description']}",
                   "user_id": self.user_id(e["owner"]),
                   "deal_id": None if e["deal"] is None else e["deal"] + 1,
                   "person_id": None if e["contact"] is None else e["contact"] + 1,
                   "org_id": None if e["company"] is None else e["company"] + 1,
                   "add_time": v1_time(e["created"]), "update_time": v1_time(e["modified"]),
                   "active_flag": True, "pinned_to_deal_flag": False}

    def leads(self) -> Iterator[dict]:
        for ld in self.w.iter("lead"):
            rid = uuid.UUID(int=(self.seed << 64) + ld["index"] + 1)
            yield {"id": str(rid), "title": f"{ld['company_name']} lead",
                   "owner_id": self.user_id(ld["owner"]), "person_id": None,
                   "organization_id": None, "source_name": ld["lead_source"],
                   "is_archived": False, "was_seen": True, "label_ids": [],
                   "value": {"amount": ld["employees"] * 100, "currency": "USD"},
                   "expected_close_date": None,
                   "add_time": v2_time(ld["created"]).replace("Z", ".000Z"),
                   "update_time": v2_time(ld["modified"]).replace("Z", ".000Z")}

    def pipelines(self) -> Iterator[dict]:
        stamp = v1_time(self.w.start)
        yield {"id": PIPELINE_ID, "name": "Sales pipeline", "order_nr": 1, "active": True,
               "deal_probability": True, "add_time": stamp, "update_time": stamp}

    def stages(self) -> Iterator[dict]:
        stamp = v1_time(self.w.start)
        for n, (name, probability, _, _) in enumerate(OPEN_STAGES, 1):
            yield {"id": n, "name": name, "order_nr": n, "pipeline_id": PIPELINE_ID,
                   "pipeline_name": "Sales pipeline", "deal_probability": probability,
                   "active_flag": True, "rotten_flag": False, "add_time": stamp,
                   "update_time": stamp}
