"""jsonb_order is the order PostgreSQL's jsonb keeps object keys in."""

from __future__ import annotations

import json
import random

from tenantsync.tapkit.key_order import jsonb_order

# lengths that differ, keys of one length, case, digits, underscores, and keys whose UTF-8
# length is not their length in characters ("é" is two bytes, so it sorts with "Id")
NAMES = ["Id", "Name", "IsDeleted", "a", "B", "zz", "é", "Ω1", "AccountId", "Account_Id",
         "SystemModstamp", "CreatedDate", "__c", "Z", "ab", "aB", "Custom_Field__c", "日本"]


def test_jsonb_order_is_the_order_postgresql_keeps(pg_conn):
    shuffled = random.Random(3).sample(NAMES, len(NAMES))
    with pg_conn.cursor() as cur:
        cur.execute("SELECT array(SELECT jsonb_object_keys(%s::jsonb))",
                    (json.dumps(dict.fromkeys(shuffled, 1)),))
        assert cur.fetchone()[0] == jsonb_order(shuffled)
    assert jsonb_order(shuffled) != sorted(NAMES, key=len)  # bytes, not characters
