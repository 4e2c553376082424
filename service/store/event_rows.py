"""An event as a row of the `events` table and back, and the hash that identifies its content
(the same id re-sent with the same hash is a duplicate)."""

from __future__ import annotations

import hashlib
import json
from datetime import datetime, timedelta, timezone
from typing import Any

from sqlalchemy import insert, select

from contract.event import Event, as_dict
from service.store.tables import EventRow

# Core rows of the events table: reading them skips building ORM objects on the hot path.
EVENT_COLUMNS = select(*EventRow.__table__.c)
EVENTS = EventRow.metadata.tables[EventRow.__tablename__]
# On PostgreSQL an INSERT with RETURNING goes as multi-row VALUES statements (SQLAlchemy's
# "insertmanyvalues"); without it the driver's executemany runs one statement per row, which
# costs the ingest path a third more CPU. The returned seqs are those the rows carry.
INSERT_EVENTS_PG = insert(EVENTS).returning(EVENTS.c.seq)


def content_hash(e: Event) -> str:
    """Identity of an event's content: the same id re-sent with this hash is a duplicate."""
    content = as_dict(e)
    content.pop("seq", None)
    blob = json.dumps(content, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(blob.encode()).hexdigest()


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
