"""The service's Alembic revision: one head, chained after the registry's; from an empty
database it builds exactly the tables `tenantsync.api.models` describes (SQLite, PostgreSQL)."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, inspect

import tenantsync.api.models  # noqa: F401 - registers the service's tables on Base
from tenantsync.controller import db
from tenantsync.controller.models import Base

OURS = {"api_keys", "api_oauth_states", "api_magic_links", "api_webhook_endpoints",
        "api_events", "api_webhook_deliveries"}


def scripts() -> ScriptDirectory:
    cfg = Config()
    cfg.set_main_option("script_location", str(db.MIGRATIONS))
    return ScriptDirectory.from_config(cfg)


def test_single_head_and_chained():
    heads = scripts().get_heads()
    assert len(heads) == 1, f"several Alembic heads: {heads}"
    chain = [rev.revision for rev in scripts().walk_revisions()]
    assert "api_0001" in chain and chain[-1] == "0001"


def _named_ours(name, kind, _parent) -> bool:
    return kind != "table" or name in OURS


def _ours(obj, _name, kind, _reflected, _compare_to) -> bool:
    table = obj if kind == "table" else getattr(obj, "table", None)
    return table is None or table.name in OURS


def check(engine) -> None:
    db.migrate(engine)
    assert set(inspect(engine).get_table_names()) >= OURS
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"include_name": _named_ours,
                                                         "include_object": _ours})
        assert compare_metadata(context, Base.metadata) == []
        assert conn.exec_driver_sql("SELECT version_num FROM alembic_version").scalar() == \
            scripts().get_current_head()


def test_upgrade_from_empty_sqlite(tmp_path):
    check(create_engine(f"sqlite:///{tmp_path}/r.db"))


def test_upgrade_from_empty_postgres(pg_schema_engine):
    check(pg_schema_engine)
