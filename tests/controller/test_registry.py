"""The registry accepts Supaglue's JSON shapes as they are, validates what it is given, keeps
secrets sealed, and keeps syncs in step with connections and sync configs."""

from __future__ import annotations

import copy
import json
import re
import sqlite3
from pathlib import Path

import pytest
from click.testing import CliRunner

from tenantsync.cli import main
from tenantsync.controller import crypto
from tenantsync.controller.registry import RegistryError, narrow, sync_objects

from .conftest import DESTINATION, SALESFORCE, SYNC_CONFIG, seed


def test_seed_shapes_are_accepted_as_they_are(registry):
    seed(registry)
    provider = registry.providers()[0]
    assert (provider.name, provider.category, provider.auth_type) == ("salesforce", "crm",
                                                                      "oauth2")
    assert provider.scopes == ["api", "id", "refresh_token"]
    assert crypto.unseal(provider.sealed_credentials)["client_secret"] == \
        SALESFORCE["config"]["oauth"]["credentials"]["client_secret"]
    dest = registry.destinations()[0]
    assert dest.id == 2 and dest.settings["host"].startswith("db.")
    assert "password" not in dest.settings and dest.secret_keys == ["password"]
    config = registry.sync_configs()[0]
    assert config.default_config == {"strategy": "full only", "period_ms": 3600,
                                     "auto_start_on_connection": True}
    assert [o["object"] for o in config.common_objects] == ["contact", "account"]
    assert [o["object"] for o in config.custom_objects] == ["MyCustomObject__c"]
    syncs = registry.syncs()
    assert [(s.connection.customer.customer_id, s.paused) for s in syncs] == [
        ("acme", False), ("globex", False)]


def test_management_api_shapes_are_accepted(registry):
    registry.apply({"name": "hubspot", "category": "crm", "auth_type": "oauth2",
                    "config": {"provider_app_id": "x", "oauth": {
                        "oauth_scopes": ["crm.objects.contacts.read"],
                        "credentials": {"oauth_client_id": "cid", "oauth_client_secret": "cs"}}}})
    registry.apply(DESTINATION)
    registry.apply({"destination_name": "my production postgres", "provider_name": "hubspot",
                    "config": {"default_config": {"period_ms": 60000,
                                                  "strategy": "full then incremental",
                                                  "full_sync_every_n_incrementals": 3},
                               "standard_objects": [{"object": "deals"}]}})
    config = registry.sync_configs()[0]
    assert config.default_config["full_sync_every_n_incrementals"] == 3
    assert crypto.unseal(registry.providers()[0].sealed_credentials) == {
        "client_id": "cid", "client_secret": "cs"}


@pytest.mark.parametrize(("change", "message"), [
    ({"default_config": {"strategy": "sometimes"}}, "strategy 'sometimes' must be one of"),
    ({"default_config": {"strategy": "full only", "full_sync_every_n_incrementals": 2}},
     "cannot be set with strategy 'full only'"),
    ({"default_config": {"full_sync_every_n_incrementals": 0}}, "must be an integer > 0"),
    ({"default_config": {"period_ms": -5}}, "period_ms must be a positive integer"),
    ({"default_config": {"period": 5}}, "unknown keys: period"),
    ({"standard_objects": [{"object": "Account"}, {"object": "Account"}]},
     "lists 'Account' twice"),
    ({"custom_objects": [{"name": "X__c"}]}, "custom_objects\\[0\\] must be an object"),
    ({"provider_id": 99}, "no provider with"),
])
def test_bad_sync_configs_are_refused_with_a_clear_message(registry, change, message):
    registry.apply([SALESFORCE, DESTINATION])
    doc = {**copy.deepcopy(SYNC_CONFIG), **change}
    with pytest.raises(RegistryError, match=message):
        registry.apply(doc)


def test_per_object_strategy_overrides_are_validated_and_kept(registry):
    registry.apply([SALESFORCE, DESTINATION])
    registry.apply({**SYNC_CONFIG, "default_config": {"strategy": "full then incremental"},
                    "standard_objects": [{"object": "Task", "sync_strategy_override": {
                        "strategy": "full only"}}]})
    assert registry.sync_configs()[0].standard_objects == [
        {"object": "Task", "sync_strategy_override": {"strategy": "full only"}}]


def test_secrets_never_stored_in_plain_text(registry, tmp_path):
    seed(registry)
    raw = (tmp_path / "registry.db").read_bytes()
    for secret in (b"refresh-acme-secret", b"admin-password-xyz",
                   b"941b846a-5a8c-48b8-b0e1-41b6d4bc4f1a"):
        assert secret not in raw
    conn = registry.connection("acme", "salesforce")
    assert crypto.unseal(conn.sealed_credentials) == {"type": "oauth2",
                                                      "refresh_token": "refresh-acme-secret"}
    assert conn.settings["instance_url"] == "https://acme.my.salesforce.com"


def test_connections_need_their_credentials_and_known_references(registry):
    seed(registry, customers=("acme",))
    with pytest.raises(RegistryError, match="needs refresh_token"):
        registry.apply({"customer_id": "acme", "provider_name": "salesforce", "type": "oauth2"})
    with pytest.raises(RegistryError, match="no customer 'nobody'"):
        registry.apply({"customer_id": "nobody", "provider_name": "salesforce",
                        "refresh_token": "x"})
    with pytest.raises(RegistryError, match="does not match the provider's auth_type"):
        registry.apply({"customer_id": "acme", "provider_name": "salesforce",
                        "type": "api_key", "api_key": "k"})


def test_auto_start_off_creates_paused_syncs(registry):
    registry.apply([SALESFORCE, DESTINATION, {**SYNC_CONFIG, "default_config": {
        "auto_start_on_connection": False}}, {"customer_id": "acme"},
        {"customer_id": "acme", "provider_name": "salesforce", "refresh_token": "r"}])
    assert [s.paused for s in registry.syncs()] == [True]


def test_deletes_are_guarded(registry):
    seed(registry, customers=("acme",))
    with pytest.raises(RegistryError, match="still has connections"):
        registry.delete_customer("acme")
    with pytest.raises(RegistryError, match="force-delete-syncs"):
        registry.delete_sync_config("salesforce")
    registry.delete_sync_config("salesforce", force_delete_syncs=True)
    registry.delete_connection("acme", "salesforce")
    registry.delete_customer("acme")
    registry.s.commit()
    assert registry.customers() == [] and registry.syncs() == []


def test_unknown_documents_are_refused(registry):
    with pytest.raises(RegistryError, match="cannot tell what this document is"):
        registry.apply({"hello": "world"})
    with pytest.raises(RegistryError, match="bundle has unknown keys: widgets"):
        registry.apply({"customers": [], "widgets": []})


def test_cli_apply_and_lists(tmp_path, monkeypatch, secret_key):
    monkeypatch.setenv("TENANTSYNC_REGISTRY_URL", f"sqlite:///{tmp_path}/cli.db")
    monkeypatch.setenv("TENANTSYNC_PROJECT_DIR", str(tmp_path))
    bundle = tmp_path / "bundle.json"
    bundle.write_text(json.dumps({"providers": [SALESFORCE], "destinations": [DESTINATION],
                                  "sync_configs": [SYNC_CONFIG],
                                  "customers": [{"customer_id": "acme"}]}))
    runner = CliRunner()
    out = runner.invoke(main, ["apply", "-f", str(bundle)])
    assert out.exit_code == 0, out.output
    assert "applied sync_config salesforce -> my production postgres" in out.output
    out = runner.invoke(main, ["destinations", "list"])
    assert "admin-password-xyz" not in out.output and "password" in out.output
    bad = tmp_path / "bad.json"
    bad.write_text("{nope")
    out = runner.invoke(main, ["apply", "-f", str(bad)])
    assert out.exit_code == 1 and "not valid JSON" in out.output
    assert len(out.output.strip().splitlines()) == 1
    out = runner.invoke(main, ["syncs", "pause", "acme", "salesforce"])
    assert out.exit_code == 1 and "no connection" in out.output
    rows = sqlite3.connect(tmp_path / "cli.db").execute("SELECT count(*) FROM customers")
    assert rows.fetchone() == (1,)


def test_a_connection_sync_config_gives_a_customer_its_schema_and_objects(registry):
    seed(registry)
    done = registry.apply({"connection_sync_configs": [{
        "customer_id": "acme", "provider_name": "salesforce",
        "destination_config": {"type": "postgres", "schema": "acme_data"},
        "custom_objects": [{"object": "MyCustomObject__c"}]}]})
    assert done == ["connection_sync_config acme x salesforce"]
    views = {v.customer_id: v for v in registry.sync_views()}
    assert (views["acme"].schema, views["acme"].objects) == (
        "acme_data", {"custom": ("MyCustomObject__c",)})
    assert (views["globex"].schema, views["globex"].objects) == ("supaglue", None)
    registry.set_connection_sync_config("acme", "salesforce", {"standard_objects": []})
    assert registry.sync_views()[0].objects == {"standard": ()}  # none of them
    assert registry.sync_views()[0].schema == "supaglue"  # replaced whole: no own schema
    registry.delete_connection_sync_config("acme", "salesforce")
    assert registry.connection("acme", "salesforce").sync_config is None


@pytest.mark.parametrize(("doc", "message"), [
    ({"schedule": "hourly"}, "unknown keys schedule"),
    ({"standard_objects": [{"object": "Lead"}]}, "'Lead' are not in 'salesforce'"),
    ({"custom_objects": ["Nope__c", "MyCustomObject__c"]}, "'Nope__c' are not in"),
    ({"destination_config": {"type": "bigquery", "dataset": "x"}}, "must be {'type': 'postgres'"),
    ({"destination_config": {"type": "postgres", "schema": ""}}, "1 to 63 bytes"),
    ({"destination_config": {"type": "postgres", "schema": "s" * 64}}, "1 to 63 bytes"),
    ({"standard_objects": "Opportunity"}, "must be a list"),
])
def test_connection_sync_config_mistakes_are_named(registry, doc, message):
    seed(registry)
    with pytest.raises(RegistryError, match=re.escape(message)):
        registry.set_connection_sync_config("acme", "salesforce", doc)
    assert registry.connection("acme", "salesforce").sync_config is None


def test_a_hosted_destination_takes_no_per_connection_schema(registry):
    seed(registry)
    registry.destinations()[0].type = "supaglue"
    with pytest.raises(RegistryError, match="only a postgres destination"):
        registry.set_connection_sync_config("acme", "salesforce", {
            "destination_config": {"type": "postgres", "schema": "acme_data"}})


def test_a_paused_object_is_left_out_of_the_connections_runs(registry):
    """Supaglue's per-object pause: the object leaves the rendered job's object lists (here:
    the only object of its extractor, so the extractor leaves the job) and the runner's list;
    with every object paused the schedule is manual and a run is refused."""
    from tenantsync.controller import render, runner

    seed(registry)
    sync = registry.sync("acme", "salesforce")
    assert sync_objects(sync) == {"common": ["contact", "account"],
                                  "standard": ["Opportunity"], "custom": ["MyCustomObject__c"]}
    sync.paused_objects = {"common": ["account"], "standard": ["Opportunity"]}
    registry.s.flush()
    assert runner.run_objects(sync) == [{"object_type": "common", "object": "contact"},
                                        {"object_type": "custom", "object": "MyCustomObject__c"}]
    (view,) = [v for v in registry.sync_views() if v.customer_id == "acme"]
    assert view.paused_objects == {"common": ("account",), "standard": ("Opportunity",)}
    assert narrow({"common": ["contact", "account"]}, view.objects, view.paused_objects) == {
        "common": ["contact"]}
    sync.paused_objects = {kind: names for kind, names in sync_objects(sync).items()}
    registry.s.flush()
    assert runner.run_objects(sync) == []
    schedules = {s["env"]["TENANTSYNC_CUSTOMER_ID"]: s["interval"]
                 for s in render.document(registry.s)["schedules"]}
    assert schedules["acme"] == "@manual" and schedules["globex"] != "@manual"
    with pytest.raises(RegistryError, match="every object"):
        runner.run_sync(registry, "acme", "salesforce", Path("never-rendered"))
