"""The data world as Apollo records (docs.apollo.io/reference): accounts, contacts (with their
`contact_campaign_statuses`: the sequence memberships), users, emailer campaigns (sequences)
and email accounts (mailboxes). Ids are 24 hex characters, like Apollo's; times are UTC with
milliseconds (`2024-01-02T03:04:05.000Z`)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from datetime import datetime

from tenantsync.sandbox.datagen import World

# id prefixes per table: ids stay distinct across tables and the next one is easy to make
PREFIX = {"accounts": "a0", "contacts": "c0", "users": "5e", "emailer_campaigns": "6a",
          "email_accounts": "ea", "contact_campaign_statuses": "cc"}
# the world's sequence states -> Apollo's membership (`status`, `inactive_reason`)
STATUSES = {"active": ("active", None), "paused": ("paused", "Paused manually"),
            "finished": ("finished", None), "bounced": ("bounced", "Email bounced"),
            "opted_out": ("finished", "Contact unsubscribed")}


def oid(table: str, seed: int, n: int) -> str:
    """Record n of `table` (24 hex characters: prefix, seed, number)."""
    return f"{PREFIX[table]}{seed & 0xFFFFFF:06x}{n:016x}"


def stamp(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def _phone_numbers(contact: dict) -> list[dict]:
    out = []
    for position, (number, kind) in enumerate(((contact["phone"], "work_hq"),
                                               (contact["mobile"], "mobile"))):
        if number:
            out.append({"raw_number": number, "sanitized_number": number.replace(" ", ""),
                        "type": kind, "position": position, "status": "no_status"})
    return out


class ApolloWorld:
    def __init__(self, world: World, seed: int):
        self.w, self.seed = world, seed

    def id(self, table: str, index: int | None) -> str | None:
        return None if index is None else oid(table, self.seed, index)

    def users(self) -> Iterator[dict]:
        for u in self.w.iter("user"):
            yield {"id": self.id("users", u["index"]), "team_id": oid("users", self.seed, 0),
                   "first_name": u["first_name"], "last_name": u["last_name"],
                   "name": f"{u['first_name']} {u['last_name']}", "email": u["email"],
                   "title": u["title"], "created_at": stamp(u["created"]),
                   "deleted": not u["active"]}

    def accounts(self) -> Iterator[dict]:
        for c in self.w.iter("company"):
            a = c["address"]
            yield {"id": self.id("accounts", c["index"]), "name": c["name"],
                   "domain": c["domain"], "website_url": c["website"],
                   "phone": c["phone"], "sanitized_phone": c["phone"].replace(" ", ""),
                   "raw_address": f"{a['street']}, {a['city']}, {a['country']}",
                   "owner_id": self.id("users", c["owner"]), "organization_id": None,
                   "account_stage_id": None, "source": "csv_import", "label_ids": [],
                   "created_at": stamp(c["created"])}

    def _memberships(self) -> dict[int, list[dict]]:
        """contact index -> its sequence memberships (the world's sequence states)."""
        out: dict[int, list[dict]] = defaultdict(list)
        for s in self.w.iter("sequence_state"):
            if s["contact"] is None or s["sequence"] is None:
                continue
            status, reason = STATUSES[s["state"]]
            out[s["contact"]].append({
                "id": self.id("contact_campaign_statuses", s["index"]),
                "emailer_campaign_id": self.id("emailer_campaigns", s["sequence"]),
                "send_email_from_email_account_id": self.id("email_accounts", s["mailbox"]),
                "added_by_user_id": self.id("users", s["user"]),
                "status": status, "added_at": stamp(s["created"]),
                "current_step_position": s["step"], "inactive_reason": reason})
        return out

    def contacts(self) -> Iterator[dict]:
        memberships = self._memberships()
        for c in self.w.iter("contact"):
            a = c["address"]
            yield {"id": self.id("contacts", c["index"]), "first_name": c["first_name"],
                   "last_name": c["last_name"], "name": f"{c['first_name']} {c['last_name']}",
                   "title": c["title"], "email": c["email"], "email_status": "verified",
                   "account_id": self.id("accounts", c["company"]),
                   "organization_name": self.w.company_name(c["company"]),
                   "owner_id": self.id("users", c["owner"]), "city": a["city"],
                   "state": a["state"] or None, "country": a["country"],
                   "postal_code": a["postal_code"], "street_address": a["street"],
                   "phone_numbers": _phone_numbers(c), "label_ids": [],
                   "contact_stage_id": None, "source": "crm",
                   "contact_campaign_statuses": memberships.get(c["index"], []),
                   "created_at": stamp(c["created"]), "updated_at": stamp(c["modified"])}

    def emailer_campaigns(self) -> Iterator[dict]:
        for s in self.w.iter("sequence"):
            m = s["metrics"]
            delivered = max(1, m["delivered"])
            yield {"id": self.id("emailer_campaigns", s["index"]), "name": s["name"],
                   "archived": s["archived"], "active": s["active"],
                   "created_at": stamp(s["created"]), "user_id": self.id("users", s["owner"]),
                   "permissions": "team_can_use" if s["shared"] else "private",
                   "label_ids": list(s["tags"]), "num_steps": s["steps"],
                   "unique_scheduled": m["contacted"], "unique_delivered": m["delivered"],
                   "unique_bounced": m["bounced"], "unique_opened": m["opened"],
                   "unique_replied": m["replied"], "unique_demoed": 0,
                   "unique_clicked": m["clicked"], "unique_unsubscribed": m["opted_out"],
                   **{f"{rate}_rate": round(m[key] / delivered, 4) for rate, key in (
                       ("bounce", "bounced"), ("open", "opened"), ("click", "clicked"),
                       ("reply", "replied"), ("opt_out", "opted_out"))},
                   "spam_blocked_rate": 0.0, "demo_rate": 0.0,
                   "last_used_at": stamp(s["modified"])}

    def email_accounts(self) -> Iterator[dict]:
        for m in self.w.iter("mailbox"):
            yield {"id": self.id("email_accounts", m["index"]),
                   "user_id": self.id("users", m["user"]), "email": m["email"],
                   "type": m["provider"], "active": not m["disabled"], "default": m["primary"],
                   "last_synced_at": stamp(m["modified"]), "created_at": stamp(m["created"])}
