"""Connections hold provider settings generically: the Salesforce-shaped `instance_url` and
`login_url` columns become keys of the connection's `settings` map (the provider's spec
declares which settings a connection has); empty values were "not set" and stay absent.

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

MOVED = ("instance_url", "login_url")


def _connections(*columns: str) -> sa.TableClause:
    return sa.table("connections", sa.column("id", sa.Integer),
                    sa.column("settings", sa.JSON), *(sa.column(c, sa.String) for c in columns))


def upgrade() -> None:
    conn = op.get_bind()
    table = _connections(*MOVED)
    for row in conn.execute(sa.select(table)).mappings().all():
        moved = {k: row[k] for k in MOVED if row[k]}
        if moved:
            conn.execute(table.update().where(table.c.id == row["id"])
                         .values(settings={**(row["settings"] or {}), **moved}))
    with op.batch_alter_table("connections") as batch:
        for column in MOVED:
            batch.drop_column(column)


def downgrade() -> None:
    with op.batch_alter_table("connections") as batch:
        for column in MOVED:
            batch.add_column(sa.Column(column, sa.String(512), nullable=False,
                                       server_default=""))
    conn = op.get_bind()
    table = _connections(*MOVED)
    for row in conn.execute(sa.select(table.c.id, table.c.settings)).mappings().all():
        settings = dict(row["settings"] or {})
        moved = {k: str(settings.pop(k)) for k in MOVED if k in settings}
        if moved:
            conn.execute(table.update().where(table.c.id == row["id"])
                         .values(settings=settings, **moved))
