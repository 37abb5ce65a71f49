"""The sync index that render writes for Airflow's DAG file, and what the DAG file (which
cannot import tenantsync) must agree on with tenantsync: exit codes, file name, pool names."""

from __future__ import annotations

import ast
import json

from tenantsync.airflow import cli as airflow_cli
from tenantsync.controller import cli, render, sync_index
from tests.controller.conftest import seed


def index(project) -> list[list]:
    return json.loads((project / sync_index.INDEX_FILE).read_text())["syncs"]


def test_render_writes_one_row_per_sync_and_none_for_paused(registry, tmp_path):
    seed(registry)
    render.render(registry.s, tmp_path)
    rows = index(tmp_path)
    assert [r[:3] for r in rows] == [["app", "acme", "salesforce"], ["app", "globex", "salesforce"]]
    assert all(r[3] and len(r[3].split()) == 5 for r in rows)
    registry.sync("globex", "salesforce").paused = True
    registry.s.commit()
    render.render(registry.s, tmp_path)
    assert index(tmp_path)[1] == ["app", "globex", "salesforce", None]


def test_an_unchanged_registry_leaves_the_index_untouched(registry, tmp_path):
    seed(registry)
    render.render(registry.s, tmp_path)
    path = tmp_path / sync_index.INDEX_FILE
    before = path.stat().st_mtime_ns
    render.render(registry.s, tmp_path)
    assert path.stat().st_mtime_ns == before  # the DAG processor sees no change


def _dag_file() -> ast.Module:
    return ast.parse(airflow_cli.DAG_FILE.read_text())


def _constant(name: str):
    for node in _dag_file().body:
        if isinstance(node, ast.Assign) and getattr(node.targets[0], "id", None) == name:
            return ast.literal_eval(node.value)
    raise AssertionError(f"{name} not in the DAG file")


def test_the_dag_file_agrees_with_tenantsync():
    assert _constant("EXIT_CREDENTIALS_REFUSED") == cli.EXIT_CREDENTIALS_REFUSED
    assert _constant("EXIT_PAUSED") == cli.EXIT_PAUSED
    assert _constant("INDEX") == sync_index.INDEX_FILE
    (pool,) = [n for n in _dag_file().body if isinstance(n, ast.FunctionDef) and n.name == "pool"]
    scope: dict = {}
    exec(compile(ast.Module([pool], []), "pool", "exec"), scope)  # noqa: S102 (our own file)
    assert scope["pool"]("app", "hubspot") == airflow_cli.pool("app", "hubspot")
