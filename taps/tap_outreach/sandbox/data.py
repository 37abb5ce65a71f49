"""The data world as Outreach's JSON:API resources (`type`, integer `id`, `attributes`,
`relationships`, `links`): accounts (world companies), prospects (contacts), users,
sequences, sequenceSteps, mailboxes and sequenceStates. Times are ISO 8601 with milliseconds
and `Z`. Documentation: developers.outreach.io/api/reference/."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime

from tenantsync.sandbox.datagen import World

PUBLIC_API = "https://api.outreach.io/api/v2"  # resources' `links.self`, as Outreach sends them
# the world's neutral sequence states as Outreach names them
STATES = {"active": "active", "paused": "paused", "finished": "finished",
          "bounced": "bounced", "opted_out": "opted_out"}
PROVIDER_TYPES = {"gmail": "gmail_api", "office365": "exchange_online",
                  "exchange": "exchange_server", "smtp": "smtp"}
TYPES = {"accounts": "account", "prospects": "prospect", "users": "user",
         "sequences": "sequence", "sequenceSteps": "sequenceStep", "mailboxes": "mailbox",
         "sequenceStates": "sequenceState", "stages": "stage"}
# An account's default prospect stages (Outreach, "Prospect stages"); clients such as singer-io
# tap-outreach read /stages first to check their credentials.
STAGES = ("Cold", "Approaching", "Replied", "Interested", "Not Interested", "Unresponsive",
          "Do Not Contact", "Bad Contact Info")


def stamp(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def ref(kind: str, index: int | None) -> dict:
    """A to-one relationship to the world entity `index` of `kind` (ids are index + 1)."""
    return {"data": None if index is None else {"type": kind, "id": index + 1}}


class OutreachWorld:
    def __init__(self, world: World):
        self.w = world

    def resource(self, table: str, rid: int, created: datetime, modified: datetime,
                 attributes: dict, relationships: dict | None = None) -> dict:
        return {"type": TYPES[table], "id": rid,
                "attributes": {**attributes, "createdAt": stamp(created),
                               "updatedAt": stamp(modified)},
                "relationships": relationships or {},
                "links": {"self": f"{PUBLIC_API}/{table}/{rid}"}}

    def accounts(self) -> Iterator[dict]:
        for c in self.w.iter("company"):
            yield self.resource("accounts", c["index"] + 1, c["created"], c["modified"], {
                "name": c["name"], "domain": c["domain"], "websiteUrl": c["website"],
                "industry": c["industry"], "numberOfEmployees": c["employees"],
                "locality": c["address"]["city"], "description": c["description"],
                "tags": [c["tier"].lower()], "named": c["type"] == "Customer",
                "custom1": c["tier"], "custom2": None},
                {"owner": ref("user", c["owner"]), "creator": ref("user", None)})

    def prospects(self) -> Iterator[dict]:
        for p in self.w.iter("contact"):
            a, act = p["address"], self.w.contact_activity(p["index"])
            yield self.resource("prospects", p["index"] + 1, p["created"], p["modified"], {
                "firstName": p["first_name"], "lastName": p["last_name"], "title": p["title"],
                "emails": [p["email"]],
                "emailContacts": [{"email": p["email"], "email_type": "work"}],
                "workPhones": [p["phone"]], "mobilePhones": [p["mobile"]], "homePhones": [],
                "otherPhones": [], "voipPhones": [],
                "addressStreet": a["street"], "addressStreet2": None, "addressCity": a["city"],
                "addressState": a["state"] or None, "addressZip": a["postal_code"],
                "addressCountry": a["country"], "openCount": act["opens"],
                "clickCount": act["clicks"], "replyCount": act["replies"],
                "bouncedCount": act["bounces"], "tags": [p["department"].lower()],
                "timeZone": None, "trashedAt": None, "custom1": p["lead_source"],
                "custom2": None},
                {"account": ref("account", p["company"]), "owner": ref("user", p["owner"]),
                 "creator": ref("user", None), "stage": ref("stage", None)})

    def stages(self) -> Iterator[dict]:
        since = min(u["created"] for u in self.w.iter("user"))
        for order, name in enumerate(STAGES, 1):
            yield self.resource("stages", order, since, since, {"name": name, "order": order,
                                                                "color": None})

    def users(self) -> Iterator[dict]:
        for u in self.w.iter("user"):
            yield self.resource("users", u["index"] + 1, u["created"], u["modified"], {
                "email": u["email"], "firstName": u["first_name"], "lastName": u["last_name"],
                "name": f"{u['first_name']} {u['last_name']}", "title": u["title"],
                "username": u["username"], "locked": not u["active"],
                "timeZone": u["timezone"], "phoneNumber": u["phone"]})

    def sequences(self) -> Iterator[dict]:
        for s in self.w.iter("sequence"):
            m = s["metrics"]
            yield self.resource("sequences", s["index"] + 1, s["created"], s["modified"], {
                "name": s["name"], "description": s["description"], "enabled": s["active"],
                "locked": s["archived"], "shareType": "shared" if s["shared"] else "private",
                "sequenceStepCount": s["steps"], "tags": s["tags"],
                "scheduleCount": m["contacted"], "openCount": m["opened"],
                "optOutCount": m["opted_out"], "clickCount": m["clicked"],
                "replyCount": m["replied"], "deliverCount": m["delivered"],
                "failureCount": 0, "bounceCount": m["bounced"],
                "neutralReplyCount": m["replied"] // 2, "negativeReplyCount": m["replied"] // 4,
                "positiveReplyCount": m["replied"] - m["replied"] // 2 - m["replied"] // 4,
                "numRepliedProspects": m["replied"], "numContactedProspects": m["contacted"]},
                {"owner": ref("user", s["owner"]), "creator": ref("user", s["owner"])})

    def sequenceSteps(self) -> Iterator[dict]:
        """Steps are numbered after their sequence: id = sequence id * 100 + order."""
        for s in self.w.iter("sequence"):
            for order, kind in enumerate(self.w.sequence_steps(s["index"]), 1):
                yield self.resource("sequenceSteps", (s["index"] + 1) * 100 + order,
                                    s["created"], s["created"], {
                    "stepType": kind, "order": order, "interval": 86400 * (order - 1),
                    "displayName": f"Step {order}: {kind.replace('_', ' ')}"},
                    {"sequence": ref("sequence", s["index"])})

    def mailboxes(self) -> Iterator[dict]:
        for m in self.w.iter("mailbox"):
            user = self.w.get("user", m["user"])
            yield self.resource("mailboxes", m["index"] + 1, m["created"], m["modified"], {
                "email": m["email"], "senderName": f"{user['first_name']} {user['last_name']}",
                "sendDisabled": m["disabled"], "providerType": PROVIDER_TYPES[m["provider"]],
                "maxEmailsPerDay": m["daily_limit"], "userId": m["user"] + 1},
                {"user": ref("user", m["user"])})

    def sequenceStates(self) -> Iterator[dict]:
        for st in self.w.iter("sequence_state"):
            contact = st["contact"]
            company = self.w.company_of_contact(contact) if contact is not None else None
            step = None if st["sequence"] is None else (st["sequence"] + 1) * 100 + st["step"]
            yield self.resource("sequenceStates", st["index"] + 1, st["created"],
                                st["modified"], {
                "state": STATES[st["state"]], "stateChangedAt": stamp(st["modified"]),
                "activeAt": stamp(st["created"]), "pauseReason": st["pause_reason"],
                "errorReason": None, "openCount": st["opens"], "clickCount": st["clicks"],
                "replyCount": st["replies"], "bounceCount": int(st["bounced"]),
                "deliverCount": st["step"]},
                {"prospect": ref("prospect", contact), "sequence": ref("sequence", st["sequence"]),
                 "mailbox": ref("mailbox", st["mailbox"]), "creator": ref("user", st["user"]),
                 "account": ref("account", company),
                 "sequenceStep": {"data": None if step is None else
                                  {"type": "sequenceStep", "id": step}}})
