"""The per-call projection (`calls`): each call's summary, rewritten in the transaction that
stores its events, so measures never see an event without its call's summary."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from contract.event import Event
from service.qi.summary import summarize
from service.store.event_reads import CALLS_PER_READ, events_of_calls
from service.store.tables import SUMMARY_COLUMNS, CallRow
from service.triage.profiles import AgencyConfig
from service.triage.state import fold

CALLS = CallRow.metadata.tables[CallRow.__tablename__]
INSERT_CALLS = insert(CALLS)
# Rewrite a projection row by key (executemany; the SET clause is the parameters' columns).
UPDATE_CALLS = update(CALLS).where(
    CALLS.c.agency == bindparam("key_agency"), CALLS.c.call_id == bindparam("key_call_id")
)


async def project(
    session: AsyncSession,
    new: list[Event],
    now: datetime,
    config_for: Callable[[str], AgencyConfig],
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
        config = config_for(agency)
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
