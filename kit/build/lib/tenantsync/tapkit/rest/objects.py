"""A provider's objects as a table: one `RestObject` per listing the tap reads."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from tenantsync.tapkit.rest.incremental import Incremental
from tenantsync.tapkit.rest.paging import Call, GraphQLPaging, Paging, Path, dig

# Metadata a standard-object record carries for the target (tenantsync.contract).
DELETED_AT = "_sdc_deleted_at"
IS_DELETED = "_supaglue_is_deleted"
LAST_MODIFIED = "_supaglue_last_modified_at"
_STAMP = {"type": ["string", "null"], "format": "date-time"}
META_SCHEMA: dict[str, dict] = {DELETED_AT: _STAMP, IS_DELETED: {"type": ["boolean", "null"]},
                                LAST_MODIFIED: _STAMP}


@dataclass(frozen=True)
class Deletes:
    """How deleted records show. `flag` (+ `flag_value`): a field of listed records;
    `include`: query parameters that make the listing include deleted records; `listing`: a
    separate listing of deleted items, read after the main one. None of them: only a full
    sync's sweep (ACTIVATE_VERSION) removes what is gone."""

    flag: str | None = None
    flag_value: Any = True
    include: Mapping[str, Any] = field(default_factory=dict)
    listing: RestObject | None = None

    def is_deleted(self, record: Mapping[str, Any]) -> bool:
        return self.flag is not None and record.get(self.flag) == self.flag_value

    @property
    def detection(self) -> str:
        """How deletes are detected, as the stream's catalog metadata says."""
        if self.flag is not None:
            return f"flag field {self.flag}"
        return "deleted listing" if self.listing is not None else "full-sync sweep"


SWEEP_ONLY = Deletes()


@dataclass(frozen=True)
class RestObject:
    """One listing. `path` is under the client's base URL (or absolute); `records` is where the
    page's records are in the body (GraphQL: the paging's connection nodes). `incremental`
    None: full only (every run reads everything; deletes by the sweep). `modified`: the field
    that says when a record last changed, where there is one (for `_supaglue_last_modified_at`
    of full-only objects and of deleted records). `transform`: the provider's own touch on each
    record (resolving custom fields, ...), given the stream."""

    name: str
    path: str
    paging: Paging
    records: Path = ("data",)
    key: str = "id"
    method: str = "GET"
    params: Mapping[str, Any] = field(default_factory=dict)
    body: Any = None
    incremental: Incremental | None = None
    deletes: Deletes = SWEEP_ONLY
    modified: str | None = None
    transform: Callable[[Any, dict], dict] | None = None
    note: str = ""  # why the object is read this way (README, stream metadata)

    @property
    def replication_key(self) -> str | None:
        return self.incremental.field if self.incremental else None

    @property
    def mode(self) -> str:
        """'incremental' or 'full only', as the tap's README and stream metadata say."""
        return "incremental" if self.incremental else "full only"

    def call(self) -> Call:
        return Call(self.path, dict(self.params), self.body)

    def records_of(self, body: Any) -> list:
        if isinstance(self.paging, GraphQLPaging):
            return self.paging.records(body)
        found = dig(body, self.records) if self.records else body
        return list(found or [])  # a provider may answer `"data": null` for nothing
