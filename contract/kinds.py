"""The event kinds of DESIGN.md §2 and the closed vocabularies their fields draw on."""

from __future__ import annotations

from enum import StrEnum
from typing import Final


class Kind(StrEnum):
    """An event kind; each value is the contract's string, as stored and sent."""

    CALL_RECEIVED = "call.received"
    CALL_TRANSFERRED = "call.transferred"
    CALL_ANSWERED = "call.answered"
    CALL_NATURE = "call.nature"
    TRIAGE_CONSCIOUS = "triage.conscious"
    TRIAGE_BREATHING = "triage.breathing"
    OHCA_RECOGNIZED = "ohca.recognized"
    TCPR_STARTED = "tcpr.started"
    TCPR_FIRST_COMPRESSION = "tcpr.first_compression"
    TCPR_NOT_GIVEN = "tcpr.not_given"
    UNIT_DISPATCHED = "unit.dispatched"
    UNIT_ON_SCENE = "unit.on_scene"
    CALL_ENDED = "call.ended"
    EMS_OUTCOME = "ems.outcome"
    QI_REVIEW = "qi.review"
    FEEDBACK_ACKNOWLEDGED = "feedback.acknowledged"
    ALERT_RAISED = "alert.raised"


# Every kind's string, in the contract's order (the wire's enum and its refusals list them).
KINDS: Final[tuple[str, ...]] = tuple(kind.value for kind in Kind)
# What a telecommunicator's console emits (DESIGN.md §8, role `telecommunicator`).
CONSOLE_KINDS: Final = frozenset(
    {
        Kind.TRIAGE_CONSCIOUS,
        Kind.TRIAGE_BREATHING,
        Kind.OHCA_RECOGNIZED,
        Kind.TCPR_STARTED,
        Kind.TCPR_FIRST_COMPRESSION,
        Kind.TCPR_NOT_GIVEN,
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
