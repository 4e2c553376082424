"""AHA T-CPR program measures for an agency and period (DESIGN.md §5), pure.

The population is the calls whose latest `ems.outcome` says out-of-hospital cardiac arrest with
resuscitation attempted and not witnessed by EMS (an arrest after EMS arrival is outside T-CPR).
Each call is first reduced to a small `CallSummary`, which the store keeps beside the events, so
the measures of a large period aggregate summaries instead of re-reading every event.
"""

from __future__ import annotations

import statistics
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, Final, Protocol

from service.qi.audit import ems_flags
from service.triage.intervals import intervals
from service.triage.profiles import BenchmarkProfile
from service.triage.state import CallState

RECOGNITION_GOAL: Final = 75.0
RECOGNIZABLE_GOAL: Final = 95.0
TCPR_GOAL: Final = 75.0


@dataclass(frozen=True, slots=True)
class CallSummary:
    """What the measures need of one call."""

    call_id: str
    t0: datetime | None
    in_population: bool
    has_ems_outcome: bool
    ems_says_not_arrest: bool
    ems_witnessed: bool
    resuscitation_attempted: bool | None
    recognized: bool
    to_recognition: float | None
    to_first_compression: float | None
    not_given_reason: str | None
    reviewed: bool
    recognizable: bool | None
    signed_off: bool
    telecommunicator: str | None


def summarize(state: CallState) -> CallSummary:
    iv = intervals(state)
    in_population, not_arrest = ems_flags(state)
    ems = state.ems_outcome or {}
    review = state.review
    recognizable = review.get("recognizable") if review is not None else None
    attempted = ems.get("resuscitation_attempted")
    return CallSummary(
        call_id=state.call_id,
        t0=state.t0,
        in_population=in_population,
        has_ems_outcome=state.ems_outcome is not None,
        ems_says_not_arrest=not_arrest,
        ems_witnessed=ems.get("ems_witnessed") is True,
        resuscitation_attempted=attempted if isinstance(attempted, bool) else None,
        recognized=state.recognized,
        to_recognition=iv["to_recognition"],
        to_first_compression=iv["to_first_compression"],
        not_given_reason=state.not_given_reason,
        reviewed=review is not None,
        recognizable=recognizable if isinstance(recognizable, bool) else None,
        signed_off=review is not None and review.get("signed_off") is True,
        telecommunicator=state.telecommunicator,
    )


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


def measures(summaries: Iterable[CallSummary], profile: BenchmarkProfile) -> dict[str, Any]:
    """The §5 measures over calls already filtered to the period (T1 <= T0 < T2)."""
    calls = list(summaries)
    population = [c for c in calls if c.in_population]
    recognized = [c for c in population if c.recognized]
    recognizable = [c for c in population if c.recognizable is not False]
    tcpr_eligible = [c for c in recognized if c.not_given_reason is None]
    exclusions = Counter(c.not_given_reason for c in recognized if c.not_given_reason)
    outside = Counter(
        reason
        for c in calls
        if not c.in_population
        for reason in [outside_reason(c)]
        if reason is not None
    )
    return {
        "benchmark_profile": profile.name,
        "calls_in_period": len(calls),
        "population": len(population),
        "recognition_rate": rate(len(recognized), len(population), RECOGNITION_GOAL),
        "recognizable_recognition_rate": rate(
            sum(c.recognized for c in recognizable), len(recognizable), RECOGNIZABLE_GOAL
        ),
        "tcpr_rate": rate(
            sum(c.to_first_compression is not None for c in tcpr_eligible),
            len(tcpr_eligible),
            TCPR_GOAL,
        ),
        "median_seconds_to_recognition": median(
            (c.to_recognition for c in recognized if c.to_recognition is not None),
            profile.recognition_s,
        ),
        "median_seconds_to_first_compression": median(
            (c.to_first_compression for c in population if c.to_first_compression is not None),
            profile.first_compression_s,
        ),
        "qi_reviewed": sum(c.reviewed for c in population),
        "qi_reviewed_all_calls": sum(c.reviewed for c in calls),
        "over_triage": sum(c.recognized and c.ems_says_not_arrest for c in calls),
        "tcpr_exclusions": dict(sorted(exclusions.items())),
        "outside_population": dict(sorted(outside.items())),
        "without_ems_outcome": sum(not c.has_ems_outcome for c in calls),
    }


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
        "tcpr_not_given": sum(c.not_given_reason is not None for c in calls),
        "median_seconds_to_recognition": median(
            (c.to_recognition for c in recognized if c.to_recognition is not None),
            profile.recognition_s,
        ),
        "median_seconds_to_first_compression": median(compressions, profile.first_compression_s),
    }
