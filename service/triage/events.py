"""The canonical event of DESIGN.md §2 as the core sees it: a frozen, already validated value."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Final

CALL_RECEIVED: Final = "call.received"
CALL_TRANSFERRED: Final = "call.transferred"
CALL_ANSWERED: Final = "call.answered"
CALL_NATURE: Final = "call.nature"
TRIAGE_CONSCIOUS: Final = "triage.conscious"
TRIAGE_BREATHING: Final = "triage.breathing"
OHCA_RECOGNIZED: Final = "ohca.recognized"
TCPR_STARTED: Final = "tcpr.started"
TCPR_FIRST_COMPRESSION: Final = "tcpr.first_compression"
TCPR_NOT_GIVEN: Final = "tcpr.not_given"
UNIT_DISPATCHED: Final = "unit.dispatched"
UNIT_ON_SCENE: Final = "unit.on_scene"
CALL_ENDED: Final = "call.ended"
EMS_OUTCOME: Final = "ems.outcome"
QI_REVIEW: Final = "qi.review"
ALERT_RAISED: Final = "alert.raised"

KINDS: Final = (
    CALL_RECEIVED,
    CALL_TRANSFERRED,
    CALL_ANSWERED,
    CALL_NATURE,
    TRIAGE_CONSCIOUS,
    TRIAGE_BREATHING,
    OHCA_RECOGNIZED,
    TCPR_STARTED,
    TCPR_FIRST_COMPRESSION,
    TCPR_NOT_GIVEN,
    UNIT_DISPATCHED,
    UNIT_ON_SCENE,
    CALL_ENDED,
    EMS_OUTCOME,
    QI_REVIEW,
    ALERT_RAISED,
)
# What a telecommunicator's console emits (DESIGN.md §8, role `telecommunicator`).
CONSOLE_KINDS: Final = frozenset(
    {
        TRIAGE_CONSCIOUS,
        TRIAGE_BREATHING,
        OHCA_RECOGNIZED,
        TCPR_STARTED,
        TCPR_FIRST_COMPRESSION,
        TCPR_NOT_GIVEN,
    }
)
SOURCES: Final = ("cad", "console", "ems", "qi", "system")
ANSWERS: Final = ("yes", "no", "unsure")
NOT_GIVEN_REASONS: Final = (
    "cpr_in_progress",
    "caller_unable",
    "cannot_position",
    "caller_refused",
    "unsafe",
    "hung_up",
    "other",
)
TCPR_VARIANTS: Final = ("adult", "child", "infant")
ALERTS: Final = (
    "recognition_due",
    "recognition_overdue",
    "compression_due",
    "compression_overdue",
    "dispatch_overdue",
)


@dataclass(frozen=True, slots=True)
class Event:
    """One canonical event. `at` is timezone-aware and keeps the source's own offset.

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

    def __post_init__(self) -> None:
        if self.at.tzinfo is None or self.at.utcoffset() is None:
            raise ValueError("event time must carry its UTC offset")


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
