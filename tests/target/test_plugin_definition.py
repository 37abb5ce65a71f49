"""The Meltano plugin definition of target-postgres declares exactly the target's settings."""

from __future__ import annotations

from pathlib import Path

import yaml

from target_postgres import TargetPostgres

DEFINITION = Path(__file__).resolve().parents[2] / "plugins/loaders/target-postgres--tenantsync.yml"


def test_definition_matches_the_targets_settings():
    definition = yaml.safe_load(DEFINITION.read_text())
    declared = {s["name"]: s for s in definition["settings"]}
    # singer-sdk appends its built-in settings to the class schema once a target is built.
    builtin = {"type": "object", "properties": {}}
    TargetPostgres.append_builtin_config(builtin)
    props = TargetPostgres.config_jsonschema["properties"]
    own = {name: p for name, p in props.items() if name not in builtin["properties"]}
    assert set(own) <= set(declared) <= set(props)
    for name, prop in props.items():
        if name in declared:
            assert bool(declared[name].get("sensitive")) == bool(prop.get("secret")), name
    assert definition["executable"] == "target-postgres"
    assert definition["namespace"] == "target_postgres"
