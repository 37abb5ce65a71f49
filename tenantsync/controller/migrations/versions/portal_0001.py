"""The portal's signed-in sessions.

Revision ID: portal_0001
Revises: 0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "portal_0001"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "portal_sessions",
        sa.Column("digest", sa.String(64), primary_key=True),
        sa.Column("application_id", sa.String(128), sa.ForeignKey("applications.id"),
                  nullable=False, index=True),
        sa.Column("api_key_id", sa.Integer(), sa.ForeignKey("api_keys.id", ondelete="CASCADE"),
                  nullable=False),
        sa.Column("csrf", sa.String(64), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("expires_at", sa.DateTime(), nullable=False))


def downgrade() -> None:
    op.drop_table("portal_sessions")
