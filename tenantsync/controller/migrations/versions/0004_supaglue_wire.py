"""What Supaglue's API shows that the registry did not keep: a provider's app id and object
list, a destination's version, the objects of a sync that are paused, the objects a run
covered, and what the taps last saw of a connection (the provider's user id, rate limits).

Revision ID: 0004
Revises: portal_0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "portal_0001"
branch_labels = None
depends_on = None

COLUMNS = {
    "providers": [sa.Column("app_id", sa.String(256), nullable=False, server_default=""),
                  sa.Column("objects", sa.JSON(), nullable=True)],
    "destinations": [sa.Column("version", sa.Integer(), nullable=False, server_default="1")],
    "syncs": [sa.Column("paused_objects", sa.JSON(), nullable=True)],
    "sync_runs": [sa.Column("objects", sa.JSON(), nullable=True)],
    "connections": [sa.Column("observed", sa.JSON(), nullable=True)],
}


def upgrade() -> None:
    for table, columns in COLUMNS.items():
        for column in columns:
            op.add_column(table, column)


def downgrade() -> None:
    for table, columns in COLUMNS.items():
        with op.batch_alter_table(table) as batch:
            for column in columns:
                batch.drop_column(column.name)
