"""Training records and the people they are kept for (service/training/hours.py).

Who the people of an agency are: everyone who answers its calls, so that a person with no hours
at all is listed as out of compliance rather than missing:
- the names on its live telecommunicator tokens (not revoked, not expired);
- the `actor` of its console events and `call.answered` in the last 12 months: this takes in the
  supervisors and QI staff who take calls too (their panel's events carry their name), and the
  CAD's own ids of call takers who have no token of ours;
- everyone with a training record taken in the last 24 months (two continuing-education cycles),
  so a person whose hours have lapsed is still listed as due.
A person who has left (token revoked, no calls for a year, no training for two) drops off the
list; their records stay, in the records export.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from service.store.own_calls import HANDLED
from service.store.tables import CallRow, EventRow, TokenRow, TrainingRecordRow
from service.training.needs import ReviewedCall

ACTIVE_DAYS = 365
TRAINED_DAYS = 730


@dataclass(frozen=True, slots=True)
class TrainingRecord:
    id: int
    agency: str
    person: str
    category: str
    kind: str
    title: str
    minutes: int
    taken_at: datetime
    session_id: int | None
    entered_by: str
    entered_at: datetime

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "agency": self.agency,
            "person": self.person,
            "category": self.category,
            "kind": self.kind,
            "title": self.title,
            "minutes": self.minutes,
            "taken_at": self.taken_at.isoformat(),
            "session_id": self.session_id,
            "entered_by": self.entered_by,
            "entered_at": self.entered_at.isoformat(),
        }


def _record(row: TrainingRecordRow) -> TrainingRecord:
    return TrainingRecord(
        row.id,
        row.agency,
        row.person,
        row.category,
        row.kind,
        row.title,
        row.minutes,
        row.taken_at,
        row.session_id,
        row.entered_by,
        row.entered_at,
    )


class TrainingRecords:
    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions

    async def of_agency(self, agency: str, person: str | None = None) -> list[TrainingRecord]:
        """The agency's records (one person's, with `person`), oldest first."""
        query = select(TrainingRecordRow).where(TrainingRecordRow.agency == agency)
        if person is not None:
            query = query.where(TrainingRecordRow.person == person)
        query = query.order_by(TrainingRecordRow.taken_at, TrainingRecordRow.id)
        async with self._sessions() as session:
            return [_record(row) for row in await session.scalars(query)]

    async def add(self, row: TrainingRecordRow) -> TrainingRecord:
        async with self._sessions() as session, session.begin():
            session.add(row)
            await session.flush()
            return _record(row)

    async def get(self, record_id: int) -> TrainingRecord | None:
        async with self._sessions() as session:
            row = await session.get(TrainingRecordRow, record_id)
            return _record(row) if row is not None else None

    async def remove(self, record_id: int) -> bool:
        """Delete a record a person entered (never a session's: `session_id` is null)."""
        async with self._sessions() as session, session.begin():
            result = await session.execute(
                delete(TrainingRecordRow).where(
                    TrainingRecordRow.id == record_id, TrainingRecordRow.session_id.is_(None)
                )
            )
        return bool(getattr(result, "rowcount", 0))

    async def people(self, agency: str, now: datetime) -> set[str]:
        """Everyone the agency's training is kept for (the module docstring says who)."""
        since = now - timedelta(days=ACTIVE_DAYS)
        names: set[str] = set()
        async with self._sessions() as session:
            tokens = await session.execute(
                select(TokenRow.name, TokenRow.agencies, TokenRow.expires_at).where(
                    TokenRow.role == "telecommunicator",
                    TokenRow.revoked_at.is_(None),
                    TokenRow.name.is_not(None),
                )
            )
            for name, agencies, expires_at in tokens:
                if agency in agencies and (expires_at is None or expires_at > now):
                    names.add(name)
            actors = await session.scalars(
                select(EventRow.actor)
                .where(
                    EventRow.agency == agency,
                    EventRow.actor.is_not(None),
                    EventRow.at >= since,
                    EventRow.at <= now,
                    HANDLED,
                )
                .distinct()
            )
            names.update(a for a in actors if a)
            trained = await session.scalars(
                select(TrainingRecordRow.person)
                .where(
                    TrainingRecordRow.agency == agency,
                    TrainingRecordRow.taken_at >= now - timedelta(days=TRAINED_DAYS),
                    TrainingRecordRow.taken_at <= now,
                )
                .distinct()
            )
            names.update(trained)
        return names

    async def reviewed_calls(self, agency: str, since: datetime) -> dict[str, list[ReviewedCall]]:
        """Each telecommunicator's QI-reviewed (signed-off) calls with T0 since `since`, with
        the reasons their reviews coded, from the `calls` projection."""
        query = select(
            CallRow.telecommunicator,
            CallRow.call_id,
            CallRow.t0,
            CallRow.nonrecognition_reasons,
            CallRow.delay_reasons,
        ).where(
            CallRow.agency == agency,
            CallRow.signed_off,
            CallRow.telecommunicator.is_not(None),
            CallRow.t0 >= since,
        )
        out: dict[str, list[ReviewedCall]] = {}
        async with self._sessions() as session:
            for person, call_id, t0, nonrecognition, delay in await session.execute(query):
                out.setdefault(person, []).append(
                    ReviewedCall(call_id, t0, tuple(nonrecognition or ()), tuple(delay or ()))
                )
        return out
