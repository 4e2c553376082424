"""A call's timeline for the reviewer: every event and alert in order, with seconds from T0.

The reviewer listens to the recording with this beside it, so each entry keeps the time exactly as
its source wrote it (with the source's offset) and says in a few words what happened. Seconds are
counted from the T0 in force (a QI correction of `call.received` moves every entry), the same
clock the intervals use. The event that made the call recognised is marked, and the first event of
a kind the reviewer corrected shows the corrected time beside its own.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Final

from contract.event import Event
from contract.kinds import Kind
from contract.payloads import (
    AlertRaised,
    Answer,
    EmsOutcome,
    Nature,
    NotGiven,
    Received,
    Review,
    Transferred,
    Unit,
)
from service.triage.call_state import NEGATIVE, CallState
from service.triage.intervals import seconds_between

ALERT_TEXT: Final = {
    "recognition_due": "Alert: recognition due",
    "recognition_overdue": "Alert: recognition overdue",
    "compression_due": "Alert: first compression due",
    "compression_overdue": "Alert: first compression overdue",
}
QUESTIONS: Final[Mapping[str, str]] = {
    Kind.TRIAGE_CONSCIOUS: "Awake / conscious?",
    Kind.TRIAGE_BREATHING: "Breathing normally?",
}


def _said(value: str | None) -> str | None:
    """A text field that says something: not missing, not empty."""
    return value or None


def _received(e: Event) -> str:
    psap = _said(e.payload.psap) if isinstance(e.payload, Received) else None
    return f"911 call connected at {psap}" if psap else "911 call connected"


def _transferred(e: Event) -> str:
    to = _said(e.payload.to) if isinstance(e.payload, Transferred) else None
    return f"Transferred to {to}" if to else "Transferred"


def _answered(e: Event) -> str:
    return f"Answered by {e.actor}" if e.actor else "Answered"


def _nature(e: Event) -> str:
    nature = e.payload if isinstance(e.payload, Nature) else Nature()
    code, text = _said(nature.code), _said(nature.text)
    return "Nature " + " ".join(p for p in (code, f"({text})" if text else None) if p)


def _question(e: Event) -> str:
    """The answer, and how the breathing was verified when it was: "no" from the agonal key
    reads otherwise like a plain "not breathing" to a reviewer or a trainer."""
    p = e.payload if isinstance(e.payload, Answer) else Answer()
    said = f"{QUESTIONS[e.kind]} {_said(p.answer) or '(no answer)'}"
    if p.agonal:
        return f"{said} (agonal breathing described)"
    return f"{said} (confirmed normal)" if p.confirmed else said


def _not_given(e: Event) -> str:
    p = e.payload if isinstance(e.payload, NotGiven) else NotGiven()
    reason = (_said(p.reason) or "other").replace("_", " ")
    note = _said(p.note)
    return f"T-CPR not given: {reason}" + (f" ({note})" if note else "")


def _unit(verb: str) -> Callable[[Event], str]:
    def describe(e: Event) -> str:
        unit = _said(e.payload.unit) if isinstance(e.payload, Unit) else None
        return f"Unit {unit} {verb}" if unit else f"Unit {verb}"

    return describe


def _ems(e: Event) -> str:
    p = e.payload if isinstance(e.payload, EmsOutcome) else EmsOutcome()
    if p.ohca is not True:
        return "EMS outcome: not a cardiac arrest"
    parts = [
        "cardiac arrest",
        "resuscitation attempted" if p.resuscitation_attempted is True else "no resuscitation",
    ]
    if p.ems_witnessed is True:
        parts.append("witnessed by EMS")
    if p.rosc is True:
        parts.append("ROSC")
    if p.survived is True:
        parts.append("survived")
    return "EMS outcome: " + ", ".join(parts)


def _review(e: Event) -> str:
    p = e.payload if isinstance(e.payload, Review) else Review()
    who = f" by {e.actor}" if e.actor else ""
    parts = []
    if p.recognizable is not None:
        parts.append("recognizable" if p.recognizable else "not recognizable")
    corrections = p.corrections
    if corrections:
        parts.append(f"{len(corrections)} time correction" + ("s" if len(corrections) > 1 else ""))
    if p.exclusion_valid is not None:
        parts.append("exclusion accepted" if p.exclusion_valid else "exclusion rejected")
    parts.append("signed off" if p.signed_off else "draft")
    return f"QI review{who}: " + ", ".join(parts)


def _alert_name(e: Event) -> str | None:
    return _said(e.payload.alert) if isinstance(e.payload, AlertRaised) else None


def _alert(e: Event) -> str:
    name = _alert_name(e) or "alert"
    return ALERT_TEXT.get(name, f"Alert: {name}")


DESCRIBE: Final[Mapping[str, Callable[[Event], str]]] = {
    Kind.CALL_RECEIVED: _received,
    Kind.CALL_TRANSFERRED: _transferred,
    Kind.CALL_ANSWERED: _answered,
    Kind.CALL_NATURE: _nature,
    Kind.TRIAGE_CONSCIOUS: _question,
    Kind.TRIAGE_BREATHING: _question,
    Kind.OHCA_RECOGNIZED: lambda e: "Cardiac arrest recognised (declared)",
    Kind.TCPR_STARTED: lambda e: "T-CPR instructions begun",
    Kind.TCPR_FIRST_COMPRESSION: lambda e: "First directed compression",
    Kind.TCPR_NOT_GIVEN: _not_given,
    Kind.UNIT_DISPATCHED: _unit("dispatched"),
    Kind.UNIT_ON_SCENE: _unit("on scene"),
    Kind.CALL_ENDED: lambda e: "Call ended",
    Kind.EMS_OUTCOME: _ems,
    Kind.QI_REVIEW: _review,
    Kind.ALERT_RAISED: _alert,
}


def describe(e: Event) -> str:
    """A few words a reviewer reads at a glance."""
    how = DESCRIBE.get(e.kind)
    return how(e) if how is not None else e.kind


@dataclass(frozen=True, slots=True)
class TimelineEntry:
    """One event as the reviewer reads it beside the recording."""

    event_id: str
    kind: str
    at: datetime  # as its source wrote it, offset included
    seconds: float | None  # from the T0 in force
    source: str
    actor: str | None
    description: str
    alert: str | None  # the alert's name on an `alert.raised`
    recognition: bool  # the event that made the call recognised
    corrected_at: datetime | None  # a reviewer's correction of this moment
    corrected_seconds: float | None


def timeline(state: CallState) -> tuple[TimelineEntry, ...]:
    """Every event of the call in order (source time, then arrival)."""
    t0 = state.t0
    recognizing = _recognizing_event(state)
    firsts: set[str] = set()
    out: list[TimelineEntry] = []
    for e in state.events:
        # Which correction shows on this entry: a kind's first event carries its own, and the
        # recognition correction goes to whichever event recognised the call, whatever its path.
        corrected_kind: str | None = None
        if e is recognizing:
            corrected_kind = Kind.OHCA_RECOGNIZED
        elif e.kind not in firsts and e.kind != Kind.OHCA_RECOGNIZED:
            corrected_kind = e.kind
        firsts.add(e.kind)
        corrected = state.corrections.get(corrected_kind) if corrected_kind else None
        out.append(
            TimelineEntry(
                event_id=e.event_id,
                kind=e.kind,
                at=e.at,
                seconds=seconds_between(t0, e.at),
                source=e.source,
                actor=e.actor,
                description=describe(e),
                alert=_alert_name(e),
                recognition=e is recognizing,
                corrected_at=corrected,
                corrected_seconds=seconds_between(t0, corrected),
            )
        )
    return tuple(out)


PATH_KINDS: Final = {
    "direct": frozenset({Kind.OHCA_RECOGNIZED}),
    "nature_code": frozenset({Kind.CALL_NATURE}),
    "question": frozenset({Kind.TRIAGE_CONSCIOUS, Kind.TRIAGE_BREATHING}),
}


def _recognizing_event(state: CallState) -> Event | None:
    """The event the recognition rule fired on: the first declaration or arrest nature code at
    that time, or the negative answer that completed the pair (the last one at that time)."""
    kinds = PATH_KINDS.get(state.recognition_path or "", frozenset())
    at = state.recognition_reported_at
    candidates = [e for e in state.events if e.kind in kinds and e.at == at]
    if state.recognition_path == "question":
        negative = [
            e for e in candidates if isinstance(e.payload, Answer) and e.payload.answer in NEGATIVE
        ]
        return negative[-1] if negative else None
    return candidates[0] if candidates else None
