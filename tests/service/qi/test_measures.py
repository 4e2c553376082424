"""DESIGN.md §5: the AHA T-CPR measures over a period's calls, expected values by hand."""

from __future__ import annotations

import pytest
from support.timeline import CEST, IST, Timeline, population_call

from service.qi.measures import measures, percent, summarize
from service.triage.profiles import AHA_2020, RA_LEGACY


def run(timelines: list[Timeline], profile=AHA_2020) -> dict:
    return measures([summarize(t.fold()) for t in timelines], profile)


def reversed_outcomes(call_id: str, *, first: dict, latest: dict, recognized_s=None) -> Timeline:
    """Two ems.outcome events; the one with the later `at` is appended (and arrives) first."""
    tl = Timeline(call_id=call_id)
    tl.received(0)
    if recognized_s is not None:
        tl.recognized(recognized_s)
    tl.add("ems.outcome", 7200, tz=CEST, data=latest, source="ems")
    tl.add("ems.outcome", 3600, tz=IST, data=first, source="ems")
    return tl


POP = {"ohca": True, "resuscitation_attempted": True, "ems_witnessed": False}
NOT_ARREST = {"ohca": False, "resuscitation_attempted": False, "ems_witnessed": False}


@pytest.fixture
def period() -> list[Timeline]:
    return [
        # population
        population_call("P1", to_recognition=60, to_first_compression=120),
        population_call("P2", to_recognition=80, to_first_compression=200),
        population_call("P3", to_recognition=100),
        population_call("P4", to_recognition=50, not_given="cpr_in_progress"),
        population_call("P5", review={"recognizable": False}),
        population_call("P6", review={"recognizable": True}),
        population_call("P7"),
        reversed_outcomes("P8", first=NOT_ARREST, latest=POP, recognized_s=70),
        # outside the population
        population_call("N1", to_recognition=40, outcome={"ohca": False, "attempted": False}),
        population_call(
            "N2", to_recognition=30, to_first_compression=90, outcome={"witnessed": True}
        ),
        _no_outcome("N3", recognized_s=20),
        population_call("N4", to_recognition=35, outcome={"attempted": False}),
        reversed_outcomes("N5", first=POP, latest=NOT_ARREST, recognized_s=45),
    ]


def _no_outcome(call_id: str, recognized_s: float) -> Timeline:
    tl = Timeline(call_id=call_id)
    tl.received(0)
    tl.recognized(recognized_s)
    return tl


def test_population_uses_latest_ems_outcome_by_at():
    p8 = summarize(reversed_outcomes("P8", first=NOT_ARREST, latest=POP).fold())
    n5 = summarize(reversed_outcomes("N5", first=POP, latest=NOT_ARREST).fold())
    assert p8.in_population is True
    assert n5.in_population is False
    assert n5.ems_says_not_arrest is True


@pytest.mark.parametrize(
    ("outcome", "in_population"),
    [
        ({}, True),
        ({"witnessed": True}, False),
        ({"attempted": False}, False),
        ({"ohca": False}, False),
    ],
)
def test_population_rule(outcome, in_population):
    s = summarize(population_call("X", to_recognition=30, outcome=outcome).fold())
    assert s.in_population is in_population


def test_golden_period(period):
    m = run(period)
    assert m["benchmark_profile"] == "aha-2020"
    assert m["calls_in_period"] == 13
    assert m["population"] == 8
    # recognised in population: P1 P2 P3 P4 P8 -> 5 / 8 = 62.5
    assert m["recognition_rate"] == {
        "numerator": 5,
        "denominator": 8,
        "percent": 62.5,
        "goal": 75.0,
    }
    # less P5 (recognizable: false): 5 / 7 = 71.428... -> 71.4
    assert m["recognizable_recognition_rate"] == {
        "numerator": 5,
        "denominator": 7,
        "percent": 71.4,
        "goal": 95.0,
    }
    # recognised population less P4 (not given): P1 P2 P3 P8; first compression: P1 P2 -> 2/4
    # (P8 has none)
    assert m["tcpr_rate"] == {"numerator": 2, "denominator": 4, "percent": 50.0, "goal": 75.0}
    # to_recognition of P1 P2 P3 P4 P8: 60 80 100 50 70 -> sorted 50 60 70 80 100 -> 70
    assert m["median_seconds_to_recognition"] == {"value": 70.0, "n": 5, "benchmark": 90}
    # first compressions in population: P1 120, P2 200 -> (120 + 200) / 2 = 160
    assert m["median_seconds_to_first_compression"] == {"value": 160.0, "n": 2, "benchmark": 150}
    # P5 and P6 have reviews, but neither is signed off: drafts, not yet QI-reviewed.
    assert m["qi_reviewed"] == 0
    # over-triage: recognised and EMS says not arrest: N1, N5
    assert m["over_triage"] == 2
    assert m["tcpr_exclusions"] == {"cpr_in_progress": 1}
    assert m["outside_population"] == {
        "ems_witnessed": 1,
        "no_resuscitation_attempted": 1,
        "not_cardiac_arrest": 2,
    }
    assert m["without_ems_outcome"] == 1


def test_golden_period_under_ra_legacy(period):
    m = run(period, RA_LEGACY)
    assert m["benchmark_profile"] == "ra-legacy"
    assert m["median_seconds_to_recognition"]["benchmark"] == 120
    assert m["median_seconds_to_first_compression"]["benchmark"] == 180
    assert m["recognition_rate"]["percent"] == 62.5


def test_order_of_calls_does_not_matter(period):
    assert run(list(reversed(period))) == run(period)


@pytest.mark.parametrize(
    ("recognised", "population", "expected"),
    [
        (2, 3, 66.7),
        (1, 8, 12.5),
        (1, 16, 6.3),  # 6.25 rounds half up (half-even would give 6.2)
        (3, 16, 18.8),  # 18.75
        (1, 6, 16.7),
        (5, 6, 83.3),
        (0, 4, 0.0),
        (4, 4, 100.0),
    ],
)
def test_recognition_rate_percent_one_decimal_half_up(recognised, population, expected):
    calls = [
        population_call(f"P{i}", to_recognition=30 if i < recognised else None)
        for i in range(population)
    ]
    rate = run(calls)["recognition_rate"]
    assert (rate["numerator"], rate["denominator"]) == (recognised, population)
    assert rate["percent"] == expected


@pytest.mark.parametrize(
    ("n", "d", "expected"),
    [(2, 3, 66.7), (1, 8, 12.5), (1, 16, 6.3), (1, 80, 1.3), (1, 40, 2.5), (7, 7, 100.0)],
)
def test_percent(n, d, expected):
    assert percent(n, d) == expected


def test_percent_of_nothing_is_none():
    assert percent(0, 0) is None


def test_empty_period():
    m = measures([], AHA_2020)
    assert m["calls_in_period"] == 0
    assert m["population"] == 0
    for key, goal in (
        ("recognition_rate", 75.0),
        ("recognizable_recognition_rate", 95.0),
        ("tcpr_rate", 75.0),
    ):
        assert m[key] == {"numerator": 0, "denominator": 0, "percent": None, "goal": goal}
    assert m["median_seconds_to_recognition"] == {"value": None, "n": 0, "benchmark": 90}
    assert m["median_seconds_to_first_compression"] == {"value": None, "n": 0, "benchmark": 150}
    assert m["over_triage"] == 0


def test_null_percent_when_only_tcpr_denominator_is_empty():
    # recognised but every one has tcpr.not_given: tcpr denominator 0
    calls = [
        population_call("A", to_recognition=30, not_given="caller_refused"),
        population_call("B", to_recognition=40, not_given="cpr_in_progress"),
        population_call("C", to_recognition=50, not_given="cpr_in_progress"),
    ]
    m = run(calls)
    assert m["tcpr_rate"] == {"numerator": 0, "denominator": 0, "percent": None, "goal": 75.0}
    assert m["recognition_rate"]["percent"] == 100.0
    assert m["tcpr_exclusions"] == {"caller_refused": 1, "cpr_in_progress": 2}


def test_recognizable_rate_excludes_only_recognizable_false():
    calls = [
        population_call("A", to_recognition=30),
        population_call("B", review={"recognizable": False}),
        population_call("C", review={"recognizable": False}),
        population_call("D", review={"recognizable": True}),
        population_call("E", review={"notes": "no determination yet"}),
    ]
    m = run(calls)
    assert m["recognition_rate"] == {
        "numerator": 1,
        "denominator": 5,
        "percent": 20.0,
        "goal": 75.0,
    }
    # A D E remain; recognised: A -> 1/3 = 33.3
    assert m["recognizable_recognition_rate"] == {
        "numerator": 1,
        "denominator": 3,
        "percent": 33.3,
        "goal": 95.0,
    }
    # The provisional measures take the drafts as they stand; none is signed off.
    assert m["qi_reviewed"] == 0


def test_recognizable_uses_the_latest_review():
    tl = population_call("A")
    tl.review(9000, recognizable=False)  # later than the +7200 review below
    tl.review(7200, recognizable=True)
    m = run([tl, population_call("B")])
    assert m["recognizable_recognition_rate"]["denominator"] == 1


def test_tcpr_rate_excludes_not_given():
    calls = [
        population_call("A", to_recognition=30, to_first_compression=100),
        population_call("B", to_recognition=30, to_first_compression=110),
        population_call("C", to_recognition=30),
        population_call("D", to_recognition=30, not_given="unsafe"),
        population_call("E"),  # not recognised: not in tcpr denominator
    ]
    m = run(calls)
    assert m["tcpr_rate"] == {"numerator": 2, "denominator": 3, "percent": 66.7, "goal": 75.0}
    assert m["tcpr_exclusions"] == {"unsafe": 1}


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        ([75], 75.0),
        ([40, 100], 70.0),
        ([100, 40, 61, 55], 58.0),  # sorted 40 55 61 100 -> (55 + 61) / 2
        ([30.5, 88.25], 59.375),
        ([10, 20, 30, 40, 500, 600], 35.0),
        ([91, 89, 200], 91.0),
    ],
)
def test_median_to_recognition(values, expected):
    calls = [population_call(f"P{i}", to_recognition=v) for i, v in enumerate(values)]
    m = run(calls)
    assert m["median_seconds_to_recognition"] == {
        "value": expected,
        "n": len(values),
        "benchmark": 90,
    }


def test_median_to_first_compression_over_population_calls_that_have_one():
    calls = [
        population_call("A", to_recognition=30, to_first_compression=100),
        population_call("B", to_recognition=30, to_first_compression=140),
        population_call("C", to_first_compression=170),  # not recognised, still has one
        population_call("D", to_recognition=30, to_first_compression=300),
        population_call("E", to_recognition=30),
        population_call(
            "W", to_recognition=5, to_first_compression=10, outcome={"witnessed": True}
        ),
    ]
    m = run(calls)
    # A B C D: 100 140 170 300 -> (140 + 170) / 2 = 155
    assert m["median_seconds_to_first_compression"] == {"value": 155.0, "n": 4, "benchmark": 150}
    # tcpr_rate is over recognised population calls only: A B D E -> 3/4
    assert m["tcpr_rate"]["numerator"] == 3
    assert m["tcpr_rate"]["denominator"] == 4


def test_medians_use_corrected_intervals():
    tl = population_call("A", to_recognition=100)
    tl.review(9000, corrections={"ohca.recognized": "2024-03-01T15:01:20Z"})  # +80
    m = run([tl])
    assert m["median_seconds_to_recognition"]["value"] == 80.0


def test_over_triage_counts_recognised_calls_ems_did_not_confirm():
    calls = [
        population_call("A", to_recognition=30, outcome={"ohca": False, "attempted": False}),
        population_call("B", outcome={"ohca": False, "attempted": False}),  # not recognised
        population_call("C", to_recognition=30),
        _no_outcome("D", recognized_s=30),  # no EMS word: not over-triage
    ]
    m = run(calls)
    assert m["over_triage"] == 1
    assert m["population"] == 1
    assert m["outside_population"] == {"not_cardiac_arrest": 2}
    assert m["without_ems_outcome"] == 1
