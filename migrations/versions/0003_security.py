"""Security: the per-agency hash chain over events, browser sessions, the audit access log.

- `events.chain_hash`: each event's link in its agency's hash chain (issue 6), and `chain_heads`,
  the last link and count of each agency's chain, so a removed tail is caught too.
- `sessions`: browser sessions (an HttpOnly cookie holds the secret; only its hash is stored),
  opened from a bearer token or an OpenID Connect token.
- `tokens.created_by`: who issued a token (the admin API and CLI record it).
- `access_log`: who read which audit, measure or export, and when.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-03
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SEQ = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    with op.batch_alter_table("events") as batch:
        batch.add_column(sa.Column("chain_hash", sa.String(64), nullable=True))
    op.create_table(
        "chain_heads",
        sa.Column("agency", sa.String(32), nullable=False),
        sa.Column("last_seq", sa.BigInteger(), nullable=False),
        sa.Column("last_hash", sa.String(64), nullable=False),
        sa.Column("count", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("agency", name=op.f("pk_chain_heads")),
    )
    with op.batch_alter_table("tokens") as batch:
        batch.add_column(sa.Column("created_by", sa.String(128), nullable=True))
    op.create_table(
        "sessions",
        sa.Column("id", SEQ, primary_key=True, autoincrement=True),
        sa.Column("session_hash", sa.String(64), nullable=False),
        sa.Column("token_id", sa.BigInteger(), nullable=True),
        sa.Column("subject", sa.String(256), nullable=True),
        sa.Column("role", sa.String(32), nullable=False),
        sa.Column("agencies", sa.JSON(), nullable=False),
        sa.Column("name", sa.String(128), nullable=True),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("expires_at", TS, nullable=False),
        sa.Column("revoked_at", TS, nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sessions")),
        sa.UniqueConstraint("session_hash", name=op.f("uq_sessions_session_hash")),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_sessions_token_id", "sessions", ["token_id"])
    op.create_table(
        "access_log",
        sa.Column("id", SEQ, primary_key=True, autoincrement=True),
        sa.Column("at", TS, nullable=False),
        sa.Column("agency", sa.String(32), nullable=False),
        sa.Column("principal", sa.String(160), nullable=False),
        sa.Column("role", sa.String(32), nullable=False),
        sa.Column("action", sa.String(64), nullable=False),
        sa.Column("target", sa.String(512), nullable=True),
        sa.Column("client", sa.String(64), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_access_log")),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_access_log_agency_id", "access_log", ["agency", "id"])


def downgrade() -> None:
    op.drop_index("ix_access_log_agency_id", table_name="access_log")
    op.drop_table("access_log")
    op.drop_index("ix_sessions_token_id", table_name="sessions")
    op.drop_table("sessions")
    with op.batch_alter_table("tokens") as batch:
        batch.drop_column("created_by")
    op.drop_table("chain_heads")
    with op.batch_alter_table("events") as batch:
        batch.drop_column("chain_hash")
