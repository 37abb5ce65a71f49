"""Salesforce ids and token formats.

A record id is 15 case-sensitive characters (3-character key prefix, then the rest) plus a
3-character suffix that encodes which of the 15 are upper case, so it survives case-insensitive
systems. The twin derives ids from (key prefix, index), so references need no lookups.
"""

from __future__ import annotations

import functools
import secrets
import string

_BASE62 = string.digits + string.ascii_uppercase + string.ascii_lowercase
_SUFFIX = string.ascii_uppercase + "012345"
_POD = "Dn"  # a fixed "instance" part, as real ids carry one


def _base62(n: int, width: int) -> str:
    out = ""
    while n:
        n, r = divmod(n, 62)
        out = _BASE62[r] + out
    if len(out) > width:
        raise ValueError(f"id index {n} does not fit {width} base-62 digits")
    return out.rjust(width, "0")


_UPPER_BITS = str.maketrans({c: "1" if c in string.ascii_uppercase else "0"
                             for c in _BASE62})


def checksum(id15: str) -> str:
    """The 3-character case-safety suffix of a 15-character id: one character per 5, whose
    value has bit i set when the i-th of those 5 is upper case."""
    flags = id15.translate(_UPPER_BITS)
    return "".join(_SUFFIX[int(flags[k:k + 5][::-1], 2)] for k in (0, 5, 10))


@functools.lru_cache(maxsize=1 << 16)
def make_id(prefix: str, n: int) -> str:
    """The 18-character id number `n` of the object with key prefix `prefix`."""
    id15 = prefix + _POD + _base62(n, 10)
    return id15 + checksum(id15)


def to18(value: str) -> str | None:
    """Normalize a 15- or 18-character id to 18 characters (None if it is not an id)."""
    if not (value.isascii() and value.isalnum()):
        return None
    if len(value) == 15:
        return value + checksum(value)
    if len(value) == 18 and checksum(value[:15]) == value[15:].upper():
        return value[:15] + checksum(value[:15])
    return None


def random_part(n: int, alphabet: str = string.ascii_letters + string.digits) -> str:
    return "".join(secrets.choice(alphabet) for _ in range(n))


def token(kind: str, org_id: str) -> str:
    """Fresh tokens shaped like Salesforce's (none of this is a real credential)."""
    if kind == "access":  # session ids: org id (15) + "!" + opaque part
        return f"{org_id[:15]}!AR{random_part(94, _BASE62 + '._')}"
    if kind == "refresh":
        return f"5Aep861{random_part(80, _BASE62 + '._')}"
    if kind == "code":
        return f"aPrx{random_part(60)}=="
    if kind == "client_id":
        return f"3MVG9{random_part(80, _BASE62 + '._')}"
    return random_part(64, string.hexdigits[:16].upper())
