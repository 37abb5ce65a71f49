"""The order a tap gives its records' keys where it chooses one at no cost per record.

JSON objects have no key order, so a tap may pick any. PostgreSQL's `jsonb` keeps an object's
keys sorted, shorter keys first and keys of one length by their bytes ("jsonb does not preserve
the order of object keys", PostgreSQL's JSON Types documentation; the comparison is
`lengthCompareJsonbStringValue` in its source), and sorts every object as it parses one. Its
sort checks first whether the input is already in order, so keys that arrive in that order cost
one pass instead of a sort: about a fifth of a PostgreSQL backend's CPU loading Salesforce-like
records into a `_supaglue_raw_data` column. A tap whose records take their keys from a list it
names itself (a query's SELECT list, whose order the provider's rows follow) lists them in this
order; taps that relay the provider's own JSON objects keep the provider's order (reordering
each record would cost the tap more than it saves the database).
"""

from __future__ import annotations

from collections.abc import Iterable


def _jsonb_key(name: str) -> tuple[int, bytes]:
    encoded = name.encode()
    return len(encoded), encoded


def jsonb_order(names: Iterable[str]) -> list[str]:
    """`names` in the order PostgreSQL's jsonb stores object keys: by UTF-8 length, then by
    bytes."""
    return sorted(names, key=_jsonb_key)
