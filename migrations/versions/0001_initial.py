"""Initial schema: append-only events, calls projection, rejects, tokens.

Revision ID: 0001
Revises:
Create Date: 2026-11-23
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SEQ = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "events",
        sa.Column("seq", SEQ, primary_key=True, autoincrement=True),
        sa.Column("agency", sa.String(32), nullable=False),
        sa.Column("event_id", sa.String(128), nullable=False),
        sa.Column("call_id", sa.String(128), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("at", TS, nullable=False),
        sa.Column("at_offset_s", sa.Integer(), nullable=False),
        sa.Column("source", sa.String(16), nullable=False),
        sa.Column("actor", sa.String(128), nullable=True),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.Column("content_hash", sa.String(64), nullable=False),
        sa.Column("received_at", TS, nullable=False),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_events")),
        sa.UniqueConstraint("agency", "event_id", name="uq_events_agency_event_id"),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_events_agency_call", "events", ["agency", "call_id", "seq"])
    op.create_table(
        "calls",
        sa.Column("agency", sa.String(32), nullable=False),
        sa.Column("call_id", sa.String(128), nullable=False),
        sa.Column("t0", TS, nullable=True),
        sa.Column("ended", sa.Boolean(), nullable=False),
        sa.Column("last_seq", sa.BigInteger(), nullable=False),
        sa.Column("summary", sa.JSON(), nullable=False),
        sa.Column("updated_at", TS, nullable=False),
        sa.PrimaryKeyConstraint("agency", "call_id", name=op.f("pk_calls")),
    )
    op.create_index("ix_calls_agency_t0", "calls", ["agency", "t0"])
    op.create_table(
        "rejects",
        sa.Column("id", SEQ, primary_key=True, autoincrement=True),
        sa.Column("agency", sa.String(32), nullable=True),
        sa.Column("received_at", TS, nullable=False),
        sa.Column("status", sa.Integer(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("field", sa.String(256), nullable=True),
        sa.Column("endpoint", sa.String(128), nullable=False),
        sa.Column("principal", sa.String(128), nullable=True),
        sa.Column("body", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rejects")),
    )
    op.create_index("ix_rejects_agency_id", "rejects", ["agency", "id"])
    op.create_table(
        "tokens",
        sa.Column("id", SEQ, primary_key=True, autoincrement=True),
        sa.Column("token_hash", sa.String(64), nullable=False),
        sa.Column("role", sa.String(32), nullable=False),
        sa.Column("agencies", sa.JSON(), nullable=False),
        sa.Column("name", sa.String(128), nullable=True),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("expires_at", TS, nullable=True),
        sa.Column("revoked_at", TS, nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tokens")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_tokens_token_hash")),
    )


def downgrade() -> None:
    op.drop_table("tokens")
    op.drop_index("ix_rejects_agency_id", table_name="rejects")
    op.drop_table("rejects")
    op.drop_index("ix_calls_agency_t0", table_name="calls")
    op.drop_table("calls")
    op.drop_index("ix_events_agency_call", table_name="events")
    op.drop_table("events")
