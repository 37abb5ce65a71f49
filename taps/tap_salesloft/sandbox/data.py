"""The data world as Salesloft's v2 records: people (world contacts), accounts (companies),
users, cadences (sequences), cadence_memberships (sequence states) and steps. Ids are
integers, references `{"_href", "id"}`, times ISO 8601 with microseconds and the offset.
Documentation: developers.salesloft.com/docs/api/."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timezone

from tenantsync.sandbox.datagen import World

PUBLIC_API = "https://api.salesloft.com/v2"  # references' `_href`, as Salesloft sends them
# the world's neutral sequence states as Salesloft's membership states
STATES = {"active": "active", "paused": "paused", "finished": "completed",
          "bounced": "removed", "opted_out": "removed"}
STEP_TYPES = {"auto_email": "email", "manual_email": "email", "call": "phone",
              "task": "other", "linkedin_send_message": "integration"}
TABLE = {"user": "users", "account": "accounts", "person": "people", "cadence": "cadences",
         "step": "steps"}


def stamp(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).isoformat(timespec="microseconds")


def ref(kind: str, index: int | None) -> dict | None:
    """A reference to the world entity `index` of `kind` (ids are index + 1)."""
    if index is None:
        return None
    return {"_href": f"{PUBLIC_API}/{TABLE[kind]}/{index + 1}", "id": index + 1}


class SalesloftWorld:
    def __init__(self, world: World):
        self.w = world

    @staticmethod
    def _times(entity: dict) -> dict:
        return {"created_at": stamp(entity["created"]), "updated_at": stamp(entity["modified"])}

    def people(self) -> Iterator[dict]:
        for p in self.w.iter("contact"):
            act, company = self.w.contact_activity(p["index"]), p["company"]
            yield {"id": p["index"] + 1, "first_name": p["first_name"],
                   "last_name": p["last_name"],
                   "display_name": f"{p['first_name']} {p['last_name']}", "title": p["title"],
                   "email_address": p["email"], "personal_email_address": None,
                   "secondary_email_address": None, "phone": p["phone"], "home_phone": None,
                   "mobile_phone": p["mobile"], "city": p["address"]["city"],
                   "state": p["address"]["state"] or None, "country": p["address"]["country"],
                   "person_company_name": self.w.company_name(company),
                   "person_company_website": f"https://www.{self.w.company_domain(company)}",
                   "do_not_contact": p["do_not_call"], "last_contacted_at": None,
                   "owner": ref("user", p["owner"]), "account": ref("account", company),
                   "counts": {"emails_sent": act["opens"] + 2, "emails_viewed": act["opens"],
                              "emails_clicked": act["clicks"],
                              "emails_replied_to": act["replies"],
                              "emails_bounced": act["bounces"], "calls": 0},
                   "tags": [p["department"].lower()], "custom_fields": {}, **self._times(p)}

    def accounts(self) -> Iterator[dict]:
        for c in self.w.iter("company"):
            a = c["address"]
            yield {"id": c["index"] + 1, "name": c["name"], "domain": c["domain"],
                   "website": c["website"], "industry": c["industry"],
                   "size": str(c["employees"]), "city": a["city"], "state": a["state"] or None,
                   "country": a["country"], "owner": ref("user", c["owner"]), "creator": None,
                   "tags": [c["tier"].lower()],
                   "counts": {"people": len(self.w.contacts_of(c["index"]))},
                   "archived_at": None, "custom_fields": {}, **self._times(c)}

    def users(self) -> Iterator[dict]:
        for u in self.w.iter("user"):
            yield {"id": u["index"] + 1, "guid": f"0000-{u['index'] + 1:08d}",
                   "name": f"{u['first_name']} {u['last_name']}",
                   "first_name": u["first_name"], "last_name": u["last_name"],
                   "email": u["email"], "from_address": u["email"], "active": u["active"],
                   "time_zone": u["timezone"],
                   "role": {"id": "Admin" if u["index"] == 0 else "User"}, **self._times(u)}

    def cadences(self) -> Iterator[dict]:
        for s in self.w.iter("sequence"):
            m = s["metrics"]
            yield {"id": s["index"] + 1, "name": s["name"], "draft": not s["active"],
                   "archived_at": stamp(s["modified"]) if s["archived"] else None,
                   "shared": s["shared"], "team_cadence": False,
                   "current_state": "archived" if s["archived"] else
                   "active" if s["active"] else "draft",
                   "cadence_function": "outbound", "owner": ref("user", s["owner"]),
                   "creator": ref("user", s["owner"]), "tags": s["tags"],
                   "counts": {"cadence_people": m["contacted"],
                              "people_acted_on_count": m["delivered"],
                              "target_daily_people": 0, "opportunities_created": 0,
                              "meetings_booked": m["replied"] // 3}, **self._times(s)}

    def steps(self) -> Iterator[dict]:
        """A cadence's steps are numbered after it: id = cadence id * 100 + step number."""
        for s in self.w.iter("sequence"):
            for number, kind in enumerate(self.w.sequence_steps(s["index"]), 1):
                yield {"id": (s["index"] + 1) * 100 + number,
                       "name": f"Step {number}", "display_name": f"Day {number}: {kind}",
                       "type": STEP_TYPES[kind], "step_number": number, "day": number,
                       "cadence": ref("cadence", s["index"]),
                       "created_at": stamp(s["created"]), "updated_at": stamp(s["created"])}

    def cadence_memberships(self) -> Iterator[dict]:
        for st in self.w.iter("sequence_state"):
            state = STATES[st["state"]]
            yield {"id": st["index"] + 1, "added_at": stamp(st["created"]),
                   "cadence": ref("cadence", st["sequence"]),
                   "person": ref("person", st["contact"]), "user": ref("user", st["user"]),
                   "current_state": state,
                   "currently_on_cadence": state in ("active", "paused"),
                   "person_deleted": False, "latest_action": None,
                   "counts": {"views": st["opens"], "clicks": st["clicks"],
                              "replies": st["replies"], "calls": 0,
                              "sent_emails": st["step"], "bounces": int(st["bounced"])},
                   **self._times(st)}
