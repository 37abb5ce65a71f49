"""Apollo's objects as data: one `RestObject` row each, and their fields (JSON types).
Documentation: docs.apollo.io/reference (search for accounts, contacts, sequences, users; list
email accounts).

Every object is full only: no Apollo search takes an updated-since filter (contacts and
accounts sort by their update time, but offer nothing to filter on it). Searches are paged
with `page` / `per_page` (at most 100) and answer `pagination {page, per_page, total_entries,
total_pages}`; at most 500 pages are displayed. Contacts and accounts are read oldest first
by creation time, so a record changed or created during a pass cannot move one that is still
to be read. Deletes: nothing marks a deleted record (it leaves the search); a full pass read to
its end sweeps the rest (see README.md: "Deletes").
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from tenantsync.tapkit.rest import Call, Page, RestObject, dig
from tenantsync.tapkit.rest.paging import put

PER_PAGE = 100  # the searches' maximum
MAX_PAGES = 500  # Apollo displays at most 500 pages (50,000 records) of a search


@dataclass(frozen=True)
class SearchPaging:
    """`page` / `per_page` in the JSON body (POST searches) or the query (GET); the next page
    while `pagination.page` (a number, or a number as text) is below `total_pages` and the
    display limit."""

    page_size: int = PER_PAGE
    in_body: bool = True

    def _with(self, call: Call, **values: int) -> Call:
        if self.in_body:
            body = call.json or {}
            for name, value in values.items():
                body = put(body, (name,), value)
            return replace(call, json=body)
        return call.with_params(**values)

    def first(self, call: Call) -> Call:
        return self._with(call, page=1, per_page=self.page_size)

    def next(self, call: Call, page: Page) -> Call | None:
        info = dig(page.body, ("pagination",)) or {}
        try:
            number, last = int(info["page"]), int(info["total_pages"])
        except (KeyError, TypeError, ValueError):
            return None
        if number >= min(last, MAX_PAGES) or not page.records:
            return None
        return self._with(call, page=number + 1)


class Unpaged:
    """A listing answered whole (email accounts)."""

    def first(self, call: Call) -> Call:
        return call

    def next(self, call: Call, page: Page) -> Call | None:
        return None


_TYPES = {"s": ["string", "null"], "i": ["integer", "null"], "n": ["number", "null"],
          "b": ["boolean", "null"], "o": ["object", "null"], "a": ["array", "null"]}


def _schema(spec: str) -> dict:
    """`"id:s created_at:t"` -> a JSON schema (t: date-time)."""
    props = {}
    for item in spec.split():
        name, kind = item.split(":")
        props[name] = ({"type": ["string", "null"], "format": "date-time"} if kind == "t"
                       else {"type": _TYPES[kind]})
    return {"type": "object", "properties": props}


_METRICS = " ".join(f"unique_{m}:i" for m in ("scheduled", "delivered", "bounced", "opened",
                                               "replied", "demoed", "clicked",
                                               "unsubscribed")) + " " + " ".join(
    f"{m}_rate:n" for m in ("bounce", "open", "click", "reply", "spam_blocked", "opt_out",
                            "demo"))
FIELDS = {
    "accounts": _schema("id:s name:s domain:s website_url:s phone:s sanitized_phone:s "
                        "raw_address:s owner_id:s organization_id:s account_stage_id:s "
                        "source:s label_ids:a created_at:t"),
    "contacts": _schema("id:s first_name:s last_name:s name:s title:s email:s email_status:s "
                        "account_id:s organization_name:s owner_id:s city:s state:s country:s "
                        "postal_code:s street_address:s phone_numbers:a label_ids:a "
                        "contact_stage_id:s source:s contact_campaign_statuses:a "
                        "created_at:t updated_at:t"),
    "users": _schema("id:s team_id:s first_name:s last_name:s name:s email:s title:s "
                     "created_at:t deleted:b"),
    "emailer_campaigns": _schema(f"id:s name:s archived:b active:b created_at:t user_id:s "
                                 f"permissions:s label_ids:a num_steps:i last_used_at:t "
                                 f"{_METRICS}"),
    "email_accounts": _schema("id:s user_id:s email:s type:s active:b default:b "
                              "last_synced_at:t created_at:t"),
}


def _search(name: str, path: str, key: str, *, method: str = "POST",
            sort: dict | None = None, modified: str = "created_at") -> RestObject:
    return RestObject(name, f"/api/v1/{path}", SearchPaging(in_body=method == "POST"),
                      records=(key,), method=method, body=dict(sort or {}) or None,
                      modified=modified,
                      note="full only: Apollo's searches take no updated-since filter")


OBJECTS: dict[str, RestObject] = {o.name: o for o in (
    _search("accounts", "accounts/search", "accounts",
            sort={"sort_by_field": "account_created_at", "sort_ascending": True}),
    _search("contacts", "contacts/search", "contacts",
            sort={"sort_by_field": "contact_created_at", "sort_ascending": True},
            modified="updated_at"),
    _search("users", "users/search", "users", method="GET"),
    _search("emailer_campaigns", "emailer_campaigns/search", "emailer_campaigns"),
    RestObject("email_accounts", "/api/v1/email_accounts", Unpaged(),
               records=("email_accounts",), modified="last_synced_at",
               note="full only: one unpaged listing"),
)}
