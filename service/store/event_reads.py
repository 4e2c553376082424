"""Reading the event log: a call's events, the events after a sequence, the live calls', the
calls' summaries (the projection), and what a group of appends already stored."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Select, and_, func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import Session

from contract.event import Event
from service.qi.summary import CallSummary
from service.store.event_rows import EVENT_COLUMNS, to_event
from service.store.tables import SUMMARY_COLUMNS, CallRow, EventRow

# Call ids per `IN (...)` when reading the events of many calls.
CALLS_PER_READ = 500
# Event ids per `IN (...)` when looking up what a group of requests already stored.
IDS_PER_READ = 5000

SUMMARY_SELECT = select(CallRow.call_id, *(getattr(CallRow, c) for c in SUMMARY_COLUMNS))


def summary_from_row(row: Any) -> CallSummary:
    return CallSummary(**row._mapping)


def _utc(value: datetime | str) -> datetime:
    """An aggregate's time (MAX bypasses the column type on SQLite: ISO text there)."""
    parsed = datetime.fromisoformat(value) if isinstance(value, str) else value
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def _calls_events(agency: str, call_ids: list[str]) -> Select[Any]:
    return EVENT_COLUMNS.where(EventRow.agency == agency, EventRow.call_id.in_(call_ids)).order_by(
        EventRow.seq
    )


async def events_of_calls(
    session: AsyncSession, agency: str, call_ids: Iterable[str]
) -> dict[str, list[Event]]:
    """Each of the agency's calls with its events in sequence order (an empty list for a call
    with none): one query per `CALLS_PER_READ` calls."""
    return await session.run_sync(histories, agency, call_ids)


def histories(session: Session, agency: str, call_ids: Iterable[str]) -> dict[str, list[Event]]:
    """`events_of_calls` on a blocking session (the write path's transaction runs on one)."""
    ids = list(dict.fromkeys(call_ids))
    out: dict[str, list[Event]] = {c: [] for c in ids}
    for i in range(0, len(ids), CALLS_PER_READ):
        for row in session.execute(_calls_events(agency, ids[i : i + CALLS_PER_READ])):
            out[row.call_id].append(to_event(row))
    return out


def stored_digests(
    session: Session, events: Sequence[Event]
) -> dict[tuple[str, str], tuple[str, int]]:
    """The content hash and sequence of each of these events' ids already stored, by (agency,
    event id): one query per agency and `IDS_PER_READ` ids."""
    by_agency: dict[str, set[str]] = {}
    for e in events:
        by_agency.setdefault(e.agency, set()).add(e.event_id)
    known: dict[tuple[str, str], tuple[str, int]] = {}
    for agency, id_set in by_agency.items():
        ids = list(id_set)
        for i in range(0, len(ids), IDS_PER_READ):
            result = session.execute(
                select(EventRow.event_id, EventRow.content_hash, EventRow.seq).where(
                    EventRow.agency == agency, EventRow.event_id.in_(ids[i : i + IDS_PER_READ])
                )
            )
            for event_id, digest, seq in result:
                known[(agency, event_id)] = (digest, seq)
    return known


class EventReads:
    """The log's reads, each in its own session."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions

    async def call_events(self, agency: str, call_id: str) -> list[Event]:
        query = EVENT_COLUMNS.where(EventRow.agency == agency, EventRow.call_id == call_id)
        async with self._sessions() as session:
            return [to_event(r) for r in await session.execute(query.order_by(EventRow.seq))]

    async def events_since(
        self, seq: int, *, agencies: Iterable[str] | None = None, limit: int = 10_000
    ) -> list[Event]:
        query = EVENT_COLUMNS.where(EventRow.seq > seq).order_by(EventRow.seq).limit(limit)
        if agencies is not None:
            query = query.where(EventRow.agency.in_(list(agencies)))
        async with self._sessions() as session:
            return [to_event(r) for r in await session.execute(query)]

    async def last_feed_events(self, recent: int = 100_000) -> dict[str, datetime]:
        """Each agency's latest arrival of a CAD event (source `cad`) among the `recent` newest
        events (a primary-key range, not a scan of the log): where the feeds stood at a restart."""
        floor = await self.high_water() - recent
        query = (
            select(EventRow.agency, func.max(EventRow.received_at))
            .where(EventRow.seq > floor, EventRow.source == "cad")
            .group_by(EventRow.agency)
        )
        async with self._sessions() as session:
            rows = (await session.execute(query)).all()
        return {agency: _utc(at) for agency, at in rows if at is not None}

    async def high_water(self) -> int:
        async with self._sessions() as session:
            return int(await session.scalar(select(func.coalesce(func.max(EventRow.seq), 0))) or 0)

    async def live_call_events(self, since_t0: datetime) -> list[Event]:
        """Every event of the calls not ended whose T0 is after `since_t0`, in sequence order."""
        query = (
            EVENT_COLUMNS.join(
                CallRow,
                and_(CallRow.agency == EventRow.agency, CallRow.call_id == EventRow.call_id),
            )
            .where(CallRow.ended.is_(False), CallRow.t0 >= since_t0)
            .order_by(EventRow.seq)
        )
        async with self._sessions() as session:
            return [to_event(r) for r in await session.execute(query)]

    async def summaries(
        self, agency: str, start: datetime | None, end: datetime | None
    ) -> list[CallSummary]:
        query = SUMMARY_SELECT.where(CallRow.agency == agency, CallRow.t0.is_not(None))
        if start is not None:
            query = query.where(CallRow.t0 >= start)
        if end is not None:
            query = query.where(CallRow.t0 < end)
        async with self._sessions() as session:
            return [summary_from_row(r) for r in await session.execute(query)]
