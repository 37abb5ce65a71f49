"""Schemas and field mappings in the registry: apply -f documents in Supaglue's shape, sync
configs' `{object, schema_id}`, Supaglue's mapping rules, and what the target is handed."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from tenantsync.cli import main
from tenantsync.controller import render
from tenantsync.controller.registry import RegistryError
from tenantsync.controller.schemas import load

from .conftest import SYNC_CONFIG, seed

DEAL = {"name": "deal", "config": {"fields": [{"name": "revenue", "is_required": True},
                                              {"name": "title", "mapped_name": "Name"},
                                              {"name": "notes"}],
                                   "allow_additional_field_mappings": False}}
WITH_SCHEMA = {**SYNC_CONFIG, "standard_objects": [{"object": "Opportunity",
                                                    "schema_id": "deal"}]}


@pytest.fixture
def mapped(registry):
    seed(registry)
    registry.apply({"schemas": [DEAL], "sync_configs": [WITH_SCHEMA]})
    registry.s.commit()
    return registry


def set_mapping(reg, customer, items, fields=("Amount", "Name", "Probability")):
    return reg.set_field_mappings(customer, "salesforce",
                                  {"name": "Opportunity", "type": "standard",
                                   "field_mappings": items}, lambda _obj: fields)


def test_a_schema_document_is_applied_and_attached_by_name(mapped):
    (schema,) = mapped.schemas()
    assert schema.name == "deal" and schema.fields[1] == {"name": "title", "mapped_name": "Name"}
    (config,) = mapped.sync_configs()
    assert config.standard_objects == [{"object": "Opportunity", "schema_id": str(schema.id)}]
    assert mapped.apply(DEAL) == ["schema deal"]  # by name: replaced, not duplicated
    assert len(mapped.schemas()) == 1


def test_customers_map_their_own_fields_and_the_target_gets_the_merge(mapped, monkeypatch,
                                                                      tmp_path):
    info, created = set_mapping(mapped, "acme", [{"schema_field": "revenue",
                                                  "mapped_field": "Amount"}])
    assert created and info["fields"] == [
        {"name": "revenue", "is_added_by_customer": False, "customer_mapped_name": "Amount"},
        {"name": "title", "is_added_by_customer": False, "schema_mapped_name": "Name"},
        {"name": "notes", "is_added_by_customer": False}]
    set_mapping(mapped, "globex", [{"schema_field": "revenue", "mapped_field": "Probability"}])
    mapped.s.commit()
    assert mapped.effective_mappings("acme", "salesforce") == {"Opportunity": {
        "fields": {"revenue": "Amount", "title": "Name", "notes": None},
        "additional_fields": {}}}
    # the target's hook reads the registry by the tenant the target writes for
    monkeypatch.setenv("TENANTSYNC_REGISTRY_URL", str(mapped.s.get_bind().url))
    got = load({"application_id": "app", "customer_id": "globex",
                "provider_name": "salesforce"})
    assert got["Opportunity"]["fields"]["revenue"] == "Probability"
    (loader,) = render.document(mapped.s)["plugins"]["loaders"]
    assert loader["config"]["field_mapping_source"] == "tenantsync.controller.schemas:load"


@pytest.mark.parametrize(("items", "message"), [
    ([{"schema_field": "revenue", "mapped_field": "Revenue__c"}],
     "'salesforce' object 'Opportunity' has no field 'Revenue__c' for customer 'acme'"),
    ([{"schema_field": "revenue", "mapped_field": "Amount"},
      {"schema_field": "title", "mapped_field": "Amount"}],
     "field 'title' is already mapped to 'Name' by schema 'deal'"),
    ([{"schema_field": "revenue", "mapped_field": "Amount"},
      {"schema_field": "extra", "mapped_field": "Amount"}],
     "field 'extra' is not in schema 'deal', which allows no additional field mappings"),
    ([{"schema_field": "notes", "mapped_field": "Amount"}],
     "schema 'deal' requires a mapping of 'revenue'"),
    ([{"schema_field": "_supaglue_x", "mapped_field": "Amount"}], "must be a name of letters"),
])
def test_refused_mappings_name_what_is_wrong(mapped, items, message):
    with pytest.raises(RegistryError, match=message):
        set_mapping(mapped, "acme", items)
    assert mapped.connection("acme", "salesforce").field_mappings is None


def test_only_standard_objects_with_a_schema_take_mappings(mapped):
    with pytest.raises(RegistryError, match="common objects keep their fixed schema"):
        mapped.set_field_mappings("acme", "salesforce", {"name": "contact", "type": "common",
                                                         "field_mappings": []})
    with pytest.raises(RegistryError, match="object 'Account' of 'salesforce' has no schema"):
        mapped.set_field_mappings("acme", "salesforce", {"name": "Account",
                                                         "field_mappings": []})
    with pytest.raises(RegistryError, match="only standard objects take a schema_id"):
        mapped.apply({**SYNC_CONFIG, "common_objects": [{"object": "contact",
                                                         "schema_id": "deal"}]})
    with pytest.raises(RegistryError, match="no schema 'nope'"):
        mapped.apply({**SYNC_CONFIG, "standard_objects": [{"object": "Opportunity",
                                                           "schema_id": "nope"}]})


def test_an_attached_schema_is_not_deleted(mapped):
    with pytest.raises(RegistryError, match="attached to objects of the sync config of "
                                            "'salesforce'"):
        mapped.delete_schema("deal")
    mapped.apply(SYNC_CONFIG)
    mapped.delete_schema("deal")
    assert mapped.schemas() == []


@pytest.mark.parametrize(("doc", "message"), [
    ({"name": "s", "config": {"fields": [{"name": "a"}, {"name": "a"}]}}, "lists field 'a' twice"),
    ({"name": "s", "config": {"fields": [{"name": "1a"}]}}, "must be a name of letters"),
    ({"name": "s", "config": {"fields": [{"name": "a", "label": "x"}]}},
     r"must be \{name, mapped_name\?, is_required\?\}"),
    ({"name": "s", "config": {"fields": [], "allow_additional_field_mappings": "yes"}},
     "must be true or false"),
])
def test_bad_schema_documents_are_refused(registry, doc, message):
    with pytest.raises(RegistryError, match=message):
        registry.apply(doc)


def test_cli_applies_a_schema_file(tmp_path, secret_key, monkeypatch):
    monkeypatch.setenv("TENANTSYNC_REGISTRY_URL", f"sqlite:///{tmp_path}/r.db")
    monkeypatch.setenv("TENANTSYNC_PROJECT_DIR", str(tmp_path))
    path = tmp_path / "schema.json"
    path.write_text(json.dumps(DEAL))
    result = CliRunner().invoke(main, ["apply", "-f", str(path)])
    assert result.exit_code == 0, result.output
    assert "schema deal" in result.output
    listed = CliRunner().invoke(main, ["schemas", "list"])
    assert "revenue title=Name notes" in listed.output, listed.output
    assert CliRunner().invoke(main, ["schemas", "delete", "deal"]).exit_code == 0
    assert "deal" not in CliRunner().invoke(main, ["schemas", "list"]).output
