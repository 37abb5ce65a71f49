"""Security: who may start a browser connection, and which key seals the registry.

- `applications.public_connect`: Supaglue's query-parameter `/oauth/connect` form (no key
  holder involved) is served only for an application that turned it on;
- `api_magic_links.replace`: a magic link replaces an existing connection only if its issuer
  asked for that;
- `registry_meta`: the fingerprint of `TENANTSYNC_SECRET_KEY` the registry's secrets are
  sealed with (a different key is refused instead of sealing under two keys).

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("applications", sa.Column("public_connect", sa.Boolean(), nullable=False,
                                            server_default=sa.false()))
    op.add_column("api_magic_links", sa.Column("replace", sa.Boolean(), nullable=False,
                                               server_default=sa.false()))
    op.create_table("registry_meta",
                    sa.Column("key", sa.String(64), primary_key=True),
                    sa.Column("value", sa.Text(), nullable=False))


def downgrade() -> None:
    op.drop_table("registry_meta")
    with op.batch_alter_table("api_magic_links") as batch:
        batch.drop_column("replace")
    with op.batch_alter_table("applications") as batch:
        batch.drop_column("public_connect")
