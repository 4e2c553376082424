"""DESIGN.md §5 (2026-12-06), expected values by hand: reviewed and provisional measures,
checked exclusions, recognition before EMS arrival, the T0 fallback, reason tallies and equity
breakdowns."""

from __future__ import annotations

from typing import Any

import pytest
from support.timeline import Timeline, population_call

from service.qi.cohorts import cohorts
from service.qi.measures import breakdown_groups, measures
from service.qi.summary import age_group, summarize
from service.triage.profiles import AHA_2020, AgencyConfig


def run(timelines: list[Timeline], config: AgencyConfig | None = None) -> dict[str, Any]:
    config = config or AgencyConfig()
    return measures([summarize(t.fold(config), config) for t in timelines], AHA_2020)


def signed(**data: Any) -> dict[str, Any]:
    return {"signed_off": True, **data}


@pytest.fixture
def period() -> list[Timeline]:
    return [
        # Signed off (QI-reviewed):
        population_call("R1", to_recognition=60, to_first_compression=120, review=signed()),
        population_call("R2", to_recognition=80, review=signed(delay_reasons=["call_transfer"])),
        population_call(
            "R3",
            review=signed(
                recognizable=True,
                nonrecognition_reasons=[
                    "agonal_breathing_reported_as_breathing",
                    "other: caller was in another room",
                ],
            ),
        ),
        population_call("R4", review=signed(recognizable=False)),
        # Drafts and unreviewed calls: provisional only.
        population_call("D1", to_recognition=40, to_first_compression=100, review={"notes": "x"}),
        population_call("U1", to_recognition=70, to_first_compression=140),
        population_call("U2"),
        # Outside the population, signed off: counted among all calls only.
        population_call(
            "N1", to_recognition=30, outcome={"ohca": False, "attempted": False}, review=signed()
        ),
    ]


def test_provisional_measures_take_every_draft_as_it_stands(period: list[Timeline]) -> None:
    m = run(period)
    assert m["population"] == 7
    # Recognised: R1 R2 D1 U1 -> 4 / 7 = 57.1
    assert m["recognition_rate"] == {
        "numerator": 4,
        "denominator": 7,
        "percent": 57.1,
        "goal": 75.0,
    }
    # Less R4 (recognizable: false): 4 / 6 = 66.7
    assert m["recognizable_recognition_rate"]["numerator"] == 4
    assert m["recognizable_recognition_rate"]["denominator"] == 6
    # Recognised, none excluded: R1 D1 U1 compressed of R1 R2 D1 U1 -> 3 / 4
    assert m["tcpr_rate"] == {"numerator": 3, "denominator": 4, "percent": 75.0, "goal": 75.0}
    # 40 60 70 80 -> 65; compressions 100 120 140 -> 120
    assert m["median_seconds_to_recognition"]["value"] == 65.0
    assert m["median_seconds_to_first_compression"] == {"value": 120.0, "n": 3, "benchmark": 150}
    assert m["qi_reviewed"] == 4
    assert m["qi_reviewed_all_calls"] == 5


def test_reviewed_measures_count_signed_off_calls_only(period: list[Timeline]) -> None:
    r = run(period)["reviewed"]
    # QI-reviewed population calls recognised: R1 R2 -> 2 over the whole population of 7.
    assert r["recognition_rate"] == {
        "numerator": 2,
        "denominator": 7,
        "percent": 28.6,
        "goal": 75.0,
    }
    # QI-reviewed less R4 (recognizable: false): R1 R2 R3 -> recognised 2 / 3.
    assert r["recognizable_recognition_rate"] == {
        "numerator": 2,
        "denominator": 3,
        "percent": 66.7,
        "goal": 95.0,
    }
    # QI-reviewed recognised: R1 R2; compressed: R1 -> 1 / 2.
    assert r["tcpr_rate"] == {"numerator": 1, "denominator": 2, "percent": 50.0, "goal": 75.0}
    assert r["median_seconds_to_recognition"] == {"value": 70.0, "n": 2, "benchmark": 90}
    assert r["median_seconds_to_first_compression"] == {"value": 120.0, "n": 1, "benchmark": 150}
    # 4 of the 7 population calls are signed off.
    assert r["coverage"] == {"numerator": 4, "denominator": 7, "percent": 57.1, "goal": 100.0}
    assert r["qi_reviewed"] == 4


def test_reasons_are_tallied_by_code_with_free_text_as_other(period: list[Timeline]) -> None:
    reasons = run(period)["reviewed"]["reasons"]
    assert reasons == {
        "nonrecognition": {"agonal_breathing_reported_as_breathing": 1, "other": 1},
        "delay": {"call_transfer": 1},
    }


def test_agency_codes_count_as_codes_and_drafts_count_nothing() -> None:
    config = AgencyConfig(extra_delay_reasons=("cad_down",))
    calls = [
        population_call("A", review=signed(delay_reasons=["cad_down", "call_transfer"])),
        population_call("B", review=signed(delay_reasons=["cad_down", "other: radio"])),
        population_call("C", review={"delay_reasons": ["cad_down"]}),  # a draft: not counted
        population_call("D", review=signed(delay_reasons=["made_up_code"])),
    ]
    assert run(calls, config)["reviewed"]["reasons"]["delay"] == {
        "cad_down": 2,
        "call_transfer": 1,
        "other": 2,
    }
    # Without the agency's code, "cad_down" is free text.
    assert run(calls)["reviewed"]["reasons"]["delay"] == {"call_transfer": 1, "other": 3}


def test_a_late_not_given_does_not_undo_a_first_compression() -> None:
    # First compression at 90 s, then "caller hung up" at 200 s: T-CPR was given.
    calls = [
        population_call("A", to_recognition=40, to_first_compression=90, not_given="hung_up"),
        population_call("B", to_recognition=40, not_given="hung_up"),
    ]
    m = run(calls)
    assert m["tcpr_rate"] == {"numerator": 1, "denominator": 1, "percent": 100.0, "goal": 75.0}
    assert m["tcpr_exclusions"] == {"hung_up": 1}


def test_the_reviewer_judges_each_exclusion() -> None:
    calls = [
        # Accepted, rejected and not judged exclusions, and two for "other".
        population_call("A", to_recognition=40, not_given="caller_refused", review=signed()),
        population_call(
            "B",
            to_recognition=40,
            not_given="caller_refused",
            review=signed(exclusion_valid=False),
        ),
        population_call(
            "C", to_recognition=40, not_given="unsafe", review=signed(exclusion_valid=True)
        ),
        population_call("D", to_recognition=40, not_given="other", review=signed()),
        population_call(
            "E", to_recognition=40, not_given="other", review=signed(exclusion_valid=True)
        ),
        population_call("F", to_recognition=40, to_first_compression=100, review=signed()),
    ]
    m = run(calls)
    # Provisional: every not-given without a compression is out: A B C D E; F compressed -> 1/1.
    assert m["tcpr_rate"] == {"numerator": 1, "denominator": 1, "percent": 100.0, "goal": 75.0}
    assert m["tcpr_exclusions"] == {"caller_refused": 2, "other": 2, "unsafe": 1}
    # Reviewed: B (rejected) and D ("other" not accepted) come back in as not given -> 1 / 3.
    r = m["reviewed"]
    assert r["tcpr_rate"] == {"numerator": 1, "denominator": 3, "percent": 33.3, "goal": 75.0}
    assert r["tcpr_exclusions"] == {"caller_refused": 1, "other": 1, "unsafe": 1}


def test_recognition_after_ems_arrival_is_not_counted() -> None:
    after = population_call("A", to_first_compression=None)
    after.on_scene(300)
    after.recognized(300)  # at arrival: the crew's
    before = population_call("B", to_recognition=120)
    before.on_scene(300)
    m = run([after, before])
    assert m["recognition_rate"]["numerator"] == 1
    assert m["median_seconds_to_recognition"]["value"] == 120.0
    assert m["recognitions_after_arrival"] == 1
    state = after.fold()
    assert state.recognized is True  # the audit still shows it
    assert state.recognition_after_arrival is True
    assert summarize(state).recognized is False


def test_t0_fallback_is_counted_and_sourced() -> None:
    no_received = Timeline(call_id="F")
    no_received.answered(0)
    no_received.recognized(30)
    corrected = population_call("C")
    corrected.review(9000, corrections={"call.received": "2024-03-01T14:59:50Z"})
    calls = [no_received, population_call("P"), corrected]
    assert [t.fold().t0_source for t in calls] == ["call.answered", "call.received", "correction"]
    assert run(calls)["t0_fallback_calls"] == 1


@pytest.mark.parametrize(
    ("age", "group"),
    [
        (0, "0–17"),
        (0.5, "0–17"),
        (17.9, "0–17"),
        (18, "18–39"),
        (39, "18–39"),
        (40, "40–64"),
        (64, "40–64"),
        (65, "65–79"),
        (79.99, "65–79"),
        (80, "80+"),
        (104, "80+"),
        (None, None),
        (-1, None),
        (True, None),
        ("70", None),
    ],
)
def test_age_groups(age: object, group: str | None) -> None:
    assert age_group(age) == group


def test_breakdown_suppresses_small_groups() -> None:
    def patient(call_id: str, sex: str, recognized: bool) -> Timeline:
        tl = population_call(call_id, to_recognition=50 if recognized else None)
        tl.add(
            "ems.outcome",
            3700,
            data={
                "ohca": True,
                "resuscitation_attempted": True,
                "ems_witnessed": False,
                "sex": sex,
            },
        )
        return tl

    calls = [patient(f"F{i}", "female", i < 9) for i in range(12)]
    calls += [patient(f"M{i}", "male", True) for i in range(3)]
    summaries = [summarize(t.fold()) for t in calls]
    by_sex: dict[str | None, list[Any]] = {}
    for s in summaries:
        by_sex.setdefault(s.sex, []).append(s)
    groups = breakdown_groups({k: cohorts(v) for k, v in by_sex.items()}, AHA_2020)
    female, male = groups
    assert female["group"] == "female"
    assert female["suppressed"] is False
    assert female["population"] == 12
    assert female["recognition_rate"]["percent"] == 75.0
    assert female["reviewed"]["coverage"]["percent"] == 0.0
    assert male == {"group": "male", "population": 3, "suppressed": True}
