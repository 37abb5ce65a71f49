"""The service's tables: API keys (hashed), consumed OAuth states, magic links, webhook
endpoints, events and webhook deliveries.

Revision ID: api_0001
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "api_0001"
down_revision = "0001"
branch_labels = None
depends_on = None


def _app() -> sa.Column:
    return sa.Column("application_id", sa.String(128), sa.ForeignKey("applications.id"),
                     nullable=False, index=True)


def upgrade() -> None:
    op.create_table(
        "api_keys", sa.Column("id", sa.Integer(), primary_key=True), _app(),
        sa.Column("digest", sa.String(64), nullable=False, unique=True),
        sa.Column("prefix", sa.String(16), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("revoked_at", sa.DateTime()))
    op.create_table(
        "api_oauth_states",
        sa.Column("nonce", sa.String(64), primary_key=True),
        sa.Column("used_at", sa.DateTime(), nullable=False))
    op.create_table(
        "api_magic_links", sa.Column("id", sa.String(64), primary_key=True), _app(),
        sa.Column("customer_id", sa.String(256), nullable=False),
        sa.Column("provider_name", sa.String(64), nullable=False),
        sa.Column("return_url", sa.Text(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("expires_at", sa.DateTime(), nullable=False))
    op.create_table(
        "api_webhook_endpoints", sa.Column("id", sa.Integer(), primary_key=True), _app(),
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column("event_types", sa.JSON(), nullable=False),
        sa.Column("sealed_secret", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False))
    op.create_table(
        "api_events", sa.Column("id", sa.Integer(), primary_key=True), _app(),
        sa.Column("type", sa.String(64), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False))
    op.create_table(
        "api_webhook_deliveries", sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("event_id", sa.Integer(), sa.ForeignKey("api_events.id"), nullable=False,
                  index=True),
        sa.Column("endpoint_id", sa.Integer(),
                  sa.ForeignKey("api_webhook_endpoints.id", ondelete="CASCADE"),
                  nullable=False, index=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(), nullable=False, index=True),
        sa.Column("last_error", sa.Text()))


def downgrade() -> None:
    for table in ("api_webhook_deliveries", "api_events", "api_webhook_endpoints",
                  "api_magic_links", "api_oauth_states", "api_keys"):
        op.drop_table(table)
