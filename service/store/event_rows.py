"""An event as a row of the `events` table and back, and the hash that identifies its content
(the same id re-sent with the same hash is a duplicate)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

from sqlalchemy import insert, select

from contract.event import Event
from service.store.chain import encode, encode_str, scalar
from service.store.tables import EventRow

# Core rows of the events table: reading them skips building ORM objects on the hot path.
EVENT_COLUMNS = select(*EventRow.__table__.c)
EVENTS = EventRow.metadata.tables[EventRow.__tablename__]
# On PostgreSQL an INSERT with RETURNING goes as multi-row VALUES statements (SQLAlchemy's
# "insertmanyvalues"); without it the driver's executemany runs one statement per row, which
# costs the ingest path a third more CPU. The returned seqs are those the rows carry.
INSERT_EVENTS_PG = insert(EVENTS).returning(EVENTS.c.seq)


@dataclass(frozen=True, slots=True)
class Content:
    """An event's content hash, and its `data` encoded as the hash and the chain link both
    serialize it (`chain.encode`): the data is encoded once per event."""

    digest: str
    data: str


# The members of an event's content, in sorted key order (the order `content_of` fills them).
_CONTENT = (
    '{"actor":%s,"agency":%s,"at":%s,"call_id":%s,"data":%s,"event_id":%s,"kind":%s,"source":%s}'
)


def content_of(e: Event) -> Content:
    """The event's content as `content_hash` defines it: its canonical JSON shape without the
    sequence, keys sorted, compact (composed member by member around the encoded data)."""
    data = encode(dict(e.data))
    blob = _CONTENT % (
        scalar(e.actor),
        encode_str(e.agency),
        encode_str(e.at.isoformat()),
        encode_str(e.call_id),
        data,
        encode_str(e.event_id),
        encode_str(e.kind),
        scalar(e.source),
    )
    return Content(hashlib.sha256(blob.encode()).hexdigest(), data)


def content_hash(e: Event) -> str:
    """Identity of an event's content: the same id re-sent with this hash is a duplicate."""
    return content_of(e).digest


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
