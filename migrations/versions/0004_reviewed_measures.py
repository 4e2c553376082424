"""Reviewed measures, checked exclusions, equity breakdowns: new judgements in the `calls`
projection (DESIGN.md §5, 2026-12-06).

Adds, per call: where T0 came from, recognition after EMS arrival, the exclusion under the
provisional and the reviewed rules and the reviewer's judgement of it, the review's coded reasons,
and the breakdown dimensions (language and protocol of the instructions, area, age group, sex,
race). Every stored call is then judged again from its events with the agency's configuration
(`TCPR_AGENCIES` of the migrating process), so an upgraded database measures by the new rules.
`recognized` now means recognition before EMS arrived, so it is rewritten too.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-06
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import sqlalchemy as sa
from alembic import context, op

from service.store.reproject import reproject_calls
from service.triage.profiles import AgencyConfig

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

NEW_COLUMNS: tuple[tuple[str, sa.types.TypeEngine[Any], bool], ...] = (
    ("t0_source", sa.String(16), True),
    ("recognition_after_arrival", sa.Boolean(), False),
    ("excluded", sa.Boolean(), False),
    ("excluded_reviewed", sa.Boolean(), False),
    ("exclusion_valid", sa.Boolean(), True),
    ("nonrecognition_reasons", sa.Text(), True),
    ("delay_reasons", sa.Text(), True),
    ("language", sa.String(64), True),
    ("protocol", sa.String(64), True),
    ("area", sa.String(64), True),
    ("age_group", sa.String(8), True),
    ("sex", sa.String(64), True),
    ("race", sa.String(64), True),
)


def _config_for() -> Callable[[str], AgencyConfig]:
    given = context.config.attributes.get("config_for")
    if given is not None:
        return given  # type: ignore[no-any-return]
    from service.settings import Settings

    return Settings().agency_config


def upgrade() -> None:
    with op.batch_alter_table("calls") as batch:
        for name, type_, nullable in NEW_COLUMNS:
            default = None if nullable else sa.false()
            batch.add_column(sa.Column(name, type_, nullable=nullable, server_default=default))
    reproject_calls(op.get_bind(), _config_for())


def downgrade() -> None:
    with op.batch_alter_table("calls") as batch:
        for name, _, _ in NEW_COLUMNS:
            batch.drop_column(name)
