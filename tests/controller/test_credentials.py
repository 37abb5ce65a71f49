"""A tap configured with the controller's credential source logs in with the registry's
credentials (none in its config) and gives rotated tokens back to the registry."""

from __future__ import annotations

import json
from types import SimpleNamespace

import pytest
from singer_sdk.exceptions import ConfigValidationError

from tap_salesforce.tap import TapSalesforce
from tenantsync.controller import credentials, crypto, db
from tenantsync.controller.registry import RegistryError
from tenantsync.tapkit.tokens import TokenUpdate

from .conftest import seed

SOURCE = "tenantsync.controller.credentials:load"


@pytest.fixture(autouse=True)
def exit_hooks(monkeypatch):
    """`load` makes its process the connection's tap: it remembers the connection and has
    `store_observed` run at the process's exit. Here that process is pytest's, which outlives
    each test's registry: a real exit hook would write, when pytest exits, to whatever registry
    the environment names by then (the working directory's default one, without tables).
    Both stay within the test; the hooks `load` registers are returned."""
    hooks: list = []
    monkeypatch.setattr(credentials, "_current", {})
    monkeypatch.setattr(credentials, "atexit", SimpleNamespace(register=hooks.append))
    return hooks


@pytest.fixture
def registry_env(registry, tmp_path, monkeypatch):
    seed(registry)
    monkeypatch.setenv(db.URL_ENV, f"sqlite:///{tmp_path}/registry.db")
    return registry


def key(customer: str) -> str:
    return json.dumps(["app", customer, "salesforce"])


def test_tap_gets_the_connections_credentials_at_startup(registry_env):
    tap = TapSalesforce(config={"credential_source": SOURCE, "connection_id": key("globex")},
                        setup_mapper=False)
    assert tap.config["refresh_token"] == "refresh-globex-secret"
    assert tap.config["client_id"] == "7393b5a4-5e20-4648-87af-b7b297793fd1"
    assert tap.config["instance_url"] == "https://globex.my.salesforce.com"
    assert tap.config["token_sink"] == credentials.SINK


@pytest.mark.parametrize(("connection_id", "message"), [
    ("", "is not a tenantsync connection key"),
    ("17", "is not a tenantsync connection key"),
    (json.dumps(["app", "nobody", "salesforce"]), "no customer 'nobody'"),
    (json.dumps(["other-app", "acme", "salesforce"]), "no customer 'acme' in application"),
])
def test_bad_connection_keys_fail_clearly(registry_env, connection_id, message):
    with pytest.raises(ConfigValidationError, match=message):
        TapSalesforce(config={"credential_source": SOURCE, "connection_id": connection_id},
                      setup_mapper=False)


def test_wrong_key_fails_without_leaking(registry_env, monkeypatch):
    monkeypatch.setenv(crypto.KEY_ENV, "a-different-key-of-enough-length")
    with pytest.raises(ConfigValidationError, match="is not the key") as exc:
        credentials.load({"connection_id": key("acme")})
    assert "refresh-acme-secret" not in str(exc.value)


def test_rotated_token_is_sealed_into_its_connection(registry_env, exit_hooks):
    credentials.load({"connection_id": key("acme")})
    credentials.load({"connection_id": key("acme")})
    assert exit_hooks == [credentials.store_observed]  # once per process
    credentials.store_rotated(TokenUpdate(provider="Salesforce", refresh_token="rotated-1",
                                          origin="o", replaces="r",
                                          extra={"instance_url": "https://new.example"}))
    reg = registry_env
    reg.s.expire_all()
    acme = reg.connection("acme", "salesforce")
    assert crypto.unseal(acme.sealed_credentials)["refresh_token"] == "rotated-1"
    assert acme.settings["instance_url"] == "https://new.example"
    globex = reg.connection("globex", "salesforce")
    assert crypto.unseal(globex.sealed_credentials)["refresh_token"] == "refresh-globex-secret"


def test_unknown_credential_source_is_a_config_error():
    with pytest.raises(ConfigValidationError, match="must name a callable"):
        TapSalesforce(config={"credential_source": "tenantsync.controller.credentials:nope"},
                      setup_mapper=False)
    with pytest.raises(ConfigValidationError, match="cannot import"):
        TapSalesforce(config={"credential_source": "no_such_module:load"}, setup_mapper=False)


def test_the_tap_reads_only_the_objects_the_customer_chose(registry_env):
    registry_env.set_connection_sync_config("acme", "salesforce", {
        "standard_objects": [{"object": "Opportunity"}], "custom_objects": []})
    registry_env.s.commit()
    config = {"credential_source": SOURCE, "common_objects": ["contact"],
              "standard_objects": ["Opportunity", "Lead"], "custom_objects": ["X__c"]}
    acme = TapSalesforce(config={**config, "connection_id": key("acme")}, setup_mapper=False)
    assert (acme.config["common_objects"], acme.config["standard_objects"],
            acme.config["custom_objects"]) == (["contact"], ["Opportunity"], [])
    globex = TapSalesforce(config={**config, "connection_id": key("globex")},
                           setup_mapper=False)
    assert globex.config["standard_objects"] == ["Opportunity", "Lead"]
    # an extractor left with nothing would read everything (empty lists mean all): refused
    with pytest.raises(ConfigValidationError, match="reads none of this extractor's objects"):
        TapSalesforce(config={"credential_source": SOURCE, "connection_id": key("acme"),
                              "custom_objects": ["X__c"]}, setup_mapper=False)


def test_an_api_key_connection_reaches_the_tap_under_its_specs_setting(registry_env):
    """Supaglue's `api_key` field lands in the setting the provider's spec names for its API
    key (HubSpot: a private app's `access_token`); declared settings land beside it."""
    registry_env.apply([
        {"provider_name": "hubspot", "auth_type": "api_key", "category": "crm"},
        {"customer_id": "acme", "provider_name": "hubspot", "type": "api_key",
         "api_key": "pat-na1-secret", "base_url": "http://127.0.0.1:9"}])
    registry_env.s.commit()
    settings = credentials.tap_settings(registry_env.connection("acme", "hubspot"))
    assert settings["access_token"] == "pat-na1-secret" and "api_key" not in settings
    assert settings["base_url"] == "http://127.0.0.1:9"
    with pytest.raises(RegistryError, match="needs access_token"):
        registry_env.upsert_connection({"customer_id": "globex", "provider_name": "hubspot",
                                        "type": "api_key"})
