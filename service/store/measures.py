"""QI read model over the `calls` projection: the measures' cohorts counted in SQL.

A period of a large centre holds a million calls, and fetching each one's summary to count it in
Python takes seconds per request. Here the database does the counting: calls are grouped by the
flags the §5 measures distinguish (`service.qi.measures.Cohort`), and interval values travel only
for population calls, the small share the medians are over.

Most calls of any period have nothing the measures look at beyond "it was a call without an EMS
outcome": not in the population, no EMS outcome, not recognised, not reviewed. Grouping those in
SQL would sort a million rows for nothing, so they are only counted (an index-only range count on
`ix_calls_agency_t0`) and the GROUP BY runs over the rest. On SQLite that turns 2.5 s into 0.5 s
for a year of a million calls; no extra index is needed.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any, Literal

from sqlalchemy import (
    ColumnElement,
    and_,
    case,
    false,
    func,
    literal,
    literal_column,
    or_,
    select,
)
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import QueryableAttribute

from contract.event import Event
from contract.kinds import Kind
from service.qi.cohorts import Cohort
from service.qi.summary import CallSummary
from service.store.event_reads import SUMMARY_SELECT, events_of_calls, summary_from_row
from service.store.tables import CallRow

Expression = ColumnElement[Any] | QueryableAttribute[Any]
_T0_FALLBACK = func.coalesce(CallRow.t0_source == Kind.CALL_ANSWERED, false())
_REVIEWED_POPULATION = and_(CallRow.in_population, CallRow.signed_off)
# The cohort key, in `Cohort` field order after `calls`.
_COHORT_KEY: tuple[Expression, ...] = (
    CallRow.in_population,
    CallRow.has_ems_outcome,
    CallRow.ems_says_not_arrest,
    CallRow.ems_witnessed,
    func.coalesce(CallRow.resuscitation_attempted, false()),
    CallRow.recognized,
    CallRow.recognition_after_arrival,
    CallRow.signed_off,
    func.coalesce(CallRow.recognizable == false(), false()),
    CallRow.excluded,
    CallRow.excluded_reviewed,
    case((CallRow.excluded, CallRow.not_given_reason)),
    CallRow.to_first_compression.is_not(None),
    _T0_FALLBACK,
    case((CallRow.in_population, CallRow.to_recognition)),
    case((CallRow.in_population, CallRow.to_first_compression)),
    case((_REVIEWED_POPULATION, CallRow.nonrecognition_reasons)),
    case((_REVIEWED_POPULATION, CallRow.delay_reasons)),
)
# DESIGN.md §5 breakdown dimensions: each the `calls` column of the same name.
Dimension = Literal[
    "language", "protocol", "area", "age_group", "sex", "race", "telecommunicator", "agency"
]
# A call matters to the measures beyond being counted when any of these holds.
_COUNTED_ONLY_UNLESS = or_(
    CallRow.in_population,
    CallRow.has_ems_outcome,
    CallRow.recognized,
    CallRow.recognition_after_arrival,
    CallRow.reviewed,
    CallRow.signed_off,
    _T0_FALLBACK,
)


def _period(
    agencies: Sequence[str], start: datetime | None, end: datetime | None
) -> list[ColumnElement[bool]]:
    where: list[ColumnElement[bool]] = [
        CallRow.agency.in_(list(agencies)),
        CallRow.t0.is_not(None),
    ]
    if start is not None:
        where.append(CallRow.t0 >= start)
    if end is not None:
        where.append(CallRow.t0 < end)
    return where


def _codes(value: object) -> tuple[str, ...]:
    """A reasons column as read through CASE (JSON text, or already decoded)."""
    if isinstance(value, str):
        return tuple(json.loads(value))
    return tuple(value) if isinstance(value, list | tuple) else ()


def _cohort(calls: int, values: Sequence[Any]) -> Cohort:
    (
        pop,
        outcome,
        not_arrest,
        witnessed,
        attempted,
        recognized,
        after_arrival,
        qi_reviewed,
        unrecognizable,
        excluded,
        excluded_reviewed,
    ) = (bool(v) for v in values[:11])
    reason, compressed, fallback, to_recognition, to_compression, nonrecognition, delay = values[
        11:
    ]
    return Cohort(
        calls=calls,
        in_population=pop,
        has_ems_outcome=outcome,
        ems_says_not_arrest=not_arrest,
        ems_witnessed=witnessed,
        resuscitation_attempted=attempted,
        recognized=recognized,
        recognition_after_arrival=after_arrival,
        qi_reviewed=qi_reviewed,
        unrecognizable=unrecognizable,
        excluded=excluded,
        excluded_reviewed=excluded_reviewed,
        exclusion_reason=reason,
        has_first_compression=bool(compressed),
        t0_fallback=bool(fallback),
        to_recognition=to_recognition,
        to_first_compression=to_compression,
        nonrecognition_reasons=_codes(nonrecognition),
        delay_reasons=_codes(delay),
    )


async def _cohort_rows(
    session: AsyncSession, key: Expression | None, where: Iterable[ColumnElement[bool]]
) -> list[tuple[Any, Cohort]]:
    """(key value, cohort) per GROUP BY row over the calls matching `where` that are more than
    counted. The key is computed in a subquery: PostgreSQL cannot match a GROUP BY expression
    that carries bind parameters (the month bounds) to the same one in the SELECT list."""
    inner = (
        select(
            (key if key is not None else literal_column("0")).label("k"),
            *(column.label(f"c{i}") for i, column in enumerate(_COHORT_KEY)),
        )
        .where(*where, _COUNTED_ONLY_UNLESS)
        .subquery()
    )
    columns = list(inner.c)
    rows = await session.execute(select(*columns, func.count()).group_by(*columns))
    return [(row[0], _cohort(row[-1], row[1:-1])) for row in rows]


def _with_rest(cohorts: list[Cohort], total: int) -> list[Cohort]:
    """Add the calls only counted, as one cohort with every flag false."""
    rest = total - sum(c.calls for c in cohorts)
    return [*cohorts, Cohort(calls=rest)] if rest else cohorts


async def _grouped(
    session: AsyncSession, key: Expression, where: Iterable[ColumnElement[bool]]
) -> dict[Any, list[Cohort]]:
    """Cohorts per value of `key` among the calls matching `where`."""
    where = list(where)
    counts = await session.execute(select(key, func.count()).where(*where).group_by(key))
    totals: dict[Any, int] = {row[0]: row[1] for row in counts}
    out: dict[Any, list[Cohort]] = {k: [] for k in totals}
    for group, cohort in await _cohort_rows(session, key, where):
        out[group].append(cohort)
    return {group: _with_rest(out[group], total) for group, total in totals.items()}


class MeasureStore:
    """Aggregates for the measures, trends and per-telecommunicator breakdown of a period."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions

    async def by_agency(
        self, agencies: Sequence[str], start: datetime | None, end: datetime | None
    ) -> dict[str, list[Cohort]]:
        """Each agency's cohorts for calls with start <= T0 < end (every agency present)."""
        async with self._sessions() as session:
            found = await _grouped(session, CallRow.agency, _period(agencies, start, end))
        return {agency: found.get(agency, []) for agency in agencies}

    async def by_telecommunicator(
        self, agencies: Sequence[str], start: datetime | None, end: datetime | None
    ) -> dict[str | None, list[Cohort]]:
        """Cohorts per telecommunicator (None: calls nobody answered on the console)."""
        async with self._sessions() as session:
            return await _grouped(session, CallRow.telecommunicator, _period(agencies, start, end))

    async def by_dimension(
        self,
        agencies: Sequence[str],
        start: datetime | None,
        end: datetime | None,
        dimension: Dimension,
    ) -> dict[Any, list[Cohort]]:
        """Cohorts per value of a breakdown dimension (a `calls` column: `language`,
        `protocol`, `area`, `age_group`, `sex`, `race`, `telecommunicator`, `agency`)."""
        column = getattr(CallRow, dimension)
        async with self._sessions() as session:
            return await _grouped(session, column, _period(agencies, start, end))

    async def bucketed(
        self, agencies: Sequence[str], bounds: Sequence[datetime]
    ) -> list[list[Cohort]]:
        """Cohorts of each bucket bounds[i] <= T0 < bounds[i + 1] (e.g. the months of a year),
        all agencies together: one GROUP BY over the bucket number, plus a range count each."""
        if len(bounds) < 2:
            return []
        buckets = len(bounds) - 1
        # One bucket has no inner bound, and CASE needs at least one WHEN.
        bucket: ColumnElement[int] = (
            case(
                *((CallRow.t0 < bound, i) for i, bound in enumerate(bounds[1:-1])),
                else_=buckets - 1,
            )
            if buckets > 1
            else literal(0)
        )
        out: list[list[Cohort]] = [[] for _ in range(buckets)]
        async with self._sessions() as session:
            totals = []
            for i in range(buckets):
                where = _period(agencies, bounds[i], bounds[i + 1])
                totals.append(int(await session.scalar(select(func.count()).where(*where)) or 0))
            span = _period(agencies, bounds[0], bounds[-1])
            for number, cohort in await _cohort_rows(session, bucket, span):
                out[int(number)].append(cohort)
        return [_with_rest(cohorts, total) for cohorts, total in zip(out, totals, strict=True)]

    async def candidates(
        self,
        agencies: Sequence[str],
        start: datetime | None,
        end: datetime | None,
        *,
        recognition_under: float,
        compression_under: float,
        limit: int,
    ) -> list[CallSummary]:
        """The best `limit` calls that may be outstanding performances (service.qi.performance
        decides, in the same order): in the population or without an EMS outcome yet,
        recognised and compressing under the bounds."""
        query = (
            SUMMARY_SELECT.where(
                *_period(agencies, start, end),
                or_(CallRow.in_population, CallRow.has_ems_outcome.is_(False)),
                CallRow.recognized.is_(True),
                CallRow.to_recognition < recognition_under,
                CallRow.to_first_compression < compression_under,
            )
            .order_by(
                CallRow.to_first_compression, CallRow.to_recognition, CallRow.t0, CallRow.call_id
            )
            .limit(limit)
        )
        async with self._sessions() as session:
            return [summary_from_row(r) for r in await session.execute(query)]

    async def population_events(
        self,
        agencies: Sequence[str],
        start: datetime | None,
        end: datetime | None,
        *,
        max_calls: int,
    ) -> dict[tuple[str, str], list[Event]] | None:
        """The events of every population call of the period, in sequence order, by call; None
        when there are more than `max_calls` such calls (the caller asks for a shorter period)."""
        async with self._sessions() as session:
            calls = (
                await session.execute(
                    select(CallRow.agency, CallRow.call_id)
                    .where(*_period(agencies, start, end), CallRow.in_population.is_(True))
                    .order_by(CallRow.t0, CallRow.agency, CallRow.call_id)
                    .limit(max_calls + 1)
                )
            ).all()
            if len(calls) > max_calls:
                return None
            by_agency: dict[str, list[str]] = {}
            for agency, call_id in calls:
                by_agency.setdefault(agency, []).append(call_id)
            found = {
                agency: await events_of_calls(session, agency, call_ids)
                for agency, call_ids in by_agency.items()
            }
        return {(agency, call_id): found[agency][call_id] for agency, call_id in calls}
