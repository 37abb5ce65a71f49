"""Salesloft's standard objects as data: one `RestObject` each and their fields.
https://developers.salesloft.com/docs/api/ (people, accounts, users, cadences,
cadence-memberships, steps) and .../platform/api-basics/ (pagination, filtering, rate limits).

Incremental: `updated_at[gte]=<bookmark>` with `sort_by=updated_at&sort_direction=ASC`,
`per_page=100` (the maximum), `page` from `metadata.paging.next_page`. Salesloft prices deep
pages (page 101 on costs 3 to 30 times a request), so after page `SHALLOW` the listing starts
again at page 1 from the last `updated_at` read, as Salesloft recommends (an updated_at cursor
instead of deep paging). Users have no updated_at filter: full only, like steps' counts in
Supaglue. Deletes: no deleted feed; a full sync's sweep flags what is gone. A cadence's
`archived_at` is kept as data (its common sequence is deleted, as in Supaglue).
"""

from __future__ import annotations

from dataclasses import dataclass

from tenantsync.tapkit.rest import (
    Call,
    Incremental,
    Page,
    PageNumberPaging,
    RestObject,
)

PAGE_SIZE = 100  # the maximum per_page
SHALLOW = 100  # pages 1..100 cost 1 each
SINCE = Incremental("updated_at", param="updated_at[gte]", format="iso_ms",
                    sort={"sort_by": "updated_at", "sort_direction": "ASC"})


@dataclass(frozen=True)
class ShallowPaging(PageNumberPaging):
    """Page numbers up to `shallow`; then page 1 again from the last record's watermark
    (inclusive: the records at that instant are read again, none is skipped). A page whose
    records all share one instant keeps paging (restarting there would not move)."""

    shallow: int = SHALLOW
    watermark: str = "updated_at"
    param: str = "updated_at[gte]"

    def next(self, call: Call, page: Page) -> Call | None:
        following = super().next(call, page)
        if following is None or int(following.params[self.page_param]) <= self.shallow:
            return following
        first, last = page.records[0][self.watermark], page.records[-1][self.watermark]
        if first == last:
            return following
        return call.with_params(**{self.param: last, self.page_param: self.first_page})


PAGING = ShallowPaging(PAGE_SIZE, next_page_path=("metadata", "paging", "next_page"))
PLAIN_PAGING = PageNumberPaging(PAGE_SIZE, next_page_path=("metadata", "paging", "next_page"))

_TYPES = {"i": ["integer", "null"], "s": ["string", "null"], "b": ["boolean", "null"],
          "a": ["array", "null"], "o": ["object", "null"]}


def _schema(spec: str) -> dict:
    """`"id:i name:s updated_at:t"` -> a JSON schema (t: date-time)."""
    props: dict[str, dict] = {}
    for item in spec.split():
        name, kind = item.split(":")
        props[name] = ({"type": ["string", "null"], "format": "date-time"} if kind == "t"
                       else {"type": _TYPES[kind]})
    return {"type": "object", "properties": props}


_BASE = "id:i created_at:t updated_at:t"
FIELDS = {
    "people": _schema(f"{_BASE} first_name:s last_name:s display_name:s title:s "
                      "email_address:s personal_email_address:s secondary_email_address:s "
                      "phone:s home_phone:s mobile_phone:s city:s state:s country:s "
                      "person_company_name:s person_company_website:s do_not_contact:b "
                      "last_contacted_at:t owner:o account:o counts:o tags:a custom_fields:o"),
    "accounts": _schema(f"{_BASE} name:s domain:s website:s industry:s size:s city:s state:s "
                        "country:s owner:o creator:o tags:a counts:o archived_at:t "
                        "custom_fields:o"),
    "users": _schema(f"{_BASE} guid:s name:s first_name:s last_name:s email:s from_address:s "
                     "active:b "
                     "time_zone:s role:o"),
    "cadences": _schema(f"{_BASE} name:s draft:b archived_at:t shared:b team_cadence:b "
                        "current_state:s cadence_function:s owner:o creator:o tags:a "
                        "counts:o"),
    "cadence_memberships": _schema(f"{_BASE} added_at:t cadence:o person:o user:o "
                                   "current_state:s currently_on_cadence:b person_deleted:b "
                                   "latest_action:o counts:o"),
    "steps": _schema(f"{_BASE} name:s display_name:s type:s step_number:i day:i cadence:o"),
}
NOT_INCREMENTAL = {"users": "full only: the users list has no updated_at filter"}

OBJECTS: dict[str, RestObject] = {name: RestObject(
    name, f"/{name}", PLAIN_PAGING if name in NOT_INCREMENTAL else PAGING,
    incremental=None if name in NOT_INCREMENTAL else SINCE, modified="updated_at",
    note=NOT_INCREMENTAL.get(name, "incremental: updated_at[gte], sorted by updated_at; "
                                   "deletes: sweep"))
    for name in FIELDS}
