"""The learning loop (issue 19): feedback, debriefs, training and continuing education.

- `ix_events_agency_actor`: a telecommunicator's own calls are found by the events' actor.
- `debriefs`: a supervisor's debrief of a call that needed one (who, when).
- `training_sessions`: a trainer's session of simulator scenarios for one trainee.
- `training_records`: hours of T-CPR training per person (sessions and other training).

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-06
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SEQ = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_index("ix_events_agency_actor", "events", ["agency", "actor"])
    op.create_table(
        "debriefs",
        sa.Column("id", SEQ, primary_key=True, autoincrement=True),
        sa.Column("agency", sa.String(32), nullable=False),
        sa.Column("call_id", sa.String(128), nullable=False),
        sa.Column("done_by", sa.String(160), nullable=False),
        sa.Column("done_at", TS, nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_debriefs")),
        sa.UniqueConstraint("agency", "call_id", name="uq_debriefs_agency_call_id"),
        sqlite_autoincrement=True,
    )
    op.create_table(
        "training_sessions",
        sa.Column("id", SEQ, primary_key=True, autoincrement=True),
        sa.Column("agency", sa.String(32), nullable=False),
        sa.Column("home_agency", sa.String(32), nullable=False),
        sa.Column("trainee", sa.String(128), nullable=False),
        sa.Column("trainer", sa.String(160), nullable=False),
        sa.Column("category", sa.String(16), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("started_at", TS, nullable=False),
        sa.Column("ended_at", TS, nullable=True),
        sa.Column("scenarios", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_training_sessions")),
        sqlite_autoincrement=True,
    )
    op.create_index(
        "ix_training_sessions_home_trainee", "training_sessions", ["home_agency", "trainee"]
    )
    op.create_table(
        "training_records",
        sa.Column("id", SEQ, primary_key=True, autoincrement=True),
        sa.Column("agency", sa.String(32), nullable=False),
        sa.Column("person", sa.String(128), nullable=False),
        sa.Column("category", sa.String(16), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("minutes", sa.Integer(), nullable=False),
        sa.Column("taken_at", TS, nullable=False),
        sa.Column("session_id", sa.BigInteger(), nullable=True),
        sa.Column("entered_by", sa.String(160), nullable=False),
        sa.Column("entered_at", TS, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_training_records")),
        sa.UniqueConstraint("session_id", name=op.f("uq_training_records_session_id")),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_training_records_agency_person", "training_records", ["agency", "person"])


def downgrade() -> None:
    op.drop_index("ix_training_records_agency_person", table_name="training_records")
    op.drop_table("training_records")
    op.drop_index("ix_training_sessions_home_trainee", table_name="training_sessions")
    op.drop_table("training_sessions")
    op.drop_table("debriefs")
    op.drop_index("ix_events_agency_actor", table_name="events")
