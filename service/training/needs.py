"""Training needs: the scenarios a person should practise next, from the coded reasons QI
review found on their own calls.

The AHA asks that QI review feed back into training; DESIGN.md §5 seeds the reason codes from
the published barrier studies. Each code points at the simulator scenario that rehearses the
barrier: agonal breathing or signs of life reported as breathing → `agonal_breathing`; a caller
away from the patient or on a speakerphone that fails → `caller_alone`; a transferred call →
`transfer`; a language barrier → `spanish_caller`; a distressed caller → `caller_refuses`
(talking a reluctant caller into compressions); questions beyond the script, address
verification first, moving the patient, or a protocol deviation → `classic_arrest` (the script
itself, in order, at pace).

Suggestions are ranked by how often their reasons occurred, then by the most recent call, so the
barrier a person met most, and lately, comes first. Codes an agency added (or free text) that
map to no scenario are kept apart as `unmapped`, for the supervisor to read.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Final, Literal

from service.training import scenarios

# The simulator's scenario ids, in the order a course runs them.
SCENARIOS: Final = tuple(s.id for s in scenarios.SCENARIOS)

# Reason code (non-recognition or delay, DESIGN.md §5) → the scenario that rehearses it.
SCENARIO_FOR: Final[dict[str, str]] = {
    "agonal_breathing_reported_as_breathing": "agonal_breathing",
    "signs_of_life_reported": "agonal_breathing",
    "seizure_like_activity": "agonal_breathing",
    "caller_not_with_patient": "caller_alone",
    "speakerphone_problem": "caller_alone",
    "language_barrier": "spanish_caller",
    "call_transfer": "transfer",
    "caller_distress": "caller_refuses",
    "protocol_deviation": "classic_arrest",
    "unnecessary_questions": "classic_arrest",
    "address_verification": "classic_arrest",
    "moving_patient_to_floor": "classic_arrest",
}

ReasonKind = Literal["nonrecognition", "delay"]


@dataclass(frozen=True, slots=True)
class ReviewedCall:
    """One QI-reviewed call of the person: when it was (T0) and the reasons its review coded."""

    call_id: str
    t0: datetime | None
    nonrecognition_reasons: tuple[str, ...] = ()
    delay_reasons: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class ReasonCount:
    code: str
    kind: ReasonKind
    count: int
    last_at: datetime | None
    calls: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Suggestion:
    scenario: str
    count: int  # occurrences of its reasons
    last_at: datetime | None
    reasons: tuple[ReasonCount, ...]


@dataclass(frozen=True, slots=True)
class Needs:
    reviewed_calls: int
    suggestions: tuple[Suggestion, ...]
    unmapped: tuple[ReasonCount, ...]


def _latest(a: datetime | None, b: datetime | None) -> datetime | None:
    return b if a is None or (b is not None and b > a) else a


def _recency(t: datetime | None) -> float:
    return t.timestamp() if t is not None else float("-inf")


def reason_counts(calls: Iterable[ReviewedCall]) -> list[ReasonCount]:
    """Each (code, kind) with how many calls coded it, the latest and which calls."""
    found: dict[tuple[str, ReasonKind], tuple[int, datetime | None, list[str]]] = {}
    for call in calls:
        coded: list[tuple[str, ReasonKind]] = [
            (c, "nonrecognition") for c in call.nonrecognition_reasons
        ]
        coded += [(c, "delay") for c in call.delay_reasons]
        for key in dict.fromkeys(coded):
            n, last, ids = found.get(key, (0, None, []))
            found[key] = (n + 1, _latest(last, call.t0), [*ids, call.call_id])
    counts = [
        ReasonCount(code, kind, n, last, tuple(ids))
        for (code, kind), (n, last, ids) in found.items()
    ]
    return sorted(counts, key=lambda r: (-r.count, -_recency(r.last_at), r.code, r.kind))


def training_needs(calls: Iterable[ReviewedCall]) -> Needs:
    """The suggested scenarios, most needed first, each with the reasons that led to it."""
    reviewed = list(calls)
    counts = reason_counts(reviewed)
    by_scenario: dict[str, list[ReasonCount]] = {}
    unmapped: list[ReasonCount] = []
    for reason in counts:
        scenario = SCENARIO_FOR.get(reason.code)
        if scenario is None:
            unmapped.append(reason)
        else:
            by_scenario.setdefault(scenario, []).append(reason)
    suggestions = []
    for scenario, reasons in by_scenario.items():
        last: datetime | None = None
        for reason in reasons:
            last = _latest(last, reason.last_at)
        suggestions.append(
            Suggestion(scenario, sum(r.count for r in reasons), last, tuple(reasons))
        )
    suggestions.sort(key=lambda s: (-s.count, -_recency(s.last_at), SCENARIOS.index(s.scenario)))
    return Needs(len(reviewed), tuple(suggestions), tuple(unmapped))
