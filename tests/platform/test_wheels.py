"""The plugins as someone else's Meltano project uses them: every wheel built by `tenantsync
plugins wheels`, a fresh project outside the repository, tap-hubspot and target-postgres added
`--from-ref` the committed definitions (the installer finds the wheels through UV_FIND_LINKS,
README "Distributions"), Meltano installing each into its own virtual environment, and
`meltano run` against the HubSpot twin into PostgreSQL: every record exact. The tap's
environment holds the tap, tenantsync-kit and their run-time dependencies, none of the
application's."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import psycopg2
import pytest

from tenantsync import providers
from tenantsync.contract import slug
from tenantsync.controller import distributions
from tests.platform.test_distributions import APP_ONLY
from tests.proof.harness import compare

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
MELTANO = str(Path(sys.executable).with_name("meltano"))
PROVIDER = "hubspot"


@pytest.fixture(scope="module")
def project(tmp_path_factory):
    """A fresh Meltano project (outside the repository) with tap-hubspot and target-postgres
    added from plugins/ and installed from the built wheels; its environment variables."""
    wheels = tmp_path_factory.mktemp("wheels")
    built = subprocess.run([str(Path(sys.executable).with_name("tenantsync")), "plugins",
                            "wheels", "--root", str(ROOT), "--out", str(wheels)],
                           capture_output=True, text=True, check=False)
    assert built.returncode == 0, built.stderr[-3000:]
    where = tmp_path_factory.mktemp("elsewhere") / "project"
    where.mkdir()
    (where / "meltano.yml").write_text(
        "version: 1\nproject_id: elsewhere\nsend_anonymous_usage_stats: false\n"
        "default_environment: dev\nenvironments:\n- name: dev\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "VIRTUAL_ENV"))}
    env.update(UV_FIND_LINKS=str(wheels), PIP_FIND_LINKS=str(wheels),
               XDG_STATE_HOME=str(where / ".state"), MELTANO_SEND_ANONYMOUS_USAGE_STATS="false")
    spec = providers.get(PROVIDER)
    for kind, name, ref in (("extractor", spec.executable, "extractors"),
                            ("loader", "target-postgres", "loaders")):
        added = subprocess.run(
            [MELTANO, "add", kind, name, "--from-ref",
             str(ROOT / "plugins" / ref / f"{name}--tenantsync.yml")],
            cwd=where, env=env, capture_output=True, text=True, timeout=900, check=False)
        assert added.returncode == 0, added.stdout[-2000:] + added.stderr[-3000:]
    return where, env


def _venv(where: Path, kind: str, name: str) -> Path:
    return where / ".meltano" / kind / name / "venv"


def test_meltano_run_of_the_installed_wheels_is_exact(project, pg_server_uri, pg_schema):
    where, env = project
    spec = providers.get(PROVIDER)
    prefix = spec.executable.upper().replace("-", "_")
    objects = list(spec.twin.objects)
    with spec.twin.start("sync", records=40, seed=5) as sb:
        settings = {**spec.twin.tap_config(sb), "standard_objects": objects}
        run_env = {**env, **{f"{prefix}_{k.upper()}": v if isinstance(v, str) else json.dumps(v)
                             for k, v in settings.items()},
                   "TARGET_POSTGRES_SQLALCHEMY_URL": pg_server_uri,
                   "TARGET_POSTGRES_SCHEMA": pg_schema,
                   "TARGET_POSTGRES_APPLICATION_ID": "elsewhere-app",
                   "TARGET_POSTGRES_CUSTOMER_ID": "acme",
                   "TARGET_POSTGRES_PROVIDER_NAME": spec.name}
        done = subprocess.run([MELTANO, "run", spec.executable, "target-postgres"], cwd=where,
                              env=run_env, capture_output=True, text=True, timeout=600,
                              check=False)
        assert done.returncode == 0, done.stderr[-4000:]
        truth = {obj: spec.twin.records(sb, obj) for obj in objects}
    with psycopg2.connect(pg_server_uri) as conn, conn.cursor() as cur:
        for obj in objects:
            cur.execute("SELECT _supaglue_id, _supaglue_raw_data, _supaglue_is_deleted "
                        f'FROM "{pg_schema}"."{spec.name}_{slug(obj)}" '
                        "WHERE _supaglue_customer_id = 'acme'")
            rows = cur.fetchall()
            assert truth[obj] and compare(obj, rows, truth[obj]) == [], obj


def test_the_taps_environment_holds_no_application(project):
    """Meltano's environment for the tap is a fresh venv with its wheel alone installed."""
    where, env = project
    spec = providers.get(PROVIDER)
    python = _venv(where, "extractors", spec.executable) / "bin" / "python"
    code = ("import importlib.metadata as m, json; "
            "print(json.dumps([d.metadata['Name'] for d in m.distributions()]))")
    listed = subprocess.run([str(python), "-c", code], capture_output=True, text=True, env=env,
                            cwd=where, check=True).stdout
    installed = {name.lower() for name in json.loads(listed)}
    assert {f"{spec.executable}-tenantsync", "tenantsync-kit", "singer-sdk"} <= installed
    assert not installed & APP_ONLY, sorted(installed & APP_ONLY)
    # a plain Singer config, no controller: the tap describes itself and its registry hook
    # stays optional
    about = subprocess.run([str(python.with_name(spec.executable)), "--about", "--format",
                            "json"], capture_output=True, text=True, env=env, cwd=where,
                           check=True)
    assert "credential_source" in json.loads(about.stdout)["settings"]["properties"]
    assert distributions.name(ROOT / "taps" / spec.namespace) in installed
