"""End to end: registry -> render -> real `meltano run` -> tap-salesforce and tap-hubspot
against a sandbox org and portal per customer -> target-postgres -> one real Postgres.
Two customers (acme, globex) x two providers.

The tests run in order and share one project: each builds on the state the previous left
(full, then incremental, then the periodic full, ...). A `meltano run` costs a few seconds.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import psycopg2
import pytest
import yaml
from click.testing import CliRunner
from sqlalchemy import func, select

from tap_hubspot.sandbox import HubSpotSandbox
from tap_salesforce.sandbox import SalesforceSandbox
from tenantsync.api.models import Event
from tenantsync.cli import main
from tenantsync.controller import catalog_cache, crypto, db, render, run_lock
from tenantsync.controller.cli import EXIT_CREDENTIALS_REFUSED, EXIT_PAUSED
from tenantsync.controller.models import SyncRun
from tenantsync.controller.registry import Registry, RegistryError
from tenantsync.controller.runner import (
    INTERRUPTED,
    SYSTEM_DIR,
    RunError,
    meltano_executable,
    run_log,
    run_sync,
)

pytestmark = pytest.mark.slow

APP = "e2e-app"
SECRET_KEY = "e2e-secret-key-0123456789abcdef"
CUSTOMERS = ("acme", "globex")


@pytest.fixture(scope="module")
def world(tmp_path_factory, pg_server_uri):
    """Two sandbox orgs, a registry and a Meltano project wired to them, and a schema."""
    project = tmp_path_factory.mktemp("project")
    schema = "e2e_controller"
    logs = tmp_path_factory.mktemp("state")  # Meltano 4 logs to $XDG_STATE_HOME/meltano/log
    saved = {k: os.environ.get(k) for k in (crypto.KEY_ENV, db.URL_ENV, db.PROJECT_ENV,
                                            "TENANTSYNC_APPLICATION_ID", "XDG_STATE_HOME")}
    os.environ.update({crypto.KEY_ENV: SECRET_KEY, db.URL_ENV: f"sqlite:///{project}/reg.db",
                       db.PROJECT_ENV: str(project), "TENANTSYNC_APPLICATION_ID": APP,
                       "XDG_STATE_HOME": str(logs)})
    # acme's org rotates refresh tokens: the tap must hand each new one back to the registry.
    sandboxes = {"acme": SalesforceSandbox(records=150, seed=11, rotate_refresh_tokens=True),
                 "globex": SalesforceSandbox(records=120, seed=22)}
    portals = {"acme": HubSpotSandbox(records=100, seed=33, portal_id=1001),
               "globex": HubSpotSandbox(records=80, seed=44, portal_id=1002)}
    for sb in [*sandboxes.values(), *portals.values()]:
        sb.start()
    # One OAuth app per provider and application: every org and portal knows its client.
    client_id, client_secret = sandboxes["acme"].client_id, sandboxes["acme"].client_secret
    sandboxes["globex"].oauth.register_client(client_id, client_secret)
    hs_id, hs_secret = portals["acme"].client_id, portals["acme"].client_secret
    portals["globex"].oauth.register_client(hs_id, hs_secret)
    tokens = {c: sb.oauth.mint_refresh_token(client_id) for c, sb in sandboxes.items()}
    hs_tokens = {c: sb.oauth.mint_refresh_token(hs_id) for c, sb in portals.items()}
    reg = Registry(db.session(), APP)
    reg.apply({
        "providers": [{"provider_name": "salesforce", "auth_type": "oauth2", "category": "crm",
                       "config": {"oauth": {"oauth_scopes": ["api", "refresh_token"],
                                            "credentials": {"client_id": client_id,
                                                            "client_secret": client_secret}}}},
                      {"provider_name": "hubspot", "auth_type": "oauth2", "category": "crm",
                       "config": {"oauth": {"oauth_scopes": ["crm.objects.companies.read"],
                                            "credentials": {"client_id": hs_id,
                                                            "client_secret": hs_secret}}}}],
        "destinations": [{"name": "warehouse", "type": "postgres",
                          "credentials": {"sqlalchemy_url": pg_server_uri, "schema": schema}}],
        "sync_configs": [{"provider_name": "salesforce", "destination_name": "warehouse",
                          "default_config": {"period_ms": 900_000,
                                             "strategy": "full then incremental",
                                             "full_sync_every_n_incrementals": 2},
                          "common_objects": [{"object": "account"}],
                          "standard_objects": [{"object": "Account"}, {"object": "Contact"}]},
                         {"provider_name": "hubspot", "destination_name": "warehouse",
                          "default_config": {"period_ms": 3_600_000},
                          "common_objects": [{"object": "account"}],
                          "standard_objects": [{"object": "company"}, {"object": "contact"}]}],
        "customers": [{"customer_id": c, "name": c.title()} for c in CUSTOMERS],
        "connections": [{"customer_id": c, "provider_name": "salesforce", "type": "oauth2",
                         "refresh_token": tokens[c], "login_url": sandboxes[c].base_url}
                        for c in CUSTOMERS] +
                       [{"customer_id": c, "provider_name": "hubspot", "type": "oauth2",
                         "refresh_token": hs_tokens[c], "base_url": portals[c].base_url}
                        for c in CUSTOMERS]})
    reg.s.commit()
    yield {"project": project, "logs": logs, "schema": schema, "reg": reg, "sb": sandboxes,
           "hs": portals, "uri": pg_server_uri,
           "secrets": [client_secret, hs_secret, *tokens.values(), *hs_tokens.values()]}
    reg.s.close()
    for sb in [*sandboxes.values(), *portals.values()]:
        sb.stop()
    with psycopg2.connect(pg_server_uri) as conn, conn.cursor() as cur:
        cur.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
    for key, value in saved.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value


def run(world, customer, **kwargs):
    result = run_sync(world["reg"], customer, "salesforce", world["project"],
                      echo=lambda _msg: None, **kwargs)
    assert result.status == "SUCCESS", result.error
    return result


def query(world, sql, *args):
    with psycopg2.connect(world["uri"]) as conn, conn.cursor() as cur:
        cur.execute(sql.format(schema=world["schema"]), args)
        return cur.fetchall()


def named_rows(world, table, name_field, customer):
    """{id: (name, deleted)} of one customer's rows of a standard object's table."""
    return {i: (n, d) for i, n, d in query(
        world, f"SELECT _supaglue_id, _supaglue_raw_data->>'{name_field}', "
               f"_supaglue_is_deleted FROM {{schema}}.{table} WHERE _supaglue_customer_id = %s",
        customer)}


def accounts(world, customer):
    return named_rows(world, "salesforce_account", "Name", customer)


def test_first_runs_are_full_and_land_per_tenant(world):
    for customer in CUSTOMERS:
        result = run(world, customer)
        assert result.strategy == "full"
        rows = accounts(world, customer)
        assert result.records["Account"]["written"] == len(rows) > 0
        assert set(result.records) == {"Account", "Contact", "crm_accounts"}
    # The two orgs reuse the same record ids: the rows still coexist, one per tenant.
    acme, globex = accounts(world, "acme"), accounts(world, "globex")
    shared = set(acme) & set(globex)
    assert shared and any(acme[i] != globex[i] for i in shared)
    tenants = query(world, "SELECT DISTINCT _supaglue_application_id, _supaglue_provider_name, "
                           "_supaglue_customer_id FROM {schema}.crm_accounts ORDER BY 3")
    assert tenants == [(APP, "salesforce", "acme"), (APP, "salesforce", "globex")]


def companies(world, customer):
    return named_rows(world, "hubspot_company", "name", customer)


def test_hubspot_full_then_incremental_for_both_customers(world):
    for customer in CUSTOMERS:
        result = run_sync(world["reg"], customer, "hubspot", world["project"],
                          echo=lambda _msg: None)
        assert result.status == "SUCCESS", result.error
        assert result.strategy == "full"
        assert result.records["company"]["written"] == len(companies(world, customer)) > 0
        assert result.records["crm_accounts"]["written"] > 0
    portal = world["hs"]["acme"]
    some_id = sorted(companies(world, "acme"))[0]
    portal.advance_clock(600)
    portal.update("companies", some_id, {"name": "Renamed Portal Co"})
    result = run_sync(world["reg"], "acme", "hubspot", world["project"], echo=lambda _m: None)
    assert result.status == "SUCCESS", result.error
    assert result.strategy == "incremental"
    assert companies(world, "acme")[some_id] == ("Renamed Portal Co", False)
    assert "Renamed Portal Co" not in {n for n, _d in companies(world, "globex").values()}
    providers = query(world, "SELECT DISTINCT _supaglue_provider_name FROM {schema}.crm_accounts "
                             "ORDER BY 1")
    assert providers == [("hubspot",), ("salesforce",)]


def test_incremental_run_reads_only_changes(world):
    sb = world["sb"]["acme"]
    some_id = sorted(i for i, (_n, d) in accounts(world, "acme").items() if not d)[0]
    sb.advance_clock(60)
    sb.update("Account", some_id, {"Name": "Renamed Inc"})
    created = sb.create("Account", {"Name": "Brand New Ltd"})
    result = run(world, "acme")
    assert result.strategy == "incremental"
    rows = accounts(world, "acme")
    # the two changes, plus any record at the bookmark itself (the tap resumes inclusively)
    assert 2 <= result.records["Account"]["written"] < len(rows) // 4
    assert rows[some_id] == ("Renamed Inc", False)
    assert rows[created["Id"]] == ("Brand New Ltd", False)


def test_rotated_refresh_token_is_written_back_to_the_registry(world):
    reg = world["reg"]
    reg.s.expire_all()
    stored = crypto.unseal(reg.connection("acme", "salesforce").sealed_credentials)
    # acme's org rotated the token at every refresh (the old one stops working at once); the
    # registry holds the newest, and the next runs (below) log in with it.
    assert stored["refresh_token"] not in world["secrets"]


def test_full_sync_every_n_incrementals_and_deletes(world):
    sb = world["sb"]["acme"]
    live = sorted(i for i, (_n, d) in accounts(world, "acme").items() if not d)
    sb.advance_clock(60)
    assert run(world, "acme").strategy == "incremental"  # the 2nd incremental
    sb.delete("Account", live[1])
    result = run(world, "acme")  # after 2 incrementals: full again
    assert result.strategy == "full"
    assert accounts(world, "acme")[live[1]][1] is True


def test_tenant_isolation_full_sync_never_deletes_other_tenants_rows(world):
    before = accounts(world, "acme")
    result = run(world, "globex", full_refresh=True)
    assert result.strategy == "full"
    assert accounts(world, "acme") == before
    assert not any(d for _n, d in accounts(world, "globex").values())


def test_pause_and_resume(world):
    runner = CliRunner()
    out = runner.invoke(main, ["syncs", "pause", "globex", "salesforce"])
    assert out.exit_code == 0, out.output
    schedules = yaml.safe_load((world["project"] / render.INCLUDE_FILE).read_text())["schedules"]
    (schedule,) = [s for s in schedules if s["name"] == "e2e-app--globex--salesforce"]
    assert schedule["interval"] == "@manual"
    with pytest.raises(RegistryError, match="paused"):
        run_sync(world["reg"], "globex", "salesforce", world["project"])
    out = runner.invoke(main, ["run", "globex", "salesforce"])
    assert out.exit_code == EXIT_PAUSED and "paused" in out.output
    out = runner.invoke(main, ["syncs", "resume", "globex", "salesforce"])
    assert out.exit_code == 0, out.output
    include = (world["project"] / render.INCLUDE_FILE).read_text()
    assert "@manual" not in include
    world["reg"].s.expire_all()
    assert run(world, "globex").strategy == "incremental"


def test_trigger_with_full_refresh(world):
    runner = CliRunner()
    out = runner.invoke(main, ["syncs", "trigger", "globex", "salesforce", "--full-refresh"])
    assert out.exit_code == 0, out.output
    assert "SUCCESS: full sync" in out.output
    # not a terminal: progress as plain lines, then a summary per table
    assert "  Account: full sync" in out.output
    read = re.search(r"  Account: (\d+) records read\b", out.output)
    assert read and f"  Account: {read.group(1)} records written" in out.output
    summary = out.output[out.output.index("table "):].splitlines()
    assert summary[0].split() == ["table", "stream", "strategy", "read", "written", "deleted",
                                  "seconds", "rate/s"]
    assert [line.split()[:5] for line in summary[1:] if "salesforce_account" in line] == \
        [[f"{world['schema']}.salesforce_account", "Account", "full", read.group(1),
          read.group(1)]]
    reg = world["reg"]
    reg.s.expire_all()
    assert reg.sync("globex", "salesforce").args_for_next_run == {}
    latest = reg.runs("globex", "salesforce", 1)[0]
    assert latest.strategy == "full" and latest.num_records > 0


def test_runs_and_status_tables(world):
    runner = CliRunner()
    out = runner.invoke(main, ["runs", "--customer", "acme", "--provider", "salesforce"])
    assert out.exit_code == 0, out.output
    lines = out.output.splitlines()
    assert lines[0].split()[:5] == ["run", "customer", "provider", "status", "strategy"]
    assert len(lines) == 1 + 4 and all("SUCCESS" in line for line in lines[1:])
    out = runner.invoke(main, ["status"])
    assert out.exit_code == 0, out.output
    assert "e2e-app--acme--salesforce" in out.output and "never" not in out.output
    assert "e2e-app--globex--hubspot" in out.output


def test_run_on_a_terminal_draws_live_progress(world):
    """On a terminal (a pty here) `tenantsync run` draws rich's live table, then the summary
    per table; the exit code and the last line are as without one."""
    primary, secondary = os.openpty()
    env = {**os.environ, "COLUMNS": "120", "TERM": "xterm"}
    with subprocess.Popen([str(Path(sys.executable).with_name("tenantsync")), "run", "globex",
                           "hubspot"], stdin=secondary, stdout=secondary, stderr=secondary,
                          env=env, cwd=world["project"]) as proc:
        os.close(secondary)
        screen = b""
        while True:
            try:
                chunk = os.read(primary, 65536)
            except OSError:  # the other end closed: the process is done
                break
            if not chunk:
                break
            screen += chunk
        assert proc.wait(timeout=120) == 0, screen.decode(errors="replace")[-3000:]
    os.close(primary)
    drawn = screen.decode(errors="replace")
    assert "\x1b[" in drawn  # drawn, not printed: cursor movement and colours
    drawn = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", drawn)
    assert "┃ stream" in drawn and "globex x hubspot: per table" in drawn
    assert re.search(r"│ \S+\.hubspot_company\s+│ company\s+│ incremental", drawn), drawn[-3000:]
    assert "SUCCESS: incremental sync" in drawn


def test_a_destination_refusing_the_connection_is_one_line(world):
    """The destination's server refuses the login (here: a user it does not know; a wrong
    password takes the same path): one line naming the database, host and user, and no
    psycopg2 traceback in the tail shown."""
    reg = world["reg"]
    url = f"{world['uri']}{'&' if '?' in world['uri'] else '?'}user=nobody"
    reg.apply({"destinations": [{"name": "warehouse", "type": "postgres", "credentials": {
        "sqlalchemy_url": url, "schema": world["schema"]}}]})
    reg.s.commit()
    try:
        out = CliRunner().invoke(main, ["run", "globex", "hubspot"])
    finally:
        reg.apply({"destinations": [{"name": "warehouse", "type": "postgres", "credentials": {
            "sqlalchemy_url": world["uri"], "schema": world["schema"]}}]})
        reg.s.commit()
    assert out.exit_code == 1, out.output
    last = out.output.strip().splitlines()[-1]
    assert re.search(r"FAILURE: .*meltano run exited with 1: cannot connect to the destination "
                     r"database '\w+' on host \S+ port \d+ as user 'nobody': .*role \"nobody\" "
                     r"does not exist; check the destination's host, user, password and "
                     r"database; fix the cause", last), last
    assert "Traceback" not in out.output and "psycopg2" not in out.output, out.output


def test_meltano_sees_one_job_and_schedule_per_sync(world):
    env = {**os.environ, "MELTANO_SEND_ANONYMOUS_USAGE_STATS": "false"}
    out = subprocess.run([meltano_executable(), "schedule", "list", "--format=json"],
                         cwd=world["project"], env=env, capture_output=True, text=True,
                         check=True)
    schedules = {s["name"]: s for s in json.loads(out.stdout)["schedules"]["job"]}
    assert set(schedules) == {f"{APP}--{c}--{p}" for c in CUSTOMERS
                              for p in ("hubspot", "salesforce")}
    acme = schedules[f"{APP}--acme--salesforce"]
    assert acme["env"]["TENANTSYNC_CUSTOMER_ID"] == "acme"
    assert acme["env"]["MELTANO_RUN_STATE_ID_SUFFIX"] == f"{APP}--acme--salesforce"
    states = subprocess.run([meltano_executable(), "state", "list"], cwd=world["project"],
                            env=env, capture_output=True, text=True, check=True).stdout.split()
    assert sorted(states) == [
        f"tenantsync:tap-{p}--{APP}-to-target-postgres--{APP}--warehouse:{APP}--{c}--{p}"
        for p in ("hubspot", "salesforce") for c in CUSTOMERS]


def test_meltano_schedule_run_is_the_same_sync(world):
    """A scheduler running `meltano schedule run <name>` gets the schedule's tenant env: the
    same state (incremental from tenantsync's bookmarks), the same tenant's rows."""
    before = accounts(world, "globex")
    env = {**os.environ, "MELTANO_SEND_ANONYMOUS_USAGE_STATS": "false",
           "TENANTSYNC_DESTINATION_SQLALCHEMY_URL": world["uri"],
           "PATH": f"{Path(meltano_executable()).parent}{os.pathsep}{os.environ['PATH']}"}
    out = subprocess.run([meltano_executable(), "schedule", "run", f"{APP}--globex--salesforce"],
                         cwd=world["project"], env=env, capture_output=True, text=True)
    assert out.returncode == 0, out.stderr[-2000:]
    assert "Stream Account: incremental sync" in out.stderr
    assert accounts(world, "globex") == before
    # recorded in `tenantsync runs` (from Meltano's system database), once
    reg = world["reg"]
    runs_before = len(reg.runs("globex", "salesforce", 100))
    for _ in range(2):
        listed = CliRunner().invoke(main, ["runs", "--customer", "globex", "--provider",
                                           "salesforce", "--limit", "1"])
        assert listed.exit_code == 0, listed.output
    assert "SUCCESS" in listed.output and "run by Meltano outside tenantsync" in listed.output
    reg.s.expire_all()
    assert len(reg.runs("globex", "salesforce", 100)) == runs_before + 1  # once
    # a plain `meltano run <job>` lacks the schedule's tenant env: the tap says what to do
    plain = subprocess.run([meltano_executable(), "run", f"{APP}--globex--salesforce"],
                           cwd=world["project"], env=env, capture_output=True, text=True)
    assert plain.returncode != 0
    assert "the tenant's environment (TENANTSYNC_CONNECTION_ID and the rest of a schedule's " \
           "env) is missing" in plain.stderr and "`tenantsync run <customer> <provider>`" \
           in plain.stderr, plain.stderr[-3000:]
    states = subprocess.run([meltano_executable(), "state", "list"], cwd=world["project"],
                            env=env, capture_output=True, text=True, check=True).stdout.split()
    assert len(states) == 4


def test_a_connection_sync_config_gives_acme_its_own_schema_and_objects(world):
    """acme's HubSpot syncs into its own schema, only the company standard object of the
    sync config (and the common objects). Bookmarks are kept per schema: the first run there
    is a full one, and back in the destination's schema acme resumes incrementally."""
    reg = world["reg"]
    reg.set_connection_sync_config("acme", "hubspot", {
        "destination_config": {"type": "postgres", "schema": "acme_own"},
        "standard_objects": [{"object": "company"}]})
    reg.s.commit()
    try:
        result = run_sync(reg, "acme", "hubspot", world["project"], echo=lambda _m: None)
        assert result.status == "SUCCESS", result.error
        assert result.strategy == "full"
        assert set(result.records) == {"company", "crm_accounts"}
        own = {"schema": '"acme_own"'}
        tables = {t for (t,) in query(world, "SELECT table_name FROM information_schema.tables "
                                             "WHERE table_schema = 'acme_own'")}
        assert tables == {"hubspot_company", "crm_accounts"}
        landed = query({**world, **own},
                       "SELECT count(*), count(DISTINCT _supaglue_customer_id) "
                       "FROM {schema}.hubspot_company")
        assert landed == [(len(companies(world, "acme")), 1)]
        # the next run is incremental again, into the same schema
        again = run_sync(reg, "acme", "hubspot", world["project"], echo=lambda _m: None)
        assert again.strategy == "incremental"
        reg.delete_connection_sync_config("acme", "hubspot")
        reg.s.commit()
        portal = world["hs"]["acme"]
        portal.advance_clock(600)
        some_id = sorted(companies(world, "acme"))[1]
        portal.update("companies", some_id, {"name": "Back Home Co"})
        back = run_sync(reg, "acme", "hubspot", world["project"], echo=lambda _m: None)
        assert (back.status, back.strategy) == ("SUCCESS", "incremental")
        assert companies(world, "acme")[some_id][0] == "Back Home Co"  # the default schema
        assert query({**world, **own}, "SELECT count(*) FROM {schema}.hubspot_company "
                                       "WHERE _supaglue_raw_data->>'name' = 'Back Home Co'"
                     ) == [(0,)]
    finally:
        reg.delete_connection_sync_config("acme", "hubspot")
        reg.s.commit()
        with psycopg2.connect(world["uri"]) as conn, conn.cursor() as cur:
            cur.execute("DROP SCHEMA IF EXISTS acme_own CASCADE")


def test_one_run_of_a_sync_at_a_time_and_a_dead_run_is_recorded(world):
    """While a run holds its sync's lock a second run is refused before recording anything.
    A run whose process died stays IN_PROGRESS until the next run finds the lock free and
    records it as interrupted."""
    reg = world["reg"]
    sync = reg.sync("globex", "salesforce")
    dead = SyncRun(sync_id=sync.id, status="IN_PROGRESS", strategy="auto", records={},
                   num_records=0)
    reg.s.add(dead)
    reg.s.commit()
    runs_before = reg.s.scalar(select(func.count()).select_from(SyncRun))
    lock_dir = world["project"] / SYSTEM_DIR / "syncs" / f"{APP}--globex--salesforce"
    with run_lock.hold(reg.s, sync.id, lock_dir), pytest.raises(RunError, match="in progress"):
        run_sync(reg, "globex", "salesforce", world["project"], echo=lambda _msg: None)
    assert reg.s.scalar(select(func.count()).select_from(SyncRun)) == runs_before
    run(world, "globex")
    reg.s.refresh(dead)
    assert (dead.status, dead.error) == ("FAILURE", INTERRUPTED)
    assert dead.ended_at is not None


def test_a_failed_run_is_recorded_with_a_clear_error(world):
    reg = world["reg"]
    world["sb"]["globex"].oauth.revoke_refresh_tokens()
    events_before = reg.s.scalar(select(func.count()).select_from(Event))
    out = CliRunner().invoke(main, ["run", "globex", "salesforce"])
    assert out.exit_code == EXIT_CREDENTIALS_REFUSED and "FAILURE" in out.output
    assert "refused the refresh token" in out.output
    # the last line names the cause, what to do and where the whole log is
    last = out.output.strip().splitlines()[-1]
    assert last.startswith("FAILURE: ") and "refused the refresh token" in last
    assert "`tenantsync syncs resume globex salesforce`" in last
    log = last.rsplit("whole log: ", 1)[1]
    assert "refused" in Path(log).read_text()
    # like the service's runs, a command-line run records sync.complete, and refused
    # credentials pause the sync (sync.paused) until the customer reconnects
    reg.s.expire_all()
    events = reg.s.scalars(select(Event).order_by(Event.id).offset(events_before)).all()
    # one sync.complete per object of the sync (Supaglue's per-object syncs), then the pause
    *completes, paused = events
    assert completes and {e.type for e in completes} == {"sync.complete"}
    assert paused.type == "sync.paused"
    assert {e.payload["result"] for e in completes} == {"ERROR"}
    assert len({e.payload["object"] for e in completes}) == len(completes)
    assert reg.sync("globex", "salesforce").paused
    out = CliRunner().invoke(main, ["run", "globex", "salesforce"])
    assert out.exit_code != 0 and "paused" in out.output
    out = CliRunner().invoke(main, ["runs", "--customer", "globex", "--limit", "1"])
    assert "FAILURE" in out.output
    # forced: the same clear error; the run shows meltano's last lines and keeps its whole log
    said: list[str] = []
    result = run_sync(reg, "globex", "salesforce", world["project"], force=True,
                      echo=said.append)
    assert result.status == "FAILURE"
    assert "refused the refresh token" in result.error
    assert "refused the refresh token" in said[-1]
    log = Path(said[-1].rsplit("whole log: ", 1)[1])
    assert log == run_log(world["project"], f"{APP}--globex--salesforce", result.id)
    assert "refused the refresh token" in log.read_text()


def used_a_kept_catalog(world, customer, result) -> bool:
    """Whether Meltano was handed the sync's kept catalog rather than running discovery."""
    log = run_log(world["project"], f"{APP}--{customer}--salesforce", result.id)
    return "Using custom catalog in" in log.read_text()


def plan(world, account_id):
    """acme's landed value of the custom field the test below adds."""
    return named_rows(world, "salesforce_account", "Renewal_Plan__c", "acme")[account_id][0]


def test_kept_catalogs_skip_discovery_and_miss_a_new_field_until_they_expire(world, monkeypatch):
    """With TENANTSYNC_CATALOG_MAX_AGE, runs reuse the catalog the last discovery produced; a
    field the customer adds in Salesforce meanwhile is read from the first run that discovers
    again (expired here; a full refresh or a reconnect would too). By default every run
    discovers (the tests above)."""
    monkeypatch.setenv(catalog_cache.MAX_AGE_ENV, "3600")
    sb = world["sb"]["acme"]
    assert not used_a_kept_catalog(world, "acme", run(world, "acme"))  # none kept yet
    assert used_a_kept_catalog(world, "acme", run(world, "acme"))
    sb.add_field("Account", "Renewal_Plan__c", "string")
    some_id = sorted(accounts(world, "acme"))[2]
    sb.advance_clock(60)
    sb.update("Account", some_id, {"Renewal_Plan__c": "Gold"})
    stale = run(world, "acme")
    assert used_a_kept_catalog(world, "acme", stale) and stale.records["Account"]["written"]
    assert plan(world, some_id) is None
    monkeypatch.setenv(catalog_cache.MAX_AGE_ENV, "0")
    sb.advance_clock(60)
    sb.update("Account", some_id, {"Renewal_Plan__c": "Platinum"})
    fresh = run(world, "acme")
    assert not used_a_kept_catalog(world, "acme", fresh)
    assert plan(world, some_id) == "Platinum"


def test_no_secret_in_project_files_or_meltano_logs(world):
    reg = world["reg"]
    reg.s.expire_all()
    current = [crypto.unseal(reg.connection(c, p).sealed_credentials)["refresh_token"]
               for c in CUSTOMERS for p in ("hubspot", "salesforce")]
    secrets = [*world["secrets"], *current, SECRET_KEY]
    files = [p for p in Path(world["project"]).rglob("*")
             if p.is_file() and p.suffix not in (".db", ".db-journal") and "venv" not in p.parts]
    logs = list(Path(world["logs"]).rglob("*.log"))
    assert any(".meltano" in p.parts for p in files) and len(logs) >= 10
    assert any("records written" in p.read_text() or "METRIC" in p.read_text() for p in logs)
    files += logs
    for path in files:
        text = path.read_bytes().decode(errors="replace")
        for secret in secrets:
            assert secret not in text, f"a secret leaked into {path}"
    raw = (Path(world["project"]) / "reg.db").read_bytes()
    for secret in secrets[:-1]:
        assert secret.encode() not in raw, "a secret is stored unencrypted in the registry"
