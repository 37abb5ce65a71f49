"""Intercom's standard objects as data: one `RestObject` row each, and their fields.
Documentation: developers.intercom.com (REST API 2.x: Contacts, Conversations, Companies,
Admins, Articles; Search; Pagination).

- `contact`, `conversation`: incremental through `POST /contacts/search` and
  `POST /conversations/search`, sorted by `updated_at` ascending, 150 a page (the maximum),
  `pages.next.starting_after` sent back as `pagination.starting_after`. Search compares
  timestamps as dates, so `updated_at > S` alone would miss what changed later on S's day:
  the query is `updated_at > S OR updated_at = S` with S the bookmark's day (epoch seconds);
  the day's records are read again, none is missed.
- `company`: full only, through the scroll API (`GET /companies/scroll`, `scroll_param`):
  one open scroll per workspace, so a scroll is never run in parallel; it ends on an empty page.
- `admin` (`GET /admins`, one page) and `article` (`GET /articles`, page numbers with
  `pages.next` a URL): full only, as in Supaglue (admins have no update time).
Intercom lists no deletes: a full sync's sweep removes what is gone (companies, articles,
admins); deleted or merged contacts simply leave search.
"""

from __future__ import annotations

from typing import Any

from tenantsync.tapkit.rest import CursorPaging, Incremental, NextLinkPaging, RestObject

PER_PAGE = 150  # search's maximum
SEARCH_PAGING = CursorPaging(("pages", "next", "starting_after"), PER_PAGE,
                             cursor_param="pagination.starting_after",
                             size_param="pagination.per_page", in_body=True)
SCROLL_PAGING = CursorPaging(("scroll_param",), cursor_param="scroll_param", size_param=None)
ONE_PAGE = CursorPaging(("pages", "next", "starting_after"), size_param=None)  # admins
ARTICLE_PAGING = NextLinkPaging(("pages", "next"), PER_PAGE, "per_page")
SINCE_DAY = {"operator": "OR", "value": [
    {"field": "updated_at", "operator": ">", "value": "{}"},
    {"field": "updated_at", "operator": "=", "value": "{}"}]}
SORTED = {"sort": {"field": "updated_at", "order": "ascending"},
          "query": {"field": "updated_at", "operator": ">", "value": 0}}  # everything


def _search(name: str, path: str, records: str) -> RestObject:
    return RestObject(name, path, SEARCH_PAGING, records=(records,), method="POST",
                      body=SORTED, modified="updated_at",
                      incremental=Incremental("updated_at", body_path=("query",),
                                              body_template=SINCE_DAY, format="epoch_day"),
                      note="incremental: search on updated_at (dates), the bookmark's day again")


OBJECTS: dict[str, RestObject] = {o.name: o for o in (
    RestObject("admin", "/admins", ONE_PAGE, records=("admins",),
               note="full only: admins have no update time"),
    RestObject("article", "/articles", ARTICLE_PAGING, modified="updated_at",
               note="full only: the list has no updated-since filter"),
    RestObject("company", "/companies/scroll", SCROLL_PAGING, modified="updated_at",
               note="full only: the scroll API (one open scroll per workspace)"),
    _search("contact", "/contacts/search", "data"),
    _search("conversation", "/conversations/search", "conversations"),
)}

_S = {"type": ["string", "null"]}
_I = {"type": ["integer", "null"]}
_N = {"type": ["number", "null"]}
_B = {"type": ["boolean", "null"]}
_O = {"type": ["object", "null"]}
_A = {"type": ["array", "null"]}


def _fields(spec: str) -> dict[str, Any]:
    kinds = {"s": _S, "i": _I, "n": _N, "b": _B, "o": _O, "a": _A}
    return dict((name, kinds[kind]) for name, kind in (f.split(":") for f in spec.split()))


FIELDS = {
    "admin": _fields("type:s id:s name:s email:s job_title:s away_mode_enabled:b "
                     "away_mode_reassign:b has_inbox_seat:b team_ids:a avatar:o "
                     "email_verified:b"),
    "article": _fields("type:s id:s workspace_id:s title:s description:s body:s author_id:i "
                       "state:s created_at:i updated_at:i url:s parent_id:i parent_type:s "
                       "default_locale:s"),
    "company": _fields("type:s id:s company_id:s name:s app_id:s created_at:i updated_at:i "
                       "remote_created_at:i last_request_at:i size:i website:s industry:s "
                       "monthly_spend:n session_count:i user_count:i plan:o "
                       "custom_attributes:o tags:o segments:o"),
    "contact": _fields("type:s id:s workspace_id:s external_id:s role:s email:s phone:s "
                       "name:s owner_id:i has_hard_bounced:b marked_email_as_spam:b "
                       "unsubscribed_from_emails:b created_at:i updated_at:i signed_up_at:i "
                       "last_seen_at:i custom_attributes:o tags:o companies:o location:o"),
    "conversation": _fields("type:s id:s title:s created_at:i updated_at:i waiting_since:i "
                            "state:s open:b read:b priority:s admin_assignee_id:i "
                            "team_assignee_id:i source:o contacts:o statistics:o "
                            "conversation_rating:o tags:o"),
}


def schema(obj: str) -> dict:
    return {"type": "object", "properties": dict(FIELDS[obj])}
