"""Rewrite the `calls` projection of every call from its events (blocking; for migrations).

The projection holds each call's judgements (service.qi.summary); when a revision adds one, the
stored calls must be judged again under the new rules, not left with a default. The call keys are
read first (small), then the events of a batch of calls at a time, so memory stays bounded however
large the log.
"""

from __future__ import annotations

from collections.abc import Callable
from itertools import groupby
from typing import Any

from sqlalchemy import bindparam, select, update
from sqlalchemy.engine import Connection

from contract.event import Event
from service.qi.summary import summarize
from service.store.event_rows import to_event
from service.store.tables import SUMMARY_COLUMNS, CallRow, EventRow
from service.triage.profiles import AgencyConfig
from service.triage.state import fold

EVENTS = EventRow.metadata.tables[EventRow.__tablename__]
CALLS = CallRow.metadata.tables[CallRow.__tablename__]
_EVENT_COLUMNS = (
    EVENTS.c.agency,
    EVENTS.c.call_id,
    EVENTS.c.event_id,
    EVENTS.c.kind,
    EVENTS.c.at,
    EVENTS.c.at_offset_s,
    EVENTS.c.source,
    EVENTS.c.actor,
    EVENTS.c.data,
    EVENTS.c.seq,
)
_WRITE = update(CALLS).where(
    CALLS.c.agency == bindparam("key_agency"), CALLS.c.call_id == bindparam("key_call_id")
)
BATCH = 500


def _events(connection: Connection, agency: str, call_ids: list[str]) -> dict[str, list[Event]]:
    rows = connection.execute(
        select(*_EVENT_COLUMNS)
        .where(EVENTS.c.agency == agency, EVENTS.c.call_id.in_(call_ids))
        .order_by(EVENTS.c.call_id, EVENTS.c.seq)
    )
    return {
        call_id: [to_event(r) for r in group]
        for call_id, group in groupby(rows, key=lambda r: r.call_id)
    }


def reproject_calls(connection: Connection, config_for: Callable[[str], AgencyConfig]) -> int:
    """Judge every stored call again, a batch of calls at a time; returns how many."""
    keys = connection.execute(
        select(CALLS.c.agency, CALLS.c.call_id).order_by(CALLS.c.agency, CALLS.c.call_id)
    ).all()
    done = 0
    for agency, group in groupby(keys, key=lambda r: r.agency):
        config = config_for(agency)
        call_ids = [r.call_id for r in group]
        for i in range(0, len(call_ids), BATCH):
            found = _events(connection, agency, call_ids[i : i + BATCH])
            rows: list[dict[str, Any]] = []
            for call_id, events in found.items():
                summary = summarize(fold(agency, call_id, events, config), config)
                values = {c: getattr(summary, c) for c in SUMMARY_COLUMNS}
                rows.append({"key_agency": agency, "key_call_id": call_id, **values})
            if rows:
                connection.execute(_WRITE, rows)
                done += len(rows)
    return done
