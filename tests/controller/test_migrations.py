"""The Alembic migration builds, from an empty database, exactly the schema the models
describe, on SQLite and on PostgreSQL."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, inspect

from tenantsync.controller import db
from tenantsync.controller.models import Base

TABLES = {"alembic_version", "applications", "customers", "providers", "destinations",
          "sync_configs", "connections", "syncs", "sync_runs"}


def head() -> str:
    cfg = Config()
    cfg.set_main_option("script_location", str(db.MIGRATIONS))
    return ScriptDirectory.from_config(cfg).get_current_head()


def check(engine) -> None:
    db.migrate(engine)
    assert set(inspect(engine).get_table_names()) >= TABLES
    with engine.connect() as conn:
        # The registry's own tables; other packages may add tables and migrations of theirs.
        ours = {"include_name": lambda name, kind, _parent: kind != "table" or name in TABLES,
                "include_object": lambda obj, _name, kind, _reflected, _other: kind != "table"
                or obj.name in TABLES}  # tables other packages put on the shared Base
        context = MigrationContext.configure(conn, opts=ours)
        assert compare_metadata(context, Base.metadata) == []
        assert conn.exec_driver_sql("SELECT version_num FROM alembic_version").scalar() == head()
    db.migrate(engine)  # idempotent


def test_upgrade_from_empty_sqlite(tmp_path):
    check(create_engine(f"sqlite:///{tmp_path}/r.db"))


def test_upgrade_from_empty_postgres(pg_schema_engine):
    check(pg_schema_engine)


def test_registry_url_from_environment(monkeypatch, tmp_path):
    monkeypatch.setenv(db.URL_ENV, "postgresql://u@h/d")
    assert db.registry_url() == "postgresql+psycopg2://u@h/d"
    monkeypatch.delenv(db.URL_ENV)
    monkeypatch.setenv(db.PROJECT_ENV, str(tmp_path))
    assert db.registry_url() == f"sqlite:///{tmp_path}/.tenantsync/registry.db"


def test_session_migrates_on_first_use(tmp_path):
    with db.session(f"sqlite:///{tmp_path}/fresh.db") as s:
        assert "syncs" in inspect(s.get_bind()).get_table_names()
