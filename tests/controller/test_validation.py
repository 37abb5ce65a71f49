"""Validation where input enters (issue 14): a sync config names a registered provider and
objects its spec offers, checked by the registry that both `tenantsync apply` and the API use;
`apply` of several files is all or nothing and says so."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from tenantsync.cli import main
from tenantsync.controller.registry import RegistryError

from .conftest import DESTINATION, SALESFORCE, SECRET_KEY

HUBSPOT = {"name": "hubspot", "auth_type": "oauth2", "category": "crm",
           "config": {"oauth": {"credentials": {"client_id": "id", "client_secret": "s"}}}}


def _sync_config(provider: str, **objects) -> dict:
    return {"provider_name": provider, "destination_name": DESTINATION["name"],
            "default_config": {"period_ms": 3600000, "strategy": "full then incremental"},
            **objects}


@pytest.mark.parametrize(("doc", "names"), [
    ({**HUBSPOT, "name": "nosuchcrm"}, ["no provider 'nosuchcrm' is registered", "hubspot"]),
    ({}, ["standard object 'compnay' is not one of company, contact"]),
])
def test_unknown_provider_and_object_are_refused_at_the_sync_config(registry, doc, names):
    provider = doc.get("name", "hubspot")
    registry.apply([{**HUBSPOT, "name": provider}, DESTINATION])
    with pytest.raises(RegistryError) as err:
        registry.apply(_sync_config(provider, standard_objects=[{"object": "compnay"}]))
    for name in names:
        assert name in str(err.value)


def test_the_spec_decides_what_each_provider_offers(registry):
    registry.apply([HUBSPOT, SALESFORCE, DESTINATION])
    # HubSpot's plural API names are its objects too; Salesforce orgs have more than the spec
    registry.apply(_sync_config("hubspot", standard_objects=["companies", "deal"],
                                custom_objects=["p_cars"]))
    registry.apply(_sync_config("salesforce", standard_objects=["Product2"]))
    with pytest.raises(RegistryError, match="common object 'lead' is not offered"):
        registry.apply(_sync_config("hubspot", common_objects=["lead"]))


def test_apply_of_several_files_is_all_or_nothing(tmp_path, monkeypatch):
    monkeypatch.setenv("TENANTSYNC_PROJECT_DIR", str(tmp_path))
    monkeypatch.delenv("TENANTSYNC_REGISTRY_URL", raising=False)
    monkeypatch.setenv("TENANTSYNC_SECRET_KEY", SECRET_KEY)
    good, bad = tmp_path / "good.json", tmp_path / "bad.json"
    good.write_text(json.dumps([{"customer_id": "goodco"}, HUBSPOT, DESTINATION]))
    bad.write_text(json.dumps(_sync_config("hubspot", standard_objects=["compnay"])))
    out = CliRunner().invoke(main, ["apply", "-f", str(good), "-f", str(bad)])
    assert out.exit_code == 1
    assert "applied customer" not in out.output
    lines = out.output.strip().splitlines()
    assert len(lines) == 1 and "bad.json" in lines[0] and "'compnay'" in lines[0] \
        and "nothing was applied (of 2 file(s))" in lines[0], out.output
    listed = CliRunner().invoke(main, ["customers", "list"])
    assert "goodco" not in listed.output
    out = CliRunner().invoke(main, ["apply", "-f", str(good)])
    assert out.exit_code == 0 and "applied customer goodco" in out.output, out.output


def test_trigger_on_a_paused_sync_saves_nothing_and_runs_of_nobody_is_an_error(tmp_path,
                                                                               monkeypatch):
    monkeypatch.setenv("TENANTSYNC_PROJECT_DIR", str(tmp_path))
    monkeypatch.delenv("TENANTSYNC_REGISTRY_URL", raising=False)
    monkeypatch.setenv("TENANTSYNC_SECRET_KEY", SECRET_KEY)
    docs = tmp_path / "docs.json"
    docs.write_text(json.dumps([HUBSPOT, DESTINATION, _sync_config("hubspot"),
                                {"customer_id": "acme"},
                                {"customer_id": "acme", "provider_name": "hubspot",
                                 "type": "oauth2", "refresh_token": "r"}]))
    cli = CliRunner()
    assert cli.invoke(main, ["apply", "-f", str(docs)]).exit_code == 0
    assert cli.invoke(main, ["syncs", "pause", "acme", "hubspot"]).exit_code == 0
    out = cli.invoke(main, ["syncs", "trigger", "acme", "hubspot", "--full-refresh"])
    assert out.exit_code == 4 and "is paused: `tenantsync syncs resume acme hubspot`" \
        in out.output, out.output
    assert "full refresh" not in cli.invoke(main, ["status"]).output
    out = cli.invoke(main, ["runs", "--customer", "nobody"])
    assert out.exit_code == 1 and "no customer 'nobody'" in out.output, out.output
    assert cli.invoke(main, ["runs", "--customer", "acme"]).exit_code == 0


def test_apply_takes_a_supaglue_destination_as_the_api_does(tmp_path, monkeypatch):
    """`{"type": "supaglue"}` is the destination tenantsync hosts: `apply` creates it as the
    management API does (no config; the application's schema in the hosted database)."""
    monkeypatch.setenv("TENANTSYNC_PROJECT_DIR", str(tmp_path))
    monkeypatch.delenv("TENANTSYNC_REGISTRY_URL", raising=False)
    monkeypatch.delenv("TENANTSYNC_HOSTED_DB_URL", raising=False)
    monkeypatch.setenv("TENANTSYNC_SECRET_KEY", SECRET_KEY)
    hosted_doc, bad = tmp_path / "hosted.json", tmp_path / "bad.json"
    hosted_doc.write_text(json.dumps({"type": "supaglue"}))
    bad.write_text(json.dumps({"name": "h2", "type": "supaglue", "config": {"host": "x"}}))
    cli = CliRunner()
    out = cli.invoke(main, ["apply", "-f", str(hosted_doc)])
    assert out.exit_code == 0 and "applied destination supaglue" in out.output, out.output
    listed = cli.invoke(main, ["destinations", "list"]).output.splitlines()[1].split(None, 2)
    assert listed[:2] == ["supaglue", "supaglue"]
    assert json.loads(listed[2]) == {"embedded_data_dir": str(tmp_path / ".tenantsync" /
                                                              "hosted-pg"), "schema": "default"}
    out = cli.invoke(main, ["apply", "-f", str(bad)])
    assert out.exit_code == 1 and "type 'supaglue' takes no config" in out.output, out.output
