"""Running target-postgres in-process on a list of Singer messages."""

from __future__ import annotations

import io
import json
from contextlib import redirect_stdout

from target_postgres import TargetPostgres


def config(uri: str, schema: str, **overrides) -> dict:
    return {"application_id": "app1", "customer_id": "cust1", "provider_name": "salesforce",
            "sqlalchemy_url": uri, "schema": schema, **overrides}


def schema_msg(stream: str, key="Id", bookmark="SystemModstamp", properties=None) -> dict:
    props = properties or {"Id": {"type": "string"}, "Name": {"type": ["string", "null"]},
                           "SystemModstamp": {"type": "string", "format": "date-time"}}
    msg = {"type": "SCHEMA", "stream": stream, "schema": {"type": "object", "properties": props},
           "key_properties": [key] if key else []}
    if bookmark:
        msg["bookmark_properties"] = [bookmark]
    return msg


def rec(stream: str, rid: str, modstamp: str, **fields) -> dict:
    return {"type": "RECORD", "stream": stream,
            "record": {"Id": rid, "SystemModstamp": modstamp, **fields}}


def state(n) -> dict:
    return {"type": "STATE", "value": {"bookmarks": {"n": n}}}


def run_target(cfg: dict | list, messages: list, stdout=None) -> list[dict]:
    """Feed messages (dicts or raw lines) to a fresh target configured by a dict or config
    files; return the STATE values it wrote."""
    lines = "".join((m if isinstance(m, str) else json.dumps(m)) + "\n" for m in messages)
    out = stdout if stdout is not None else io.StringIO()
    target = TargetPostgres(config=cfg)
    with redirect_stdout(out):
        target.listen(io.StringIO(lines))
    if stdout is not None:
        return []
    return [json.loads(line) for line in out.getvalue().splitlines() if line.strip()]


def rows(conn, schema: str, table: str, order="_supaglue_id") -> list[dict]:
    with conn.cursor() as cur:
        cur.execute(f'SELECT * FROM "{schema}"."{table}" ORDER BY {order}')
        names = [d[0] for d in cur.description]
        return [dict(zip(names, r, strict=True)) for r in cur.fetchall()]
