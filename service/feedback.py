"""The reviews in force of a telecommunicator's own calls, as `GET /api/v1/feedback` gives them
(DESIGN.md §8): each reviewed call's times against the benchmarks, the reviewer's feedback, the
EMS outcome and whether the telecommunicator acknowledged reading it."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from contract.event import Event, iso
from contract.kinds import Kind
from service.calls import call_states
from service.qi.audit import draft
from service.serialise import benchmarks_json
from service.settings import Settings
from service.store.event_reads import events_of_calls
from service.store.own_calls import own_call_ids
from service.store.tokens import Principal
from service.triage.call_state import CallState

# The outcome fields a telecommunicator is told (return of circulation, survival).
OUTCOME_FIELDS = ("ohca", "rosc", "survived")


def _review_in_force(state: CallState) -> Event | None:
    """The latest `qi.review` by `at` (then arrival): the fold's events are in that order."""
    reviews = [e for e in state.events if e.kind == Kind.QI_REVIEW]
    return reviews[-1] if reviews else None


def feedback_item(
    state: CallState, review: Event, settings: Settings, readers: Iterable[str]
) -> dict[str, Any]:
    """One reviewed call as the feedback list gives it; `review` is its review in force,
    acknowledged when one of `readers` (the reader's actor names) acknowledged it."""
    assert state.review_in_force is not None
    d = draft(state, settings.agency_config(state.agency).profile)
    outcome = state.ems_outcome
    return {
        "agency": state.agency,
        "call_id": state.call_id,
        "training": settings.is_training(state.agency),
        "t0": iso(d.t0),
        "benchmark_profile": d.profile.name,
        "intervals": dict(d.intervals),
        "benchmarks": benchmarks_json(d.benchmarks),
        # What "met" was judged against, so the panel draws the call against its own profile.
        "thresholds": {
            "recognition_s": d.profile.recognition_s,
            "first_compression_s": d.profile.first_compression_s,
        },
        "recognized": d.recognized,
        "feedback": state.review_in_force.feedback,
        "signed_off": state.review_in_force.signed_off,
        "review": review.event_id,
        "reviewed_at": iso(review.at),
        "ems_outcome": (
            None if outcome is None else {k: outcome[k] for k in OUTCOME_FIELDS if k in outcome}
        ),
        "acknowledged": _acknowledged_by(state, review.event_id, set(readers)),
    }


def _acknowledged_by(state: CallState, review_id: str, readers: set[str]) -> bool:
    """Whether one of `readers` acknowledged the review: a colleague's acknowledgement of the
    same call (who also handled it) is theirs, not the reader's."""
    return any(
        e.kind == Kind.FEEDBACK_ACKNOWLEDGED
        and e.actor in readers
        and e.data.get("review") == review_id
        for e in state.events
    )


async def own_feedback(
    sessions: async_sessionmaker[AsyncSession],
    settings: Settings,
    principal: Principal,
    agencies: Iterable[str],
) -> list[dict[str, Any]]:
    """The reviews in force of the principal's own calls in `agencies`, newest review first."""
    mine = principal.names
    owned = await own_call_ids(sessions, agencies, mine)
    items: list[tuple[datetime, dict[str, Any]]] = []
    for agency, call_ids in owned.items():
        async with sessions() as session:
            calls = await events_of_calls(session, agency, call_ids)
        for state in call_states(settings, agency, calls.items()):
            review = _review_in_force(state)
            if review is not None and state.review_in_force is not None:
                items.append((review.at, feedback_item(state, review, settings, mine)))
    items.sort(key=lambda pair: (pair[0], pair[1]["agency"], pair[1]["call_id"]), reverse=True)
    return [item for _, item in items]
