"""The QI reviewer's determination (DESIGN.md §2 `qi.review`, §5), pure.

A review is one `qi.review` event; the latest by `at` is the one in force and replaces earlier ones
as a whole, so a "save draft" and the later "sign off" are two complete determinations. The
reviewer is the event's `actor`.

Reasons are coded so they can be counted across calls (the barrier studies' categories), and free
text stays beside them in the same list (DESIGN.md §5: "free text allowed beside them"; the
contract types both lists as strings). The review form writes free text as `other: <text>`; any
other string that is not a code is kept too, as free text, because an agency's own codes and an
API client's wording must not be refused. Only blank or over-long entries are refused.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from service.triage import events as k
from service.triage.events import Event, iso
from service.triage.state import CallState

FREE_TEXT_PREFIX: Final = "other:"
FREE_TEXT_MAX: Final = 500


def reason_problem(reason: str) -> str | None:
    """Why `reason` cannot stand in a list of reasons, or None when it can."""
    text = reason.removeprefix(FREE_TEXT_PREFIX).strip()
    if not text:
        return f"{reason!r}: a reason must not be blank"
    if len(text) > FREE_TEXT_MAX:
        return f"free text is over {FREE_TEXT_MAX} characters"
    return None


def in_force(state: CallState) -> Event | None:
    """The `qi.review` event whose determination is in force: the latest by `at`, then arrival
    (the state's events are already in that order and free of repeated deliveries)."""
    return next((e for e in reversed(state.events) if e.kind == k.QI_REVIEW), None)


def _strings(value: object) -> list[str]:
    return [v for v in value if isinstance(v, str)] if isinstance(value, list) else []


def _text(value: object) -> str | None:
    return value if isinstance(value, str) and value.strip() else None


def judged(review: Mapping[str, Any] | None) -> dict[str, Any]:
    """What the review in force decides, read from its data alone (no event scan: the write
    path's projection reads it for every stored event)."""
    review = review or {}
    recognizable = review.get("recognizable")
    return {
        "recognizable": recognizable if isinstance(recognizable, bool) else None,
        "nonrecognition_reasons": _strings(review.get("nonrecognition_reasons")),
        "delay_reasons": _strings(review.get("delay_reasons")),
        "notes": _text(review.get("notes")),
        "feedback": _text(review.get("feedback")),
        "signed_off": review.get("signed_off") is True,
    }


def determination(state: CallState) -> dict[str, Any]:
    """The determination in force, with empty fields when no one has reviewed the call yet."""
    event = in_force(state)
    return {
        **judged(state.review),
        "exclusion_valid": state.exclusion_valid,
        "reviewer": event.actor if event is not None else None,
        "reviewed_at": iso(event.at) if event is not None else None,
    }
