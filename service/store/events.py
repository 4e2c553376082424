"""The append-only event log.

`append` is all-or-nothing and idempotent: an event id already stored with the same content is a
duplicate and changes nothing; with other content the whole batch is refused. Writers are
serialized (an in-process lock, plus a transaction-scoped advisory lock on PostgreSQL) so that
the global sequence is allocated in commit order: no event can become visible behind a sequence
a reader has already passed. The per-call projection (`calls`) is rewritten in the same
transaction, so measures never see an event without its call's summary.

This module holds the appending (group commit, duplicates and conflicts); beside it are the
row encoding and content hash (`event_rows`), the sequence numbers (`sequence`), the hash chain
(`chain`, `chain_store`), the projection (`projection`) and the reads (`event_reads`).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Literal

from sqlalchemy import Engine, insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import Session

from contract.event import Event
from service.store.chain import extend
from service.store.chain_store import read_heads, write_heads
from service.store.db import sqlite_writer_engine
from service.store.event_reads import EventReads, stored_digests
from service.store.event_rows import EVENTS, INSERT_EVENTS_PG, Content, content_of, row_values
from service.store.projection import KEPT_CALLS, CallStates, Projected, project
from service.store.sequence import allocate, lock_appends
from service.triage.call_state import CallState
from service.triage.profiles import AgencyConfig

log = logging.getLogger(__name__)


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


# The commit hook: the new events (in sequence order), the calls they created, and each event's
# call state right after it (aligned with the events).
OnCommit = Callable[[list[Event], set[tuple[str, str]], list[CallState]], Awaitable[None]]
# A group's outcome: each request's result, the new events, and what the projection made of them.
_Written = tuple[list[Appended | EventConflict], list[Event], Projected]
# How many append requests one transaction may carry.
MAX_GROUP = 256


@dataclass
class _Request:
    events: Sequence[Event]
    contents: list[Content]
    done: asyncio.Future[Appended]
    keep_first: bool = False


def _plan(
    request: _Request, known: dict[tuple[str, str], tuple[str, int]]
) -> list[tuple[str, Event, str]] | EventConflict:
    """Each event of a request as accepted or duplicate, against what is stored and what earlier
    requests of the same transaction add; a reused id with other content refuses the request,
    unless the request keeps the first report of each id (then it is a duplicate too)."""
    plan: list[tuple[str, Event, str]] = []
    mine: dict[tuple[str, str], str] = {}
    for i, (e, content) in enumerate(zip(request.events, request.contents, strict=True)):
        digest = content.digest
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


class EventStore(EventReads):
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
        kept_calls: int = KEPT_CALLS,
        writer_thread: bool = False,
    ) -> None:
        super().__init__(sessions)
        # The audit key (`TCPR_AUDIT_KEY`): with it the chain links are HMACs (chain.py).
        self._chain_key = chain_key
        self._postgres = postgres
        self._config_for = config_for
        self._queue: list[_Request] = []
        self._committer: asyncio.Task[None] | None = None
        # Committed call states, so a call's next events step from them (projection.py).
        self._states = CallStates(kept_calls)
        # SQLite with `writer_thread`: a blocking engine and the one thread that writes through
        # it, made at the first append (False: none: not asked for, or the database is in
        # memory). See Settings.sqlite_writer_thread for what it costs the panels.
        self._writer: tuple[Engine, ThreadPoolExecutor] | Literal[False] | None = (
            None if writer_thread else False
        )
        # Called after each commit with the new events and the calls they created.
        self.on_commit: OnCommit | None = None

    async def append(self, events: Sequence[Event], *, keep_first: bool = False) -> Appended:
        """Store the events atomically; raise EventConflict and store nothing on a reused id.
        With `keep_first` (snapshot feeds such as EIDO, which restate a fact with a later
        update time) an id already stored with other content is a duplicate instead: the first
        report of a fact wins. Returns only once the transaction holding them has committed."""
        done: asyncio.Future[Appended] = asyncio.get_running_loop().create_future()
        request = _Request(events, [content_of(e) for e in events], done, keep_first)
        self._queue.append(request)
        if self._committer is None or self._committer.done():
            self._committer = asyncio.create_task(self._commit_queued(), name="event-committer")
        return await request.done

    async def _commit_queued(self) -> None:
        while self._queue:
            group, self._queue = self._queue[:MAX_GROUP], self._queue[MAX_GROUP:]
            try:
                try:
                    results, new, projected = await self._write(group)
                except IntegrityError:
                    # Another process stored one of these ids between our read and our write
                    # (SQLite shared by two services); a second pass sees it.
                    results, new, projected = await self._write(group)
                # Committed: only now may the states claim these sequences.
                self._states.keep(projected.latest)
                if new and self.on_commit is not None:
                    await self._announce(new, projected)
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

    async def _announce(self, new: list[Event], projected: Projected) -> None:
        """Tell the live views. The events are committed whatever happens here: a failed
        announcement must not refuse them, and the live views catch up from the log."""
        assert self.on_commit is not None
        try:
            await self.on_commit(new, projected.created, projected.steps)
        except Exception:
            log.exception("announcing %d committed events failed; readers catch up", len(new))

    async def _write(self, group: list[_Request]) -> _Written:
        """One group's transaction as one blocking function: through the async session (each
        statement handed to the driver; its Python work stays on the event loop's thread), or
        on SQLite with `writer_thread` on the store's writer thread (one hand-off per commit)."""
        received_at = datetime.now(UTC)
        writer = self._sqlite_writer()
        if writer is not None:
            engine, thread = writer
            return await asyncio.get_running_loop().run_in_executor(
                thread, self._transaction_on, engine, group, received_at
            )
        async with self._sessions() as session, session.begin():
            return await session.run_sync(self._transaction, group, received_at)

    def _sqlite_writer(self) -> tuple[Engine, ThreadPoolExecutor] | None:
        """The SQLite writer: its own blocking engine on the same file, used by one thread."""
        if self._postgres or self._writer is False:
            return None
        if self._writer is None:
            bind = self._sessions.kw.get("bind")
            engine = sqlite_writer_engine(bind.url) if bind is not None else None
            if engine is None:
                self._writer = False  # in memory: only the async engine's connection has it
                return None
            self._writer = (engine, ThreadPoolExecutor(1, thread_name_prefix="event-writer"))
        return self._writer

    async def close(self) -> None:
        """Release the SQLite writer's connection and thread (the async engine is the caller's)."""
        writer, self._writer = self._writer, None
        if writer:
            engine, thread = writer
            await asyncio.get_running_loop().run_in_executor(thread, engine.dispose)
            thread.shutdown(wait=False)

    def _transaction_on(
        self, engine: Engine, group: list[_Request], received_at: datetime
    ) -> _Written:
        with Session(engine) as session, session.begin():
            return self._transaction(session, group, received_at)

    def _transaction(
        self, session: Session, group: list[_Request], received_at: datetime
    ) -> _Written:
        """The body of a group's transaction (the caller commits it, or rolls it back on an
        exception): duplicates and conflicts, sequences, chain links, rows, projection."""
        lock_appends(session, postgres=self._postgres)
        known = stored_digests(session, [e for r in group for e in r.events])
        plans: list[list[tuple[str, Event, str]] | EventConflict] = []
        accepted: dict[tuple[str, str], tuple[Event, Content]] = {}
        for request in group:
            plan = _plan(request, known)
            plans.append(plan)
            if isinstance(plan, EventConflict):
                continue
            for (status, e, digest), content in zip(plan, request.contents, strict=True):
                if status == "accepted":
                    accepted[(e.agency, e.event_id)] = (e, content)
                    known[(e.agency, e.event_id)] = (digest, 0)
        stored: dict[tuple[str, str], Event] = {}
        if accepted:
            rows = [row_values(e, c.digest, received_at) for e, c in accepted.values()]
            seqs_in_order = allocate(session, len(rows), postgres=self._postgres)
            for row, seq in zip(rows, seqs_in_order, strict=True):
                row["seq"] = seq
            heads = read_heads(session, {row["agency"] for row in rows})
            data = [c.data for _, c in accepted.values()]
            moved = extend(heads, rows, self._chain_key, data)
            session.execute(INSERT_EVENTS_PG if self._postgres else insert(EVENTS), rows)
            write_heads(session, heads, moved)
            for key, seq in zip(accepted, seqs_in_order, strict=True):
                stored[key] = replace(accepted[key][0], arrival=seq)
        seqs = {key: seq for key, (_, seq) in known.items()}
        seqs.update({key: e.arrival for key, e in stored.items()})
        new = list(stored.values())
        projected = project(session, new, received_at, self._config_for, self._states)
        results: list[Appended | EventConflict] = []
        for plan in plans:
            if isinstance(plan, EventConflict):
                results.append(plan)
                continue
            outcomes = [
                Outcome(e.event_id, status, seqs[(e.agency, e.event_id)]) for status, e, _ in plan
            ]
            results.append(Appended(outcomes))
        return results, new, projected
