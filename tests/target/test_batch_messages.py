"""Singer BATCH messages: records read from JSON Lines files land exactly as the same records
sent as RECORD lines do, in their order among the other lines; unreadable files and bad
records are refused naming the file and the record."""

from __future__ import annotations

import gzip
import json

import pytest
from singer_sdk.exceptions import InvalidInputLine, RecordsWithoutSchemaException

from .helpers import config, rows, run_target, schema_msg, state
from .test_raw_records import ACC, RECORDS, paths, record_line, stored  # noqa: F401 (fixture)

SAME_TIME = "2024-02-01T00:00:00Z"


def batch_file(path, records: list[str], *, gzipped: bool = False):
    data = "".join(r + "\n" for r in records).encode()
    path.write_bytes(gzip.compress(data) if gzipped else data)
    return path


def batch(stream: str, *files, compression: str = "none") -> str:
    return json.dumps({"type": "BATCH", "stream": stream, "manifest": [f.as_uri() for f in files],
                       "encoding": {"format": "jsonl", "compression": compression}})


def twice(rid: str, first: str, second: str) -> list[str]:
    """Two versions of one record with the same last-modified time: arrival decides."""
    return [json.dumps({"Id": rid, "SystemModstamp": SAME_TIME, "Name": name})
            for name in (first, second)]


@pytest.mark.parametrize("gzipped", [False, True], ids=["jsonl", "jsonl.gz"])
def test_batched_records_land_as_record_lines_do(pg_server_uri, pg_schema, pg_conn, tmp_path,
                                                 paths, gzipped):  # noqa: F811
    records = [r for r, _ in RECORDS]
    late = twice("b1", "in the file", "in a RECORD line after it")
    run_target(config(pg_server_uri, pg_schema, customer_id="lines"), [
        json.dumps(schema_msg(ACC)), *(record_line(ACC, r) for r in records),
        *(record_line(ACC, r) for r in [*twice("b2", "first", "second"), *late])])

    from_lines = list(paths)
    paths.clear()
    first = batch_file(tmp_path / "1.jsonl", records[:4], gzipped=gzipped)
    second = batch_file(tmp_path / "2.jsonl", [*records[4:], *twice("b2", "first", "second"),
                                              late[0]], gzipped=gzipped)
    states = run_target(config(pg_server_uri, pg_schema, customer_id="batch"), [
        json.dumps(schema_msg(ACC)), batch(ACC, first, compression="gzip" if gzipped else "none"),
        json.dumps(state(1)), batch(ACC, second, compression="gzip" if gzipped else "none"),
        record_line(ACC, late[1]), json.dumps(state(2))])

    assert states[-1] == state(2)["value"]
    # as many records take their JSON text's path as on lines; a file's line is offered even
    # where msgspec refuses it (the lone surrogate: a RECORD line's envelope fails first), and
    # is declined
    assert paths.count(True) == from_lines.count(True)
    assert len(paths) == len(from_lines) + 1
    assert stored(pg_conn, pg_schema, "salesforce_account", "batch") == \
        stored(pg_conn, pg_schema, "salesforce_account", "lines")
    names = {r["_supaglue_id"]: r["_supaglue_raw_data"].get("Name")
             for r in rows(pg_conn, pg_schema, "salesforce_account")
             if r["_supaglue_customer_id"] == "batch"}
    assert names["b2"] == "second" and names["b1"] == "in a RECORD line after it"
    assert first.exists() and second.exists()  # kept unless delete_batch_files is set


def test_delete_batch_files_removes_each_file_once_read(pg_server_uri, pg_schema, pg_conn,
                                                        tmp_path):
    files = [batch_file(tmp_path / f"{i}.jsonl", [r for r, _ in RECORDS[i::2]]) for i in (0, 1)]
    run_target(config(pg_server_uri, pg_schema, delete_batch_files=True),
               [json.dumps(schema_msg(ACC)), batch(ACC, *files), json.dumps(state(1))])
    assert not any(f.exists() for f in files)
    assert len(rows(pg_conn, pg_schema, "salesforce_account")) == 9  # a1 twice


@pytest.mark.parametrize(("make", "error", "where"), [
    (lambda d: batch(ACC, batch_file(d / "bad.jsonl", [RECORDS[0][0], '{"Id": "x",'])),
     "input line 2 is not valid JSON", "bad.jsonl, record 2"),
    (lambda d: batch(ACC, batch_file(d / "list.jsonl", ["[1, 2]"])),
     "input line 2, stream 'Account': the record is list", "list.jsonl, record 1"),
    (lambda d: batch(ACC, d / "missing.jsonl"), "cannot read", None),
    (lambda d: batch(ACC, batch_file(d / "plain.jsonl", [RECORDS[0][0]]), compression="gzip"),
     "cannot read", None),
    (lambda d: batch(ACC).replace("[]", '["s3://bucket/a.jsonl"]'), "only local batch files",
     None),
    (lambda d: batch(ACC).replace("jsonl", "parquet"), "only jsonl files", None),
])
def test_unreadable_batches_are_refused_by_name(pg_server_uri, pg_schema, tmp_path, make,
                                                error, where):
    with pytest.raises(InvalidInputLine, match=error) as caught:
        run_target(config(pg_server_uri, pg_schema), [json.dumps(schema_msg(ACC)),
                                                      make(tmp_path)])
    assert str(caught.value).startswith("input line 2")
    if where:
        assert any(where in note for note in caught.value.__notes__)


def test_a_batch_before_its_schema_is_refused(pg_server_uri, pg_schema, tmp_path):
    with pytest.raises(RecordsWithoutSchemaException, match="BATCH for stream 'Account'"):
        run_target(config(pg_server_uri, pg_schema),
                   [batch(ACC, batch_file(tmp_path / "a.jsonl", [RECORDS[0][0]]))])
