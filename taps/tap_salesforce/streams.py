"""Salesforce streams: one per standard or custom object (raw records) and one per CRM common
object (common-schema records with `raw_data`). Both read through `fetch_pages`: REST
`queryAll` in watermark order, or Bulk API 2.0 for large objects, with a fallback to REST."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from datetime import datetime, timedelta, timezone
from typing import Any

from singer_sdk import Tap
from singer_sdk.singerlib.catalog import Metadata

from tap_salesforce import soql
from tap_salesforce.client import (
    QUERY_TIMEOUT,
    BulkJobFailed,
    BulkUnavailable,
    SalesforceClient,
)
from tenantsync.tapkit.common import CommonMapping, iso_timestamp, parse_timestamp
from tenantsync.tapkit.errors import FatalHttpError
from tenantsync.tapkit.key_order import jsonb_order
from tenantsync.tapkit.strategy import SyncPlan
from tenantsync.tapkit.stream import NEW_QUERY, TapkitStream

DELETED_AT = "_sdc_deleted_at"
API_TYPES = ("auto", "rest", "bulk2")
# Fields every query selects whatever the catalog says: the key, the watermark, the delete flag.
ALWAYS_SELECTED = ("Id", "IsDeleted")
# Date windows for queries Salesforce times out: no record predates Salesforce itself, and a
# window this short that still times out is reported rather than split forever.
EARLIEST = datetime(1999, 1, 1, tzinfo=timezone.utc)
MIN_WINDOW = timedelta(minutes=1)


def _csv_converter(schema: dict) -> Callable[[str], Any] | None:
    """Bulk CSV text (not empty: that is null) -> the value REST would have returned for a
    field of this JSON Schema; None where the text is the value."""
    types = schema.get("type") or []
    types = [types] if isinstance(types, str) else types
    if "boolean" in types and "string" not in types:
        return "true".__eq__
    if "integer" in types:
        return lambda v: int(v) if v.lstrip("-").isdigit() else int(float(v))
    if "number" in types and "string" not in types:
        return float
    if schema.get("format") == "date-time":
        # Bulk writes 2024-01-02T03:04:05.000Z, REST 2024-01-02T03:04:05.000+0000.
        return lambda v: v[:-1] + "+0000" if v.endswith("Z") else v
    return None


def csv_record_builder(header: list[str], fields: dict[str, dict]
                       ) -> Callable[[list[str]], dict]:
    """A Bulk CSV row of these columns -> the record REST would have returned. Text columns,
    most of them, are taken as they are: only typed ones cost a call per value. A row of
    another width fails the stream (the page's check counts rows, not fields)."""
    names = tuple(header)
    typed = [(i, conv) for i, name in enumerate(header)
             if (conv := _csv_converter(fields[name])) is not None]

    def build(row: list[str]) -> dict:
        if len(row) != len(names):
            raise BulkJobFailed(f"a Bulk API 2.0 results row has {len(row)} fields under a "
                                f"header of {len(names)} (a garbled page)")
        values = [v or None for v in row]  # CSV has no null: an empty text is one, as in REST
        for i, conv in typed:
            if values[i] is not None:
                values[i] = conv(values[i])
        return dict(zip(names, values, strict=True))

    return build


class SalesforceStream(TapkitStream):
    """Reads one SObject; subclasses turn its rows into this stream's records."""

    key = "Id"
    prefetch_pages = True

    def __init__(self, tap: Tap, *, name: str, schema: dict, sobject: str,
                 fields: dict[str, dict], watermark: str | None, replication_key: str | None):
        super().__init__(tap, name=name, schema=schema, key=self.key,
                         replication_key=replication_key)
        self.sobject = soql.check_name(sobject, "object")
        self.fields = fields  # SObject field -> JSON Schema, in describe order
        self.watermark = watermark  # the SObject's watermark field

    @property
    def client(self) -> SalesforceClient:
        return self._tap.client

    def select_fields(self) -> list[str]:
        return list(self.fields)

    def to_record(self, row: dict) -> dict:
        raise NotImplementedError

    # --- reading ---------------------------------------------------------------------------

    def fetch_pages(self, plan: SyncPlan) -> Iterator[Iterable[dict]]:
        # Runs one page ahead of the emission (prefetch_pages): it tracks its own progress
        # (`_mark`, the watermark of the last row fetched) instead of reading the bookmark.
        self._mark = None
        since = self._since(plan.resume_from)
        api = self.config.get("api_type") or "auto"
        if api == "bulk2":
            yield from self._bulk_then_rest(since)
            return
        threshold = int(self.config.get("bulk_threshold") or 0)
        yield from self._rest(since, threshold if api == "auto" and self.watermark else 0)

    def _rest(self, since: Any, bulk_above: int = 0) -> Iterator[Iterable[dict]]:
        """REST `queryAll` from `since`. With `bulk_above`, more records than that left after
        the first page continue through Bulk API 2.0. A query Salesforce times out
        (QUERY_TIMEOUT: too much to scan at once) is read again from where it got to, in two
        date windows, each halved again while it times out; windows go in ascending order,
        so the bookmark still advances record by record."""
        windows: list[tuple[Any, Any]] = [(since, None)]  # a stack: (from, until or open)
        first_page = True
        while windows:
            start, until = windows.pop()
            yield NEW_QUERY
            try:
                for rows, total in self.client.query(self._soql(start, until)):
                    yield self._from_rest(rows)
                    if first_page and bulk_above and total - len(rows) > bulk_above:
                        self.logger.info("%s: %d records to read, above bulk_threshold=%d: "
                                         "continuing with Bulk API 2.0", self.name, total,
                                         bulk_above)
                        yield from self._bulk_then_rest(self._progress(since))
                        return
                    first_page = False
            except FatalHttpError as exc:
                if exc.code != QUERY_TIMEOUT or not self.watermark:
                    raise
                got_to = self._mark if self._mark and (start is None or parse_timestamp(
                    self._mark) >= parse_timestamp(start)) else start  # within this window
                windows += reversed(self._halves(got_to, until, exc))

    def _halves(self, start: Any, until: Any, error: FatalHttpError
                ) -> tuple[tuple[Any, Any], tuple[Any, Any]]:
        """[start, until) cut in two at a whole second (None: the beginning, or open-ended)."""
        low = parse_timestamp(start).replace(microsecond=0) if start else EARLIEST
        high = parse_timestamp(until) if until else datetime.now(timezone.utc)
        if high - low <= MIN_WINDOW:  # no code: the window it failed in stays unsplit
            raise FatalHttpError(
                f"{self.name}: Salesforce timed out the query even over the minute from "
                f"{iso_timestamp(low)} ({error})") from error
        middle = (low + (high - low) / 2).replace(microsecond=0)
        self.logger.warning("%s: Salesforce timed out the query (QUERY_TIMEOUT); reading "
                            "%s..%s in two windows split at %s", self.name, iso_timestamp(low),
                            iso_timestamp(until) if until else "now", iso_timestamp(middle))
        return (start, middle), (middle, until)

    def _bulk_then_rest(self, since: Any) -> Iterator[Iterable[dict]]:
        """Bulk 2.0 from `since`; a failed job is retried once, then REST takes over. Jobs fail
        before their first result page, so `since` is still where to start."""
        for attempt in (1, 2):
            try:
                jobs = self.client.bulk_query(self._soql(since))
                yield NEW_QUERY
                for header, rows in jobs:
                    yield self._from_csv(header, rows)
                return
            except BulkUnavailable as exc:
                self.logger.warning("%s: Bulk API 2.0 refused the query (%s); using REST.",
                                    self.name, exc)
                break
            except BulkJobFailed as exc:
                self.logger.warning("%s: %s (attempt %d of 2)%s", self.name, exc, attempt,
                                    "; retrying" if attempt == 1 else "; using REST")
        yield from self._rest(since)

    def _soql(self, since: Any, until: Any = None) -> str:
        """From `since`, floored to its second (SOQL datetimes have no fraction): the records
        of that second before the bookmark are read again, after a NEW_QUERY marker. Fields
        are selected in jsonb's key order: Salesforce returns a row's fields (REST JSON and
        Bulk CSV columns) in the SELECT's order, so records are built in that order."""
        return soql.select(self.sobject, jsonb_order(self.select_fields()), self.watermark,
                           since, until)

    def _since(self, resume_from: Any) -> Any:
        """Where reading starts: the later of the bookmark and start_date (None: everything)."""
        candidates = [v for v in (resume_from, self.config.get("start_date")) if v]
        return max(candidates, key=parse_timestamp) if candidates else None

    def _progress(self, since: Any) -> Any:
        """The watermark of the last row fetched (or `since` before the first)."""
        return self._mark or since

    def _from_rest(self, rows: list[dict]) -> list[dict]:
        for row in rows:
            row.pop("attributes", None)
        if rows and self.watermark:
            self._mark = rows[-1].get(self.watermark) or self._mark
        to_record = self.to_record
        return [to_record(row) for row in rows]

    def _from_csv(self, header: list[str], rows: Iterator[list[str]]) -> Iterator[dict]:
        """A page's records, built one at a time as they are emitted (a page may hold 50,000);
        its columns are checked now."""
        missing = [f for f in header if f not in self.fields]
        if missing:
            raise BulkJobFailed(f"bulk results carry unexpected columns {missing}")
        build, to_record = csv_record_builder(header, self.fields), self.to_record
        return (to_record(build(row)) for row in rows)


class ObjectStream(SalesforceStream):
    """A standard or custom object: the raw record, plus `_sdc_deleted_at` when deleted."""

    selects_at_source = True

    @classmethod
    def schema_for(cls, fields: dict[str, dict]) -> dict:
        return {"type": "object", "properties": {
            **fields, DELETED_AT: {"type": ["string", "null"], "format": "date-time"}}}

    @property
    def metadata(self):  # singer-sdk's MetadataMapping
        metadata = super().metadata
        entry = metadata.get(("properties", "IsDeleted"))
        if entry is not None and self._tap_input_catalog is None:
            entry.inclusion = Metadata.InclusionType.AUTOMATIC  # delete detection needs it
        return metadata

    def select_fields(self) -> list[str]:
        mask = self.mask
        required = {*ALWAYS_SELECTED, self.watermark}
        return [f for f in self.fields
                if f in required or mask[("properties", f)]]

    def to_record(self, row: dict) -> dict:
        if row.get("IsDeleted"):
            stamp = row.get(self.watermark) if self.watermark else None
            row[DELETED_AT] = iso_timestamp(stamp or datetime.now(timezone.utc))
        return row


class CommonObjectStream(SalesforceStream):
    """A CRM common object (crm_accounts, ...): the common-schema record, raw_data = the row."""

    key = "id"

    def __init__(self, tap: Tap, *, mapping: CommonMapping, **kwargs: Any):
        super().__init__(tap, replication_key="last_modified_at", **kwargs)
        self.mapping = mapping

    def to_record(self, row: dict) -> dict:
        return self.mapping.to_common(row)
