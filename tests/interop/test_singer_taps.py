"""Independent Singer taps against the twins, unchanged: each sync's records are the twin's.

singer-io tap-salesforce (REST and BULK: Bulk API 1.0), singer-io tap-hubspot and Meltano
Hub's tap-hubspot (MeltanoLabs, `meltano-tap-hubspot`), each in its own virtual environment
(scripts/interop). The twin's truth comes from the provider spec's `twin.records`.
"""

from __future__ import annotations

import pytest

from tenantsync import providers
from tests.interop.independent import TapRun, record_counts, record_ids, tap_venv

pytestmark = pytest.mark.slow


def _twin(name: str, records: int = 60):
    spec = providers.get(name)
    return spec, spec.twin.start("sync", records=records, seed=13)


def _live(spec, sb, obj: str) -> set[str]:
    return {i for i, (_, deleted) in spec.twin.records(sb, obj).items() if not deleted}


@pytest.mark.parametrize("api_type", ["REST", "BULK"])
def test_singer_io_tap_salesforce(api_type, tmp_path):
    venv = tap_venv("tap-salesforce")
    spec, sb = _twin("salesforce")
    objects = ["Account", "Contact", "Opportunity", "Lead"]
    try:
        spec.twin.mutate(sb, 1)  # a created, renamed and deleted Account: in the recycle bin
        sb.bulk_polls = 1
        run = TapRun(venv, "tap-salesforce", sb, {
            "client_id": sb.client_id, "client_secret": sb.client_secret,
            "refresh_token": sb.mint_refresh_token(), "start_date": "2000-01-01T00:00:00Z",
            "api_type": api_type, "select_fields_by_default": True, "is_sandbox": False,
        }, tmp_path, catalog_flag="--properties")  # this tap reads its catalog so
        try:
            messages = run.sync(run.discover(), objects)
        finally:
            run.close()
        truth = {o: spec.twin.records(sb, o) for o in objects}
        assert record_counts(messages) == {o: len(truth[o]) for o in objects}
        for obj in objects:
            assert record_ids(messages, obj, "Id") == set(truth[obj])
        deleted = {m["record"]["Id"] for m in messages if m["type"] == "RECORD"
                   and m["record"].get("IsDeleted")}
        assert deleted == {i for o in objects for i, (_, d) in truth[o].items() if d}
        assert deleted  # the deleted Account came through queryAll
    finally:
        sb.stop()


def test_singer_io_tap_hubspot(tmp_path):
    venv = tap_venv("tap-hubspot")
    spec, sb = _twin("hubspot")
    streams = {"contacts": "contacts", "companies": "companies", "deals": "deals",
               "tickets": "tickets"}
    try:
        run = TapRun(venv, "tap-hubspot", sb, {
            "client_id": sb.client_id, "client_secret": sb.client_secret,
            "refresh_token": sb.mint_refresh_token(), "redirect_uri": "https://example.com/cb",
            "start_date": "2000-01-01T00:00:00Z",
        }, tmp_path, catalog_flag="--properties")
        try:
            messages = run.sync(run.discover(), list(streams))
        finally:
            run.close()
        keys = {"contacts": "id", "companies": "companyId", "deals": "dealId", "tickets": "id"}
        for stream, obj in streams.items():
            assert record_ids(messages, stream, keys[stream]) == _live(spec, sb, obj), stream
    finally:
        sb.stop()


def test_meltano_hub_tap_hubspot(tmp_path):
    venv = tap_venv("meltano-tap-hubspot")
    spec, sb = _twin("hubspot")
    streams = ["contacts", "companies", "deals", "tickets", "calls", "communications"]
    try:
        run = TapRun(venv, "tap-hubspot", sb, {
            "client_id": sb.client_id, "client_secret": sb.client_secret,
            "refresh_token": sb.mint_refresh_token(), "start_date": "2000-01-01T00:00:00Z",
        }, tmp_path)
        try:
            messages = run.sync(run.discover(), streams)
        finally:
            run.close()
        for stream in streams:
            assert record_ids(messages, stream, "id") == _live(spec, sb, stream), stream
    finally:
        sb.stop()
