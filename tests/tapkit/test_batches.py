"""Singer BATCH output (tapkit.batches): the same records, in files, in the same place among
the other messages; files of at most batch_size records; a bounded number of unread files."""

from __future__ import annotations

import gzip
import json
import stat
import threading

import pytest
from singer_sdk.exceptions import ConfigValidationError

from tenantsync.batch_files import local_path
from tenantsync.tapkit import batches
from tenantsync.tapkit.batches import BatchFiles, batch_settings

from .test_stream import run


def batch_config(tmp_path, **extra) -> dict:
    return {"batch_config": {"encoding": {"format": "jsonl", "compression": "none"},
                             "storage": {"root": tmp_path.as_uri(), "prefix": "toy-"},
                             **extra}}


def expanded(messages: list[dict]) -> list[dict]:
    """BATCH messages replaced by RECORD messages of their files' records."""
    out = []
    for m in messages:
        if m["type"] != "BATCH":
            out.append(m)
            continue
        for url in m["manifest"]:
            path = local_path(url)
            opener = gzip.open if m["encoding"]["compression"] == "gzip" else open
            with opener(path, "rb") as fh:
                out += [{"type": "RECORD", "stream": m["stream"], "record": json.loads(line)}
                        for line in fh]
    return out


def comparable(messages: list):
    """Without what differs between two runs: extraction times and full-sync versions."""
    if isinstance(messages, dict):
        return {k: comparable(v) for k, v in messages.items()
                if k not in ("time_extracted", "version", "full_sync_version")}
    return [comparable(m) for m in messages] if isinstance(messages, list) else messages


@pytest.mark.parametrize("compression", ["none", "gzip"])
def test_batches_hold_the_same_records_in_the_same_place(tmp_path, compression):
    lines, _ = run()
    cfg = batch_config(tmp_path)
    cfg["batch_config"]["encoding"]["compression"] = compression
    batched, _ = run(cfg)
    assert not any(m["type"] == "RECORD" for m in batched)
    assert {m["stream"] for m in batched if m["type"] == "BATCH"} == {"alpha", "beta"}
    # every STATE, SCHEMA and ACTIVATE_VERSION keeps its place after the records it follows
    assert comparable(expanded(batched)) == comparable(lines)
    suffix = ".jsonl.gz" if compression == "gzip" else ".jsonl"
    assert all(p.name.startswith("toy-") and p.name.endswith(suffix) for p in tmp_path.iterdir())


def test_only_the_tap_s_user_may_read_the_files(tmp_path):
    run(batch_config(tmp_path / "batches"))
    folder = tmp_path / "batches"
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    assert {stat.S_IMODE(p.stat().st_mode) for p in folder.iterdir()} == {0o600}


def test_a_file_holds_at_most_batch_size_records(tmp_path):
    batched, _ = run(batch_config(tmp_path, batch_size=2))
    sizes = [len(expanded([m])) for m in batched if m["type"] == "BATCH"]
    assert max(sizes) == 2 and sum(sizes) == 20  # pages of 3 records: files of 2 and 1


def test_records_changed_by_stream_maps_go_to_the_files(tmp_path):
    batched, _ = run({**batch_config(tmp_path), "stream_maps": {"alpha": {"value": "__NULL__"}}})
    records = [m for m in expanded(batched) if m["type"] == "RECORD"]
    assert all("value" not in m["record"] for m in records if m["stream"] == "alpha")
    assert all("value" in m["record"] for m in records if m["stream"] == "beta")


def test_the_tap_waits_while_batch_pending_files_are_unread(tmp_path):
    files = BatchFiles(tmp_path, "", False, 10, pending_limit=1)
    files.start("alpha")
    files.buffer += b'{"id": 1}\n'
    first = local_path(files.close()["manifest"][0])
    opened = threading.Event()
    waiter = threading.Thread(target=lambda: (files.start("alpha"), opened.set()))
    waiter.start()
    assert not opened.wait(0.3)  # the first file is still there: no second one yet
    first.unlink()  # what a target with delete_batch_files does once it has read it
    assert opened.wait(10)
    waiter.join()


def test_a_long_wait_for_the_target_is_reported(tmp_path, monkeypatch, caplog):
    monkeypatch.setattr(batches, "WAIT_WARNING_SECONDS", 0.05)
    files = BatchFiles(tmp_path, "", False, 10, pending_limit=1)
    files.start("alpha")
    first = local_path(files.close()["manifest"][0])
    threading.Timer(0.5, first.unlink).start()  # the target reads it, late
    with caplog.at_level("WARNING"):
        files.start("alpha")
    assert [r.getMessage() for r in caplog.records if "delete_batch_files" in r.getMessage()
            and "1 batch files" in r.getMessage()], caplog.text


@pytest.mark.parametrize(("batch", "error"), [
    ({"storage": {"root": "s3://bucket/x"}}, "only local batch files"),
    ({"storage": {"root": "relative/dir"}}, "only local batch files"),
    ({"encoding": {"format": "parquet"}, "storage": {"root": "file:///tmp/x"}}, "jsonl"),
    ({"encoding": {"format": "jsonl", "compression": "zstd"},
      "storage": {"root": "file:///tmp/x"}}, "compression"),
    ({"encoding": {"format": "jsonl"}}, "storage.root"),
])
def test_unusable_batch_config_is_refused_by_name(batch, error):
    with pytest.raises(ConfigValidationError, match=error):
        batch_settings({"batch_config": batch})
