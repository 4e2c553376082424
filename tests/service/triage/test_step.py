"""`step` continues from the state it is given, and lands exactly where folding every event again
would (DESIGN.md §2): whatever the arrival order, late out-of-order events, repeated deliveries,
reviews with corrections, or a change of the agency's configuration between two events."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from support.strategies import AGENCY, ANSWER, BOOL, CODES, SETTINGS, TZS
from support.strategies import KINDS as BASE_KINDS
from support.timeline import Timeline

from contract.event import Event, chronological
from contract.kinds import ALERTS, NOT_GIVEN_REASONS
from service.qi.audit import draft
from service.serialise import audit_json, call_view_json
from service.triage import state as state_module
from service.triage.call_state import CallState
from service.triage.profiles import AHA_2020, DEFAULT_CONFIG, RA_LEGACY, AgencyConfig
from service.triage.state import fold, step
from service.triage.view import call_view

CALL = "C1"
ACTOR = st.sampled_from((None, "tc1", "tc2"))
# The default, an equal copy of it (not the same object), and one that changes what the fold
# decides: medical calls only, and a narrower arrest code.
CONFIGS = (
    DEFAULT_CONFIG,
    AgencyConfig(),
    AgencyConfig(profile=RA_LEGACY, alert_scope="medical", arrest_nature_patterns=(r"^0?9-?E",)),
)
# Reviews twice as often: they are what a late refold has to get right.
KINDS = (*BASE_KINDS, "qi.review")
CORRECTED = ("call.received", "ohca.recognized", "tcpr.first_compression", "unit.on_scene")


@st.composite
def calls(draw: st.DrawFn) -> list[Event]:
    """One call's events: distinct ids, times on a coarse grid in mixed offsets (so same-instant
    ties happen and arrival decides), reviews that correct times."""
    ref = draw(st.datetimes(min_value=datetime(2020, 1, 1), max_value=datetime(2030, 1, 1)))
    tl = Timeline(ref=ref.replace(tzinfo=UTC), call_id=CALL, agency=AGENCY)
    slots = draw(st.sampled_from((1, 3, 12, 30)))

    def when() -> float:
        return draw(st.integers(0, slots)) * 10 + draw(st.sampled_from((0, 0, 0.25)))

    def add(kind: str, data: dict[str, Any], source: str = "cad") -> Event:
        tz = draw(st.sampled_from(TZS))
        return tl.add(kind, when(), tz=tz, data=data, actor=draw(ACTOR), source=source)

    size = draw(st.sampled_from((0, 8, 16)))  # the smallest call now and then, longer ones too
    for kind in draw(st.lists(st.sampled_from(KINDS), min_size=size, max_size=size + 16)):
        match kind:
            case "call.received":
                add(kind, {"psap": draw(st.sampled_from(("PSAP-A", "PSAP-B"))), "area": "N"})
            case "call.transferred":
                add(kind, {"to": draw(st.sampled_from(("EMS", "FIRE")))})
            case "call.nature":
                add(kind, {"code": draw(CODES), "text": "nature"})
            case "triage.conscious":
                add(kind, {"answer": draw(ANSWER)}, "console")
            case "triage.breathing":
                data = {"answer": draw(ANSWER), "confirmed": draw(BOOL), "agonal": draw(BOOL)}
                add(kind, data, "console")
            case "tcpr.started":
                add(kind, {"variant": draw(st.sampled_from(("adult", "child"))), "language": "en"})
            case "tcpr.not_given":
                add(kind, {"reason": draw(st.sampled_from(NOT_GIVEN_REASONS))}, "console")
            case "unit.dispatched" | "unit.on_scene":
                add(kind, {"unit": draw(st.sampled_from(("M1", "M2", "E3")))})
            case "ems.outcome":
                add(kind, {"ohca": draw(BOOL), "resuscitation_attempted": draw(BOOL)}, "ems")
            case "alert.raised":
                add(kind, {"alert": draw(st.sampled_from(ALERTS))}, "system")
            case "qi.review":
                corrections = {
                    k: tl.t(when(), draw(st.sampled_from(TZS))).isoformat()
                    for k in CORRECTED
                    if draw(st.integers(0, 2)) == 0
                }
                review = {"recognizable": draw(BOOL), "corrections": corrections}
                add(kind, review, "qi")
            case _:
                add(kind, {})
    return tl.events


@st.composite
def deliveries(draw: st.DrawFn) -> tuple[list[Event], list[Event]]:
    """A call's events, and the order `step` gets them in: any order, with repeated deliveries
    (the same event again, with its own or another arrival, before or after the original). Arrival
    numbers are either the feed's own (ties included) or the store's sequence, in delivery order."""
    events = draw(calls())
    if events and draw(BOOL):
        repeats = draw(st.lists(st.sampled_from(events), min_size=1, max_size=6))
        last = max(e.arrival for e in events)
        pick = st.sampled_from((0, 1, last + 1))
        events = events + [replace(e, arrival=max(0, e.arrival - 1 + draw(pick))) for e in repeats]
    if draw(BOOL):  # mostly in chronological order, a few late
        delivered = chronological(events)
        for _ in range(draw(st.integers(0, 3))):
            if len(delivered) > 1:
                i = draw(st.integers(0, len(delivered) - 1))
                delivered.insert(draw(st.integers(i, len(delivered) - 1)), delivered.pop(i))
    else:
        delivered = draw(st.permutations(events))
    if draw(BOOL):
        delivered = [replace(e, arrival=n) for n, e in enumerate(delivered, 1)]
    return events, delivered


def _same(stepped: CallState, folded: CallState, config: AgencyConfig) -> None:
    assert stepped == folded
    assert call_view_json(call_view(stepped, config)) == call_view_json(call_view(folded, config))
    for profile in (AHA_2020, RA_LEGACY):
        assert audit_json(draft(stepped, profile)) == audit_json(draft(folded, profile))


@SETTINGS
@given(st.data())
def test_stepping_one_event_at_a_time_equals_folding_them_all(data: st.DataObject) -> None:
    _, delivered = data.draw(deliveries())
    config = data.draw(st.sampled_from(CONFIGS))
    # From a folded empty call, or from a state built by hand (which has nothing to go on from,
    # and whose defaults are not an empty call's under every configuration).
    hand_built = bool(delivered) and data.draw(BOOL)
    state = CallState(AGENCY, CALL) if hand_built else fold(AGENCY, CALL, [], config)
    states = [state]  # the start, then each state as stepped
    for n, e in enumerate(delivered, 1):
        state = step(state, e, config)
        assert state == fold(AGENCY, CALL, delivered[:n], config)
        states.append(state)
    _same(state, fold(AGENCY, CALL, delivered, config), config)
    # Every state stays what it was once stepped from, and steps again from there.
    for n, before in enumerate(states[:-1]):
        e = data.draw(st.sampled_from(delivered))
        assert step(before, e, config) == fold(AGENCY, CALL, [*delivered[:n], e], config)
        assert before == (states[0] if n == 0 else fold(AGENCY, CALL, delivered[:n], config))


@SETTINGS
@given(st.data())
def test_a_configuration_change_between_events_is_the_new_one_over_every_event(
    data: st.DataObject,
) -> None:
    _, delivered = data.draw(deliveries())
    state = fold(AGENCY, CALL, [], DEFAULT_CONFIG)
    config = DEFAULT_CONFIG
    for n, e in enumerate(delivered, 1):
        config = data.draw(st.sampled_from(CONFIGS))
        state = step(state, e, config)
        assert state == fold(AGENCY, CALL, delivered[:n], config)
    _same(state, fold(AGENCY, CALL, delivered, config), config)


def _fifty_in_order(tl: Timeline) -> list[Event]:
    tl.received(0)
    tl.answered(4)
    tl.nature(6, "09-C-01")
    tl.conscious(10, "no")
    tl.breathing(15, "yes")
    for i in range(37):
        tl.dispatched(20 + i, unit=f"M{i % 4}")
    tl.breathing(60, "no")
    tl.tcpr_started(62)
    tl.first_compression(70)
    tl.on_scene(80)
    tl.alert(81, "compressions_overdue")
    tl.outcome(85)
    tl.review(90, recognizable=True, corrections={"ohca.recognized": tl.t(58).isoformat()})
    tl.ended(95)
    assert len(tl.events) == 50
    return tl.events


def _counting_folds(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """`fold` as `step` calls it, counting the calls."""
    folds: list[int] = []

    def counted(*args: Any, **kwargs: Any) -> CallState:
        folds.append(1)
        return fold(*args, **kwargs)

    monkeypatch.setattr(state_module, "fold", counted)
    return folds


def test_events_in_order_are_added_without_folding_the_call_again(
    tl: Timeline, monkeypatch: pytest.MonkeyPatch
) -> None:
    events = _fifty_in_order(tl)
    expected = fold(AGENCY, CALL, events)
    state = fold(AGENCY, CALL, [])
    folds = _counting_folds(monkeypatch)
    for e in events:
        state = step(state, e)
    assert folds == []
    _same(state, expected, DEFAULT_CONFIG)


def test_a_late_event_or_a_repeat_folds_the_call_again(
    tl: Timeline, monkeypatch: pytest.MonkeyPatch
) -> None:
    events = _fifty_in_order(tl)
    state = fold(AGENCY, CALL, events[:20] + events[30:40])
    late = events[25]  # a dispatch from before the latest event so far
    earlier = replace(events[10], arrival=0)  # a repeat that sorts before the copy it repeats
    later = replace(events[5], arrival=99)  # and one that sorts after it
    folds = _counting_folds(monkeypatch)
    for e in (late, earlier, later):
        state = step(state, e)
    assert folds == [1, 1, 1]
    state = step(state, events[40])  # in order again: goes on from the refolded state
    assert folds == [1, 1, 1]
    assert state.events[10] is earlier
    kept = [*events[:20], *events[30:41], late, earlier]
    assert state == fold(AGENCY, CALL, [*kept, later])
    assert state == fold(AGENCY, CALL, kept)
