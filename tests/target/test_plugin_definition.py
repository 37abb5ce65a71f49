"""The Meltano plugin definition of target-postgres declares exactly the target's settings."""

from __future__ import annotations

from pathlib import Path

import yaml

from target_postgres import TargetPostgres

DEFINITION = Path(__file__).resolve().parents[2] / "plugins/loaders/target-postgres--tenantsync.yml"


def test_definition_matches_the_targets_settings():
    definition = yaml.safe_load(DEFINITION.read_text())
    declared = {s["name"]: s for s in definition["settings"]}
    own = TargetPostgres.config_jsonschema["properties"]
    assert set(declared) == set(own)
    for name, prop in own.items():
        assert bool(declared[name].get("sensitive")) == bool(prop.get("secret")), name
    assert definition["executable"] == "target-postgres"
    assert definition["namespace"] == "target_postgres"
