"""The QI reviewer's determination (DESIGN.md §2 `qi.review`, §5), pure.

A review is one `qi.review` event; the latest by `at` is the one in force and replaces earlier ones
as a whole, so a "save draft" and the later "sign off" are two complete determinations. The
reviewer is the event's `actor`.

Which reasons a list may hold is the contract's (`contract.reasons`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from contract import payloads
from contract.event import Event, iso
from contract.kinds import Kind
from contract.payloads import Review
from service.triage.state import CallState


def in_force(state: CallState) -> Event | None:
    """The `qi.review` event whose determination is in force: the latest by `at`, then arrival
    (the state's events are already in that order and free of repeated deliveries)."""
    return next((e for e in reversed(state.events) if e.kind == Kind.QI_REVIEW), None)


def judged(review: Mapping[str, Any] | None) -> dict[str, Any]:
    """What the review in force decides, read from its data alone (no event scan: the write
    path's projection reads it for every stored event)."""
    return _decided(payloads.review(review or {}))


def _decided(review: Review) -> dict[str, Any]:
    return {
        "recognizable": review.recognizable,
        "nonrecognition_reasons": list(review.nonrecognition_reasons),
        "delay_reasons": list(review.delay_reasons),
        "notes": review.notes,
        "feedback": review.feedback,
        "signed_off": review.signed_off,
    }


def determination(state: CallState) -> dict[str, Any]:
    """The determination in force, with empty fields when no one has reviewed the call yet."""
    event = in_force(state)
    return {
        **_decided(state.review_in_force or Review()),
        "exclusion_valid": state.exclusion_valid,
        "reviewer": event.actor if event is not None else None,
        "reviewed_at": iso(event.at) if event is not None else None,
    }
