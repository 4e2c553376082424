"""Calls grouped by everything the §5 measures distinguish, pure.

A million calls are too many to fetch one by one: the store counts them in SQL instead, grouped
by the same key (service/store/measures.py `_COHORT_KEY`), and keeps interval values and reasons
only where the measures need them (population calls, a small share). `cohorts()` does the same
grouping in Python; tests hold the two equal. The measures themselves are computed from cohorts
only (service.qi.measures), whichever way they were grouped.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, replace

from service.qi.summary import CallSummary, t0_fallback


@dataclass(frozen=True, slots=True)
class Cohort:
    """`calls` calls alike in everything the §5 measures count: one row of a GROUP BY."""

    calls: int
    in_population: bool = False
    has_ems_outcome: bool = False
    ems_says_not_arrest: bool = False
    ems_witnessed: bool = False
    resuscitation_attempted: bool = False  # True only where EMS said so
    recognized: bool = False  # telecommunicator recognition: before EMS arrived
    recognition_after_arrival: bool = False
    qi_reviewed: bool = False  # the review in force is signed off
    unrecognizable: bool = False  # the review in force says `recognizable: false`
    excluded: bool = False
    excluded_reviewed: bool = False
    exclusion_reason: str | None = None  # the `tcpr.not_given` reason of an excluded call
    has_first_compression: bool = False
    t0_fallback: bool = False
    # Kept for population calls only: the medians are over them.
    to_recognition: float | None = None
    to_first_compression: float | None = None
    # Kept for QI-reviewed population calls only: the training needs are theirs.
    nonrecognition_reasons: tuple[str, ...] = ()
    delay_reasons: tuple[str, ...] = ()


def cohort_of(c: CallSummary) -> Cohort:
    """The cohort one call falls in (calls=1); the store's GROUP BY uses the same key."""
    reviewed_population = c.in_population and c.signed_off
    return Cohort(
        calls=1,
        in_population=c.in_population,
        has_ems_outcome=c.has_ems_outcome,
        ems_says_not_arrest=c.ems_says_not_arrest,
        ems_witnessed=c.ems_witnessed,
        resuscitation_attempted=c.resuscitation_attempted is True,
        recognized=c.recognized,
        recognition_after_arrival=c.recognition_after_arrival,
        qi_reviewed=c.signed_off,
        unrecognizable=c.recognizable is False,
        excluded=c.excluded,
        excluded_reviewed=c.excluded_reviewed,
        exclusion_reason=c.not_given_reason if c.excluded else None,
        has_first_compression=c.to_first_compression is not None,
        t0_fallback=t0_fallback(c.t0_source),
        to_recognition=c.to_recognition if c.in_population else None,
        to_first_compression=c.to_first_compression if c.in_population else None,
        nonrecognition_reasons=c.nonrecognition_reasons if reviewed_population else (),
        delay_reasons=c.delay_reasons if reviewed_population else (),
    )


def cohorts(summaries: Iterable[CallSummary]) -> list[Cohort]:
    """Group calls into cohorts, as the store does in SQL."""
    counted = Counter(cohort_of(c) for c in summaries)
    return [replace(key, calls=n) for key, n in counted.items()]
