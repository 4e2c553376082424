"""The append-only event log.

`append` is all-or-nothing and idempotent: an event id already stored with the same content is a
duplicate and changes nothing; with other content the whole batch is refused. Writers are
serialized (an in-process lock, plus a transaction-scoped advisory lock on PostgreSQL) so that
the global sequence is allocated in commit order: no event can become visible behind a sequence
a reader has already passed. The per-call projection (`calls`) is rewritten in the same
transaction, so measures never see an event without its call's summary.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

from sqlalchemy import and_, bindparam, func, insert, select, text, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from contract.event import Event, as_dict
from service.qi.summary import CallSummary, summarize
from service.store.chain import extend
from service.store.chain_store import read_heads, write_heads
from service.store.tables import SUMMARY_COLUMNS, CallRow, EventRow
from service.triage.profiles import AgencyConfig
from service.triage.state import fold

log = logging.getLogger(__name__)
# Any constant works; it only has to be the same for every replica.
_APPEND_LOCK_KEY = 0x7C9A_0911


class EventConflict(Exception):
    """An event id was reused with different content."""

    def __init__(self, index: int, event_id: str) -> None:
        super().__init__(f"event_id {event_id!r} was already stored with different content")
        self.index = index
        self.event_id = event_id


@dataclass(frozen=True, slots=True)
class Outcome:
    event_id: str
    status: str  # "accepted" | "duplicate"
    seq: int


@dataclass(frozen=True, slots=True)
class Appended:
    outcomes: list[Outcome]


def content_hash(e: Event) -> str:
    """Identity of an event's content: the same id re-sent with this hash is a duplicate."""
    content = as_dict(e)
    content.pop("seq", None)
    blob = json.dumps(content, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(blob.encode()).hexdigest()


def _utc(value: datetime | str) -> datetime:
    """An aggregate's time (MAX bypasses the column type on SQLite: ISO text there)."""
    parsed = datetime.fromisoformat(value) if isinstance(value, str) else value
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def to_event(row: Any) -> Event:
    """An event from a stored row (an `EventRow` or a Core row of the events table)."""
    return Event(
        event_id=row.event_id,
        call_id=row.call_id,
        agency=row.agency,
        kind=row.kind,
        at=row.at.astimezone(timezone(timedelta(seconds=row.at_offset_s))),
        source=row.source,
        actor=row.actor,
        data=row.data,
        arrival=row.seq,
    )


def row_values(e: Event, digest: str, received_at: datetime) -> dict[str, Any]:
    offset = e.at.utcoffset()
    assert offset is not None
    return {
        "agency": e.agency,
        "event_id": e.event_id,
        "call_id": e.call_id,
        "kind": e.kind,
        "at": e.at,
        "at_offset_s": int(offset.total_seconds()),
        "source": e.source,
        "actor": e.actor,
        "data": dict(e.data),
        "content_hash": digest,
        "received_at": received_at,
    }


# Core rows of the events table: reading them skips building ORM objects on the hot path.
EVENT_COLUMNS = select(*EventRow.__table__.c)
EVENTS = EventRow.metadata.tables[EventRow.__tablename__]
CALLS = CallRow.metadata.tables[CallRow.__tablename__]
# On PostgreSQL an INSERT with RETURNING goes as multi-row VALUES statements (SQLAlchemy's
# "insertmanyvalues"); without it the driver's executemany runs one statement per row, which
# costs the ingest path a third more CPU. The returned seqs are those the rows carry.
INSERT_EVENTS_PG = insert(EVENTS).returning(EVENTS.c.seq)
# The next sequences of the events' serial column (PostgreSQL).
NEXT_PG_SEQS = text(
    "SELECT nextval(pg_get_serial_sequence('events', 'seq')) FROM generate_series(1, :n)"
)
INSERT_CALLS = insert(CALLS)
# The highest sequence SQLite's AUTOINCREMENT has handed out (`sqlite_sequence`), or stored.
LAST_SQLITE_SEQ = text(
    "SELECT max(coalesce((SELECT seq FROM sqlite_sequence WHERE name = 'events'), 0),"
    " coalesce((SELECT max(seq) FROM events), 0))"
)
# Rewrite a projection row by key (executemany; the SET clause is the parameters' columns).
UPDATE_CALLS = update(CALLS).where(
    CALLS.c.agency == bindparam("key_agency"), CALLS.c.call_id == bindparam("key_call_id")
)


def _plan(
    request: _Request, known: dict[tuple[str, str], tuple[str, int]]
) -> list[tuple[str, Event, str]] | EventConflict:
    """Each event of a request as accepted or duplicate, against what is stored and what earlier
    requests of the same transaction add; a reused id with other content refuses the request,
    unless the request keeps the first report of each id (then it is a duplicate too)."""
    plan: list[tuple[str, Event, str]] = []
    mine: dict[tuple[str, str], str] = {}
    for i, (e, digest) in enumerate(zip(request.events, request.digests, strict=True)):
        key = (e.agency, e.event_id)
        stored = mine.get(key) or (known[key][0] if key in known else None)
        if stored is None:
            plan.append(("accepted", e, digest))
            mine[key] = digest
        elif stored != digest and not request.keep_first:
            return EventConflict(i, e.event_id)
        else:
            plan.append(("duplicate", e, digest))
    return plan


SUMMARY_SELECT = select(CallRow.call_id, *(getattr(CallRow, c) for c in SUMMARY_COLUMNS))


def summary_from_row(row: Any) -> CallSummary:
    return CallSummary(**row._mapping)


# Call ids per `IN (...)` when reading the events of many calls.
CALLS_PER_READ = 500
# Event ids per `IN (...)` when looking up what a group of requests already stored.
IDS_PER_READ = 5000


async def events_of_calls(
    session: AsyncSession, agency: str, call_ids: Iterable[str]
) -> dict[str, list[Event]]:
    """Each of the agency's calls with its events in sequence order (an empty list for a call
    with none): one query per `CALLS_PER_READ` calls."""
    ids = list(dict.fromkeys(call_ids))
    out: dict[str, list[Event]] = {c: [] for c in ids}
    for i in range(0, len(ids), CALLS_PER_READ):
        rows = await session.execute(
            EVENT_COLUMNS.where(
                EventRow.agency == agency, EventRow.call_id.in_(ids[i : i + CALLS_PER_READ])
            ).order_by(EventRow.seq)
        )
        for row in rows:
            out[row.call_id].append(to_event(row))
    return out


OnCommit = Callable[[list[Event], set[tuple[str, str]]], Awaitable[None]]
# How many append requests one transaction may carry.
MAX_GROUP = 256


@dataclass
class _Request:
    events: Sequence[Event]
    digests: list[str]
    done: asyncio.Future[Appended]
    keep_first: bool = False


class EventStore:
    """Group commit: appends that arrive while a transaction is being written wait, and go
    together in the next one, so one commit (one fsync) acknowledges them all. Each request
    stays all-or-nothing on its own: a conflict refuses that request, not its neighbours."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        *,
        postgres: bool,
        config_for: Callable[[str], AgencyConfig],
        chain_key: bytes | None = None,
    ) -> None:
        self._sessions = sessions
        # The audit key (`TCPR_AUDIT_KEY`): with it the chain links are HMACs (chain.py).
        self._chain_key = chain_key
        self._postgres = postgres
        self._config_for = config_for
        self._queue: list[_Request] = []
        self._committer: asyncio.Task[None] | None = None
        # Called after each commit with the new events and the calls they created.
        self.on_commit: OnCommit | None = None

    async def append(self, events: Sequence[Event], *, keep_first: bool = False) -> Appended:
        """Store the events atomically; raise EventConflict and store nothing on a reused id.
        With `keep_first` (snapshot feeds such as EIDO, which restate a fact with a later
        update time) an id already stored with other content is a duplicate instead: the first
        report of a fact wins. Returns only once the transaction holding them has committed."""
        done: asyncio.Future[Appended] = asyncio.get_running_loop().create_future()
        request = _Request(events, [content_hash(e) for e in events], done, keep_first)
        self._queue.append(request)
        if self._committer is None or self._committer.done():
            self._committer = asyncio.create_task(self._commit_queued(), name="event-committer")
        return await request.done

    async def _commit_queued(self) -> None:
        while self._queue:
            group, self._queue = self._queue[:MAX_GROUP], self._queue[MAX_GROUP:]
            try:
                try:
                    results, new, created = await self._write(group)
                except IntegrityError:
                    # Another process stored one of these ids between our read and our write
                    # (SQLite shared by two services); a second pass sees it.
                    results, new, created = await self._write(group)
                if new and self.on_commit is not None:
                    await self._announce(new, created)
            except Exception as exc:
                for request in group:
                    if not request.done.done():
                        request.done.set_exception(exc)
                continue
            for request, result in zip(group, results, strict=True):
                if request.done.done():
                    continue
                if isinstance(result, EventConflict):
                    request.done.set_exception(result)
                else:
                    request.done.set_result(result)

    async def _announce(self, new: list[Event], created: set[tuple[str, str]]) -> None:
        """Tell the live views. The events are committed whatever happens here: a failed
        announcement must not refuse them, and the live views catch up from the log."""
        assert self.on_commit is not None
        try:
            await self.on_commit(new, created)
        except Exception:
            log.exception("announcing %d committed events failed; readers catch up", len(new))

    async def _write(
        self, group: list[_Request]
    ) -> tuple[list[Appended | EventConflict], list[Event], set[tuple[str, str]]]:
        received_at = datetime.now(UTC)
        async with self._sessions() as session, session.begin():
            if self._postgres:
                # Commit order = sequence order across every replica sharing the database.
                await session.execute(
                    text("SELECT pg_advisory_xact_lock(:key)"), {"key": _APPEND_LOCK_KEY}
                )
            else:
                # Take SQLite's write lock before the first read: a WAL reader whose snapshot
                # another process has moved past cannot upgrade to a writer (it fails at once,
                # whatever the busy timeout), and this transaction reads before it writes.
                await session.execute(text("BEGIN IMMEDIATE"))
            known = await self._known(session, [e for r in group for e in r.events])
            plans: list[list[tuple[str, Event, str]] | EventConflict] = []
            accepted: dict[tuple[str, str], tuple[Event, str]] = {}
            for request in group:
                plan = _plan(request, known)
                plans.append(plan)
                if isinstance(plan, EventConflict):
                    continue
                for status, e, digest in plan:
                    if status == "accepted":
                        accepted[(e.agency, e.event_id)] = (e, digest)
                        known[(e.agency, e.event_id)] = (digest, 0)
            stored: dict[tuple[str, str], Event] = {}
            if accepted:
                rows = [row_values(e, digest, received_at) for e, digest in accepted.values()]
                seqs_in_order = await self._allocate(session, len(rows))
                for row, seq in zip(rows, seqs_in_order, strict=True):
                    row["seq"] = seq
                heads = await read_heads(session, {row["agency"] for row in rows})
                moved = extend(heads, rows, self._chain_key)
                await session.execute(INSERT_EVENTS_PG if self._postgres else insert(EVENTS), rows)
                await write_heads(session, heads, moved)
                for key, seq in zip(accepted, seqs_in_order, strict=True):
                    stored[key] = replace(accepted[key][0], arrival=seq)
            seqs = {key: seq for key, (_, seq) in known.items()}
            seqs.update({key: e.arrival for key, e in stored.items()})
            new = list(stored.values())
            created = await self._project(session, new, received_at)
        results: list[Appended | EventConflict] = []
        for plan in plans:
            if isinstance(plan, EventConflict):
                results.append(plan)
                continue
            outcomes = [
                Outcome(e.event_id, status, seqs[(e.agency, e.event_id)]) for status, e, _ in plan
            ]
            results.append(Appended(outcomes))
        return results, new, created

    async def _allocate(self, session: AsyncSession, n: int) -> list[int]:
        """The next `n` sequence numbers, before the insert, so each row's chain link (which
        covers its seq) goes in with it: no second write of the rows. The transaction holds
        the append lock, so the numbers are in commit order."""
        if self._postgres:
            return sorted(await session.scalars(NEXT_PG_SEQS, {"n": n}))
        # SQLAlchemy cannot pair RETURNING rows with parameters in one multi-row INSERT on
        # SQLite, so the rows are numbered here as AUTOINCREMENT would (one past the highest
        # sequence ever used) and inserted with a single executemany.
        last = int(await session.scalar(LAST_SQLITE_SEQ) or 0)
        return list(range(last + 1, last + 1 + n))

    async def _known(
        self, session: AsyncSession, events: Sequence[Event]
    ) -> dict[tuple[str, str], tuple[str, int]]:
        by_agency: dict[str, set[str]] = {}
        for e in events:
            by_agency.setdefault(e.agency, set()).add(e.event_id)
        known: dict[tuple[str, str], tuple[str, int]] = {}
        for agency, id_set in by_agency.items():
            ids = list(id_set)
            for i in range(0, len(ids), IDS_PER_READ):
                result = await session.execute(
                    select(EventRow.event_id, EventRow.content_hash, EventRow.seq).where(
                        EventRow.agency == agency, EventRow.event_id.in_(ids[i : i + IDS_PER_READ])
                    )
                )
                for event_id, digest, seq in result:
                    known[(agency, event_id)] = (digest, seq)
        return known

    async def _project(
        self, session: AsyncSession, new: list[Event], now: datetime
    ) -> set[tuple[str, str]]:
        """Rewrite the projection rows of the calls `new` (this transaction's events, in sequence
        order) touch; returns the calls that had none before. A call's row is written in the
        transaction of its first event, so a call without one has no events but `new`: only the
        calls that had a row are read back from the log to be folded again."""
        created: set[tuple[str, str]] = set()
        by_call: dict[str, dict[str, list[Event]]] = {}
        for e in new:
            by_call.setdefault(e.agency, {}).setdefault(e.call_id, []).append(e)
        inserts: list[dict[str, Any]] = []
        updates: list[dict[str, Any]] = []
        for agency, calls in by_call.items():
            ids = list(calls)
            existing: set[str] = set()
            for i in range(0, len(ids), CALLS_PER_READ):
                existing.update(
                    await session.scalars(
                        select(CALLS.c.call_id).where(
                            CALLS.c.agency == agency,
                            CALLS.c.call_id.in_(ids[i : i + CALLS_PER_READ]),
                        )
                    )
                )
            history = await events_of_calls(session, agency, existing) if existing else {}
            config = self._config_for(agency)
            for call_id, fresh in calls.items():
                call_events = history.get(call_id) or fresh
                state = fold(agency, call_id, call_events, config)
                summary = summarize(state, config)
                row: dict[str, Any] = {c: getattr(summary, c) for c in SUMMARY_COLUMNS}
                row["ended"] = state.ended_at is not None
                row["last_seq"] = max(e.arrival for e in call_events)
                row["updated_at"] = now
                if call_id in existing:
                    updates.append({"key_agency": agency, "key_call_id": call_id, **row})
                else:
                    inserts.append({"agency": agency, "call_id": call_id, **row})
                    created.add((agency, call_id))
        if inserts:
            await session.execute(INSERT_CALLS, inserts)
        if updates:
            await session.execute(UPDATE_CALLS, updates)
        return created

    @staticmethod
    async def _call_events(session: AsyncSession, agency: str, call_id: str) -> list[Event]:
        result = await session.execute(
            EVENT_COLUMNS.where(EventRow.agency == agency, EventRow.call_id == call_id).order_by(
                EventRow.seq
            )
        )
        return [to_event(r) for r in result]

    # -- reads ------------------------------------------------------------------------------
    async def call_events(self, agency: str, call_id: str) -> list[Event]:
        async with self._sessions() as session:
            return await self._call_events(session, agency, call_id)

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
