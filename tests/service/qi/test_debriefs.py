"""Which calls need a debrief (service.qi.debriefs), expected values by hand (AHA 2020: recognition
under 90 s, first compression under 150 s, strictly)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from support.timeline import REF, Timeline, population_call

from service.qi.debriefs import debrief_reasons, needs_debrief
from service.qi.summary import summarize
from service.triage.profiles import AHA_2020, RA_LEGACY


def reasons(tl: Timeline, profile: Any = AHA_2020) -> tuple[str, ...]:
    return debrief_reasons(summarize(tl.fold()), profile)


def test_a_call_recognised_and_compressing_in_time_needs_none() -> None:
    assert reasons(population_call("OK", to_recognition=60, to_first_compression=140)) == ()
    # Just under both benchmarks is met.
    assert reasons(population_call("E", to_recognition=89.999, to_first_compression=149.999)) == ()


def test_each_missed_benchmark_is_a_reason() -> None:
    assert reasons(population_call("L", to_recognition=90, to_first_compression=140)) == (
        "recognition_late",
    )
    assert reasons(population_call("C", to_recognition=60, to_first_compression=150)) == (
        "compression_late",
    )
    assert reasons(population_call("B", to_recognition=120, to_first_compression=200)) == (
        "recognition_late",
        "compression_late",
    )


def test_a_confirmed_arrest_never_recognised_needs_one() -> None:
    assert reasons(population_call("N")) == ("never_recognised",)


def test_recognition_after_ems_arrived_is_not_the_telecommunicators() -> None:
    tl = population_call("AFTER", to_recognition=80, to_first_compression=100)
    tl.on_scene(70)  # the crew was there first
    assert reasons(tl) == ("never_recognised",)


def test_an_arrest_ems_witnessed_is_not_debriefed() -> None:
    """It happened in front of the crew: there was nothing for the telecommunicator to see."""
    tl = population_call("W", outcome={"witnessed": True})
    assert reasons(tl) == ()
    late = population_call("WL", to_recognition=200, outcome={"witnessed": True})
    assert reasons(late) == ()


def test_calls_outside_the_confirmed_arrests_are_not_debriefed() -> None:
    assert reasons(population_call("NA", outcome={"ohca": False})) == ()
    # EMS did not try to resuscitate (obvious death, a DNR): no call for T-CPR.
    assert reasons(population_call("NR", outcome={"attempted": False})) == ()
    no_outcome = Timeline(call_id="X")
    no_outcome.received(0)
    no_outcome.answered(5)
    no_outcome.ended(300)
    assert reasons(no_outcome) == ()


def test_recognised_without_compressions_or_an_exclusion_counts_against_tcpr() -> None:
    assert reasons(population_call("NC", to_recognition=40)) == ("no_compression",)
    # A standing exclusion (the caller refused) is not a miss.
    assert reasons(population_call("EX", to_recognition=40, not_given="caller_refused")) == ()


def test_an_exclusion_the_review_rejects_is_a_miss() -> None:
    tl = population_call(
        "RJ", to_recognition=40, not_given="caller_refused", review={"exclusion_valid": False}
    )
    assert reasons(tl) == ("no_compression",)


def test_a_reviewed_correction_changes_the_outcome() -> None:
    late = population_call("CR", to_recognition=100, to_first_compression=140)
    assert reasons(late) == ("recognition_late",)
    # The reviewer finds recognition in the recording at 70 s: the benchmark was met.
    corrected = population_call(
        "CR",
        to_recognition=100,
        to_first_compression=140,
        review={"corrections": {"ohca.recognized": (REF + timedelta(seconds=70)).isoformat()}},
    )
    assert reasons(corrected) == ()
    # And the other way: T0 moved earlier by the review (a transfer's ring time) makes it late.
    earlier = population_call(
        "CR",
        to_recognition=60,
        to_first_compression=140,
        review={"corrections": {"call.received": (REF - timedelta(seconds=40)).isoformat()}},
    )
    assert reasons(earlier) == ("recognition_late", "compression_late")


def test_a_review_finding_the_arrest_unrecognisable_leaves_nothing_about_recognition() -> None:
    tl = population_call("U", review={"recognizable": False, "signed_off": True})
    assert reasons(tl) == ()
    assert reasons(population_call("U2", review={"recognizable": True})) == ("never_recognised",)


def test_the_agencys_profile_sets_the_benchmarks() -> None:
    # Late under AHA 2020 (90 s / 150 s), in time under the legacy 120 s / 180 s.
    tl = population_call("P", to_recognition=100, to_first_compression=170)
    assert needs_debrief(summarize(tl.fold()), AHA_2020)
    assert not needs_debrief(summarize(tl.fold()), RA_LEGACY)
