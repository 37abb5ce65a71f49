"""Supaglue's v2 response shapes, as JSON Schemas written from its published OpenAPI bundles
(`openapi/v2/{mgmt,data,crm,engagement}`): what a client written against Supaglue may rely on.
`tenantsync.api.shapes` builds the answers; the contract tests (tests/api/test_contract.py)
validate every served operation's answers against these.

The one deliberate difference: `config.oauth.credentials.oauth_client_secret` is required in
Supaglue's provider shape but is write-only here (a secret is never returned); README's
compatibility table says so.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from jsonschema import Draft202012Validator, FormatChecker

from tenantsync.common_schema import (
    BASE_FIELDS,
    BOOLEAN,
    COMMON_OBJECTS,
    FLOAT,
    INTEGER,
    JSONB,
    TEXT,
    TIMESTAMP,
)

STR = {"type": "string"}
NSTR = {"type": ["string", "null"]}
BOOL = {"type": "boolean"}
NUM = {"type": "number"}
INT = {"type": "integer"}
TIME = {"type": "string", "format": "date-time"}
NTIME = {"type": ["string", "null"], "format": "date-time"}
OBJECT_TYPE = {"enum": ["common", "standard", "custom"]}
CATEGORY = {"enum": ["crm", "engagement", "enrichment", "marketing_automation", "no_category"]}
RUN_STATUS = {"enum": ["SUCCESS", "IN_PROGRESS", "FAILURE"]}
SSL_MODES = ["disable", "no-verify", "prefer", "require", "verify-ca", "verify-full"]


def obj(required: dict[str, Any], optional: dict[str, Any] | None = None) -> dict[str, Any]:
    """An object with these required and optional properties (others allowed)."""
    return {"type": "object", "required": list(required),
            "properties": {**required, **(optional or {})}}


def array(items: dict[str, Any]) -> dict[str, Any]:
    return {"type": "array", "items": items}


ERRORS = obj({"errors": array(obj({
    "id": STR, "detail": STR, "problem_type": STR, "title": STR, "code": STR, "status": STR,
    "meta": obj({"origin": {"enum": ["remote-provider", "supaglue"]}},
                {"cause": {"type": "object"}, "application_name": STR})}))})

CUSTOMER = obj({"application_id": STR, "customer_id": STR, "name": STR, "email": STR})
CONNECTION_SYNC_CONFIG = obj({}, {
    "destination_config": obj({"type": {"enum": ["postgres"]}, "schema": STR}),
    "standard_objects": array(obj({"object": STR}, {"table": STR})),
    "custom_objects": array(obj({"object": STR}, {"table": STR}))})
CONNECTION = obj({"id": STR, "application_id": STR, "customer_id": STR, "provider_id": STR,
                  "provider_name": STR, "category": CATEGORY, "instance_url": STR},
                 {"connection_sync_config": CONNECTION_SYNC_CONFIG})
CUSTOMER_WITH_CONNECTIONS = {**CUSTOMER, "properties": {**CUSTOMER["properties"],
                                                        "connections": array(CONNECTION)}}
PROVIDER_OBJECTS = obj({}, {kind: array(obj({"name": STR}, {"schema_id": STR}))
                            for kind in ("common", "standard")})
PROVIDER = obj(
    {"id": STR, "application_id": STR, "category": CATEGORY,
     "auth_type": {"enum": ["oauth2", "api_key", "access_key_secret"]}, "name": STR},
    {"config": obj({"provider_app_id": STR,
                    "oauth": obj({"oauth_scopes": array(STR),
                                  # oauth_client_secret: write-only (the deliberate difference)
                                  "credentials": obj({"oauth_client_id": STR})})},
                   {"use_managed_oauth": BOOL}),
     "objects": PROVIDER_OBJECTS})
DESTINATION = {"oneOf": [
    obj({"id": STR, "application_id": STR, "name": STR, "type": {"const": "postgres"},
         "config": obj({"host": STR, "port": NUM, "database": STR, "schema": STR, "user": STR},
                       {"ssl_mode": {"enum": SSL_MODES}}),
         "version": NUM}),
    obj({"id": STR, "application_id": STR, "type": {"const": "supaglue"}, "version": NUM}),
]}
STRATEGY = obj({"period_ms": INT, "strategy": {"enum": ["full then incremental", "full only"]}},
               {"auto_start_on_connection": BOOL, "full_sync_every_n_incrementals": NUM})
SYNC_CONFIG_OBJECT = obj({"object": STR}, {"sync_strategy_override": STRATEGY,
                                           "associations_to_fetch": array(STR)})
SYNC_CONFIG = obj({"id": STR, "application_id": STR, "destination_name": STR,
                   "provider_name": STR,
                   "config": obj({"default_config": STRATEGY},
                                 {f"{kind}_objects": array(SYNC_CONFIG_OBJECT)
                                  for kind in ("common", "standard", "custom")})})
MAGIC_LINK = obj({"id": STR, "status": STR, "application_id": STR, "customer_id": STR,
                  "provider_id": STR, "provider_name": STR, "url": STR, "return_url": STR,
                  "expires_at": TIME})
SYNC = obj({"id": STR, "type": {"const": "object"}, "object_type": OBJECT_TYPE, "object": STR,
            "connection_id": STR, "sync_config_id": STR, "paused": BOOL})
SYNC_LISTED = {**SYNC, "required": [*SYNC["required"], "provider_name", "customer_id"],
               "properties": {**SYNC["properties"], "provider_name": STR, "customer_id": STR}}
SYNC_RUN = obj({"id": STR, "sync_id": STR, "object_type": OBJECT_TYPE, "object": STR,
                "error_message": NSTR, "start_timestamp": STR, "end_timestamp": NSTR,
                "application_id": STR, "customer_id": STR, "status": RUN_STATUS,
                "provider_name": STR, "category": CATEGORY, "connection_id": STR,
                "num_records_synced": {"type": ["number", "null"]}})
RATE_LIMIT = obj({"limit": INT, "remaining": INT}, {"reset_time": INT})
RATE_LIMIT_INFO = obj({}, {"daily": RATE_LIMIT, "hourly": RATE_LIMIT,
                           "other": {"type": "object", "additionalProperties": RATE_LIMIT}})
PROVIDER_USER_ID = obj({}, {"user_id": STR, "raw_details": {"type": "object"},
                            "additional_raw_details": {"type": "object"}})


def flat_page(item: dict[str, Any]) -> dict[str, Any]:
    """The management API's pages (syncs, sync runs)."""
    return obj({"next": NSTR, "previous": NSTR, "results": array(item)}, {"total_count": NUM})


def records_page(record: dict[str, Any]) -> dict[str, Any]:
    """The Data Listing's and the unified lists' pages."""
    return obj({"pagination": obj({"next": NSTR, "previous": NSTR}, {"total_count": NUM}),
                "records": array(record)})


# --- Data Listing records (`/data/v2/{provider}/{object}`) ------------------------------------

def nullable_strings(names: str) -> dict[str, Any]:
    return {n: NSTR for n in names.split()}


# The records of the objects Supaglue's data bundle documents per provider are written down
# with the contract tests (tests/api/test_contract.py): the platform names no provider.


# --- unified records (`/crm/v2/{object}`, `/engagement/v2/{object}`) ---------------------------

_TYPES = {TEXT: NSTR, INTEGER: {"type": ["integer", "null"]},
          FLOAT: {"type": ["number", "null"]}, BOOLEAN: {"type": ["boolean", "null"]},
          TIMESTAMP: NTIME, JSONB: {}}


def unified_record(table: str) -> dict[str, Any]:
    """A common object's record: Supaglue's base fields (`is_deleted` a boolean,
    `last_modified_at` a date-time) and the object's fields, each present (null when empty)."""
    common = COMMON_OBJECTS[table]
    fields = {f.name: _TYPES[f.type] for f in (*BASE_FIELDS, *common.fields)}
    fields.update(id=STR, is_deleted=BOOL, last_modified_at=TIME)
    return obj(fields, {"raw_data": {"type": "object"}})


RFC3339 = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$")
FORMATS = FormatChecker(formats=())


@FORMATS.checks("date-time")
def is_datetime(value: object) -> bool:
    """RFC 3339 date-time (jsonschema checks it only with an optional package installed)."""
    if not isinstance(value, str):
        return True
    if not RFC3339.match(value):
        return False
    try:
        datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return False
    return True


def errors_in(schema: dict[str, Any], doc: Any) -> list[str]:
    """Where `doc` departs from `schema`, one line each (empty: it conforms)."""
    validator = Draft202012Validator(schema, format_checker=FORMATS)
    return [f"{'/'.join(map(str, e.absolute_path)) or '(root)'}: {e.message}"
            for e in validator.iter_errors(doc)]
