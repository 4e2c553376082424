"""Security: the per-agency hash chain over events, browser sessions, the audit access log.

- `events.chain_hash`: each event's link in its agency's hash chain (tamper evidence), `events.
  chain_prev_seq`: the seq of the event it follows (so a removed event is told from an altered
  one), and `chain_heads`, the last link and count of each agency's chain, so a removed tail is
  caught too. Events stored before this revision are chained here, per agency in seq order, with
  the audit key of the migrating process (`TCPR_AUDIT_KEY`), so an upgraded database verifies.
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

from service.store.chain import Head, extend, genesis
from service.store.chain_store import EVENTS, HEADS, chain_rows_query
from service.store.db import audit_key

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SEQ = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    with op.batch_alter_table("events") as batch:
        batch.add_column(sa.Column("chain_hash", sa.String(64), nullable=True))
        batch.add_column(sa.Column("chain_prev_seq", sa.BigInteger(), nullable=True))
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
    _chain_stored_events()


def _chain_stored_events() -> None:
    """Link the events already stored, per agency in seq order, and record each head. Reads in
    chunks (the log may hold millions); the link function is the service's own."""
    bind = op.get_bind()
    config = op.get_context().config
    key = audit_key(config) if config is not None else None
    agencies = list(bind.scalars(sa.select(EVENTS.c.agency).distinct().order_by(EVENTS.c.agency)))
    for agency in agencies:
        head = Head(0, genesis(agency, key), 0)
        while True:
            rows = [dict(r._mapping) for r in bind.execute(chain_rows_query(agency, head.last_seq))]
            if not rows:
                break
            head = extend({agency: head}, rows, key)[agency]
            bind.execute(
                sa.update(EVENTS)
                .where(EVENTS.c.seq == sa.bindparam("key_seq"))
                .values(
                    chain_hash=sa.bindparam("chain_hash"),
                    chain_prev_seq=sa.bindparam("chain_prev_seq"),
                ),
                [
                    {
                        "key_seq": r["seq"],
                        "chain_hash": r["chain_hash"],
                        "chain_prev_seq": r["chain_prev_seq"],
                    }
                    for r in rows
                ],
            )
        bind.execute(
            sa.insert(HEADS),
            {
                "agency": agency,
                "last_seq": head.last_seq,
                "last_hash": head.last_hash,
                "count": head.count,
            },
        )


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
