"""The training scenarios (issue 19): the fixed ids, CAD timelines a CAD could send, caller lines
for every point of the script, and records that play the timeline at a chosen speed."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from cad_adapters.simulator import CAD_KINDS
from contract.wire import CanonicalEvent
from service.training.scenarios import (
    POINTS,
    POINTS_BY_PHASE,
    SCENARIO_IDS,
    SCENARIOS,
    cad_records,
    call_id_of,
    scenario_named,
)
from service.triage.call_state import phase
from service.triage.profiles import AHA_2020, AgencyConfig
from service.triage.state import fold

START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
TRAINING = AgencyConfig(training=True)


def test_the_ids_other_parts_rely_on() -> None:
    assert SCENARIO_IDS == (
        "classic_arrest",
        "agonal_breathing",
        "caller_refuses",
        "transfer",
        "infant",
        "caller_alone",
        "spanish_caller",
    )
    with pytest.raises(ValueError, match="unknown scenario 'drowning'"):
        scenario_named("drowning")


@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda s: s.id)
def test_each_timeline_is_a_cad_call(scenario) -> None:  # type: ignore[no-untyped-def]
    records = cad_records(
        scenario, agency="KCE-TRAIN", call_id="TRN-1-1", trainee="tc", start=START
    )
    events = [CanonicalEvent.model_validate(r).to_event() for r in records]
    assert {e.kind for e in events} <= CAD_KINDS  # the console events are the trainee's
    assert all(e.source == "cad" for e in events)
    kinds = [e.kind for e in events]
    assert kinds[0] == "call.received" and events[0].at == START  # T0 is the start
    assert kinds[-1] == "call.ended"
    assert kinds.index("call.answered") < kinds.index("unit.on_scene")
    (answered,) = [e for e in events if e.kind == "call.answered"]
    assert answered.actor == "tc"
    on_scene = next(e.at for e in events if e.kind == "unit.on_scene")
    assert on_scene - START >= timedelta(minutes=5)  # EMS comes minutes later, as on the floor
    # No arrest code before the recognition benchmark: a code never recognises for the trainee.
    for e in events:
        if e.kind == "call.nature" and TRAINING.is_arrest_nature(e.data["code"]):
            assert (e.at - START).total_seconds() >= AHA_2020.recognition_s
    state = fold("KCE-TRAIN", "TRN-1-1", events, TRAINING)
    assert state.t0 == START and state.ended_at is not None
    # Untouched by a trainee, a call is recognised late (by its code) or never: a miss.
    late = state.recognized_at is None or state.recognized_at - START >= timedelta(seconds=90)
    assert late and state.recognition_path in (None, "nature_code")
    assert len({r["event_id"] for r in records}) == len(records)


def test_a_transfer_runs_the_clock_before_the_trainee_answers() -> None:
    records = cad_records(
        scenario_named("transfer"), agency="T", call_id="X", trainee="tc", start=START
    )
    times = {r["kind"]: datetime.fromisoformat(r["at"]) for r in records}
    assert times["call.received"] < times["call.transferred"] < times["call.answered"]
    assert (times["call.answered"] - START).total_seconds() > 30
    assert records[0]["data"]["psap"] != "TRAINING-PSAP"


@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda s: s.id)
def test_the_caller_has_a_line_for_every_point(scenario) -> None:  # type: ignore[no-untyped-def]
    assert set(scenario.lines) == set(POINTS)
    assert all(scenario.lines[p] and all(line.text for line in scenario.lines[p]) for p in POINTS)
    spanish = scenario.expect.language == "es"
    for lines in scenario.lines.values():
        for line in lines:
            # A caller in another language comes with an English gloss for the trainer.
            assert (line.gloss is not None) == (spanish and not line.text.startswith("("))
    assert scenario.title and scenario.brief and len(scenario.brief) < 100


def test_the_lines_follow_the_trainee_through_the_script() -> None:
    agonal = scenario_named("agonal_breathing")
    assert agonal.lines_at("ask_conscious", answered=False) == agonal.lines["ringing"]
    now = agonal.lines_at("ask_conscious", answered=True)
    assert now == agonal.lines["opening"] + agonal.lines["conscious"]
    assert "snoring" in agonal.lines_at("ask_breathing", answered=True)[0].text
    assert "gasp" in agonal.lines_at("verify_breathing", answered=True)[0].text
    assert agonal.lines_at("ended", answered=True) == ()
    refuses = scenario_named("caller_refuses").lines_at("recognized", answered=True)
    assert "not touching him" in refuses[0].text
    # Every phase the panel can be in has its lines.
    phases = ("ask_conscious", "ask_breathing", "verify_breathing", "ruled_out", "recognized",
              "tcpr_instructions", "compressions", "tcpr_not_given", "ended", "triage")  # fmt: skip
    assert set(phases) == set(POINTS_BY_PHASE)


def test_the_phases_named_are_the_cores() -> None:
    records = cad_records(scenario_named("classic_arrest"), agency="T", call_id="X", trainee="t",
                          start=START)  # fmt: skip
    events = [CanonicalEvent.model_validate(r).to_event() for r in records[:2]]
    assert phase(fold("T", "X", events, TRAINING)) in POINTS_BY_PHASE


def test_speed_plays_the_same_timeline_faster() -> None:
    scenario = scenario_named("classic_arrest")
    offset = timezone(timedelta(hours=-5))
    start = START.astimezone(offset)
    real = cad_records(scenario, agency="T", call_id="X", trainee="t", start=start)
    fast = cad_records(scenario, agency="T", call_id="X", trainee="t", start=start, speed=30)
    assert [r["event_id"] for r in real] == [r["event_id"] for r in fast]
    for slow, quick in zip(real, fast, strict=True):
        gap = datetime.fromisoformat(slow["at"]) - start
        assert datetime.fromisoformat(quick["at"]) - start == gap / 30
        assert quick["at"].endswith("-05:00")
    assert real == cad_records(scenario, agency="T", call_id="X", trainee="t", start=start)
    with pytest.raises(ValueError):
        cad_records(scenario, agency="T", call_id="X", trainee="t", start=start, speed=0)
    with pytest.raises(ValueError):
        cad_records(scenario, agency="T", call_id="X", trainee="t", start=datetime(2026, 1, 1))
    assert call_id_of(12, 3) == "TRN-12-3"
