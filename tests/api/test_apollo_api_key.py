"""Apollo's API-key connection, end to end: through the Management API (the connection takes
the key, never shows it again; `_trigger` runs the sync into the hosted destination and the
Data Listing API serves `/engagement/v2/<object>` for the customer), and through the CLI
(`tenantsync apply -f` imports it, `connections list` shows it without the key, `tenantsync
run` syncs with it)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from pathlib import Path

import psycopg2
import pytest

from tap_apollo.sandbox import ApolloSandbox
from tap_apollo.spec import COMMON
from tenantsync.controller import crypto, db

from .conftest import SECRET_KEY, running_service
from .test_e2e_service import wait_for_run

pytestmark = pytest.mark.slow
OBJECTS = [{"object": o} for o in COMMON]
# /engagement/v2/<object> -> the twin's records it lists
LISTINGS = {"accounts": "accounts", "contacts": "contacts", "users": "users",
            "sequences": "emailer_campaigns", "mailboxes": "email_accounts"}


def listing(a, path: str, customer: str) -> list[dict]:
    records, cursor = [], None
    while True:
        page = a.get(path, headers={"x-customer-id": customer, "x-provider-name": "apollo"},
                     params={"page_size": 100, **({"cursor": cursor} if cursor else {})})
        assert page.status_code == 200, page.text
        body = page.json()
        records += body["records"]
        cursor = body["pagination"]["next"]
        if cursor is None:
            return records


def live_ids(sb, obj: str) -> set[str]:
    return {doc["id"] for doc, deleted in sb.all_records(obj) if not deleted}


def test_api_key_connection_through_the_api_and_the_engagement_listings(api_env,
                                                                       tmp_path_factory):
    with running_service(tmp_path_factory.mktemp("apollo")) as svc, \
            ApolloSandbox(records=150, seed=12) as sb, svc.client(svc.key_a) as a:
        key = sb.mint_api_key()
        assert a.post("/mgmt/v2/providers", json={
            "name": "apollo", "auth_type": "api_key", "category": "engagement"}
        ).status_code == 201
        assert a.post("/mgmt/v2/destinations", json={"name": "hosted", "type": "supaglue"}
                      ).status_code == 201
        assert a.post("/mgmt/v2/sync_configs", json={
            "provider_name": "apollo", "destination_name": "hosted",
            "config": {"default_config": {"period_ms": 3_600_000},
                       "common_objects": OBJECTS}}).status_code == 201
        assert a.put("/mgmt/v2/customers", json={"customer_id": "initech"}).status_code == 200
        r = a.post("/mgmt/v2/customers/initech/connections", json={
            "provider_name": "apollo", "type": "api_key", "api_key": key,
            "settings": {"base_url": sb.base_url}})
        assert r.status_code == 200, r.text
        assert key not in r.text
        assert key not in a.get("/mgmt/v2/customers/initech/connections/apollo").text

        headers = {"x-customer-id": "initech", "x-provider-name": "apollo"}
        assert a.post("/mgmt/v2/syncs/_trigger", headers=headers).status_code == 200
        run = wait_for_run(a, "initech", 1)
        assert run["status"] == "SUCCESS", run["error_message"]

        for listed, obj in LISTINGS.items():
            records = listing(a, f"/engagement/v2/{listed}", "initech")
            assert {r["id"] for r in records} == live_ids(sb, obj), listed
        contacts = {r["id"]: r for r in listing(a, "/engagement/v2/contacts", "initech")}
        states = listing(a, "/engagement/v2/sequence_states", "initech")
        assert states and all(s["contact_id"] in contacts for s in states)
        some = next(iter(contacts.values()))
        assert some["email_addresses"][0]["email_address_type"] == "primary"
        assert a.put("/mgmt/v2/customers", json={"customer_id": "hooli"}).status_code == 200
        assert listing(a, "/engagement/v2/contacts", "hooli") == []  # scoped to the customer


def test_api_key_connection_through_the_cli(tmp_path, pg_server_uri):
    exe = str(Path(sys.executable).with_name("tenantsync"))
    env = {**os.environ, crypto.KEY_ENV: SECRET_KEY, db.URL_ENV: f"sqlite:///{tmp_path}/r.db",
           db.PROJECT_ENV: str(tmp_path), "TENANTSYNC_APPLICATION_ID": "cli-app",
           "XDG_STATE_HOME": str(tmp_path / "xdg")}

    def cli(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([exe, *args], env=env, cwd=tmp_path, capture_output=True,
                              text=True, timeout=600)

    with ApolloSandbox(records=120, seed=13) as sb:
        key = sb.mint_api_key()
        schema = f"apollo_cli_{uuid.uuid4().hex[:8]}"
        bundle = {
            "providers": [{"provider_name": "apollo", "auth_type": "api_key",
                           "category": "engagement"}],
            "destinations": [{"name": "warehouse", "type": "postgres",
                              "credentials": {"sqlalchemy_url": pg_server_uri,
                                              "schema": schema}}],
            "sync_configs": [{"provider_name": "apollo", "destination_name": "warehouse",
                              "default_config": {"period_ms": 3_600_000},
                              "common_objects": [{"object": "contact"}]}],
            "customers": [{"customer_id": "initech", "name": "Initech"}],
            "connections": [{"customer_id": "initech", "provider_name": "apollo",
                             "type": "api_key", "api_key": key, "base_url": sb.base_url}]}
        (tmp_path / "bundle.json").write_text(json.dumps(bundle))
        applied = cli("apply", "-f", str(tmp_path / "bundle.json"))
        assert applied.returncode == 0, applied.stdout + applied.stderr
        listed = cli("connections", "list")
        assert "initech   apollo" in listed.stdout and sb.base_url in listed.stdout
        assert key not in listed.stdout + listed.stderr
        run = cli("run", "initech", "apollo")
        assert run.returncode == 0, (run.stdout + run.stderr)[-3000:]
        assert key not in run.stdout + run.stderr
        with psycopg2.connect(pg_server_uri) as conn, conn.cursor() as cur:
            cur.execute(f'SELECT id FROM "{schema}".engagement_contacts '
                        "WHERE _supaglue_customer_id = 'initech'")
            assert {r[0] for r in cur.fetchall()} == live_ids(sb, "contacts")
            cur.execute(f'DROP SCHEMA "{schema}" CASCADE')
