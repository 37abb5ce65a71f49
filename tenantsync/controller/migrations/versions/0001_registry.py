"""The registry: applications, customers, providers, destinations, sync configs, connections,
syncs and sync runs.

Revision ID: 0001
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def _id() -> sa.Column:
    return sa.Column("id", sa.Integer(), primary_key=True)


def _app() -> sa.Column:
    return sa.Column("application_id", sa.String(128), sa.ForeignKey("applications.id"),
                     nullable=False)


def upgrade() -> None:
    op.create_table(
        "applications",
        sa.Column("id", sa.String(128), primary_key=True),
        sa.Column("name", sa.String(256), nullable=False))
    op.create_table(
        "customers", _id(), _app(),
        sa.Column("customer_id", sa.String(256), nullable=False),
        sa.Column("name", sa.String(256), nullable=False),
        sa.Column("email", sa.String(256), nullable=False),
        sa.UniqueConstraint("application_id", "customer_id"))
    op.create_table(
        "providers", _id(), _app(),
        sa.Column("name", sa.String(64), nullable=False),
        sa.Column("category", sa.String(32), nullable=False),
        sa.Column("auth_type", sa.String(32), nullable=False),
        sa.Column("scopes", sa.JSON(), nullable=False),
        sa.Column("settings", sa.JSON(), nullable=False),
        sa.Column("sealed_credentials", sa.Text()),
        sa.UniqueConstraint("application_id", "name"))
    op.create_table(
        "destinations", _id(), _app(),
        sa.Column("name", sa.String(256), nullable=False),
        sa.Column("type", sa.String(32), nullable=False),
        sa.Column("settings", sa.JSON(), nullable=False),
        sa.Column("secret_keys", sa.JSON(), nullable=False),
        sa.Column("sealed_credentials", sa.Text()),
        sa.UniqueConstraint("application_id", "name"))
    op.create_table(
        "sync_configs", _id(), _app(),
        sa.Column("name", sa.String(256), nullable=False),
        sa.Column("provider_id", sa.Integer(), sa.ForeignKey("providers.id"), nullable=False),
        sa.Column("destination_id", sa.Integer(), sa.ForeignKey("destinations.id"),
                  nullable=False),
        sa.Column("default_config", sa.JSON(), nullable=False),
        sa.Column("common_objects", sa.JSON(), nullable=False),
        sa.Column("standard_objects", sa.JSON(), nullable=False),
        sa.Column("custom_objects", sa.JSON(), nullable=False),
        sa.UniqueConstraint("application_id", "provider_id"))
    op.create_table(
        "connections", _id(),
        sa.Column("customer_pk", sa.Integer(), sa.ForeignKey("customers.id"), nullable=False),
        sa.Column("provider_id", sa.Integer(), sa.ForeignKey("providers.id"), nullable=False),
        sa.Column("instance_url", sa.String(512), nullable=False),
        sa.Column("login_url", sa.String(512), nullable=False),
        sa.Column("settings", sa.JSON(), nullable=False),
        sa.Column("sealed_credentials", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("credentials_updated_at", sa.DateTime(), nullable=False),
        sa.UniqueConstraint("customer_pk", "provider_id"))
    op.create_table(
        "syncs", _id(),
        sa.Column("connection_id", sa.Integer(), sa.ForeignKey("connections.id"),
                  nullable=False),
        sa.Column("sync_config_id", sa.Integer(), sa.ForeignKey("sync_configs.id"),
                  nullable=False),
        sa.Column("paused", sa.Boolean(), nullable=False),
        sa.Column("args_for_next_run", sa.JSON(), nullable=False),
        sa.UniqueConstraint("connection_id", "sync_config_id"))
    op.create_table(
        "sync_runs", _id(),
        sa.Column("sync_id", sa.Integer(), sa.ForeignKey("syncs.id"), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("strategy", sa.String(16), nullable=False),
        sa.Column("started_at", sa.DateTime(), nullable=False),
        sa.Column("ended_at", sa.DateTime()),
        sa.Column("records", sa.JSON(), nullable=False),
        sa.Column("num_records", sa.Integer(), nullable=False),
        sa.Column("error", sa.Text()))
    op.create_index("ix_sync_runs_sync_id", "sync_runs", ["sync_id"])
    op.create_index("ix_sync_runs_started_at", "sync_runs", ["started_at"])


def downgrade() -> None:
    for table in ("sync_runs", "syncs", "connections", "sync_configs", "destinations",
                  "providers", "customers", "applications"):
        op.drop_table(table)
