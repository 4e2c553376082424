"""The QI audit list: an agency's calls filtered on the `calls` projection, newest first.

Filters run in SQL on the projection's columns (one per `CallSummary` field), so listing a year of
calls never folds their events; only the calls shown (or exported) are read from the log. Paging
is by keyset on (T0, call id), newest first: a page stays correct while new calls arrive, and its
cost does not grow with the page number.

"Benchmark missed" means what the reviewer must look at: an interval at or over the profile's
threshold (DESIGN.md §4: met is strictly below), or a call in the AHA population that was never
recognised.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, false, func, or_, select, true
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from contract.event import Event
from service.qi.sampling import Sample
from service.qi.summary import t0_fallback
from service.store.event_reads import events_of_calls
from service.store.tables import CallRow
from service.triage.intervals import met
from service.triage.profiles import BenchmarkProfile

MAX_LIMIT = 500


@dataclass(frozen=True, slots=True)
class AuditFilter:
    """Which of an agency's calls a reviewer wants; None / False leave a filter off."""

    agency: str
    start: datetime | None = None  # start <= T0
    end: datetime | None = None  # T0 < end
    telecommunicator: str | None = None
    missed: bool = False
    unreviewed: bool = False  # no review at all
    unsigned: bool = False  # not signed off (drafts included)
    population: bool = False
    call_id: str | None = None
    # A reproducible random sample of the period's population calls (service.qi.sampling);
    # `sampled` holds the drawn call ids once `with_sample` has drawn them.
    sample: Sample | None = None
    sampled: tuple[str, ...] | None = None


@dataclass(frozen=True, slots=True)
class Cursor:
    """Where the next page starts: strictly older than this (T0, call id)."""

    t0: datetime
    call_id: str

    def encode(self) -> str:
        raw = json.dumps([self.t0.isoformat(), self.call_id], separators=(",", ":"))
        return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")

    @classmethod
    def decode(cls, value: str) -> Cursor:
        """Raises ValueError for anything this list did not hand out."""
        try:
            raw = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))
            t0, call_id = json.loads(raw)
            when = datetime.fromisoformat(t0)
            when.astimezone(UTC)  # compared in UTC: it must have a UTC instant
        except (binascii.Error, ValueError, TypeError, UnicodeDecodeError, OverflowError):
            raise ValueError("not a cursor this list handed out") from None
        if when.utcoffset() is None or not isinstance(call_id, str):
            raise ValueError("not a cursor this list handed out")
        return cls(when, call_id)


@dataclass(frozen=True, slots=True)
class AuditPage:
    rows: list[dict[str, Any]]
    next_cursor: str | None
    total: int
    counts: dict[str, int]


def missed_clause(profile: BenchmarkProfile) -> ColumnElement[bool]:
    return or_(
        CallRow.to_recognition >= profile.recognition_s,
        CallRow.to_first_compression >= profile.first_compression_s,
        and_(CallRow.in_population.is_(True), CallRow.recognized.is_(False)),
    )


def _base(f: AuditFilter) -> list[ColumnElement[bool]]:
    """Agency, period, people and the sample: the base the counts are taken over."""
    clauses: list[ColumnElement[bool]] = [CallRow.agency == f.agency, CallRow.t0.is_not(None)]
    if f.start is not None:
        clauses.append(CallRow.t0 >= f.start)
    if f.end is not None:
        clauses.append(CallRow.t0 < f.end)
    if f.telecommunicator is not None:
        clauses.append(CallRow.telecommunicator == f.telecommunicator)
    if f.call_id is not None:
        clauses.append(CallRow.call_id == f.call_id)
    if f.sampled is not None:  # the counts describe the sample too
        clauses.append(CallRow.call_id.in_(f.sampled) if f.sampled else false())
    return clauses


def _where(f: AuditFilter, profile: BenchmarkProfile) -> list[ColumnElement[bool]]:
    """The whole filter as SQL conditions: the base and the reviewer's flags."""
    return [
        *_base(f),
        missed_clause(profile) if f.missed else true(),
        CallRow.reviewed.is_(False) if f.unreviewed else true(),
        CallRow.signed_off.is_(False) if f.unsigned else true(),
        CallRow.in_population.is_(True) if f.population else true(),
    ]


ROW_COLUMNS = (
    CallRow.call_id,
    CallRow.t0,
    CallRow.telecommunicator,
    CallRow.recognized,
    CallRow.to_recognition,
    CallRow.to_first_compression,
    CallRow.not_given_reason,
    CallRow.in_population,
    CallRow.has_ems_outcome,
    CallRow.reviewed,
    CallRow.recognizable,
    CallRow.signed_off,
    CallRow.ended,
    CallRow.t0_source,
    CallRow.recognition_after_arrival,
    CallRow.excluded,
    CallRow.exclusion_valid,
)


def shown(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds, 3)


def row_summary(row: Any, profile: BenchmarkProfile) -> dict[str, Any]:
    """One line of the list: what a reviewer scans before opening the audit."""
    recognition_met = met(row.to_recognition, profile.recognition_s)
    compression_met = met(row.to_first_compression, profile.first_compression_s)
    return {
        "call_id": row.call_id,
        "t0": row.t0.isoformat(),
        "telecommunicator": row.telecommunicator,
        "recognized": row.recognized,
        "intervals": {  # shown to the millisecond, judged exactly (like the audit)
            "to_recognition": shown(row.to_recognition),
            "to_first_compression": shown(row.to_first_compression),
        },
        "benchmarks": {
            "recognition_met": recognition_met,
            "first_compression_met": compression_met,
        },
        "missed": recognition_met is False
        or compression_met is False
        or (row.in_population and not row.recognized),
        "not_given_reason": row.not_given_reason,
        "in_population": row.in_population,
        "has_ems_outcome": row.has_ems_outcome,
        "reviewed": row.reviewed,
        "recognizable": row.recognizable,
        "signed_off": row.signed_off,
        "ended": row.ended,
        # Measured from the answer (no `call.received`): ring and transfer time are lost.
        "t0_source": row.t0_source,
        "t0_fallback": t0_fallback(row.t0_source),
        "recognition_after_arrival": row.recognition_after_arrival,
        "excluded": row.excluded,
        "exclusion_valid": row.exclusion_valid,
    }


def _page_query(f: AuditFilter, profile: BenchmarkProfile, after: Cursor | None) -> Select[Any]:
    query = select(*ROW_COLUMNS).where(*_where(f, profile))
    if after is not None:
        query = query.where(
            or_(
                CallRow.t0 < after.t0,
                and_(CallRow.t0 == after.t0, CallRow.call_id < after.call_id),
            )
        )
    return query.order_by(CallRow.t0.desc(), CallRow.call_id.desc())


async def _counts(session: AsyncSession, f: AuditFilter, profile: BenchmarkProfile) -> Any:
    # COUNT(*) FILTER (WHERE ...): both SQLite (3.30+) and PostgreSQL, one pass over the rows.
    query = select(
        func.count().label("calls"),
        func.count().filter(missed_clause(profile)).label("missed"),
        func.count().filter(CallRow.reviewed.is_(False)).label("unreviewed"),
        func.count().filter(CallRow.signed_off.is_(False)).label("unsigned"),
        func.count().filter(CallRow.in_population.is_(True)).label("population"),
    ).where(*_base(f))
    return (await session.execute(query)).one()


async def with_sample(
    sessions: async_sessionmaker[AsyncSession], f: AuditFilter
) -> tuple[AuditFilter, dict[str, Any] | None]:
    """Draw the filter's sample from the population calls of its agency, period and person:
    the filter narrowed to the drawn calls, and what was drawn (None without a sample)."""
    if f.sample is None:
        return f, None
    base = replace(f, sample=None, sampled=None)
    query = select(CallRow.call_id).where(*_base(base), CallRow.in_population.is_(True))
    async with sessions() as session:
        population = list(await session.scalars(query))
    drawn = f.sample.drawn(f.agency, population)
    described = {
        "fraction": f.sample.fraction,
        "seed": f.sample.seed,
        "population": len(population),
        "drawn": len(drawn),
    }
    return replace(f, sampled=tuple(sorted(drawn))), described


async def audit_page(
    sessions: async_sessionmaker[AsyncSession],
    f: AuditFilter,
    profile: BenchmarkProfile,
    *,
    after: Cursor | None = None,
    limit: int = 50,
) -> AuditPage:
    """One page of the list, the total matching every filter, and the counts over the period
    (agency, period, telecommunicator) that the filter chips show."""
    limit = max(1, min(limit, MAX_LIMIT))
    async with sessions() as session:
        rows = list(await session.execute(_page_query(f, profile, after).limit(limit + 1)))
        total = await session.scalar(
            select(func.count()).select_from(CallRow).where(*_where(f, profile))
        )
        counts = await _counts(session, f, profile)
    more = len(rows) > limit
    rows = rows[:limit]
    next_cursor = Cursor(rows[-1].t0, rows[-1].call_id).encode() if more and rows else None
    return AuditPage(
        rows=[row_summary(r, profile) for r in rows],
        next_cursor=next_cursor,
        total=int(total or 0),
        counts={key: int(value) for key, value in counts._mapping.items()},
    )


async def matching_calls(
    sessions: async_sessionmaker[AsyncSession],
    f: AuditFilter,
    profile: BenchmarkProfile,
    chunk: int = 200,
) -> AsyncIterator[list[tuple[str, list[Event]]]]:
    """Every matching call with its events, newest first, a chunk at a time (for exports): one
    query for the chunk's ids and one for all their events, never one per call."""
    after: Cursor | None = None
    while True:
        async with sessions() as session:
            rows = list(
                await session.execute(
                    _page_query(f, profile, after)
                    .with_only_columns(CallRow.call_id, CallRow.t0)
                    .limit(chunk)
                )
            )
            if not rows:
                return
            events = await events_of_calls(session, f.agency, [r.call_id for r in rows])
        yield [(r.call_id, events.get(r.call_id, [])) for r in rows]
        if len(rows) < chunk:
            return
        after = Cursor(rows[-1].t0, rows[-1].call_id)
