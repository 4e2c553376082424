"""Debriefs over the `calls` projection: the calls that need one, and the ones held.

Which calls need a debrief is decided by service.qi.debriefs; `needs_clause` is the same rule in
SQL over the projection's columns (one per `CallSummary` field), so the board's count and the
list never fold a call's events, and the tests hold the two equal. Only the debriefs held are
stored (`debriefs`); an outstanding one is a call that needs a debrief and has no row.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final, Literal

from sqlalchemy import ColumnElement, and_, case, func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from service.qi.debriefs import debrief_reasons
from service.qi.summary import CallSummary
from service.store.tables import SUMMARY_COLUMNS, CallRow, DebriefRow
from service.triage.profiles import BenchmarkProfile

State = Literal["outstanding", "done", "all"]
STATES: Final = ("outstanding", "done", "all")
MAX_LIMIT: Final = 500
_JOIN = and_(DebriefRow.agency == CallRow.agency, DebriefRow.call_id == CallRow.call_id)


def needs_clause(profile: BenchmarkProfile) -> ColumnElement[bool]:
    """service.qi.debriefs `needs_debrief` in SQL: missed is at or over the threshold."""
    recognized = CallRow.recognized.is_(True)
    return and_(
        CallRow.in_population.is_(True),
        or_(
            and_(CallRow.recognized.is_(False), CallRow.recognizable.is_not(False)),
            and_(recognized, CallRow.to_recognition >= profile.recognition_s),
            CallRow.to_first_compression >= profile.first_compression_s,
            and_(
                recognized,
                CallRow.to_first_compression.is_(None),
                ~and_(CallRow.excluded.is_(True), CallRow.exclusion_valid.is_not(False)),
            ),
        ),
    )


@dataclass(frozen=True, slots=True)
class Held:
    """A debrief held: who, when, and the supervisor's note."""

    done_by: str
    done_at: datetime
    note: str | None

    def as_json(self) -> dict[str, Any]:
        return {"done_by": self.done_by, "done_at": self.done_at.isoformat(), "note": self.note}


@dataclass(frozen=True, slots=True)
class Debrief:
    """A call that needs (or needed) a debrief, with the debrief once held."""

    call: CallSummary
    reasons: tuple[str, ...]
    held: Held | None


@dataclass(frozen=True, slots=True)
class DebriefList:
    debriefs: list[Debrief]
    outstanding: int
    done: int


# Outcomes of marking a debrief done.
@dataclass(frozen=True, slots=True)
class NoSuchCall:
    pass


@dataclass(frozen=True, slots=True)
class NotNeeded:
    pass


@dataclass(frozen=True, slots=True)
class AlreadyHeld:
    held: Held


@dataclass(frozen=True, slots=True)
class Marked:
    debrief: Debrief


Marking = NoSuchCall | NotNeeded | AlreadyHeld | Marked
_SELECT = select(
    CallRow.call_id,
    *(getattr(CallRow, c) for c in SUMMARY_COLUMNS),
    DebriefRow.done_by,
    DebriefRow.done_at,
    DebriefRow.note,
).outerjoin(DebriefRow, _JOIN)


def _debrief(row: Any, profile: BenchmarkProfile) -> Debrief:
    values = row._mapping
    call = CallSummary(call_id=values["call_id"], **{c: values[c] for c in SUMMARY_COLUMNS})
    held = (
        Held(values["done_by"], values["done_at"], values["note"])
        if values["done_by"] is not None
        else None
    )
    return Debrief(call, debrief_reasons(call, profile), held)


class DebriefStore:
    """An agency's debriefs: listed by state and period, and marked done."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions

    async def listing(
        self,
        agency: str,
        profile: BenchmarkProfile,
        state: State = "outstanding",
        start: datetime | None = None,
        end: datetime | None = None,
        limit: int = 100,
    ) -> DebriefList:
        """The calls in `state` whose T0 is in [start, end): outstanding first, then newest
        first; and how many are outstanding and done over the whole period."""
        outstanding = and_(needs_clause(profile), DebriefRow.id.is_(None))
        done = DebriefRow.id.is_not(None)
        period: list[ColumnElement[bool]] = [CallRow.agency == agency, CallRow.t0.is_not(None)]
        if start is not None:
            period.append(CallRow.t0 >= start)
        if end is not None:
            period.append(CallRow.t0 < end)
        chosen = {"outstanding": outstanding, "done": done, "all": or_(outstanding, done)}[state]
        query = (
            _SELECT.where(*period, chosen)
            .order_by(case((done, 1), else_=0), CallRow.t0.desc(), CallRow.call_id.desc())
            .limit(max(1, min(limit, MAX_LIMIT)))
        )
        counts = (
            select(func.count().filter(outstanding), func.count().filter(done))
            .select_from(CallRow)
            .outerjoin(DebriefRow, _JOIN)
            .where(*period, or_(outstanding, done))
        )
        async with self._sessions() as session:
            rows = list(await session.execute(query))
            n_outstanding, n_done = (await session.execute(counts)).one()
        return DebriefList(
            [_debrief(r, profile) for r in rows], int(n_outstanding or 0), int(n_done or 0)
        )

    async def mark(
        self,
        agency: str,
        call_id: str,
        profile: BenchmarkProfile,
        *,
        by: str,
        at: datetime,
        note: str | None,
    ) -> Marking:
        """Record the debrief of a call that needs one; a second mark changes nothing and says
        who held it first (a unique (agency, call id) settles two supervisors at once)."""
        query = _SELECT.where(CallRow.agency == agency, CallRow.call_id == call_id)
        async with self._sessions() as session:
            row = (await session.execute(query)).first()
            if row is None:
                return NoSuchCall()
            found = _debrief(row, profile)
            if found.held is not None:
                return AlreadyHeld(found.held)
            if not found.reasons:
                return NotNeeded()
            session.add(
                DebriefRow(agency=agency, call_id=call_id, done_by=by, done_at=at, note=note)
            )
            try:
                await session.commit()
            except IntegrityError:
                await session.rollback()
                return await self._already(agency, call_id)
        return Marked(Debrief(found.call, found.reasons, Held(by, at, note)))

    async def _already(self, agency: str, call_id: str) -> AlreadyHeld:
        async with self._sessions() as session:
            row = (
                await session.execute(
                    select(DebriefRow).where(
                        DebriefRow.agency == agency, DebriefRow.call_id == call_id
                    )
                )
            ).scalar_one()
        return AlreadyHeld(Held(row.done_by, row.done_at, row.note))
