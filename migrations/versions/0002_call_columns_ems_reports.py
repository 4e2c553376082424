"""Calls projection as columns (SQL-side measures and audit filters); EMS patient care reports.

The per-call summary moves from one JSON column to a column per field, so measures over a
million calls aggregate in the database and the audit list filters by telecommunicator,
benchmark and review state with an index. Existing summaries are carried over.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SEQ = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
TS = sa.DateTime(timezone=True)

NEW_COLUMNS: tuple[tuple[str, sa.types.TypeEngine[Any], bool], ...] = (
    ("in_population", sa.Boolean(), False),
    ("has_ems_outcome", sa.Boolean(), False),
    ("ems_says_not_arrest", sa.Boolean(), False),
    ("ems_witnessed", sa.Boolean(), False),
    ("resuscitation_attempted", sa.Boolean(), True),
    ("recognized", sa.Boolean(), False),
    ("to_recognition", sa.Float(), True),
    ("to_first_compression", sa.Float(), True),
    ("not_given_reason", sa.String(32), True),
    ("reviewed", sa.Boolean(), False),
    ("recognizable", sa.Boolean(), True),
    ("signed_off", sa.Boolean(), False),
    ("telecommunicator", sa.String(128), True),
)


def upgrade() -> None:
    with op.batch_alter_table("calls") as batch:
        for name, type_, nullable in NEW_COLUMNS:
            default = None if nullable else sa.false()
            batch.add_column(sa.Column(name, type_, nullable=nullable, server_default=default))
    calls = sa.table(
        "calls",
        sa.column("agency", sa.String()),
        sa.column("call_id", sa.String()),
        sa.column("summary", sa.JSON()),
        *(sa.column(name, type_) for name, type_, _ in NEW_COLUMNS),
    )
    connection = op.get_bind()
    for row in connection.execute(sa.select(calls.c.agency, calls.c.call_id, calls.c.summary)):
        raw = row.summary if isinstance(row.summary, dict) else json.loads(row.summary)
        values = {name: raw.get(name) for name, _, _ in NEW_COLUMNS if name in raw}
        values.setdefault("signed_off", False)
        connection.execute(
            calls.update()
            .where(calls.c.agency == row.agency, calls.c.call_id == row.call_id)
            .values(**values)
        )
    with op.batch_alter_table("calls") as batch:
        batch.drop_column("summary")
        batch.create_index(
            "ix_calls_agency_telecommunicator_t0", ["agency", "telecommunicator", "t0"]
        )

    op.create_table(
        "ems_reports",
        sa.Column("id", SEQ, primary_key=True, autoincrement=True),
        sa.Column("agency", sa.String(32), nullable=False),
        sa.Column("pcr_key", sa.String(128), nullable=False),
        sa.Column("received_at", TS, nullable=False),
        sa.Column("cad_record_id", sa.String(128), nullable=True),
        sa.Column("incident_number", sa.String(128), nullable=True),
        sa.Column("psap_call_at", TS, nullable=True),
        sa.Column("outcome", sa.JSON(), nullable=False),
        sa.Column("call_id", sa.String(128), nullable=True),
        sa.Column("match", sa.String(32), nullable=False),
        sa.Column("linked_by", sa.String(128), nullable=True),
        sa.Column("linked_at", TS, nullable=True),
        sa.Column("document", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ems_reports")),
        sa.UniqueConstraint("agency", "pcr_key", name="uq_ems_reports_agency_pcr_key"),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_ems_reports_agency_call", "ems_reports", ["agency", "call_id"])


def downgrade() -> None:
    op.drop_index("ix_ems_reports_agency_call", table_name="ems_reports")
    op.drop_table("ems_reports")
    with op.batch_alter_table("calls") as batch:
        batch.drop_index("ix_calls_agency_telecommunicator_t0")
        batch.add_column(sa.Column("summary", sa.JSON(), nullable=False, server_default="{}"))
        for name, _, _ in NEW_COLUMNS:
            batch.drop_column(name)
