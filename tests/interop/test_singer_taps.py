"""Independent Singer taps against the twins, unchanged: each sync's records are the twin's.

singer-io tap-salesforce (REST and BULK: Bulk API 1.0), singer-io tap-hubspot, Meltano Hub's
tap-hubspot (MeltanoLabs, `meltano-tap-hubspot`), singer-io tap-pipedrive, tap-outreach and
tap-intercom, each in its own virtual environment (scripts/interop). The twin's truth comes
from the provider spec's `twin.records`. The taps' output then goes through target-postgres:
it lands in Supaglue's tables (peer taps' stream names aliased by the provider's spec) with
deletes right (their delete flags).
"""

from __future__ import annotations

import psycopg2
import pytest

from tenantsync import providers
from tests.interop.independent import TapRun, record_counts, record_ids, tap_venv
from tests.target.helpers import config, run_target

pytestmark = pytest.mark.slow


def _twin(name: str, records: int = 60):
    spec = providers.get(name)
    return spec, spec.twin.start("sync", records=records, seed=13)


def _landed(uri: str, schema: str, provider: str, messages: list[dict]) -> dict:
    """Run target-postgres on a tap's output: {table: {id: deleted}}."""
    run_target(config(uri, schema, provider_name=provider), messages)
    with psycopg2.connect(uri) as conn, conn.cursor() as cur:
        cur.execute("SELECT table_name FROM information_schema.tables WHERE table_schema = %s",
                    [schema])
        out = {}
        for (table,) in cur.fetchall():
            cur.execute(f'SELECT _supaglue_id, _supaglue_is_deleted FROM "{schema}"."{table}"')
            out[table] = dict(cur.fetchall())
    return out


def _live(spec, sb, obj: str) -> set[str]:
    return {i for i, (_, deleted) in spec.twin.records(sb, obj).items() if not deleted}


@pytest.mark.parametrize("api_type", ["REST", "BULK"])
def test_singer_io_tap_salesforce(api_type, tmp_path, pg_server_uri, pg_schema):
    venv = tap_venv("tap-salesforce")
    spec, sb = _twin("salesforce")
    objects = ["Account", "Contact", "Opportunity", "Lead"]
    try:
        spec.twin.mutate(sb, 1)  # a created, renamed and deleted Account: in the recycle bin
        sb.bulk_polls = 1
        with TapRun(venv, "tap-salesforce", sb, {
            "client_id": sb.client_id, "client_secret": sb.client_secret,
            "refresh_token": sb.mint_refresh_token(), "start_date": "2000-01-01T00:00:00Z",
            "api_type": api_type, "select_fields_by_default": True, "is_sandbox": False,
        }, tmp_path, catalog_flag="--properties") as run:  # it reads its catalog from --properties
            catalog = run.discover()
            messages = run.sync(catalog, objects, replication_key="SystemModstamp")
            truth = {o: spec.twin.records(sb, o) for o in objects}
            sb.advance_clock(5)
            spec.twin.mutate(sb, 3)  # another Account created, renamed and deleted
            state = next(m["value"] for m in reversed(messages) if m["type"] == "STATE")
            changes = run.sync(catalog, objects, state, replication_key="SystemModstamp")
        assert record_counts(messages) == {o: len(truth[o]) for o in objects}
        for obj in objects:
            assert record_ids(messages, obj, "Id") == set(truth[obj])
        deleted = {m["record"]["Id"] for m in messages if m["type"] == "RECORD"
                   and m["record"].get("IsDeleted")}
        assert deleted == {i for o in objects for i, (_, d) in truth[o].items() if d}
        assert deleted  # the deleted Account came through queryAll
        landed = _landed(pg_server_uri, pg_schema, "salesforce", messages)
        for obj in objects:  # IsDeleted: true rows are stored as deleted
            assert landed[f"salesforce_{obj.lower()}"] == {i: d for i, (_, d) in
                                                          truth[obj].items()}
        after = spec.twin.records(sb, "Account")
        new = set(after) - set(truth["Account"])
        assert len(new) == 1 and after[new.pop()][1]  # created and deleted since the full sync
        assert record_counts(changes)["Account"] < len(after)  # only what changed (and the
        landed = _landed(pg_server_uri, pg_schema, "salesforce", changes)  # bookmark's own)
        assert landed["salesforce_account"] == {i: d for i, (_, d) in after.items()}
    finally:
        sb.stop()


def test_singer_io_tap_hubspot(tmp_path, pg_server_uri, pg_schema):
    venv = tap_venv("tap-hubspot")
    spec, sb = _twin("hubspot")
    streams = {"contacts": "contacts", "companies": "companies", "deals": "deals",
               "tickets": "tickets"}
    try:
        with TapRun(venv, "tap-hubspot", sb, {
            "client_id": sb.client_id, "client_secret": sb.client_secret,
            "refresh_token": sb.mint_refresh_token(), "redirect_uri": "https://example.com/cb",
            "start_date": "2000-01-01T00:00:00Z",
        }, tmp_path, catalog_flag="--properties") as run:
            messages = run.sync(run.discover(), [*streams, "owners", "deal_pipelines"])
        keys = {"contacts": "id", "companies": "companyId", "deals": "dealId", "tickets": "id"}
        assert record_ids(messages, "owners", "id") == {str(o["id"]) for o in sb.portal.owners
                                                        if not o["archived"]}
        assert record_ids(messages, "deal_pipelines", "pipelineId") == {"default"}
        for stream, obj in streams.items():
            assert record_ids(messages, stream, keys[stream]) == _live(spec, sb, obj), stream
        landed = _landed(pg_server_uri, pg_schema, "hubspot", messages)
        for stream, obj in streams.items():  # plural stream names land in Supaglue's tables
            table = f"hubspot_{spec.peer_stream_aliases[stream]}"
            assert landed[table] == dict.fromkeys(_live(spec, sb, obj), False), stream
    finally:
        sb.stop()


def test_meltano_hub_tap_hubspot(tmp_path, pg_server_uri, pg_schema):
    venv = tap_venv("meltano-tap-hubspot")
    spec, sb = _twin("hubspot")
    streams = ["contacts", "companies", "deals", "tickets", "calls", "communications"]
    try:
        with TapRun(venv, "tap-hubspot", sb, {
            "client_id": sb.client_id, "client_secret": sb.client_secret,
            "refresh_token": sb.mint_refresh_token(), "start_date": "2000-01-01T00:00:00Z",
        }, tmp_path) as run:
            messages = run.sync(run.discover(), streams)
        for stream in streams:
            assert record_ids(messages, stream, "id") == _live(spec, sb, stream), stream
        landed = _landed(pg_server_uri, pg_schema, "hubspot", messages)
        for stream in streams:
            table = f"hubspot_{spec.peer_stream_aliases[stream]}"
            assert landed.get(table, {}) == dict.fromkeys(_live(spec, sb, stream), False), stream
    finally:
        sb.stop()


def test_singer_io_tap_pipedrive(tmp_path, pg_server_uri, pg_schema):
    """singer-io tap-pipedrive hard-codes https://api.pipedrive.com (the proxy) and takes an
    API token. Its notes, pipelines and stages streams need what the twin lacks (README,
    "Independent clients"): they are not selected."""
    venv = tap_venv("tap-pipedrive")
    spec, sb = _twin("pipedrive")
    streams = ["deals", "persons", "organizations"]
    try:
        spec.twin.mutate(sb, 1)  # a deal created, renamed and deleted
        with TapRun(venv, "tap-pipedrive", sb, {
            "api_token": sb.mint_api_token(), "start_date": "2000-01-01T00:00:00Z",
            "user-agent": "tenantsync-interop"}, tmp_path) as run:
            messages = run.sync(run.discover(), streams)
        landed = _landed(pg_server_uri, pg_schema, "pipedrive", messages)
        for stream in streams:
            truth = spec.twin.records(sb, stream)
            assert record_ids(messages, stream, "id") == set(truth), stream
            assert landed[f"pipedrive_{stream}"] == {i: d for i, (_, d) in truth.items()}
        assert any(landed["pipedrive_deals"].values())  # the deleted deal, by `is_deleted`
    finally:
        sb.stop()


def test_singer_io_tap_outreach(tmp_path, pg_server_uri, pg_schema):
    """singer-io tap-outreach hard-codes https://api.outreach.io (the proxy); it checks its
    credentials on /stages before anything else (the twin serves Outreach's default stages).
    Its snake_case streams read the JSON:API lists as they are."""
    venv = tap_venv("tap-outreach")
    spec, sb = _twin("outreach")
    streams = {"accounts": "accounts", "prospects": "prospects", "users": "users",
               "sequences": "sequences", "mailboxes": "mailboxes",
               "sequence_states": "sequenceStates", "stages": "stages"}
    try:
        spec.twin.mutate(sb, 1)  # a prospect created, renamed and deleted
        with TapRun(venv, "tap-outreach", sb, {
            "client_id": sb.client_id, "client_secret": sb.client_secret,
            "redirect_uri": "https://example.com/cb", "start_date": "2000-01-01T00:00:00Z",
            "refresh_token": sb.oauth.mint_refresh_token(sb.client_id),
            "user_agent": "tenantsync-interop"}, tmp_path) as run:
            messages = run.sync(run.discover(), list(streams))
        for stream, obj in streams.items():
            assert record_ids(messages, stream, "id") == _live(spec, sb, obj), stream
        assert len(_live(spec, sb, "prospects")) < len(spec.twin.records(sb, "prospects"))
    finally:
        sb.stop()


def test_singer_io_tap_intercom(tmp_path):
    """singer-io tap-intercom hard-codes https://api.intercom.io (the proxy) and checks its
    token on /tags first. contacts and conversations come through the search API with its
    epoch-seconds bookmarks (a float: datetime.timestamp()), companies through the scroll."""
    venv = tap_venv("tap-intercom")
    spec, sb = _twin("intercom")
    streams = {"contacts": "contact", "companies": "company", "conversations": "conversation"}
    try:
        with TapRun(venv, "tap-intercom", sb, {
            "access_token": sb.mint_token(), "start_date": "2000-01-01T00:00:00Z",
            "user_agent": "tenantsync-interop"}, tmp_path) as run:
            messages = run.sync(run.discover(), list(streams))
        for stream, obj in streams.items():
            truth = _live(spec, sb, obj)
            assert truth and record_ids(messages, stream, "id") == truth, stream
    finally:
        sb.stop()
