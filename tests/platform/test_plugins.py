"""The Meltano plugin definitions of the taps and the extractors of the project files are
generated from the registered providers (`tenantsync plugins render`): committed files that
differ from what the generator writes fail here."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import yaml

from tenantsync import providers
from tenantsync.controller import plugins

ROOT = Path(__file__).resolve().parents[2]


def test_generated_plugin_files_are_current():
    assert plugins.stale(ROOT) == [], "run `tenantsync plugins render` and commit the result"


def test_a_definition_declares_exactly_the_taps_settings():
    for spec in providers.all_specs():
        path = ROOT / "plugins" / "extractors" / f"{spec.executable}--tenantsync.yml"
        definition = yaml.safe_load(path.read_text())
        props = spec.tap_class().config_jsonschema["properties"]
        declared = {s["name"]: s for s in definition["settings"]}
        assert set(props) <= set(declared)
        for name, prop in props.items():
            assert bool(declared[name].get("sensitive")) == bool(prop.get("secret")), name
            assert declared[name].get("value") == prop.get("default"), name
        assert (definition["executable"], definition["namespace"]) == (spec.executable,
                                                                      spec.namespace)
    project = yaml.safe_load((ROOT / "meltano.yml").read_text())
    assert [e["name"] for e in project["plugins"]["extractors"]] == \
        [s.executable for s in providers.all_specs()]


def test_render_rewrites_what_is_stale_and_check_says_so(tmp_path):
    template = tmp_path / "tenantsync" / "controller" / "meltano_template.yml"
    template.parent.mkdir(parents=True)
    shutil.copy(ROOT / "tenantsync" / "controller" / "meltano_template.yml", template)
    (tmp_path / "plugins" / "extractors").mkdir(parents=True)
    project = (ROOT / "meltano.yml").read_text()
    (tmp_path / "meltano.yml").write_text(project.replace("  - name: tap-", "  - name: old-tap-"))
    cli = [str(Path(sys.executable).with_name("tenantsync")), "plugins", "render",
           "--root", str(tmp_path)]
    check = subprocess.run([*cli, "--check"], capture_output=True, text=True, check=False)
    assert check.returncode == 1 and "meltano.yml" in check.stderr
    assert subprocess.run(cli, capture_output=True, check=False).returncode == 0
    assert (tmp_path / "meltano.yml").read_text() == project
    assert subprocess.run([*cli, "--check"], check=False).returncode == 0
    assert plugins.stale(tmp_path) == []
