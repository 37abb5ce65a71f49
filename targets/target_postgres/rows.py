"""Turning Singer records into rows of PostgreSQL's binary COPY format for a `TableSpec`.

This is the per-record hot path of the target, so it does as little as it can. Binary COPY
(https://www.postgresql.org/docs/current/sql-copy.html, "Binary Format") carries each value
with its length: nothing is escaped here, and the server neither scans lines for delimiters
nor parses timestamps (that was a sixth of its work on a load). A record's row is its fields
only (`fields`); the writer puts the field count and what leads every row (the sequence, or
the tenant stamp) in front at write time, so one row serves the temp table and the table.
"""

from __future__ import annotations

import datetime as dt
import decimal
import hashlib
import re
import struct

import msgspec

from tenantsync.common_schema import BOOLEAN, FLOAT, INTEGER, JSONB

from .tables import TableSpec

_encoder = msgspec.json.Encoder(decimal_format="number")
_length = struct.Struct("!i").pack
_int2 = struct.Struct("!h").pack

HEADER = b"PGCOPY\n\xff\r\n\x00" + bytes(8)  # signature, flags, header extension length
TRAILER = _int2(-1)
NULL = _length(-1)
TRUE, FALSE = _length(1) + b"\x01", _length(1) + b"\x00"
EMPTY_JSON = _length(3) + b"\x01{}"  # JSONB: a version byte, then the JSON text
_INT8 = struct.Struct("!iq").pack  # a BIGINT or timestamp field: length 8, then the value
_INT4 = struct.Struct("!ii").pack
_FLOAT8 = struct.Struct("!id").pack
_JSONB_HEAD = struct.Struct("!iB").pack  # length, then JSONB's version byte (1)

# A JSON-escaped NUL (\u0000) is refused by JSONB; an odd run of backslashes before u0000 is
# the escape, an even run is literal text and must be kept.
_JSON_NUL = re.compile(rb"(\\+)u0000")
_SURROGATE = re.compile(r"[\ud800-\udfff]")
# PostgreSQL's timestamps count microseconds from 2000-01-01 00:00 UTC.
_PG_EPOCH = dt.datetime(2000, 1, 1)
_PG_EPOCH_UTC = _PG_EPOCH.replace(tzinfo=dt.timezone.utc)
_MICROSECOND = dt.timedelta(microseconds=1)


class RecordError(ValueError):
    """A record that cannot be stored as it is; the message names the field."""


class MissingKeyError(RecordError):
    """A record without a value for its stream's key."""


def row_header(count: int) -> bytes:
    """What starts a row of `count` fields."""
    return _int2(count)


def bigint(value: int) -> bytes:
    return _INT8(8, value)


def _fix_surrogates(value):
    """Replace lone UTF-16 surrogates (invalid in UTF-8 and in Postgres) with U+FFFD."""
    if isinstance(value, str):
        return _SURROGATE.sub("\ufffd", value)
    if isinstance(value, dict):
        return {_fix_surrogates(k): _fix_surrogates(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_fix_surrogates(v) for v in value]
    return value


def _strip_json_nul(match: re.Match) -> bytes:
    slashes = match.group(1)
    return slashes[:-1] if len(slashes) % 2 else match.group(0)


def _without_json_nul(data: bytes) -> bytes:
    # most JSON holds no backslash at all: one memchr before the slower six-byte search
    if b"\\" in data and b"\\u0000" in data:
        return _JSON_NUL.sub(_strip_json_nul, data)
    return data


def _jsonb(data: bytes) -> tuple[bytes, bytes]:
    """A JSONB field of JSON text, in two pieces (its head, the text) that join into a row."""
    data = _without_json_nul(data)
    return _JSONB_HEAD(len(data) + 1, 1), data


def json_text(value) -> bytes:
    """A value's JSON text (lone surrogates replaced)."""
    try:
        return _encoder.encode(value)
    except UnicodeEncodeError:
        return _encoder.encode(_fix_surrogates(value))


def json_field(value) -> bytes:
    """A JSONB field of a value."""
    return b"".join(_jsonb(json_text(value)))


def text_field(value) -> bytes:
    """A TEXT field; NUL cannot be stored in Postgres text at all, so it is dropped."""
    if isinstance(value, str):
        try:
            data = value.encode()
        except UnicodeEncodeError:
            data = _fix_surrogates(value).encode()
    elif isinstance(value, bool):
        data = b"t" if value else b"f"
    elif isinstance(value, (int, float, decimal.Decimal)):
        data = str(value).encode()
    elif isinstance(value, (dt.datetime, dt.date)):
        data = value.isoformat().encode()
    else:
        data = _without_json_nul(json_text(value))
    if b"\x00" in data:
        data = data.replace(b"\x00", b"")
    return _length(len(data)) + data


def _parse_timestamp(value: str) -> dt.datetime | None:
    """An ISO 8601 / RFC 3339 timestamp (`T` or a space between date and time; any offset,
    `Z`, or none: UTC), or None."""
    try:
        return dt.datetime.fromisoformat(value)
    except ValueError:
        pass
    try:  # surrounding blanks and a lower-case `t` or `z`, as PostgreSQL reads them
        return dt.datetime.fromisoformat(value.strip().upper())
    except ValueError:
        return None


def _timestamp_micros(value, field: str) -> int | None:
    """A timestamp as PostgreSQL's microseconds (UTC), or None for none: ISO 8601 strings,
    epoch numbers (seconds, or milliseconds above 1e11) and datetimes."""
    if value is None or value == "":
        return None
    if isinstance(value, str):
        parsed = _parse_timestamp(value)
        if parsed is None:
            raise RecordError(f"field {field!r}: {value[:60]!r} is not an ISO 8601 timestamp")
    elif isinstance(value, (int, float, decimal.Decimal)) and not isinstance(value, bool):
        seconds = float(value) / (1000 if abs(value) > 1e11 else 1)
        try:
            parsed = dt.datetime.fromtimestamp(seconds, tz=dt.timezone.utc)
        except (OverflowError, OSError, ValueError):
            raise RecordError(f"field {field!r}: {value} is out of range as an epoch "
                              f"timestamp") from None
    elif isinstance(value, dt.datetime):
        parsed = value
    else:
        raise RecordError(f"field {field!r}: expected a timestamp, got {type(value).__name__}")
    if parsed.tzinfo is None:
        return (parsed - _PG_EPOCH) // _MICROSECOND
    return (parsed - _PG_EPOCH_UTC) // _MICROSECOND


def timestamp_field(value, field: str) -> bytes:
    """A TIMESTAMP or TIMESTAMPTZ field (both are microseconds from 2000-01-01 UTC; the server
    rounds them to the column's precision), NULL for none."""
    micros = _timestamp_micros(value, field)
    return NULL if micros is None else _INT8(8, micros)


def _integer_field(value, name: str) -> bytes:
    number = value
    if isinstance(value, str):
        try:
            number = int(value.strip())
        except ValueError:
            number = None
    if not isinstance(number, int) or isinstance(number, bool) \
            or not -2**31 <= number < 2**31:
        raise RecordError(f"common field {name!r}: expected an integer, got {value!r}")
    return _INT4(4, number)


def _float_field(value, name: str) -> bytes:
    try:
        if isinstance(value, bool):
            raise ValueError
        return _FLOAT8(8, float(value))
    except (TypeError, ValueError, OverflowError):
        raise RecordError(f"common field {name!r}: expected a number, got {value!r}") from None


def record_id(record: dict, key_properties: list[str] | tuple[str, ...]) -> str:
    """`_supaglue_id`: the single key's value, a JSON array for composite keys, or a content
    hash when the stream declares no key (identical records then collapse into one row)."""
    if len(key_properties) == 1:
        value = record.get(key_properties[0])
        if value is None:
            raise MissingKeyError(f"key property {key_properties[0]!r} is missing or null")
        return id_text(value)
    if key_properties:
        values = [record.get(k) for k in key_properties]
        if any(v is None for v in values):
            missing = [k for k, v in zip(key_properties, values, strict=True) if v is None]
            raise MissingKeyError(f"key properties {missing} are missing or null")
        return _encoder.encode(values).decode()
    return hashlib.sha256(_encoder.encode(record)).hexdigest()


def id_text(value) -> str:
    """A single key's value as `_supaglue_id`."""
    return value if isinstance(value, str) else str(value)


def object_fields(rid: str, last_modified, is_deleted: bool, raw: bytes,
                  mapped: bytes = EMPTY_JSON, field: str = "last modified") -> bytes:
    """A standard or custom object's record columns: id, last modified (from the record's
    `field`, named in errors), deleted, raw data, mapped data. `raw` is the record's JSON
    text (json_text, or JSON as it arrived: a RECORD's record or a batch file's line, which
    msgspec found well-formed and free of lone surrogates as it decoded the record's fields,
    not decoded and encoded again); `mapped` a JSONB field (json_field)."""
    return b"".join((text_field(rid), timestamp_field(last_modified, field),
                     TRUE if is_deleted else FALSE, *_jsonb(raw), mapped))  # one copy of raw


def common_fields(spec: TableSpec, record: dict) -> bytes:
    """A common object's record columns, in `spec.record_cols` order. Missing flags and
    required JSON get their defaults here (false, `[]`), so the row holds exactly what the
    table will."""
    unified = {k: v for k, v in record.items() if k != "raw_data"}
    parts = [json_field(unified)]
    for name in spec.record_cols[1:]:
        col = spec.column(name)
        value = record.get(name)
        if value is None:
            if col.not_null and col.type != JSONB and name not in (
                    spec.deleted_col, spec.last_modified_col):
                raise RecordError(f"common field {name!r} is required ({col.type} NOT NULL)")
            if name == spec.last_modified_col:
                raise RecordError("common field 'last_modified_at' is required")
            parts.append(FALSE if name == spec.deleted_col else
                         json_field([]) if col.not_null else NULL)
        elif col.type == JSONB:
            parts.append(json_field(value))
        elif col.type.startswith("TIMESTAMP"):
            parts.append(timestamp_field(value, name))
        elif col.type == BOOLEAN:
            if not isinstance(value, bool):
                raise RecordError(f"common field {name!r}: expected a boolean, got {value!r}")
            parts.append(TRUE if value else FALSE)
        elif col.type == INTEGER:
            parts.append(_integer_field(value, name))
        elif col.type == FLOAT:
            parts.append(_float_field(value, name))
        else:
            parts.append(text_field(value))
    return b"".join(parts)
