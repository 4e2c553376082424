"""Intervals from T0 by the source clock and the benchmarks they meet (DESIGN.md §4).

A benchmark is met when its interval is strictly below the profile's threshold (`met`, the one
rule), judged on the exact interval: 89.9996 s is met. Intervals are shown to the millisecond (the
finest a CAD clock means), but the `calls` projection keeps the exact values, so the audit, the QI
list and the measures judge the very same number and can never disagree at the edge. Corrections
from the latest `qi.review` win over the original times.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Final

from contract.kinds import Kind
from service.triage.call_state import CallState
from service.triage.profiles import BenchmarkProfile

INTERVALS: Final = {
    "to_answer": Kind.CALL_ANSWERED,
    "to_recognition": Kind.OHCA_RECOGNIZED,
    "to_dispatch": Kind.UNIT_DISPATCHED,
    "to_tcpr_start": Kind.TCPR_STARTED,
    "to_first_compression": Kind.TCPR_FIRST_COMPRESSION,
    "to_on_scene": Kind.UNIT_ON_SCENE,
}


def exact_seconds(start: datetime | None, end: datetime | None) -> float | None:
    if start is None or end is None:
        return None
    return (end - start).total_seconds()


def seconds_between(start: datetime | None, end: datetime | None) -> float | None:
    """For display and reports: milliseconds are the finest a CAD clock means."""
    exact = exact_seconds(start, end)
    return None if exact is None else round(exact, 3)


def intervals(state: CallState, *, exact: bool = False) -> dict[str, float | None]:
    """Seconds from T0 to each key moment, or None where it has not happened: to the
    millisecond for display, or `exact` for judging."""
    t0 = state.t0
    between = exact_seconds if exact else seconds_between
    return {name: between(t0, state.corrected(kind)) for name, kind in INTERVALS.items()}


def met(interval: float | None, threshold: float) -> bool | None:
    """The one rule: met when strictly under the threshold; None when it has not happened."""
    return None if interval is None else interval < threshold


@dataclass(frozen=True, slots=True)
class Benchmarks:
    """The two benchmarks a call is judged on; None where the moment has not happened."""

    recognition_met: bool | None
    first_compression_met: bool | None


def benchmarks(state: CallState, profile: BenchmarkProfile) -> Benchmarks:
    """Judged on the exact interval, not the rounded one shown beside it."""
    iv = intervals(state, exact=True)
    return Benchmarks(
        recognition_met=met(iv["to_recognition"], profile.recognition_s),
        first_compression_met=met(iv["to_first_compression"], profile.first_compression_s),
    )


def dispatch_met(state: CallState, profile: BenchmarkProfile) -> bool | None:
    """Dispatch in parallel (DESIGN.md §4), for a call with a `no` / `unsure` answer or a
    recognition: a unit dispatched strictly under the recognition benchmark. None for other calls
    (nothing called for a dispatch), and None without a T0: with no start to measure from, a
    dispatch can be neither in time nor late."""
    if not state.dispatch_called_for or state.t0 is None:
        return None
    to_dispatch = intervals(state, exact=True)["to_dispatch"]
    return False if to_dispatch is None else met(to_dispatch, profile.recognition_s)
