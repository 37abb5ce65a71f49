"""Outreach's standard objects as data: one `RestObject` each and their fields.
https://developers.outreach.io/api/reference/ (accounts, prospects, users, sequences,
mailboxes, sequenceStates, sequenceSteps) and .../making-requests/ (paging, filters, sort).

Every object is incremental: `filter[updatedAt]=<from>..inf` (an inclusive range) with
`sort=updatedAt`, `page[size]` up to 1000, then `links.next` verbatim (it carries
`page[after]` and the original query). `count=false` skips the total count. The list API has
no deleted records and no deleted feed: a full sync's sweep flags what is gone.
"""

from __future__ import annotations

from typing import Any

from tap_outreach.jsonapi import flatten
from tenantsync.tapkit.rest import Incremental, RestObject, jsonapi_paging

MAX_PAGE_SIZE = 1000  # Outreach's maximum page[size]
# singer-io tap-outreach's default: Outreach's gateway answers 502 to some 1000-record pages of
# wide objects (Airbyte and Estuary shrink theirs on it), and 250 keeps a page's retry cheap
PAGE_SIZE = 250
SINCE = Incremental("updatedAt", param="filter[updatedAt]", format="iso_ms",
                    template="{}..inf", sort={"sort": "updatedAt"})

_TYPES = {"i": ["integer", "null"], "s": ["string", "null"], "n": ["number", "null"],
          "b": ["boolean", "null"], "a": ["array", "null"], "o": ["object", "null"]}


def _schema(spec: str) -> dict:
    """`"id:i name:s updatedAt:t"` -> a JSON schema (t: date-time)."""
    props: dict[str, dict] = {}
    for item in spec.split():
        name, kind = item.split(":")
        props[name] = ({"type": ["string", "null"], "format": "date-time"} if kind == "t"
                       else {"type": _TYPES[kind]})
    return {"type": "object", "properties": props}


_BASE = "id:i createdAt:t updatedAt:t"
_COUNTS = "openCount:i clickCount:i replyCount:i bounceCount:i deliverCount:i"
FIELDS = {
    "accounts": _schema(f"{_BASE} name:s domain:s websiteUrl:s industry:s "
                        "numberOfEmployees:i locality:s description:s tags:a named:b "
                        "custom1:s custom2:s ownerId:i creatorId:i"),
    "prospects": _schema(f"{_BASE} firstName:s lastName:s title:s emails:a emailContacts:a "
                         "workPhones:a mobilePhones:a homePhones:a otherPhones:a voipPhones:a "
                         "addressStreet:s addressStreet2:s addressCity:s addressState:s "
                         "addressZip:s addressCountry:s openCount:i clickCount:i replyCount:i "
                         "bouncedCount:i tags:a timeZone:s trashedAt:t custom1:s custom2:s "
                         "accountId:i ownerId:i creatorId:i stageId:i"),
    "users": _schema(f"{_BASE} email:s firstName:s lastName:s name:s title:s username:s "
                     "locked:b timeZone:s phoneNumber:s"),
    "sequences": _schema(f"{_BASE} name:s description:s enabled:b locked:b shareType:s "
                         "sequenceStepCount:i tags:a scheduleCount:i openCount:i optOutCount:i "
                         "clickCount:i replyCount:i deliverCount:i failureCount:i "
                         "bounceCount:i neutralReplyCount:i negativeReplyCount:i "
                         "positiveReplyCount:i numRepliedProspects:i numContactedProspects:i "
                         "ownerId:i creatorId:i"),
    "mailboxes": _schema(f"{_BASE} email:s senderName:s sendDisabled:b providerType:s "
                         "maxEmailsPerDay:i userId:i"),
    "sequenceStates": _schema(f"{_BASE} state:s stateChangedAt:t activeAt:t pauseReason:s "
                              f"errorReason:s {_COUNTS} prospectId:i sequenceId:i "
                              "mailboxId:i creatorId:i accountId:i sequenceStepId:i"),
    "sequenceSteps": _schema(f"{_BASE} stepType:s order:i interval:i displayName:s "
                             "sequenceId:i"),
}


def flat(stream: Any, record: dict) -> dict:
    """Standard streams emit the flat record; common streams map the resource themselves."""
    return record if getattr(stream, "keeps_resource", False) else flatten(record)


OBJECTS: dict[str, RestObject] = {name: RestObject(
    name, f"/{name}", jsonapi_paging(PAGE_SIZE), params={"count": "false"}, incremental=SINCE,
    modified="updatedAt", transform=flat,
    note="incremental: filter[updatedAt]=<from>..inf, sort=updatedAt; deletes: sweep")
    for name in FIELDS}
