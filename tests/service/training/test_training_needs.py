"""Training needs (service/training/needs.py): reviewed reasons → the scenarios to practise,
most frequent first, then most recent, each with the reasons behind it."""

from __future__ import annotations

from datetime import UTC, datetime

from service.training.needs import SCENARIO_FOR, SCENARIOS, ReviewedCall, training_needs


def on(day: int) -> datetime:
    return datetime(2026, 2, day, 10, tzinfo=UTC)


def test_every_seeded_reason_suggests_a_real_scenario() -> None:
    seeded = {
        "agonal_breathing_reported_as_breathing", "signs_of_life_reported",
        "seizure_like_activity", "caller_not_with_patient", "language_barrier",
        "protocol_deviation", "unnecessary_questions", "address_verification", "call_transfer",
        "moving_patient_to_floor", "caller_distress", "speakerphone_problem",
    }  # fmt: skip
    assert set(SCENARIO_FOR) == seeded
    assert set(SCENARIO_FOR.values()) <= set(SCENARIOS)
    assert SCENARIO_FOR["agonal_breathing_reported_as_breathing"] == "agonal_breathing"
    assert SCENARIO_FOR["caller_not_with_patient"] == "caller_alone"
    assert SCENARIO_FOR["speakerphone_problem"] == "caller_alone"
    assert SCENARIO_FOR["call_transfer"] == "transfer"
    assert SCENARIO_FOR["language_barrier"] == "spanish_caller"
    assert SCENARIO_FOR["caller_distress"] == "caller_refuses"


def test_ranked_by_how_often_then_how_recent_with_their_reasons() -> None:
    calls = [
        ReviewedCall("C1", on(1), ("agonal_breathing_reported_as_breathing",), ("call_transfer",)),
        ReviewedCall("C2", on(3), ("signs_of_life_reported",), ()),
        ReviewedCall("C3", on(5), (), ("call_transfer",)),
        ReviewedCall("C4", on(9), ("language_barrier",), ("language_barrier", "team_handoff")),
        ReviewedCall("C5", on(2), (), ()),
    ]
    needs = training_needs(calls)
    assert needs.reviewed_calls == 5
    ranked = [(s.scenario, s.count, s.last_at) for s in needs.suggestions]
    # agonal_breathing 2 (latest 3 Feb), transfer 2 (latest 5 Feb: more recent, so first),
    # spanish_caller 2 (latest 9 Feb: most recent of the twos) — all twos, by recency.
    assert ranked == [
        ("spanish_caller", 2, on(9)),
        ("transfer", 2, on(5)),
        ("agonal_breathing", 2, on(3)),
    ]
    agonal = needs.suggestions[2]
    assert [(r.code, r.kind, r.count, r.calls) for r in agonal.reasons] == [
        ("signs_of_life_reported", "nonrecognition", 1, ("C2",)),
        ("agonal_breathing_reported_as_breathing", "nonrecognition", 1, ("C1",)),
    ]
    spanish = needs.suggestions[0]
    assert {(r.code, r.kind) for r in spanish.reasons} == {
        ("language_barrier", "nonrecognition"),
        ("language_barrier", "delay"),
    }
    # An agency's own code maps to no scenario: kept apart for the supervisor to read.
    assert [(r.code, r.kind, r.calls) for r in needs.unmapped] == [
        ("team_handoff", "delay", ("C4",))
    ]


def test_the_most_frequent_comes_first_whatever_its_age() -> None:
    calls = [
        ReviewedCall("C1", on(1), (), ("unnecessary_questions",)),
        ReviewedCall("C2", on(2), (), ("address_verification",)),
        ReviewedCall("C3", on(20), (), ("caller_distress",)),
    ]
    assert [(s.scenario, s.count) for s in training_needs(calls).suggestions] == [
        ("classic_arrest", 2),
        ("caller_refuses", 1),
    ]


def test_no_reviewed_calls_no_suggestions() -> None:
    needs = training_needs([])
    assert (needs.reviewed_calls, needs.suggestions, needs.unmapped) == (0, (), ())
