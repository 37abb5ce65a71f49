"""The declarative REST engine: a provider declares its objects as `RestObject` rows
(path, paging style, record path, incremental filter, delete detection) and its rate-limit
headers as `RateLimitHeaders`; `RestStream` reads them with tapkit's engine (per-page STATE,
ACTIVATE_VERSION, clean stop, retries and pacing of tapkit's HttpClient)."""

from tenantsync.tapkit.rest.incremental import FORMATS, Incremental
from tenantsync.tapkit.rest.objects import (
    DELETED_AT,
    IS_DELETED,
    LAST_MODIFIED,
    SWEEP_ONLY,
    Deletes,
    RestObject,
)
from tenantsync.tapkit.rest.paging import (
    Call,
    CursorPaging,
    GraphQLPaging,
    NextLinkPaging,
    OffsetPaging,
    Page,
    PageNumberPaging,
    dig,
    jsonapi_paging,
)
from tenantsync.tapkit.rest.ratelimit import HeaderPacer, RateLimitHeaders
from tenantsync.tapkit.rest.stream import RestClient, RestStream, with_meta

__all__ = [
    "DELETED_AT", "FORMATS", "IS_DELETED", "LAST_MODIFIED", "SWEEP_ONLY", "Call", "CursorPaging",
    "Deletes", "GraphQLPaging", "HeaderPacer", "Incremental", "NextLinkPaging", "OffsetPaging",
    "Page", "PageNumberPaging", "RateLimitHeaders", "RestClient", "RestObject", "RestStream",
    "dig", "jsonapi_paging", "with_meta",
]
