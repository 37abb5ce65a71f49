"""The data world as Intercom records (API 2.x shapes): admins are the world's users, companies
and contacts the world's (a contact's company listed on it), conversations started by a
contact and assigned to an admin, articles written by admins. Times are epoch seconds."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime

from tenantsync.sandbox.datagen import World

WORKSPACE_ID = "ecahpwf5"


def epoch(moment: datetime) -> int:
    return int(moment.timestamp())


def admin_id(i: int) -> str:
    return str(814860 + i)


def company_id(i: int) -> str:
    return f"6601a0{i:018x}"


def contact_id(i: int) -> str:
    return f"65f1c0{i:018x}"


def _addressable(items: list[dict], url: str) -> dict:
    """A contact's list of related records, as Intercom nests them (at most 10 inline)."""
    return {"type": "list", "data": items, "url": url, "total_count": len(items),
            "has_more": False}


class IntercomWorld:
    def __init__(self, world: World):
        self.w = world

    def admins(self) -> Iterator[dict]:
        for u in self.w.iter("user"):
            yield {"type": "admin", "id": admin_id(u["index"]),
                   "name": f"{u['first_name']} {u['last_name']}", "email": u["email"],
                   "job_title": u["title"], "away_mode_enabled": not u["active"],
                   "away_mode_reassign": False, "has_inbox_seat": True, "team_ids": [],
                   "avatar": {"type": "avatar", "image_url": None}, "email_verified": True}

    def companies(self) -> Iterator[dict]:
        for c in self.w.iter("company"):
            people = len(self.w.contacts_of(c["index"]))
            yield {"type": "company", "id": company_id(c["index"]),
                   "company_id": f"ext-{c['index'] + 1}", "name": c["name"],
                   "app_id": WORKSPACE_ID, "created_at": epoch(c["created"]),
                   "updated_at": epoch(c["modified"]),
                   "remote_created_at": epoch(c["created"]),
                   "last_request_at": epoch(c["modified"]), "size": c["employees"],
                   "website": c["website"], "industry": c["industry"],
                   "monthly_spend": round(c["annual_revenue"] / 12_000, 2),
                   "session_count": people * 3, "user_count": people,
                   "plan": {"type": "plan", "id": "1", "name": c["tier"]},
                   "custom_attributes": {"rating": c["rating"]},
                   "tags": {"type": "tag.list", "tags": []},
                   "segments": {"type": "segment.list", "segments": []}}

    def contacts(self) -> Iterator[dict]:
        for p in self.w.iter("contact"):
            cid = contact_id(p["index"])
            company = {"type": "company", "id": company_id(p["company"]),
                       "url": f"/companies/{company_id(p['company'])}"}
            yield {"type": "contact", "id": cid, "workspace_id": WORKSPACE_ID,
                   "external_id": f"user-{p['index'] + 1}",
                   "role": "user" if p["lead_source"] != "Web" else "lead",
                   "email": p["email"], "phone": p["phone"],
                   "name": f"{p['first_name']} {p['last_name']}",
                   "owner_id": int(admin_id(p["owner"])), "has_hard_bounced": False,
                   "marked_email_as_spam": False, "unsubscribed_from_emails": p["do_not_call"],
                   "created_at": epoch(p["created"]), "updated_at": epoch(p["modified"]),
                   "signed_up_at": epoch(p["created"]), "last_seen_at": epoch(p["modified"]),
                   "custom_attributes": {"department": p["department"], "nps": p["nps"]},
                   "tags": _addressable([], f"/contacts/{cid}/tags"),
                   "companies": _addressable([company], f"/contacts/{cid}/companies"),
                   "location": {"type": "location", "country": p["address"]["country"],
                                "region": p["address"]["state"],
                                "city": p["address"]["city"]}}

    def conversations(self) -> Iterator[dict]:
        for c in self.w.iter("conversation"):
            person = self.w.get("contact", c["contact"]) if c["contact"] is not None else None
            author = ({"type": "user", "id": contact_id(c["contact"]),
                       "name": f"{person['first_name']} {person['last_name']}",
                       "email": person["email"]} if person else
                      {"type": "lead", "id": None, "name": None, "email": None})
            yield {"type": "conversation", "id": str(100_000 + c["index"]),
                   "title": c["subject"], "created_at": epoch(c["created"]),
                   "updated_at": epoch(c["modified"]),
                   "waiting_since": epoch(c["modified"]) if c["state"] == "open" else None,
                   "state": c["state"], "open": c["state"] == "open", "read": True,
                   "priority": "priority" if c["priority"] else "not_priority",
                   "admin_assignee_id": int(admin_id(c["owner"])), "team_assignee_id": None,
                   "source": {"type": "conversation", "id": str(400_000 + c["index"]),
                              "delivered_as": "customer_initiated", "subject": c["subject"],
                              "body": f"<p>{c['body']}</p>", "author": author},
                   "contacts": {"type": "contact.list", "contacts": [
                       {"type": "contact", "id": author["id"],
                        "external_id": f"user-{c['contact'] + 1}"}] if person else []},
                   "statistics": {"type": "conversation_statistics",
                                  "count_conversation_parts": c["parts"]},
                   "conversation_rating": {"rating": c["rating"]} if c["rating"] else None,
                   "tags": {"type": "tag.list", "tags": []}}

    def articles(self) -> Iterator[dict]:
        for a in self.w.iter("article"):
            aid = str(9_000_000 + a["index"])
            yield {"type": "article", "id": aid, "workspace_id": WORKSPACE_ID,
                   "title": a["title"], "description": a["title"],
                   "body": f"<p>{a['body']}</p>", "author_id": int(admin_id(a["author"])),
                   "state": "published" if a["published"] else "draft",
                   "created_at": epoch(a["created"]), "updated_at": epoch(a["modified"]),
                   "url": f"https://intercom.help/tenantsync/en/articles/{aid}",
                   "parent_id": None, "parent_type": None, "default_locale": "en"}
