"""AHA T-CPR program measures for an agency and period (DESIGN.md §5), pure: the one
implementation.

Each call is judged once (service.qi.summary), grouped into cohorts (service.qi.cohorts, or the
store's GROUP BY over the same key), and the measures are computed here from cohorts only, so the
API, the trends, the per-telecommunicator cards, the breakdowns and the tests all count by the
same rules.

Two sets of figures come out. The **provisional** measures take every drafted audit as it
stands, so QI staff see where they are before review. The **reviewed** measures are the AHA's own:
"QI reviewed and EMS confirmed OHCAs", a call counting in a numerator only once its review in
force is signed off, with `coverage` saying how much of the population that is.
"""

from __future__ import annotations

import statistics
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, Final, Protocol

from service.qi.cohorts import Cohort, cohorts
from service.qi.summary import CallSummary, summarize
from service.triage.profiles import BenchmarkProfile

__all__ = ["CallSummary", "measures", "measures_from_cohorts", "summarize"]

RECOGNITION_GOAL: Final = 75.0
RECOGNIZABLE_GOAL: Final = 95.0
TCPR_GOAL: Final = 75.0
COVERAGE_GOAL: Final = 100.0


def percent(numerator: int, denominator: int) -> float | None:
    """One decimal, half up; None when there is nothing to divide by."""
    if denominator == 0:
        return None
    exact = Decimal(numerator * 100) / Decimal(denominator)
    return float(exact.quantize(Decimal("0.1"), rounding=ROUND_HALF_UP))


def rate(numerator: int, denominator: int, goal: float) -> dict[str, Any]:
    return {
        "numerator": numerator,
        "denominator": denominator,
        "percent": percent(numerator, denominator),
        "goal": goal,
    }


def median(values: Iterable[float], benchmark: float) -> dict[str, Any]:
    data = sorted(values)
    value = round(statistics.median(data), 3) if data else None
    return {"value": value, "n": len(data), "benchmark": benchmark}


Test = Callable[[Cohort], bool]


def _count(groups: Iterable[Cohort], *tests: Test) -> int:
    """How many calls the cohorts passing every test stand for."""
    return sum(g.calls for g in groups if all(test(g) for test in tests))


def _in_population(g: Cohort) -> bool:
    return g.in_population


def _reviewed(g: Cohort) -> bool:
    return g.in_population and g.qi_reviewed


def _five(
    groups: list[Cohort], profile: BenchmarkProfile, base: Test, excluded: Test
) -> dict[str, Any]:
    """The five measures over the cohorts that pass `base` (numerators), against the whole
    population for the recognition rate; `excluded` says who leaves the T-CPR rate."""

    def count(*tests: Test) -> int:
        return _count(groups, *tests)

    def recognized(g: Cohort) -> bool:
        return g.recognized

    def recognizable(g: Cohort) -> bool:
        return not g.unrecognizable

    def eligible(g: Cohort) -> bool:
        return not excluded(g)

    def compressed(g: Cohort) -> bool:
        return g.has_first_compression

    return {
        "recognition_rate": rate(count(base, recognized), count(_in_population), RECOGNITION_GOAL),
        "recognizable_recognition_rate": rate(
            count(base, recognizable, recognized), count(base, recognizable), RECOGNIZABLE_GOAL
        ),
        "tcpr_rate": rate(
            count(base, recognized, eligible, compressed),
            count(base, recognized, eligible),
            TCPR_GOAL,
        ),
        "median_seconds_to_recognition": median(
            recognition_values(g for g in groups if base(g)), profile.recognition_s
        ),
        "median_seconds_to_first_compression": median(
            compression_values(g for g in groups if base(g)), profile.first_compression_s
        ),
    }


def _exclusions(groups: Iterable[Cohort], base: Test, excluded: Test) -> dict[str, int]:
    """Exclusion reasons of the recognised calls that leave the T-CPR rate."""
    counted: Counter[str] = Counter()
    for g in groups:
        if base(g) and g.recognized and excluded(g):
            counted[g.exclusion_reason or "other"] += g.calls
    return dict(sorted(counted.items()))


def reason_tallies(groups: Iterable[Cohort]) -> dict[str, dict[str, int]]:
    """How many QI-reviewed population calls the review gave each coded reason (free text
    under `other`): the training needs."""
    nonrecognition: Counter[str] = Counter()
    delay: Counter[str] = Counter()
    for g in groups:
        if _reviewed(g):
            nonrecognition.update(dict.fromkeys(g.nonrecognition_reasons, g.calls))
            delay.update(dict.fromkeys(g.delay_reasons, g.calls))
    return {
        "nonrecognition": dict(sorted(nonrecognition.items())),
        "delay": dict(sorted(delay.items())),
    }


def measures_from_cohorts(groups: Iterable[Cohort], profile: BenchmarkProfile) -> dict[str, Any]:
    """The §5 measures, provisional and `reviewed`, of the calls the cohorts stand for."""
    groups = list(groups)

    def count(*tests: Test) -> int:
        return _count(groups, *tests)

    def provisional_exclusion(g: Cohort) -> bool:
        return g.excluded

    def reviewed_exclusion(g: Cohort) -> bool:
        return g.excluded_reviewed

    outside: Counter[str] = Counter()
    for g in groups:
        if not g.in_population:
            reason = outside_reason(g)
            if reason is not None:
                outside[reason] += g.calls
    population = count(_in_population)
    return {
        "benchmark_profile": profile.name,
        "calls_in_period": count(),
        "population": population,
        **_five(groups, profile, _in_population, provisional_exclusion),
        "qi_reviewed": count(_reviewed),
        "qi_reviewed_all_calls": count(lambda g: g.qi_reviewed),
        "over_triage": count(lambda g: g.recognized and g.ems_says_not_arrest),
        "tcpr_exclusions": _exclusions(groups, _in_population, provisional_exclusion),
        "outside_population": dict(sorted(outside.items())),
        "without_ems_outcome": count(lambda g: not g.has_ems_outcome),
        "t0_fallback_calls": count(lambda g: g.t0_fallback),
        "recognitions_after_arrival": count(lambda g: g.recognition_after_arrival),
        "reviewed": {
            **_five(groups, profile, _reviewed, reviewed_exclusion),
            "coverage": rate(count(_reviewed), population, COVERAGE_GOAL),
            "qi_reviewed": count(_reviewed),
            "tcpr_exclusions": _exclusions(groups, _reviewed, reviewed_exclusion),
            "reasons": reason_tallies(groups),
        },
    }


# DESIGN.md §5: a group whose population is 1 to 10 is suppressed (small cells identify people).
SUPPRESS_UP_TO: Final = 10


def suppressed(population: int) -> bool:
    return 1 <= population <= SUPPRESS_UP_TO


def breakdown_groups(
    groups: Mapping[str | None, Iterable[Cohort]], profile: BenchmarkProfile
) -> list[dict[str, Any]]:
    """The provisional and reviewed measures of each group of a breakdown, largest population
    first (then by value, the calls without one last). A group of 1 to 10 population calls
    says only that it is suppressed: no rate, median, count or reason that could point at a
    person."""
    out = []
    for value, cohorts_ in groups.items():
        figures = measures_from_cohorts(cohorts_, profile)
        population = figures["population"]
        if suppressed(population):
            out.append({"group": value, "population": population, "suppressed": True})
        else:
            out.append({"group": value, **figures, "suppressed": False})
    out.sort(key=lambda g: (-g["population"], g["group"] is None, g["group"] or ""))
    return out


def measures(summaries: Iterable[CallSummary], profile: BenchmarkProfile) -> dict[str, Any]:
    """The §5 measures over calls already filtered to the period (T1 <= T0 < T2)."""
    return measures_from_cohorts(cohorts(summaries), profile)


def recognition_values(groups: Iterable[Cohort]) -> list[float]:
    """Each recognised population call's `to_recognition`, as often as it occurs."""
    return [
        g.to_recognition
        for g in groups
        if g.in_population and g.recognized and g.to_recognition is not None
        for _ in range(g.calls)
    ]


def compression_values(groups: Iterable[Cohort]) -> list[float]:
    """Each population call's `to_first_compression`, as often as it occurs."""
    return [
        g.to_first_compression
        for g in groups
        if g.in_population and g.to_first_compression is not None
        for _ in range(g.calls)
    ]


class EmsFlags(Protocol):
    """What says why a call with an EMS outcome is outside the population."""

    @property
    def has_ems_outcome(self) -> bool: ...
    @property
    def ems_says_not_arrest(self) -> bool: ...
    @property
    def ems_witnessed(self) -> bool: ...
    @property
    def resuscitation_attempted(self) -> bool | None: ...


def outside_reason(c: EmsFlags) -> str | None:
    """Why a call outside the population is outside, once EMS has reported on it."""
    if not c.has_ems_outcome:
        return None
    if c.ems_says_not_arrest:
        return "not_cardiac_arrest"
    if c.ems_witnessed:
        return "ems_witnessed"
    if c.resuscitation_attempted is not True:
        return "no_resuscitation_attempted"
    return "other"


def running_figures(summaries: Iterable[CallSummary], profile: BenchmarkProfile) -> dict[str, Any]:
    """A supervisor's figures for the day so far: no EMS outcome is known yet, so these count
    what the floor did, not the AHA population."""
    calls = list(summaries)
    recognized = [c for c in calls if c.recognized and c.to_recognition is not None]
    compressions = [c.to_first_compression for c in calls if c.to_first_compression is not None]
    return {
        "calls": len(calls),
        "recognized": len(recognized),
        "recognized_in_time": sum(
            c.to_recognition is not None and c.to_recognition < profile.recognition_s
            for c in recognized
        ),
        "first_compressions": len(compressions),
        "first_compressions_in_time": sum(t < profile.first_compression_s for t in compressions),
        "tcpr_not_given": sum(c.excluded for c in calls),
        "median_seconds_to_recognition": median(
            (c.to_recognition for c in recognized if c.to_recognition is not None),
            profile.recognition_s,
        ),
        "median_seconds_to_first_compression": median(compressions, profile.first_compression_s),
    }
