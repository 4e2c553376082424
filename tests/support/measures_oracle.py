"""A test oracle for the §5 measures: DESIGN.md's definitions written out call by call, the
plainest way, with none of the production code's cohorts. The service has one implementation
(service.qi.measures over cohorts); the property tests hold it, and the store's SQL grouping,
equal to this."""

from __future__ import annotations

import statistics
from collections import Counter
from collections.abc import Callable, Sequence
from typing import Any

from service.qi.summary import CallSummary
from service.triage.profiles import BenchmarkProfile

Pick = Callable[[CallSummary], bool]


def pct(n: int, d: int) -> float | None:
    from decimal import ROUND_HALF_UP, Decimal

    if d == 0:
        return None
    return float((Decimal(n * 100) / Decimal(d)).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP))


def rate(n: int, d: int, goal: float) -> dict[str, Any]:
    return {"numerator": n, "denominator": d, "percent": pct(n, d), "goal": goal}


def med(values: list[float], benchmark: float) -> dict[str, Any]:
    value = round(statistics.median(values), 3) if values else None
    return {"value": value, "n": len(values), "benchmark": benchmark}


def five(
    calls: Sequence[CallSummary], p: BenchmarkProfile, base: Pick, excluded: Pick
) -> dict[str, Any]:
    population = [c for c in calls if c.in_population]
    mine = [c for c in population if base(c)]
    recognized = [c for c in mine if c.recognized]
    recognizable = [c for c in mine if c.recognizable is not False]
    eligible = [c for c in recognized if not excluded(c)]
    return {
        "recognition_rate": rate(len(recognized), len(population), 75.0),
        "recognizable_recognition_rate": rate(
            sum(c.recognized for c in recognizable), len(recognizable), 95.0
        ),
        "tcpr_rate": rate(
            sum(c.to_first_compression is not None for c in eligible), len(eligible), 75.0
        ),
        "median_seconds_to_recognition": med(
            [c.to_recognition for c in recognized if c.to_recognition is not None],
            p.recognition_s,
        ),
        "median_seconds_to_first_compression": med(
            [c.to_first_compression for c in mine if c.to_first_compression is not None],
            p.first_compression_s,
        ),
    }


def exclusions(calls: Sequence[CallSummary], base: Pick, excluded: Pick) -> dict[str, int]:
    counted = Counter(
        c.not_given_reason or "other"
        for c in calls
        if c.in_population and base(c) and c.recognized and excluded(c)
    )
    return dict(sorted(counted.items()))


def outside(c: CallSummary) -> str | None:
    if not c.has_ems_outcome:
        return None
    if c.ems_says_not_arrest:
        return "not_cardiac_arrest"
    if c.ems_witnessed:
        return "ems_witnessed"
    if c.resuscitation_attempted is not True:
        return "no_resuscitation_attempted"
    return "other"


def oracle(calls: Sequence[CallSummary], p: BenchmarkProfile) -> dict[str, Any]:
    def everyone(c: CallSummary) -> bool:
        return True

    def reviewed(c: CallSummary) -> bool:
        return c.signed_off

    population = [c for c in calls if c.in_population]
    qi = [c for c in population if c.signed_off]
    nonrecognition = Counter(r for c in qi for r in c.nonrecognition_reasons)
    delay = Counter(r for c in qi for r in c.delay_reasons)
    outside_counts = Counter(
        r for c in calls if not c.in_population and (r := outside(c)) is not None
    )
    return {
        "benchmark_profile": p.name,
        "calls_in_period": len(calls),
        "population": len(population),
        **five(calls, p, everyone, lambda c: c.excluded),
        "qi_reviewed": len(qi),
        "qi_reviewed_all_calls": sum(c.signed_off for c in calls),
        "over_triage": sum(c.recognized and c.ems_says_not_arrest for c in calls),
        "tcpr_exclusions": exclusions(calls, everyone, lambda c: c.excluded),
        "outside_population": dict(sorted(outside_counts.items())),
        "without_ems_outcome": sum(not c.has_ems_outcome for c in calls),
        "t0_fallback_calls": sum(c.t0_source == "call.answered" for c in calls),
        "recognitions_after_arrival": sum(c.recognition_after_arrival for c in calls),
        "reviewed": {
            **five(calls, p, reviewed, lambda c: c.excluded_reviewed),
            "coverage": rate(len(qi), len(population), 100.0),
            "qi_reviewed": len(qi),
            "tcpr_exclusions": exclusions(calls, reviewed, lambda c: c.excluded_reviewed),
            "reasons": {
                "nonrecognition": dict(sorted(nonrecognition.items())),
                "delay": dict(sorted(delay.items())),
            },
        },
    }
