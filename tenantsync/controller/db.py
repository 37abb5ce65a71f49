"""Where the registry lives and how it is opened: SQLite by default, PostgreSQL by URL,
the schema kept current with Alembic."""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path

from sqlalchemy import Engine, create_engine, event, make_url
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

URL_ENV = "TENANTSYNC_REGISTRY_URL"
PROJECT_ENV = "TENANTSYNC_PROJECT_DIR"
MIGRATIONS = Path(__file__).with_name("migrations")
HEAD = "0007"  # the newest migration's revision (tests/controller/test_migrations.py)


def project_dir() -> Path:
    """The Meltano project the controller renders into (default: the working directory)."""
    return Path(os.environ.get(PROJECT_ENV) or Path.cwd()).resolve()


def registry_url() -> str:
    """`TENANTSYNC_REGISTRY_URL`, else a SQLite file in the project's `.tenantsync/`."""
    url = os.environ.get(URL_ENV)
    if url:
        return url.replace("postgresql://", "postgresql+psycopg2://", 1) \
            if url.startswith("postgresql://") else url
    path = project_dir() / ".tenantsync" / "registry.db"
    private_dir(path.parent)
    return f"sqlite:///{path}"


def private_dir(path: Path) -> Path:
    """A directory only its owner may enter (created so, and tightened if it exists): it
    holds the registry, whose rows name every customer and hold their sealed credentials."""
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    if path.stat().st_mode & 0o077:
        path.chmod(0o700)
    return path


def _private_sqlite_file(url: str) -> None:
    """Create the registry's SQLite file owner-only, and tighten one that exists (SQLite
    gives its journal and WAL files the database file's permissions)."""
    database = make_url(url).database
    if not database or database == ":memory:" or database.startswith("file:"):
        return
    fd = os.open(database, os.O_CREAT | os.O_RDWR, 0o600)
    try:
        if os.fstat(fd).st_mode & 0o077:
            os.fchmod(fd, 0o600)
    finally:
        os.close(fd)


def _sqlite_pragmas(dbapi_conn, _record) -> None:
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA busy_timeout=30000")  # taps write rotated tokens while the CLI runs
    cur.close()


def engine(url: str | None = None) -> Engine:
    """One engine per registry URL (resolved now: the environment may have changed)."""
    return _engine(url or registry_url())


@lru_cache(maxsize=8)
def _engine(url: str) -> Engine:
    eng = create_engine(url)
    if eng.dialect.name == "sqlite":
        _private_sqlite_file(url)
        event.listen(eng, "connect", _sqlite_pragmas)
    return eng


def migrate(eng: Engine) -> None:
    """Bring the registry schema to the newest revision (creates it when empty)."""
    if _at_head(eng):
        return
    from alembic import command  # imported only to migrate: 0.1 s of every command's start
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    with eng.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "head")


def _at_head(eng: Engine) -> bool:
    try:
        with eng.connect() as conn:
            return conn.exec_driver_sql("SELECT version_num FROM alembic_version"
                                        ).scalars().all() == [HEAD]
    except SQLAlchemyError:  # a new registry: no table yet
        return False


def session(url: str | None = None, *, upgrade: bool = True) -> Session:
    """A registry session; a `TENANTSYNC_SECRET_KEY` other than the registry's is refused
    here (tenantsync.controller.keycheck), before anything could be sealed under it."""
    from tenantsync.controller import keycheck

    eng = engine(url)
    if upgrade and not getattr(eng, "_tenantsync_migrated", False):
        migrate(eng)
        eng._tenantsync_migrated = True  # type: ignore[attr-defined]
    s = sessionmaker(eng, expire_on_commit=False)()
    try:
        keycheck.verify(s, str(eng.url))
    except Exception:
        s.close()
        raise
    return s
