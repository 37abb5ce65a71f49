"""Turning Singer records into COPY text-format lines for the temp table of a `TableSpec`.

This is the per-record hot path of the target, so it does as little as it can: one JSON encode
of the raw record (msgspec), plain string escaping, no datetime parsing (Postgres parses the
timestamps inside COPY, in bulk).
"""

from __future__ import annotations

import datetime as dt
import decimal
import hashlib
import re

import msgspec

from tenantsync.common_schema import BOOLEAN, JSONB

from .tables import TableSpec

_encoder = msgspec.json.Encoder(decimal_format="number")

# COPY text format: backslash, tab, newline and carriage return are escaped; NUL cannot be stored
# in Postgres text at all, so it is dropped.
_TEXT_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r", "\x00": ""})
# A JSON-escaped NUL (\u0000) is refused by JSONB; an odd run of backslashes before u0000 is
# the escape, an even run is literal text and must be kept.
_JSON_NUL = re.compile(r"(\\+)u0000")
_SURROGATE = re.compile(r"[\ud800-\udfff]")
# Timestamps PostgreSQL reads the same as TIMESTAMP and as TIMESTAMPTZ in a UTC session: no
# offset, or a zero one (TIMESTAMP input ignores an offset, so any other must be converted).
_UTC_TIMESTAMP = re.compile(
    r"\d{4}-\d\d-\d\d(?:[T ]\d\d:\d\d(?::\d\d(?:\.\d*)?)?(?:Z|z|[+-]00(?::?00)?)?)?")
NULL = "\\N"


class RecordError(ValueError):
    """A record that cannot be stored as it is; the message names the field."""


class MissingKeyError(RecordError):
    """A record without a value for its stream's key."""


def _strip_json_nul(match: re.Match) -> str:
    slashes = match.group(1)
    return slashes[:-1] if len(slashes) % 2 else match.group(0)


def _fix_surrogates(value):
    """Replace lone UTF-16 surrogates (invalid in UTF-8 and in Postgres) with U+FFFD."""
    if isinstance(value, str):
        return _SURROGATE.sub("\ufffd", value)
    if isinstance(value, dict):
        return {_fix_surrogates(k): _fix_surrogates(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_fix_surrogates(v) for v in value]
    return value


def json_text(value) -> str:
    """JSON for a JSONB column, escaped for COPY text format."""
    try:
        text = _encoder.encode(value).decode()
    except UnicodeEncodeError:
        text = _encoder.encode(_fix_surrogates(value)).decode()
    return _copy_json(text)


def raw_json_text(raw) -> str | None:
    """`json_text` of JSON as it arrived (the bytes of a RECORD's record, which msgspec has
    already found well-formed and free of lone surrogates), without decoding and re-encoding
    it; None where it must be re-encoded: a tab or carriage return between its tokens would
    read as COPY's column delimiter or line end."""
    text = str(raw, "utf-8")
    if "\t" in text or "\r" in text:
        return None
    return _copy_json(text)


def _copy_json(text: str) -> str:
    if "\\u0000" in text:
        text = _JSON_NUL.sub(_strip_json_nul, text)
    # Control characters inside JSON strings are escaped, so only backslashes need doubling.
    return text.replace("\\", "\\\\")


def text(value) -> str:
    if isinstance(value, str):
        try:
            value.encode()
        except UnicodeEncodeError:
            value = _fix_surrogates(value)
        return value.translate(_TEXT_ESCAPES)
    if isinstance(value, bool):
        return "t" if value else "f"
    if isinstance(value, (int, float, decimal.Decimal)):
        return str(value)
    if isinstance(value, (dt.datetime, dt.date)):
        return value.isoformat()
    return json_text(value)


def timestamp_text(value, field: str) -> str:
    """A timestamp for COPY: ISO-8601 strings pass through; epoch numbers are converted."""
    if value is None or value == "":
        return NULL
    if isinstance(value, str):
        return value.translate(_TEXT_ESCAPES)
    if isinstance(value, (int, float, decimal.Decimal)) and not isinstance(value, bool):
        seconds = float(value) / (1000 if abs(value) > 1e11 else 1)  # epoch ms or s
        return dt.datetime.fromtimestamp(seconds, tz=dt.timezone.utc).isoformat()
    if isinstance(value, dt.datetime):
        return value.isoformat()
    raise RecordError(f"field {field!r}: expected a timestamp, got {type(value).__name__}")


def reads_as_utc(value) -> bool:
    """Whether COPY can load this timestamp straight into a TIMESTAMP column (see above);
    epoch numbers are formatted in UTC by timestamp_text."""
    if isinstance(value, str):
        return _UTC_TIMESTAMP.fullmatch(value) is not None
    if isinstance(value, dt.datetime):
        return not value.utcoffset()
    return isinstance(value, (int, float, decimal.Decimal)) and not isinstance(value, bool)


def record_id(record: dict, key_properties: list[str] | tuple[str, ...]) -> str:
    """`_supaglue_id`: the single key's value, a JSON array for composite keys, or a content
    hash when the stream declares no key (identical records then collapse into one row)."""
    if len(key_properties) == 1:
        value = record.get(key_properties[0])
        if value is None:
            raise MissingKeyError(f"key property {key_properties[0]!r} is missing or null")
        return value if isinstance(value, str) else str(value)
    if key_properties:
        values = [record.get(k) for k in key_properties]
        if any(v is None for v in values):
            missing = [k for k, v in zip(key_properties, values, strict=True) if v is None]
            raise MissingKeyError(f"key properties {missing} are missing or null")
        return _encoder.encode(values).decode()
    return hashlib.sha256(_encoder.encode(record)).hexdigest()


def object_line(rid: str, last_modified, is_deleted: bool, raw: str, mapped: str = "{}") -> str:
    """A COPY line for standard/custom tables: id, last modified, deleted, raw JSON, mapped JSON
    (`raw` and `mapped`: already COPY text, see json_text)."""
    return (f"{text(rid)}\t{timestamp_text(last_modified, 'last modified')}\t"
            f"{'t' if is_deleted else 'f'}\t{raw}\t{mapped}\n")


def common_line(spec: TableSpec, record: dict) -> tuple[str, bool]:
    """A COPY line for a common-object table, in `spec.record_cols` order, and whether every
    timestamp in it reads as UTC (`reads_as_utc`). Missing flags and required JSON get their
    defaults here (false, `[]`), so the line holds exactly what the table will."""
    unified = {k: v for k, v in record.items() if k != "raw_data"}
    parts = [json_text(unified)]
    utc = True
    for name in spec.record_cols[1:]:
        col = spec.column(name)
        value = record.get(name)
        if value is None:
            if col.not_null and col.type != JSONB and name not in (
                    spec.deleted_col, spec.last_modified_col):
                raise RecordError(f"common field {name!r} is required ({col.type} NOT NULL)")
            if name == spec.last_modified_col:
                raise RecordError("common field 'last_modified_at' is required")
            parts.append("f" if name == spec.deleted_col else "[]" if col.not_null else NULL)
        elif col.type == JSONB:
            parts.append(json_text(value))
        elif col.type.startswith("TIMESTAMP"):
            parts.append(timestamp_text(value, name))
            utc = utc and reads_as_utc(value)
        elif col.type == BOOLEAN:
            if not isinstance(value, bool):
                raise RecordError(f"common field {name!r}: expected a boolean, got {value!r}")
            parts.append("t" if value else "f")
        else:
            parts.append(text(value))
    return "\t".join(parts) + "\n", utc
