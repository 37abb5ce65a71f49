"""The embedded server's own settings: applied on start, and a user's ALTER SYSTEM kept."""

import time

import psycopg2

from tenantsync import embedded_pg


def setting(uri: str, name: str, expected: str) -> tuple[str, str | None]:
    """(value, the file it comes from), once it is `expected` or 5 s have passed: a reload
    reaches the server's processes a moment after pg_reload_conf() returns."""
    until = time.monotonic() + 5
    while True:
        with psycopg2.connect(uri) as conn, conn.cursor() as cur:
            cur.execute("SELECT current_setting(%s), sourcefile FROM pg_settings "
                        "WHERE name = %s", (name, name))
            found = cur.fetchone()
        if found[0] == expected or time.monotonic() > until:
            return found
        time.sleep(0.05)


def test_bulk_load_settings_apply_and_a_users_own_value_is_kept():
    with embedded_pg.scratch("tenantsync-settings-") as (work, uri):
        ours = embedded_pg.SETTINGS["max_wal_size"]
        value, source = setting(uri, "max_wal_size", ours)
        assert value == ours
        assert source.endswith("postgresql.auto.conf")
        conn = psycopg2.connect(uri)
        conn.autocommit = True
        with conn.cursor() as cur:
            cur.execute("ALTER SYSTEM SET max_wal_size = '2GB'")
            cur.execute("SELECT pg_reload_conf()")
        conn.close()
        assert setting(uri, "max_wal_size", "2GB")[0] == "2GB"
        assert embedded_pg.start(work / "pg") == uri  # joins the running server
        # what postgresql.auto.conf says now (read from the file: no reload to wait for)
        with psycopg2.connect(uri) as conn, conn.cursor() as cur:
            cur.execute("SELECT setting FROM pg_file_settings WHERE name = 'max_wal_size' "
                        "AND sourcefile LIKE '%%postgresql.auto.conf'")
            assert cur.fetchall() == [("2GB",)]
        assert setting(uri, "max_wal_size", "2GB")[0] == "2GB"
