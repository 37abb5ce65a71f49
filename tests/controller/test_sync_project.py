"""A sync's own Meltano project: its part of the whole registry's project, written in a
number of queries that does not grow with the registry, and what Meltano resolves there."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import yaml
from sqlalchemy import event

from tenantsync.controller import render, runner, sync_project
from tenantsync.controller.runner import meltano_executable

from .test_render import build


def view_of(reg, customer, provider):
    return next(v for v in reg.sync_views() if (v.customer_id, v.provider)
                == (customer, provider))


def statements(reg, fn) -> int:
    """How many SQL statements `fn` sends."""
    seen = []
    engine = reg.s.get_bind()
    listener = lambda *_a: seen.append(1)  # noqa: E731
    event.listen(engine, "before_cursor_execute", listener)
    try:
        fn()
    finally:
        event.remove(engine, "before_cursor_execute", listener)
    return len(seen)


def test_it_is_the_sync_s_part_of_the_whole_project(tmp_path, secret_key):
    reg = build(tmp_path, "r", [f"cust{i:03d}" for i in range(50)])
    whole = render.document(reg.s)
    view = view_of(reg, "cust007", "hubspot")
    own = sync_project.write(reg.s, tmp_path / "p", view)
    doc = yaml.safe_load((own / render.INCLUDE_FILE).read_text())
    name = render.sync_name(view)
    assert doc["jobs"] == [j for j in whole["jobs"] if j["name"] == name]
    assert doc["schedules"] == [s for s in whole["schedules"] if s["name"] == name]
    for kind in ("extractors", "loaders"):  # only the plugins its job runs
        assert doc["plugins"][kind] and all(p in whole["plugins"][kind]
                                            for p in doc["plugins"][kind])
    tasks = {n for task in doc["jobs"][0]["tasks"] for n in task.split()}
    assert {p["name"] for k in ("extractors", "loaders") for p in doc["plugins"][k]} == tasks
    assert (own / "meltano.yml").read_text() == (tmp_path / "p" / "meltano.yml").read_text()
    assert (own / ".meltano").resolve() == (tmp_path / "p" / ".meltano").resolve()


def test_each_sync_s_batch_files_are_its_own(tmp_path, secret_key):
    """`tenantsync run` empties the folder under the sync's run lock: no other sync's run may
    be writing there (the `.meltano` they share would not do)."""
    reg = build(tmp_path, "r", ["acme", "globex"])
    folders = set()
    for customer in ("acme", "globex"):
        own = sync_project.write(reg.s, tmp_path / "p", view_of(reg, customer, "hubspot"))
        root = render.BATCH_CONFIG["storage"]["root"].replace("$MELTANO_PROJECT_ROOT", str(own))
        (Path(root) / "f.jsonl").parent.mkdir(parents=True)
        folders.add(Path(root).resolve())
    assert len(folders) == 2


def test_writing_it_costs_the_same_in_a_registry_20_times_larger(tmp_path, secret_key):
    small = build(tmp_path, "small", ["acme", "globex"])
    large = build(tmp_path, "large", ["acme", *(f"cust{i:03d}" for i in range(39))])
    counts = [statements(reg, lambda r=reg: sync_project.write(
        r.s, tmp_path / str(id(r)), view_of(r, "acme", "salesforce"))) for reg in (small, large)]
    assert counts[0] == counts[1] <= 5


def test_the_run_path_before_meltano_costs_the_same_in_a_larger_registry(tmp_path, secret_key):
    """What `tenantsync run` does before starting `meltano run` (find the sync, its view,
    its objects, its own project, the process's environment): no query grows with the
    registry, no statement more at 20 times the syncs."""
    def before_meltano(reg, project):
        sync = reg.sync("acme", "salesforce")
        (view,) = reg.sync_views(sync.id)
        runner.run_objects(sync)
        sync_project.write(reg.s, project, view)
        runner.run_env(reg.s, view, project)

    small = build(tmp_path, "small", ["acme", "globex"])
    large = build(tmp_path, "large", ["acme", *(f"cust{i:03d}" for i in range(39))])
    counts = [statements(reg, lambda r=reg: before_meltano(r, tmp_path / f"p{id(r)}"))
              for reg in (small, large)]
    assert counts[0] == counts[1] <= 12, counts


def test_only_what_changed_is_rewritten_and_hand_edits_follow(tmp_path, secret_key):
    reg = build(tmp_path, "r", ["acme", "globex"])
    project = tmp_path / "p"
    own = sync_project.write(reg.s, project, view_of(reg, "globex", "hubspot"))
    include = own / render.INCLUDE_FILE
    stamps = {p: p.stat().st_mtime_ns for p in (include, own / "meltano.yml")}
    sync_project.write(reg.s, project, view_of(reg, "globex", "hubspot"))
    assert {p: p.stat().st_mtime_ns for p in stamps} == stamps
    reg.sync("globex", "hubspot").paused = True
    reg.s.commit()
    sync_project.write(reg.s, project, view_of(reg, "globex", "hubspot"))
    assert yaml.safe_load(include.read_text())["schedules"][0]["interval"] == "@manual"
    assert (own / "meltano.yml").stat().st_mtime_ns == stamps[own / "meltano.yml"]
    # the user's meltano.yml and the other files it includes come along
    (project / "extra.meltano.yml").write_text("jobs:\n- name: mine\n  tasks: [tap-x target-y]\n")
    (project / "meltano.yml").write_text((project / "meltano.yml").read_text().replace(
        "include_paths:\n", "include_paths:\n- ./extra.meltano.yml\n"))
    sync_project.write(reg.s, project, view_of(reg, "globex", "hubspot"))
    assert (own / "meltano.yml").read_text() == (project / "meltano.yml").read_text()
    assert (own / "extra.meltano.yml").read_text().startswith("jobs:\n- name: mine")


def test_meltano_resolves_only_the_sync_s_schedule_there(tmp_path, secret_key):
    reg = build(tmp_path, "r", ["acme", "globex", "initech"])
    view = view_of(reg, "initech", "salesforce")
    own = sync_project.write(reg.s, tmp_path / "p", view)
    env = {**os.environ, "MELTANO_SEND_ANONYMOUS_USAGE_STATS": "false"}
    out = subprocess.run([meltano_executable(), "schedule", "list", "--format=json"], cwd=own,
                         env=env, capture_output=True, text=True, check=True)
    (schedule,) = json.loads(out.stdout)["schedules"]["job"]
    assert schedule["name"] == render.sync_name(view)
    assert schedule["env"] == render.tenant_env(view)


def test_the_first_run_creates_meltano_s_database_without_reading_every_tenant_s_job(
        tmp_path, secret_key, monkeypatch):
    """Meltano's system database is created by the first run, from the sync's own project:
    the whole one's include file (every tenant's job, 56 MB at 100,000 syncs) is not read."""
    monkeypatch.delenv("MELTANO_DATABASE_URI", raising=False)
    monkeypatch.setenv(runner.CACHE_DIR_ENV, str(tmp_path / "cache"))  # no copy to take
    reg = build(tmp_path, "r", ["acme"])
    project = tmp_path / "p"
    view = view_of(reg, "acme", "salesforce")
    sync_project.write(reg.s, project, view)
    (project / render.INCLUDE_FILE).write_text("jobs: [unreadable\n")  # Meltano would fail
    runner.run_env(reg.s, view, project)
    made = project / sync_project.SYSTEM_DIR / "meltano.db"
    assert made.stat().st_size > 0

    # the next project's first run copies it, with no Meltano process
    assert runner.system_db_template().read_bytes() == made.read_bytes()
    monkeypatch.setattr(runner, "meltano_executable", lambda: "/nonexistent/meltano")
    other = tmp_path / "q"
    sync_project.write(reg.s, other, view)
    runner.run_env(reg.s, view, other)
    assert (other / sync_project.SYSTEM_DIR / "meltano.db").read_bytes() == made.read_bytes()


def test_a_cache_directory_that_cannot_be_written_costs_only_the_copy(
        tmp_path, secret_key, monkeypatch):
    monkeypatch.delenv("MELTANO_DATABASE_URI", raising=False)
    (tmp_path / "a-file").write_text("")
    monkeypatch.setenv(runner.CACHE_DIR_ENV, str(tmp_path / "a-file" / "cache"))
    reg = build(tmp_path, "r", ["acme"])
    view = view_of(reg, "acme", "salesforce")
    sync_project.write(reg.s, tmp_path / "p", view)
    runner.run_env(reg.s, view, tmp_path / "p")
    assert (tmp_path / "p" / sync_project.SYSTEM_DIR / "meltano.db").stat().st_size > 0
    assert not list(tmp_path.glob("p/.meltano/.meltano.db.*"))  # no half-copied file left


def test_without_a_home_directory_no_copy_is_kept(tmp_path, secret_key, monkeypatch):
    monkeypatch.delenv("MELTANO_DATABASE_URI", raising=False)
    monkeypatch.delenv(runner.CACHE_DIR_ENV, raising=False)
    monkeypatch.delenv("XDG_CACHE_HOME", raising=False)

    def no_home():
        raise RuntimeError("Could not determine home directory.")
    monkeypatch.setattr(runner.Path, "home", staticmethod(no_home))
    assert runner.system_db_template() is None
    reg = build(tmp_path, "r", ["acme"])
    view = view_of(reg, "acme", "salesforce")
    sync_project.write(reg.s, tmp_path / "p", view)
    runner.run_env(reg.s, view, tmp_path / "p")
    assert (tmp_path / "p" / sync_project.SYSTEM_DIR / "meltano.db").stat().st_size > 0
