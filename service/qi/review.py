"""The QI reviewer's determination (DESIGN.md §2 `qi.review`, §5), pure.

A review is one `qi.review` event; the latest by `at` is the one in force and replaces earlier ones
as a whole, so a "save draft" and the later "sign off" are two complete determinations. The
reviewer is the event's `actor`.

Which reasons a list may hold is the contract's (`contract.reasons`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from contract import payloads
from contract.event import Event
from contract.kinds import Kind
from contract.payloads import Review
from service.triage.call_state import CallState


@dataclass(frozen=True, slots=True)
class Determination:
    """The review in force as the audit shows it, empty before anyone has reviewed the call."""

    recognizable: bool | None
    nonrecognition_reasons: tuple[str, ...]
    delay_reasons: tuple[str, ...]
    notes: str | None
    feedback: str | None
    signed_off: bool
    exclusion_valid: bool | None
    reviewer: str | None
    reviewed_at: datetime | None


def in_force(state: CallState) -> Event | None:
    """The `qi.review` event whose determination is in force: the latest by `at`, then arrival
    (the state's events are already in that order and free of repeated deliveries)."""
    return next((e for e in reversed(state.events) if e.kind == Kind.QI_REVIEW), None)


def judged(review: Mapping[str, Any] | None) -> Review:
    """What the review in force decides, read from its data alone (no event scan: the write
    path's projection reads it for every stored event)."""
    return payloads.review(review or {})


def determination(state: CallState) -> Determination:
    """The determination in force, with empty fields when no one has reviewed the call yet."""
    event = in_force(state)
    review = state.review_in_force or Review()
    return Determination(
        recognizable=review.recognizable,
        nonrecognition_reasons=review.nonrecognition_reasons,
        delay_reasons=review.delay_reasons,
        notes=review.notes,
        feedback=review.feedback,
        signed_off=review.signed_off,
        exclusion_valid=state.exclusion_valid,
        reviewer=event.actor if event is not None else None,
        reviewed_at=event.at if event is not None else None,
    )
