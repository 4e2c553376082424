"""A call's timeline for the reviewer: every event and alert in order, with seconds from T0.

The reviewer listens to the recording with this beside it, so each entry keeps the time exactly as
its source wrote it (with the source's offset) and says in a few words what happened. Seconds are
counted from the T0 in force (a QI correction of `call.received` moves every entry), the same
clock the intervals use. The event that made the call recognised is marked, and the first event of
a kind the reviewer corrected shows the corrected time beside its own.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, Final

from service.triage import events as k
from service.triage.events import Event, iso
from service.triage.intervals import seconds_between
from service.triage.state import NEGATIVE, CallState

ALERT_TEXT: Final = {
    "recognition_due": "Alert: recognition due",
    "recognition_overdue": "Alert: recognition overdue",
    "compression_due": "Alert: first compression due",
    "compression_overdue": "Alert: first compression overdue",
}
QUESTIONS: Final = {
    k.TRIAGE_CONSCIOUS: "Awake / conscious?",
    k.TRIAGE_BREATHING: "Breathing normally?",
}


def _text(data: Mapping[str, Any], key: str) -> str | None:
    value = data.get(key)
    return value if isinstance(value, str) and value else None


def _received(e: Event) -> str:
    psap = _text(e.data, "psap")
    return f"911 call connected at {psap}" if psap else "911 call connected"


def _transferred(e: Event) -> str:
    to = _text(e.data, "to")
    return f"Transferred to {to}" if to else "Transferred"


def _answered(e: Event) -> str:
    return f"Answered by {e.actor}" if e.actor else "Answered"


def _nature(e: Event) -> str:
    code, text = _text(e.data, "code"), _text(e.data, "text")
    return "Nature " + " ".join(p for p in (code, f"({text})" if text else None) if p)


def _question(e: Event) -> str:
    return f"{QUESTIONS[e.kind]} {_text(e.data, 'answer') or '(no answer)'}"


def _not_given(e: Event) -> str:
    reason = (_text(e.data, "reason") or "other").replace("_", " ")
    note = _text(e.data, "note")
    return f"T-CPR not given: {reason}" + (f" ({note})" if note else "")


def _unit(verb: str) -> Callable[[Event], str]:
    def describe(e: Event) -> str:
        unit = _text(e.data, "unit")
        return f"Unit {unit} {verb}" if unit else f"Unit {verb}"

    return describe


def _ems(e: Event) -> str:
    d = e.data
    if d.get("ohca") is not True:
        return "EMS outcome: not a cardiac arrest"
    parts = [
        "cardiac arrest",
        "resuscitation attempted"
        if d.get("resuscitation_attempted") is True
        else "no resuscitation",
    ]
    if d.get("ems_witnessed") is True:
        parts.append("witnessed by EMS")
    if d.get("rosc") is True:
        parts.append("ROSC")
    if d.get("survived") is True:
        parts.append("survived")
    return "EMS outcome: " + ", ".join(parts)


def _review(e: Event) -> str:
    d = e.data
    who = f" by {e.actor}" if e.actor else ""
    recognizable = d.get("recognizable")
    parts = []
    if isinstance(recognizable, bool):
        parts.append("recognizable" if recognizable else "not recognizable")
    corrections = d.get("corrections")
    if isinstance(corrections, Mapping) and corrections:
        parts.append(f"{len(corrections)} time correction" + ("s" if len(corrections) > 1 else ""))
    valid = d.get("exclusion_valid")
    if isinstance(valid, bool):
        parts.append("exclusion accepted" if valid else "exclusion rejected")
    parts.append("signed off" if d.get("signed_off") is True else "draft")
    return f"QI review{who}: " + ", ".join(parts)


def _alert(e: Event) -> str:
    name = _text(e.data, "alert") or "alert"
    return ALERT_TEXT.get(name, f"Alert: {name}")


DESCRIBE: Final[Mapping[str, Callable[[Event], str]]] = {
    k.CALL_RECEIVED: _received,
    k.CALL_TRANSFERRED: _transferred,
    k.CALL_ANSWERED: _answered,
    k.CALL_NATURE: _nature,
    k.TRIAGE_CONSCIOUS: _question,
    k.TRIAGE_BREATHING: _question,
    k.OHCA_RECOGNIZED: lambda e: "Cardiac arrest recognised (declared)",
    k.TCPR_STARTED: lambda e: "T-CPR instructions begun",
    k.TCPR_FIRST_COMPRESSION: lambda e: "First directed compression",
    k.TCPR_NOT_GIVEN: _not_given,
    k.UNIT_DISPATCHED: _unit("dispatched"),
    k.UNIT_ON_SCENE: _unit("on scene"),
    k.CALL_ENDED: lambda e: "Call ended",
    k.EMS_OUTCOME: _ems,
    k.QI_REVIEW: _review,
    k.ALERT_RAISED: _alert,
}


def describe(e: Event) -> str:
    """A few words a reviewer reads at a glance."""
    how = DESCRIBE.get(e.kind)
    return how(e) if how is not None else e.kind


def timeline(state: CallState) -> list[dict[str, Any]]:
    """Every event of the call in order (source time, then arrival), JSON-ready."""
    t0 = state.t0
    recognizing = _recognizing_event(state)
    firsts: set[str] = set()
    out: list[dict[str, Any]] = []
    for e in state.events:
        # Which correction shows on this entry: a kind's first event carries its own, and the
        # recognition correction goes to whichever event recognised the call, whatever its path.
        corrected_kind = None
        if e is recognizing:
            corrected_kind = k.OHCA_RECOGNIZED
        elif e.kind not in firsts and e.kind != k.OHCA_RECOGNIZED:
            corrected_kind = e.kind
        firsts.add(e.kind)
        corrected = state.corrections.get(corrected_kind) if corrected_kind else None
        out.append(
            {
                "event_id": e.event_id,
                "kind": e.kind,
                "at": iso(e.at),
                "seconds": seconds_between(t0, e.at),
                "source": e.source,
                "actor": e.actor,
                "description": describe(e),
                "alert": _text(e.data, "alert") if e.kind == k.ALERT_RAISED else None,
                "recognition": e is recognizing,
                "corrected_at": iso(corrected),
                "corrected_seconds": seconds_between(t0, corrected),
            }
        )
    return out


PATH_KINDS: Final = {
    "direct": frozenset({k.OHCA_RECOGNIZED}),
    "nature_code": frozenset({k.CALL_NATURE}),
    "question": frozenset({k.TRIAGE_CONSCIOUS, k.TRIAGE_BREATHING}),
}


def _recognizing_event(state: CallState) -> Event | None:
    """The event the recognition rule fired on: the first declaration or arrest nature code at
    that time, or the negative answer that completed the pair (the last one at that time)."""
    kinds = PATH_KINDS.get(state.recognition_path or "", frozenset())
    candidates = [e for e in state.events if e.kind in kinds and e.at == state.recognized_at]
    if state.recognition_path == "question":
        negative = [e for e in candidates if e.data.get("answer") in NEGATIVE]
        return negative[-1] if negative else None
    return candidates[0] if candidates else None
