"""CRM search (`POST /crm/v3/objects/{type}/search`): request validation and translation to SQL.

The search index keeps, per record, a doc `{"t": typed values, "r": the record as searched}`.
Typed values (see `index_value`) are numbers for number properties, epoch milliseconds for
date/datetime properties, lower-cased text for everything else, and no key when the value is
empty. A filter value goes through the same conversion, so every operator becomes one plain
SQLite comparison, and string matching is case-insensitive, as HubSpot's is. Properties the
caller has promoted to indexed columns (id, created, modified) are compared on those columns.

Limits are the current ones (5 groups, 10 filters per group, 25 in all; changelog of Aug 2024).
Semantics chosen where the reference is silent ([U]): NEQ, NOT_IN and NOT_CONTAINS_TOKEN also
match records that have no value; with no `sorts`, results come in record-id order.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timezone
from functools import lru_cache

from tap_hubspot.sandbox.objects import ObjectType
from tap_hubspot.sandbox.properties import PropertyTable

# provider-apis.md §2.5
MAX_GROUPS = 5
MAX_FILTERS_PER_GROUP = 10
MAX_FILTERS_TOTAL = 25
MAX_LIMIT = 200
DEFAULT_LIMIT = 10
RESULT_WINDOW = 10_000  # paging at or past this offset is refused with 400
MAX_QUERY_CHARS = 3000
MAX_SORTS = 1  # "You can use one sorting rule per search request" (search guide)

OPERATORS = frozenset({
    "EQ", "NEQ", "LT", "LTE", "GT", "GTE", "BETWEEN", "IN", "NOT_IN", "HAS_PROPERTY",
    "NOT_HAS_PROPERTY", "CONTAINS_TOKEN", "NOT_CONTAINS_TOKEN",
})
_COMPARE = {"EQ": "=", "LT": "<", "LTE": "<=", "GT": ">", "GTE": ">="}
_NUMERIC = frozenset({"number"})
_TEMPORAL = frozenset({"date", "datetime"})


class SearchError(ValueError):
    """The request is invalid: HubSpot answers 400 VALIDATION_ERROR with this message."""


# ---- the typed domain shared by stored values and filter values ----------------------------

def _epoch_ms(text: str) -> int:
    """Epoch ms from an epoch-ms string, an ISO-8601 datetime or a YYYY-MM-DD date."""
    if re.fullmatch(r"-?\d+", text):
        return int(text)
    try:
        if len(text) == 10:
            d = date.fromisoformat(text)
            moment = datetime(d.year, d.month, d.day, tzinfo=timezone.utc)
        else:
            moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
            if moment.tzinfo is None:
                moment = moment.replace(tzinfo=timezone.utc)
    except ValueError:
        raise ValueError(f"{text!r} is not a date (epoch milliseconds or ISO-8601)") from None
    return int(moment.timestamp() * 1000)


def typed(prop_type: str, value: str) -> int | float | str:
    """A wire (string) value in the typed domain; ValueError names what is wrong."""
    if prop_type in _NUMERIC:
        try:
            number = float(value)
        except ValueError:
            raise ValueError(f"{value!r} is not a number") from None
        return int(number) if number.is_integer() else number
    if prop_type in _TEMPORAL:
        return _epoch_ms(value)
    return value.lower()


def index_value(prop_types: dict[str, str], properties: dict[str, str | None]) -> dict:
    """The typed index entry of a record's wire properties (empty values are absent)."""
    out = {}
    for name, value in properties.items():
        if value is None or value == "":
            continue
        try:
            out[name] = typed(prop_types.get(name, "string"), value)
        except ValueError:
            out[name] = value.lower()  # a stored value HubSpot could not parse stays text
    return out


@lru_cache(maxsize=256)
def _token_pattern(pattern: str) -> re.Pattern:
    parts = (re.escape(p) for p in pattern.lower().split("*"))
    return re.compile(".*".join(parts))


def contains_token(value, pattern) -> int:
    """SQLite function: does any whitespace/';'-separated token of `value` match `pattern`
    (a token, `*` matching any run of characters)?"""
    if value is None or pattern is None:
        return 0
    rx = _token_pattern(pattern)
    text = str(value)
    return int(any(rx.fullmatch(tok) for tok in re.split(r"[\s;,]+", text) if tok)
               or rx.fullmatch(text) is not None)


def text_query_match(value, query) -> int:
    """SQLite function for the free-text `query`: every word of it is a prefix of some word
    of the record's searchable text."""
    if value is None:
        return 0
    words = re.findall(r"[\w@.+-]+", str(value).lower())
    return int(all(any(w.startswith(q) for w in words) for q in query.split()))


SQL_FUNCTIONS = {"hs_contains_token": (2, contains_token), "hs_text_query": (2, text_query_match)}


# ---- request -> plan -----------------------------------------------------------------------

@dataclass(frozen=True)
class SearchPlan:
    where: str  # SQL boolean expression over the index table's `doc` column
    params: tuple
    order_by: str
    limit: int
    offset: int
    properties: tuple[str, ...] | None  # None -> the type's defaults


def _expr(name: str, columns: dict[str, str]) -> str:
    """The SQL value of a property: its promoted column, else its typed value in the doc.
    (Property names are checked against the property table before they reach SQL.)"""
    return columns.get(name) or f"json_extract(doc, '$.t.\"{name}\"')"


def _convert(raw, prop_type: str, name: str):
    if isinstance(raw, bool):
        raw = "true" if raw else "false"
    try:
        return typed(prop_type, str(raw))
    except ValueError as exc:
        raise SearchError(f"filter on {name!r}: {exc}") from None


def _value(filt: dict, key: str, prop_type: str, name: str):
    if filt.get(key) is None:
        raise SearchError(f"filter on {name!r} with operator {filt['operator']} needs {key!r}")
    return _convert(filt[key], prop_type, name)


def _filter_sql(filt: dict, table: PropertyTable, columns: dict[str, str]) -> tuple[str, list]:
    if not isinstance(filt, dict):
        raise SearchError("each filter must be an object with propertyName and operator")
    name, op = filt.get("propertyName"), filt.get("operator")
    if not isinstance(name, str) or not name:
        raise SearchError("a filter is missing propertyName")
    if op not in OPERATORS:
        raise SearchError(f"unknown filter operator {op!r}; known: {', '.join(sorted(OPERATORS))}")
    prop = table.get(name)
    if prop is None:
        raise SearchError(f"There was a problem with the request: property {name!r} does not exist")
    expr, ptype = _expr(name, columns), prop.type
    if op in _COMPARE:
        return f"{expr} {_COMPARE[op]} ?", [_value(filt, "value", ptype, name)]
    if op == "NEQ":
        return f"({expr} IS NULL OR {expr} != ?)", [_value(filt, "value", ptype, name)]
    if op == "BETWEEN":
        low, high = _value(filt, "value", ptype, name), _value(filt, "highValue", ptype, name)
        return f"{expr} BETWEEN ? AND ?", [low, high]
    if op in ("IN", "NOT_IN"):
        values = filt.get("values")
        if not isinstance(values, list) or not values:
            raise SearchError(f"filter on {name!r} with operator {op} needs a non-empty 'values'")
        typed_values = [_convert(v, ptype, name) for v in values]
        marks = ", ".join("?" * len(typed_values))
        if op == "IN":
            return f"{expr} IN ({marks})", typed_values
        return f"({expr} IS NULL OR {expr} NOT IN ({marks}))", typed_values
    if op == "HAS_PROPERTY":
        return f"{expr} IS NOT NULL", []
    if op == "NOT_HAS_PROPERTY":
        return f"{expr} IS NULL", []
    token = str(filt.get("value") or "")
    if not token:
        raise SearchError(f"filter on {name!r} with operator {op} needs 'value'")
    if op == "CONTAINS_TOKEN":
        return f"hs_contains_token({expr}, ?)", [token]
    return f"({expr} IS NULL OR NOT hs_contains_token({expr}, ?))", [token]


def _sort_sql(sorts, table: PropertyTable, columns: dict[str, str]) -> str:
    terms = []
    if sorts is not None and not isinstance(sorts, list):
        raise SearchError("sorts must be a list")
    if sorts and len(sorts) > MAX_SORTS:
        raise SearchError(f"too many sorts: {len(sorts)} (at most {MAX_SORTS} per search)")
    for sort in sorts or ():
        if isinstance(sort, str):  # the client library types sorts as strings: "prop" / "-prop"
            name, desc = sort.lstrip("-"), sort.startswith("-")
        elif isinstance(sort, dict):
            name = sort.get("propertyName")
            direction = sort.get("direction", "ASCENDING")
            if direction not in ("ASCENDING", "DESCENDING"):
                raise SearchError(f"sort direction must be ASCENDING or DESCENDING, not "
                                  f"{direction!r}")
            desc = direction == "DESCENDING"
        else:
            raise SearchError("each sort must be an object with propertyName and direction")
        if not isinstance(name, str) or table.get(name) is None:
            raise SearchError(f"cannot sort by unknown property {name!r}")
        expr, order = _expr(name, columns), "DESC" if desc else "ASC"
        # Records without the value come last either way (promoted columns always have one).
        terms.append(f"{expr} {order}" if name in columns else f"{expr} IS NULL, {expr} {order}")
    return ", ".join(terms) or columns.get("hs_object_id", "rid")


def _int(body: dict, key: str, default: int) -> int:
    raw = body.get(key)
    if raw is None or raw == "":
        return default
    try:
        return int(str(raw))
    except ValueError:
        raise SearchError(f"{key!r} must be a whole number, got {raw!r}") from None


def plan(body, object_type: ObjectType, table: PropertyTable,
         columns: dict[str, str] | None = None) -> SearchPlan:
    """Validate a search body and compile it; SearchError says what is wrong. `columns` maps
    properties to indexed columns holding the same typed values (always non-null)."""
    columns = columns or {}
    if not isinstance(body, dict):
        raise SearchError("the search request body must be a JSON object")
    groups = body.get("filterGroups") or []
    if not isinstance(groups, list):
        raise SearchError("filterGroups must be a list")
    if len(groups) > MAX_GROUPS:
        raise SearchError(f"too many filterGroups: {len(groups)} (at most {MAX_GROUPS})")
    total = 0
    group_sql, params = [], []
    for group in groups:
        filters = group.get("filters") if isinstance(group, dict) else None
        if not isinstance(filters, list):
            raise SearchError("each filterGroup must have a 'filters' list")
        if len(filters) > MAX_FILTERS_PER_GROUP:
            raise SearchError(f"too many filters in a filterGroup: {len(filters)} "
                              f"(at most {MAX_FILTERS_PER_GROUP})")
        total += len(filters)
        parts = []
        for filt in filters:
            sql, values = _filter_sql(filt, table, columns)
            parts.append(sql)
            params.extend(values)
        if parts:
            group_sql.append("(" + " AND ".join(parts) + ")")
    if total > MAX_FILTERS_TOTAL:
        raise SearchError(f"too many filters: {total} (at most {MAX_FILTERS_TOTAL} in all)")
    where = " OR ".join(group_sql) if group_sql else "1"

    query = body.get("query")
    if query:
        if not isinstance(query, str) or len(query) > MAX_QUERY_CHARS:
            raise SearchError(f"query must be text of at most {MAX_QUERY_CHARS} characters")
        haystack = " || ' ' || ".join(
            f"coalesce({_expr(p, columns)}, '')" for p in object_type.searchable)
        where = f"({where}) AND hs_text_query({haystack}, ?)"
        params.append(query.lower())

    limit = _int(body, "limit", DEFAULT_LIMIT)
    if not 1 <= limit <= MAX_LIMIT:
        raise SearchError(f"limit must be between 1 and {MAX_LIMIT}, got {limit}")
    offset = _int(body, "after", 0)
    if offset < 0:
        raise SearchError(f"after must not be negative, got {offset}")
    if offset >= RESULT_WINDOW:
        raise SearchError(
            f"The search endpoints are limited to {RESULT_WINDOW} total results for any given "
            f"query; paging to after={offset} is beyond it. Narrow the query instead, for "
            "example with a filter on hs_object_id greater than the last id seen.")
    props = body.get("properties")
    if props is not None and not (isinstance(props, list)
                                  and all(isinstance(p, str) for p in props)):
        raise SearchError("properties must be a list of property names")
    return SearchPlan(where, tuple(params), _sort_sql(body.get("sorts"), table, columns), limit,
                      offset,
                      tuple(props) if props else None)
