"""Training sessions and the continuing-education record a completed one leaves.

A session's `scenarios` column lists the scenarios the trainer chose, in order, each
`{scenario, call_id, started_at, ended_at, speed}`: `call_id` and `started_at` are set when it is
played, `ended_at` once its call has ended (as the session next moves on or ends). Changes to a
session read and write it in one transaction, the row locked on PostgreSQL, so two trainer
clicks on two replicas cannot both start the same scenario.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

from sqlalchemy import or_, select, text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from contract.event import iso
from service.store.tables import TrainingRecordRow, TrainingSessionRow

RUNNING: Final = "running"
COMPLETED: Final = "completed"
ABANDONED: Final = "abandoned"


@dataclass(frozen=True, slots=True)
class Played:
    """One scenario of a session: chosen, and once played, its call."""

    scenario: str
    speed: float
    call_id: str | None = None
    started_at: datetime | None = None
    ended_at: datetime | None = None

    def as_json(self) -> dict[str, Any]:
        return {
            "scenario": self.scenario,
            "call_id": self.call_id,
            "started_at": iso(self.started_at),
            "ended_at": iso(self.ended_at),
            "speed": self.speed,
        }

    @classmethod
    def of(cls, entry: dict[str, Any]) -> Played:
        def when(key: str) -> datetime | None:
            value = entry.get(key)
            return datetime.fromisoformat(value) if isinstance(value, str) else None

        return cls(
            scenario=str(entry["scenario"]),
            speed=float(entry.get("speed", 1.0)),
            call_id=entry.get("call_id"),
            started_at=when("started_at"),
            ended_at=when("ended_at"),
        )


@dataclass(frozen=True, slots=True)
class TrainingSession:
    id: int
    agency: str
    home_agency: str
    trainee: str
    trainer: str
    category: str
    status: str
    started_at: datetime
    ended_at: datetime | None
    scenarios: tuple[Played, ...]

    @property
    def current(self) -> int | None:
        """The index of the scenario played last, if any."""
        played = [i for i, p in enumerate(self.scenarios) if p.call_id is not None]
        return played[-1] if played else None


class NoSuchSession(Exception):
    pass


class NotRunning(Exception):
    """The session has ended (completed or abandoned): nothing more can be played in it."""


class MovedOn(Exception):
    """The session changed between reading it and writing it (another trainer's click): the
    change was made against what is no longer there, so nothing is written."""


def _session(row: TrainingSessionRow) -> TrainingSession:
    return TrainingSession(
        id=row.id,
        agency=row.agency,
        home_agency=row.home_agency,
        trainee=row.trainee,
        trainer=row.trainer,
        category=row.category,
        status=row.status,
        started_at=row.started_at,
        ended_at=row.ended_at,
        scenarios=tuple(Played.of(e) for e in row.scenarios),
    )


class TrainingSessions:
    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions

    async def create(
        self,
        *,
        agency: str,
        home_agency: str,
        trainee: str,
        trainer: str,
        category: str,
        scenarios: Iterable[str],
        speed: float,
        now: datetime,
    ) -> TrainingSession:
        row = TrainingSessionRow(
            agency=agency,
            home_agency=home_agency,
            trainee=trainee,
            trainer=trainer,
            category=category,
            status=RUNNING,
            started_at=now,
            ended_at=None,
            scenarios=[Played(s, speed).as_json() for s in scenarios],
        )
        async with self._sessions() as session, session.begin():
            session.add(row)
            await session.flush()
            return _session(row)

    async def get(self, session_id: int) -> TrainingSession | None:
        async with self._sessions() as session:
            row = await session.get(TrainingSessionRow, session_id)
            return _session(row) if row is not None else None

    async def listing(self, agency: str, trainee: str | None = None) -> list[TrainingSession]:
        """The sessions played in `agency` or for its trainees, newest first."""
        query = select(TrainingSessionRow).where(
            or_(TrainingSessionRow.agency == agency, TrainingSessionRow.home_agency == agency)
        )
        if trainee is not None:
            query = query.where(TrainingSessionRow.trainee == trainee)
        query = query.order_by(TrainingSessionRow.id.desc()).limit(500)
        async with self._sessions() as session:
            return [_session(r) for r in await session.scalars(query)]

    async def change(
        self,
        session_id: int,
        edit: Callable[[TrainingSession], tuple[list[Played], str, datetime | None]],
        record: Callable[[TrainingSession], TrainingRecordRow | None] = lambda _: None,
    ) -> TrainingSession:
        """Apply `edit` (the session as stored -> its scenarios, status and end) to a running
        session in one locked read-write; `record` may add the education record of the result.
        Raises NoSuchSession, NotRunning, or whatever `edit` raises (nothing is then written)."""
        async with self._sessions() as session, session.begin():
            if session.bind.dialect.name == "sqlite":
                # SQLite's write lock before the read: a WAL reader whose snapshot another
                # writer moved past cannot upgrade to a writer (service/store/sequence.py).
                await session.execute(text("BEGIN IMMEDIATE"))
            row = await session.get(TrainingSessionRow, session_id, with_for_update=True)
            if row is None:
                raise NoSuchSession(session_id)
            before = _session(row)
            if before.status != RUNNING:
                raise NotRunning(before.status)
            scenarios, status, ended_at = edit(before)
            row.scenarios = [p.as_json() for p in scenarios]
            row.status, row.ended_at = status, ended_at
            after = _session(row)
            added = record(after)
            if added is not None:
                session.add(added)
            return after
