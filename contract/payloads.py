"""A typed view of each kind's `data` (DESIGN.md §2), decoded once when an event is built.

Decoding is total: the stored data stays as it was sent (the store hashes it verbatim) and a field
of the wrong type reads as absent, so the core never has to check a type itself. The wire model
(`contract.data_models`) is what refuses a wrong type on the way in.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Final, TypeAlias

from contract.kinds import Kind

_NO_CORRECTIONS: Final[Mapping[str, object]] = MappingProxyType({})


def _str(data: Mapping[str, Any], key: str) -> str | None:
    value = data.get(key)
    return value if isinstance(value, str) else None


def _bool(data: Mapping[str, Any], key: str) -> bool | None:
    value = data.get(key)
    return value if isinstance(value, bool) else None


def _strings(value: object) -> tuple[str, ...]:
    return tuple(v for v in value if isinstance(v, str)) if isinstance(value, list) else ()


def _text(value: str | None) -> str | None:
    """Free text that says something: not blank."""
    return value if value is not None and value.strip() else None


@dataclass(frozen=True, slots=True)
class NoPayload:
    """A kind whose data carries nothing the core reads (`call.answered`, `call.ended`, ...)."""


@dataclass(frozen=True, slots=True)
class Received:
    psap: str | None = None
    area: str | None = None  # the agency's own area code of the location


@dataclass(frozen=True, slots=True)
class Transferred:
    to: str | None = None


@dataclass(frozen=True, slots=True)
class Nature:
    code: str | None = None
    text: str | None = None


@dataclass(frozen=True, slots=True)
class Answer:
    """`triage.conscious` / `triage.breathing`; `confirmed` and `agonal` describe breathing."""

    answer: str | None = None
    confirmed: bool = False
    agonal: bool = False


@dataclass(frozen=True, slots=True)
class TcprStarted:
    variant: str | None = None
    language: str | None = None
    protocol: str | None = None


@dataclass(frozen=True, slots=True)
class NotGiven:
    reason: str | None = None
    note: str | None = None


@dataclass(frozen=True, slots=True)
class Unit:
    """`unit.dispatched` / `unit.on_scene`."""

    unit: str | None = None


@dataclass(frozen=True, slots=True)
class EmsOutcome:
    """The outcome fields the core reads; the rest (NEMSIS extras) stays in the event's data."""

    ohca: bool | None = None
    resuscitation_attempted: bool | None = None
    ems_witnessed: bool | None = None
    rosc: bool | None = None
    survived: bool | None = None


@dataclass(frozen=True, slots=True)
class Review:
    """A reviewer's whole determination (`qi.review`); `corrections` maps a kind to its time
    as the reviewer wrote it."""

    recognizable: bool | None = None
    nonrecognition_reasons: tuple[str, ...] = ()
    delay_reasons: tuple[str, ...] = ()
    corrections: Mapping[str, object] = field(default_factory=lambda: _NO_CORRECTIONS)
    notes: str | None = None
    feedback: str | None = None
    signed_off: bool = False
    exclusion_valid: bool | None = None


@dataclass(frozen=True, slots=True)
class FeedbackAcknowledged:
    """The telecommunicator read the review whose event id is `review`."""

    review: str | None = None


@dataclass(frozen=True, slots=True)
class AlertRaised:
    alert: str | None = None


Payload: TypeAlias = (
    NoPayload
    | Received
    | Transferred
    | Nature
    | Answer
    | TcprStarted
    | NotGiven
    | Unit
    | EmsOutcome
    | Review
    | FeedbackAcknowledged
    | AlertRaised
)


def review(data: Mapping[str, Any]) -> Review:
    corrections = data.get("corrections")
    return Review(
        recognizable=_bool(data, "recognizable"),
        nonrecognition_reasons=_strings(data.get("nonrecognition_reasons")),
        delay_reasons=_strings(data.get("delay_reasons")),
        corrections=(
            MappingProxyType(dict(corrections))
            if isinstance(corrections, Mapping)
            else _NO_CORRECTIONS
        ),
        notes=_text(_str(data, "notes")),
        feedback=_text(_str(data, "feedback")),
        signed_off=data.get("signed_off") is True,
        exclusion_valid=_bool(data, "exclusion_valid"),
    )


def decode(kind: str, data: Mapping[str, Any]) -> Payload:
    """The typed payload of an event of `kind` carrying `data`."""
    match kind:
        case Kind.CALL_RECEIVED:
            return Received(psap=_str(data, "psap"), area=_str(data, "area"))
        case Kind.CALL_TRANSFERRED:
            return Transferred(to=_str(data, "to"))
        case Kind.CALL_NATURE:
            return Nature(code=_str(data, "code"), text=_str(data, "text"))
        case Kind.TRIAGE_CONSCIOUS | Kind.TRIAGE_BREATHING:
            return Answer(
                answer=_str(data, "answer"),
                confirmed=data.get("confirmed") is True,
                agonal=data.get("agonal") is True,
            )
        case Kind.TCPR_STARTED:
            return TcprStarted(
                variant=_str(data, "variant"),
                language=_str(data, "language"),
                protocol=_str(data, "protocol"),
            )
        case Kind.TCPR_NOT_GIVEN:
            return NotGiven(reason=_str(data, "reason"), note=_str(data, "note"))
        case Kind.UNIT_DISPATCHED | Kind.UNIT_ON_SCENE:
            return Unit(unit=_str(data, "unit"))
        case Kind.EMS_OUTCOME:
            return EmsOutcome(
                ohca=_bool(data, "ohca"),
                resuscitation_attempted=_bool(data, "resuscitation_attempted"),
                ems_witnessed=_bool(data, "ems_witnessed"),
                rosc=_bool(data, "rosc"),
                survived=_bool(data, "survived"),
            )
        case Kind.QI_REVIEW:
            return review(data)
        case Kind.FEEDBACK_ACKNOWLEDGED:
            return FeedbackAcknowledged(review=_str(data, "review"))
        case Kind.ALERT_RAISED:
            return AlertRaised(alert=_str(data, "alert"))
    return NoPayload()
