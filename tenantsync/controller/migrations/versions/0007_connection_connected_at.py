"""When the customer last connected (or reconnected) a connection: a reconnect may reach
another account of the provider, so a sync's kept catalog (controller/catalog_cache.py) is
keyed on it; a rotated refresh token (`credentials_updated_at`) is the same account.

Revision ID: 0007
Revises: 0006
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("connections") as batch:
        batch.add_column(sa.Column("connected_at", sa.DateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("connections") as batch:
        batch.drop_column("connected_at")
