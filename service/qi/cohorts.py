"""The §5 measures from aggregated cohorts, pure.

A million calls are too many to fetch one by one: the store counts them in SQL instead, grouped
by everything the measures distinguish, and keeps interval values only where a median needs them
(population calls, a small share). `measures_from_cohorts` turns those groups into exactly the
dict `service.qi.measures.measures` returns for the same calls; tests hold the two paths equal.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from typing import Any

from service.qi.measures import (
    RECOGNITION_GOAL,
    RECOGNIZABLE_GOAL,
    TCPR_GOAL,
    CallSummary,
    median,
    outside_reason,
    rate,
)
from service.triage.profiles import BenchmarkProfile


@dataclass(frozen=True, slots=True)
class Cohort:
    """`calls` calls alike in everything the §5 measures count: one row of a GROUP BY."""

    calls: int
    in_population: bool = False
    has_ems_outcome: bool = False
    ems_says_not_arrest: bool = False
    ems_witnessed: bool = False
    resuscitation_attempted: bool = False  # True only where EMS said so
    recognized: bool = False
    reviewed: bool = False
    unrecognizable: bool = False  # the review in force says `recognizable: false`
    not_given_reason: str | None = None
    has_first_compression: bool = False
    # Kept for population calls only: the medians are over them.
    to_recognition: float | None = None
    to_first_compression: float | None = None


def cohort_of(c: CallSummary) -> Cohort:
    """The cohort one call falls in (calls=1); the store's GROUP BY uses the same key."""
    return Cohort(
        calls=1,
        in_population=c.in_population,
        has_ems_outcome=c.has_ems_outcome,
        ems_says_not_arrest=c.ems_says_not_arrest,
        ems_witnessed=c.ems_witnessed,
        resuscitation_attempted=c.resuscitation_attempted is True,
        recognized=c.recognized,
        reviewed=c.reviewed,
        unrecognizable=c.recognizable is False,
        not_given_reason=c.not_given_reason,
        has_first_compression=c.to_first_compression is not None,
        to_recognition=c.to_recognition if c.in_population else None,
        to_first_compression=c.to_first_compression if c.in_population else None,
    )


def cohorts(summaries: Iterable[CallSummary]) -> list[Cohort]:
    """Group calls into cohorts, as the store does in SQL."""
    counted = Counter(cohort_of(c) for c in summaries)
    return [replace(key, calls=n) for key, n in counted.items()]


def measures_from_cohorts(groups: Iterable[Cohort], profile: BenchmarkProfile) -> dict[str, Any]:
    """`measures()` of the calls the cohorts stand for, without the calls themselves."""
    groups = list(groups)

    def count(*tests: Callable[[Cohort], bool]) -> int:
        return sum(g.calls for g in groups if all(test(g) for test in tests))

    def pop(g: Cohort) -> bool:
        return g.in_population

    def recognized(g: Cohort) -> bool:
        return g.recognized

    def eligible(g: Cohort) -> bool:
        return g.not_given_reason is None

    def recognizable(g: Cohort) -> bool:
        return not g.unrecognizable

    exclusions: Counter[str] = Counter()
    outside: Counter[str] = Counter()
    for g in groups:
        if g.in_population and g.recognized and g.not_given_reason:
            exclusions[g.not_given_reason] += g.calls
        if not g.in_population:
            reason = outside_reason(g)
            if reason is not None:
                outside[reason] += g.calls
    population = count(pop)
    recognizable_n = count(pop, recognizable)
    tcpr_eligible = count(pop, recognized, eligible)
    return {
        "benchmark_profile": profile.name,
        "calls_in_period": count(),
        "population": population,
        "recognition_rate": rate(count(pop, recognized), population, RECOGNITION_GOAL),
        "recognizable_recognition_rate": rate(
            count(pop, recognizable, recognized), recognizable_n, RECOGNIZABLE_GOAL
        ),
        "tcpr_rate": rate(
            count(pop, recognized, eligible, lambda g: g.has_first_compression),
            tcpr_eligible,
            TCPR_GOAL,
        ),
        "median_seconds_to_recognition": median(recognition_values(groups), profile.recognition_s),
        "median_seconds_to_first_compression": median(
            compression_values(groups), profile.first_compression_s
        ),
        "qi_reviewed": count(pop, lambda g: g.reviewed),
        "qi_reviewed_all_calls": count(lambda g: g.reviewed),
        "over_triage": count(recognized, lambda g: g.ems_says_not_arrest),
        "tcpr_exclusions": dict(sorted(exclusions.items())),
        "outside_population": dict(sorted(outside.items())),
        "without_ems_outcome": count(lambda g: not g.has_ems_outcome),
    }


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
