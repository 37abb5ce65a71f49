"""`SalesforceSandbox`: the Salesforce twin (provider-apis.md §1 is its spec).

This module holds the store layout, the data load, auth and quota, and the record mutations
(the Python API the control API and the REST record endpoints share). The wire endpoints live
in `rest.py` (REST), `bulk2.py` (Bulk API 2.0) and `auth.py` (OAuth 2.0 web server flow).
"""

from __future__ import annotations

import json
import re
import zlib
from datetime import date, datetime, timedelta

import msgspec

from tap_salesforce.sandbox import auth, bulk1, bulk2, rest
from tap_salesforce.sandbox.errors import SalesforceError, sf_error
from tap_salesforce.sandbox.ids import make_id, to18, token
from tap_salesforce.sandbox.records import (
    KIND_PREFIX,
    complete,
    from_entity,
    history_row,
    parse_sf_datetime,
    sf_datetime,
    wid,
)
from tap_salesforce.sandbox.schema import (
    NUMERIC,
    Field,
    SObject,
    default_objects,
    describe_field,
)
from tap_salesforce.sandbox.soql import Compiled
from tenantsync.sandbox.server import BadRequest, Request, Response, Route, Sandbox

# store columns: the fields queries filter and order on, plus when a record went to the bin
COLUMNS = {"modstamp": "TEXT", "lastmod": "TEXT", "created": "TEXT", "deleted_at": "TEXT"}
RECYCLE_BIN = timedelta(days=15)
# objects some of whose generated records start out in the recycle bin (about 1 in 100)
SEEDED_DELETES = {"Account", "Contact", "Lead", "Opportunity", "Task", "Event", "Case",
                  "Invoice__c"}
# types a custom field may be added with, and the extra settings each takes
CUSTOM_FIELD_TYPES = {"string", "textarea", "picklist", "multipicklist", "email", "phone", "url",
                      "double", "currency", "percent", "int", "date", "datetime", "time",
                      "boolean", "reference", "encryptedstring"}
_CUSTOM_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9]*(?:_[A-Za-z0-9]+)*__c$")
_encode = msgspec.json.Encoder().encode


class SalesforceSandbox(auth.OAuthEndpoints, rest.RestApi, bulk2.BulkApi, bulk1.BulkV1Api,
                        Sandbox):
    """A Salesforce org on 127.0.0.1: REST, SOQL, Bulk API 2.0 and 1.0 queries, OAuth.

    `api_quota` is the daily API request allocation (`Sforce-Limit-Info`, `/limits`, 403
    `REQUEST_LIMIT_EXCEEDED` beyond it); `session_timeout` the life of an access token on the
    sandbox clock; `rotate_refresh_tokens` makes each refresh return a new refresh token;
    `bulk_polls` how many status polls a Bulk job (2.0) or batch (1.0) takes to complete;
    `query_timeout_rows`, when set, makes a REST query that selects more rows than that fail
    with 400 `QUERY_TIMEOUT`, as a real org does when a query scans too much at once.
    """

    provider = "salesforce"
    api_versions = tuple(f"{v}.0" for v in range(31, 63))
    max_uri_bytes = 16_384  # a longer URI (a long SOQL query in a GET) answers 414
    public_hosts = ("login.salesforce.com", "test.salesforce.com")

    def __init__(self, *, api_quota: int = 100_000,
                 session_timeout: timedelta | None = timedelta(hours=2),
                 rotate_refresh_tokens: bool = False, bulk_polls: int = 2,
                 query_timeout_rows: int | None = None, **kwargs):
        self.quota_limit = api_quota
        self.query_timeout_rows = query_timeout_rows
        self.access_lifetime = session_timeout
        self.objects: dict[str, SObject] = default_objects()
        self.org_id = make_id("00D", 7 + kwargs.get("seed", 0))
        self.bulk_polls = bulk_polls
        self._next_number: dict[str, int] = {}
        super().__init__(**kwargs)
        self.metadata_changed = self.clock.start  # when describe results last changed
        self.oauth.rotate_refresh_tokens = rotate_refresh_tokens
        self.oauth.default_user = wid("user", 0)
        self._init_rest()
        self._init_bulk()
        self._init_bulk1()

    def new_token(self, kind: str) -> str:
        return token(kind, self.org_id)

    def routes(self) -> list[Route]:
        return [*self.auth_routes(), *self.rest_routes(), *self.bulk_routes(),
                *self.bulk1_routes()]

    # -- data load -----------------------------------------------------------------------------

    def populate(self) -> None:
        now = self.clock.start
        for obj in self.objects.values():
            self.store.create_table(obj.name, COLUMNS)
            if obj.world_kind is not None:
                entities = self.world.iter(obj.world_kind)
                rows = (self._row(obj, from_entity(obj, e, now)) for e in entities)
                self._next_number[obj.name] = self.world.counts[obj.world_kind] + 1
            else:  # AccountHistory: one rating change for every other account
                companies = range(0, self.world.counts["company"], 2)
                rows = (self._row(obj, history_row(self.world.get("company", i), obj, n))
                        for n, i in enumerate(companies))
            self.store.insert_many(obj.name, rows)

    def _row(self, obj: SObject, rec: dict) -> tuple:
        deleted_at = None
        if obj.name in SEEDED_DELETES and self._seeded_delete(rec["Id"]):
            stamp = parse_sf_datetime(rec["SystemModstamp"])
            hours = 1 + int(rec["Id"][-6:-3], 36) % 240  # deleted in the last ten days
            moment = max(stamp + timedelta(seconds=1), self.clock.start - timedelta(hours=hours))
            rec["IsDeleted"] = True
            rec["LastModifiedDate"] = rec["SystemModstamp"] = deleted_at = sf_datetime(moment)
        return (rec["Id"], int(bool(rec.get("IsDeleted"))), rec.get("SystemModstamp"),
                rec.get("LastModifiedDate"), rec.get("CreatedDate"), deleted_at,
                _encode(rec).decode())

    def _seeded_delete(self, record_id: str) -> bool:
        return zlib.crc32(f"{self.seed}:{record_id}".encode()) % 100 == 7

    # -- auth, quota and headers ---------------------------------------------------------------

    def before(self, request: Request) -> Response | None:
        bulk1 = request.path.startswith("/services/async/")
        if bulk1:  # Bulk API 1.0 has its own session header and error shape
            grant = self.oauth.use(request.headers.get("X-SFDC-Session"))
        else:
            grant = self.oauth.use(request.bearer("Bearer", "OAuth"))
        if grant is None and bulk1:
            return self.b1_error(request, "InvalidSessionId", "Invalid session id")
        if grant is None:
            return sf_error(401, "INVALID_SESSION_ID", "Session expired or invalid",
                            headers={"WWW-Authenticate": "Token"})
        request.state["user_id"] = grant.grant.user
        used = self.accounting.use_quota()
        if self.quota_limit is not None and used > self.quota_limit:
            if bulk1:
                return self.b1_error(request, "ExceededQuota", "TotalRequests Limit exceeded.",
                                     403)
            return sf_error(403, "REQUEST_LIMIT_EXCEEDED", "TotalRequests Limit exceeded.")
        return None

    def after(self, request: Request, response: Response) -> None:
        if request.path.startswith("/services/data"):
            used = min(self.accounting.quota_used(), self.quota_limit or 0)
            response.headers["Sforce-Limit-Info"] = f"api-usage={used}/{self.quota_limit}"

    def error_response(self, status: int, *, retry_after: float | None = None) -> Response:
        code, message = {
            429: ("REQUEST_LIMIT_EXCEEDED", "ConcurrentPerOrgLongTxn Limit exceeded."),
            500: ("UNKNOWN_EXCEPTION", "An unexpected error occurred. Please include this "
                                       "ErrorId if you contact support: 1234567-89 (-1)"),
            405: ("METHOD_NOT_ALLOWED", "HTTP Method not allowed for this resource"),
            414: ("URI_TOO_LONG", f"The length of the URI exceeds the "
                                  f"{self.max_uri_bytes:,} byte limit"),
        }.get(status, ("SERVER_UNAVAILABLE", "Service temporarily unavailable"))
        headers = {"Retry-After": f"{retry_after:g}"} if retry_after is not None else {}
        return sf_error(status, code, message, headers=headers)

    def not_found(self, request: Request) -> Response:
        return sf_error(404, "NOT_FOUND", "The requested resource does not exist")

    def malformed(self, request: Request, exc: BadRequest) -> Response:
        if request.path.startswith("/services/async/"):
            return self.b1_error(request, "ClientInputError", f"Failed to parse the request: "
                                                              f"{exc}")
        return sf_error(400, "JSON_PARSER_ERROR", f"Unexpected character in the request body: "
                                                  f"{exc}")

    def info(self) -> dict:
        counts = {name: {"live": self.count(name),
                         "recycle_bin": self.count(name, include_deleted=True) - self.count(name)}
                  for name in self.objects}
        return {**super().info(), "org_id": self.org_id, "records": counts,
                "api_versions": [self.api_versions[0], self.api_versions[-1]]}

    # -- records: the Python API ---------------------------------------------------------------

    def sobject(self, name: str) -> SObject:
        obj = self.objects.get(name) or {k.lower(): v for k, v in self.objects.items()}.get(
            name.lower())
        if obj is None:
            raise SalesforceError(404, "NOT_FOUND", f"The requested resource does not exist "
                                                    f"(no sObject {name!r})")
        return obj

    def count(self, obj: str, *, include_deleted: bool = False) -> int:
        """How many records `obj` has (live ones, or also those in the recycle bin)."""
        name = self.sobject(obj).name
        if include_deleted:
            return self.store.count(name, "deleted = 0 OR deleted_at >= ?",
                                    [self.recycle_cutoff()])
        return self.store.count(name, "deleted = 0")

    def recycle_cutoff(self) -> str:
        return sf_datetime(self.clock.now() - RECYCLE_BIN)

    def snapshot(self, compiled: Compiled, include_deleted: bool):
        """The rowids a compiled SOQL query selects, in order: live records, or (queryAll)
        also those still in the recycle bin."""
        if include_deleted:
            where = f"({compiled.where}) AND (deleted = 0 OR deleted_at >= ?)"
            params = [*compiled.params, self.recycle_cutoff()]
        else:
            where, params = f"({compiled.where}) AND deleted = 0", compiled.params
        order = "rid" if compiled.count else compiled.order_by
        return self.store.select_rowids(compiled.sobject.name, where, params, order,
                                        compiled.limit, compiled.offset)

    def _load(self, obj: SObject, record_id: str, *, allow_deleted: bool = False) -> dict:
        normalized = to18(record_id)
        stored = self.store.get(obj.name, normalized) if normalized else None
        if stored is None or (stored.deleted and stored.columns["deleted_at"]
                              and stored.columns["deleted_at"] < self.recycle_cutoff()):
            raise SalesforceError(404, "NOT_FOUND", "The requested resource does not exist")
        if stored.deleted and not allow_deleted:
            raise SalesforceError(404, "ENTITY_IS_DELETED", "entity is deleted")
        return json.loads(stored.doc)

    def get_record(self, obj: str, record_id: str) -> dict:
        return self._load(self.sobject(obj), record_id, allow_deleted=True)

    def create(self, obj: str, fields: dict) -> dict:
        sobj = self.sobject(obj)
        if sobj.world_kind is None or sobj.extra.get("createable") is False:
            raise SalesforceError(400, "INVALID_TYPE",
                                  f"entity type {sobj.name} does not support insert")
        values = self._check_values(sobj, fields)
        missing = [fl.name for fl in sobj.fields if not fl.nillable and fl.writable
                   and fl.type != "boolean" and values.get(fl.name) is None
                   and fl.name != "OwnerId"]
        if missing:
            raise SalesforceError(400, "REQUIRED_FIELD_MISSING",
                                  f"Required fields are missing: [{', '.join(missing)}]",
                                  fields=missing)
        number = self._next_number[sobj.name]
        self._next_number[sobj.name] = number + 1
        user = self.oauth.default_user
        stamp = sf_datetime(self.clock.stamp())
        values.setdefault("OwnerId", user)
        values.update({"Id": make_id(KIND_PREFIX[sobj.world_kind], number), "IsDeleted": False,
                       "CreatedDate": stamp, "CreatedById": user, "LastModifiedDate": stamp,
                       "LastModifiedById": user, "SystemModstamp": stamp})
        for fl in sobj.fields:
            if fl.type == "boolean" and values.get(fl.name) is None:
                values[fl.name] = False
        return self._save(sobj, self._derive(sobj, values))

    def update(self, obj: str, record_id: str, fields: dict) -> dict:
        sobj = self.sobject(obj)
        record = self._load(sobj, record_id)
        record.update(self._check_values(sobj, fields))
        stamp = sf_datetime(self.clock.stamp())
        record.update({"LastModifiedDate": stamp, "SystemModstamp": stamp,
                       "LastModifiedById": self.oauth.default_user})
        return self._save(sobj, self._derive(sobj, record))

    def delete(self, obj: str, record_id: str) -> None:
        """Soft delete: into the recycle bin (queryAll shows it with IsDeleted for 15 days)."""
        sobj = self.sobject(obj)
        if sobj.extra.get("deletable") is False:
            raise SalesforceError(400, "INVALID_TYPE",
                                  f"entity type {sobj.name} does not support delete")
        record = self._load(sobj, record_id)
        stamp = sf_datetime(self.clock.stamp())
        record.update({"IsDeleted": True, "LastModifiedDate": stamp, "SystemModstamp": stamp})
        self._save(sobj, record, deleted_at=stamp)

    def restore(self, obj: str, record_id: str) -> dict:
        """Undelete from the recycle bin."""
        sobj = self.sobject(obj)
        record = self._load(sobj, record_id, allow_deleted=True)
        if not record.get("IsDeleted"):
            raise SalesforceError(400, "UNDELETE_FAILED", "Entity is not in the recycle bin")
        stamp = sf_datetime(self.clock.stamp())
        record.update({"IsDeleted": False, "LastModifiedDate": stamp, "SystemModstamp": stamp})
        return self._save(sobj, record)

    def add_field(self, obj: str, name: str, type: str, **options) -> dict:
        """Add a custom field (`Name__c`); existing records get null for it."""
        sobj = self.sobject(obj)
        if not _CUSTOM_NAME.match(name):
            raise ValueError(f"a custom field name looks like 'Name__c', got {name!r}")
        if sobj.field(name) is not None:
            raise ValueError(f"{sobj.name} already has a field {name!r}")
        if type not in CUSTOM_FIELD_TYPES:
            raise ValueError(f"custom field type must be one of {sorted(CUSTOM_FIELD_TYPES)}, "
                             f"got {type!r}")
        allowed = {"label", "length", "precision", "scale", "picklist", "restricted",
                   "reference_to", "relationship"}
        unknown = set(options) - allowed
        if unknown:
            raise ValueError(f"unknown custom field option(s): {sorted(unknown)}")
        if "picklist" in options:
            options["picklist"] = tuple(options["picklist"])
        # Setup's "Restrict picklist to the values defined in the value set" is on by default
        options["restricted"] = bool(options.get("restricted", type == "picklist"))
        if type == "reference":
            targets = options.get("reference_to")
            if not targets or any(t not in self.objects for t in targets):
                raise ValueError("a reference field needs reference_to: [existing sObjects]")
            options["reference_to"] = tuple(targets)
            options.setdefault("relationship", name.removesuffix("__c") + "__r")
        fl = Field(name, type, options.pop("label", None) or name.removesuffix("__c")
                   .replace("_", " "), **options)
        with self.store.write_lock:
            self.store.conn().execute(
                f'UPDATE "{sobj.name}" SET doc = json_set(doc, ?, NULL)', [f'$."{name}"'])
            sobj.fields.append(fl)
            self.metadata_changed = self.clock.stamp()
        return describe_field(fl)

    def _save(self, sobj: SObject, record: dict, *, deleted_at: str | None = None) -> dict:
        record = complete(sobj, record)
        self.store.put(sobj.name, record["Id"], _encode(record).decode(),
                       deleted=bool(record.get("IsDeleted")), modstamp=record.get("SystemModstamp"),
                       lastmod=record.get("LastModifiedDate"),
                       created=record.get("CreatedDate"), deleted_at=deleted_at)
        return record

    def _derive(self, sobj: SObject, values: dict) -> dict:
        """Fields Salesforce computes from others."""
        if sobj.field("FirstName") and sobj.field("Name") and not sobj.field("Name").writable:
            values["Name"] = " ".join(p for p in (values.get("FirstName"),
                                                  values.get("LastName")) if p)
        if sobj.name == "Opportunity" and values.get("StageName"):
            values["IsClosed"] = values["StageName"].startswith("Closed")
            values["IsWon"] = values["StageName"] == "Closed Won"
        return values

    def _check_values(self, sobj: SObject, fields: dict) -> dict:
        if not isinstance(fields, dict):
            raise SalesforceError(400, "JSON_PARSER_ERROR", "The request body must be an "
                                                            "object of field values")
        out = {}
        for key, value in fields.items():
            if key == "attributes":
                continue
            fl = sobj.field(key)
            if fl is None:
                raise SalesforceError(400, "INVALID_FIELD",
                                      f"No such column '{key}' on sobject of type {sobj.name}",
                                      fields=[key])
            if not fl.writable:
                raise SalesforceError(
                    400, "INVALID_FIELD_FOR_INSERT_UPDATE",
                    f"Unable to create/update fields: {fl.name}. Please check the security "
                    "settings of this field and verify that it is read/write for your "
                    "profile or permission set.", fields=[fl.name])
            out[fl.name] = _coerce(fl, value)
        return out


def _coerce(fl: Field, value):
    """Check a written value against the field type; returns it in stored form."""
    if value is None:
        return None
    bad = SalesforceError(400, "INVALID_TYPE_ON_FIELD_IN_RECORD",
                          f"{fl.label}: value not of required type: {value}", fields=[fl.name])
    t = fl.type
    if t == "boolean":
        if not isinstance(value, bool):
            raise bad
        return value
    if t in NUMERIC:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise bad
        return float(value) if t != "int" else int(value)
    if not isinstance(value, str):
        raise bad
    try:
        if t == "date":
            return date.fromisoformat(value).isoformat()
        if t == "datetime":
            moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
            if moment.tzinfo is None:
                raise ValueError("no offset")
            return sf_datetime(moment)
    except ValueError:
        raise bad from None
    if t == "reference":
        normalized = to18(value)
        if normalized is None:
            raise SalesforceError(400, "MALFORMED_ID",
                                  f"{fl.label}: id value of incorrect type: {value}",
                                  fields=[fl.name])
        return normalized
    if t == "picklist" and fl.restricted and value not in fl.picklist:
        raise SalesforceError(400, "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST",
                              f"{fl.label}: bad value for restricted picklist field: {value}",
                              fields=[fl.name])
    return value
