"""The Alembic migration builds, from an empty database, exactly the schema the models
describe, on SQLite and on PostgreSQL."""

from __future__ import annotations

import json

from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, inspect

from tenantsync.controller import db
from tenantsync.controller.models import Base

TABLES = {"alembic_version", "applications", "customers", "providers", "destinations",
          "sync_configs", "connections", "syncs", "sync_runs", "registry_meta", "schemas"}


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


def test_the_registry_knows_its_newest_revision():
    # db.migrate skips Alembic (its import costs every command 0.1 s) when the registry is
    # at db.HEAD: a new migration must move it
    assert head() == db.HEAD


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


def _alembic(engine, verb: str, revision: str) -> None:
    from alembic import command

    cfg = Config()
    cfg.set_main_option("script_location", str(db.MIGRATIONS))
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        getattr(command, verb)(cfg, revision)


def test_connection_urls_become_settings_and_back(tmp_path):
    """0003: a registry created before connections held settings generically keeps every
    connection's instance and login URL, as settings; the downgrade restores the columns."""
    engine = create_engine(f"sqlite:///{tmp_path}/old.db")
    _alembic(engine, "upgrade", "0002")
    with engine.begin() as conn:
        conn.exec_driver_sql("INSERT INTO applications VALUES ('app', 'App')")
        conn.exec_driver_sql("INSERT INTO customers (id, application_id, customer_id, name, "
                             "email) VALUES (1, 'app', 'acme', '', ''), (2, 'app', 'globex', "
                             "'', '')")
        conn.exec_driver_sql("INSERT INTO providers (id, application_id, name, category, "
                             "auth_type, scopes, settings) VALUES "
                             "(1, 'app', 'p1', 'crm', 'oauth2', '[]', '{}')")
        conn.exec_driver_sql(
            "INSERT INTO connections (id, customer_pk, provider_id, instance_url, login_url, "
            "settings, sealed_credentials, created_at, credentials_updated_at) VALUES "
            "(1, 1, 1, 'https://acme.my.example', 'https://login.example', "
            "'{\"base_url\": \"http://127.0.0.1:1\"}', 'sealed-1', '2026-01-01', '2026-01-02'),"
            "(2, 2, 1, '', '', '{}', 'sealed-2', '2026-01-01', '2026-01-02')")
    _alembic(engine, "upgrade", "head")
    assert "instance_url" not in {c["name"] for c in inspect(engine).get_columns("connections")}
    with engine.connect() as conn:
        rows = conn.exec_driver_sql("SELECT id, settings, sealed_credentials, created_at "
                                    "FROM connections ORDER BY id").all()
    assert [(r[0], json.loads(r[1]), r[2], r[3][:10]) for r in rows] == [
        (1, {"base_url": "http://127.0.0.1:1", "instance_url": "https://acme.my.example",
             "login_url": "https://login.example"}, "sealed-1", "2026-01-01"),
        (2, {}, "sealed-2", "2026-01-01")]
    _alembic(engine, "downgrade", "0002")
    with engine.connect() as conn:
        rows = conn.exec_driver_sql("SELECT id, instance_url, login_url, settings "
                                    "FROM connections ORDER BY id").all()
    assert [(r[0], r[1], r[2], json.loads(r[3])) for r in rows] == [
        (1, "https://acme.my.example", "https://login.example",
         {"base_url": "http://127.0.0.1:1"}), (2, "", "", {})]
