"""Per-connection sync configuration (Supaglue's connection sync config): a customer's own
destination schema and choice among the sync config's standard and custom objects.

Revision ID: 0002
Revises: api_0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "api_0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("connections", sa.Column("sync_config", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("connections") as batch:
        batch.drop_column("sync_config")
