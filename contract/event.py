"""The canonical event of DESIGN.md §2 as the core sees it: a frozen, already validated value."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from contract.payloads import NoPayload, Payload, decode


@dataclass(frozen=True, slots=True)
class Event:
    """One canonical event. `at` is timezone-aware and keeps the source's own offset.

    `kind` is one of `Kind`'s values. `data` is the kind's data exactly as sent (the store hashes
    and keeps it verbatim); `payload` is its typed view, decoded once here.
    `arrival` orders events that share the same `at` (the store's global sequence); it is not
    part of the event's content.
    """

    event_id: str
    call_id: str
    agency: str
    kind: str
    at: datetime
    source: str = "cad"
    actor: str | None = None
    data: Mapping[str, Any] = field(default_factory=dict)
    arrival: int = 0
    payload: Payload = field(init=False, repr=False, compare=False, default=NoPayload())

    def __post_init__(self) -> None:
        if self.at.tzinfo is None or self.at.utcoffset() is None:
            raise ValueError("event time must carry its UTC offset")
        object.__setattr__(self, "payload", decode(self.kind, self.data))


def chronological(events: Iterable[Event]) -> list[Event]:
    """Order by source time, then by arrival (DESIGN.md §2), then by id for a total order."""
    return sorted(events, key=lambda e: (e.at, e.arrival, e.event_id))


def iso(t: datetime | None) -> str | None:
    """RFC 3339 with the source's own offset, or None."""
    return t.isoformat() if t is not None else None


def as_dict(e: Event) -> dict[str, Any]:
    """The event's canonical JSON shape (DESIGN.md §2), with its sequence as `seq` when stored."""
    out: dict[str, Any] = {
        "event_id": e.event_id,
        "call_id": e.call_id,
        "agency": e.agency,
        "kind": e.kind,
        "at": e.at.isoformat(),
        "source": e.source,
        "actor": e.actor,
        "data": dict(e.data),
    }
    if e.arrival:
        out["seq"] = e.arrival
    return out


def from_dict(d: Mapping[str, Any]) -> Event:
    """Inverse of `as_dict` for values this service wrote itself (already validated)."""
    return Event(
        event_id=d["event_id"],
        call_id=d["call_id"],
        agency=d["agency"],
        kind=d["kind"],
        at=datetime.fromisoformat(d["at"]),
        source=d.get("source", "cad"),
        actor=d.get("actor"),
        data=d.get("data") or {},
        arrival=int(d.get("seq", 0)),
    )
