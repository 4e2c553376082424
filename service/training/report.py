"""How the hours, compliance and training needs read on the wire and in the centre's CSVs."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime, tzinfo
from typing import Any, Final

from service.training.hours import (
    CE_MINIMUM_MINUTES,
    CE_RECOMMENDED_MINUTES,
    INITIAL_MINIMUM_MINUTES,
    INITIAL_RECOMMENDED_MINUTES,
    WINDOW_MONTHS,
    Compliance,
)
from service.training.needs import Needs, ReasonCount

RULE: Final = {
    "initial_minimum_minutes": INITIAL_MINIMUM_MINUTES,
    "initial_recommended_minutes": INITIAL_RECOMMENDED_MINUTES,
    "continuing_minimum_minutes": CE_MINIMUM_MINUTES,
    "continuing_recommended_minutes": CE_RECOMMENDED_MINUTES,
    "window_months": WINDOW_MONTHS,
    "source": "AHA T-CPR program: initial training 3-4 hours for 100 % of call takers; "
    "ongoing 2-3 hours annually",
}
# Who needs attention first: out of compliance, then lapsing soonest, then everyone else.
_ORDER: Final = {"initial_incomplete": 0, "ce_due": 1, "compliant": 2}

PEOPLE_COLUMNS: Final = (
    "agency",
    "person",
    "status",
    "initial_hours",
    "initial_completed_on",
    "continuing_hours_12_months",
    "window_from",
    "continuing_required_from",
    "continuing_due_on",
    "due_within_days",
    "suggested_scenarios",
    "as_of",
)
RECORD_COLUMNS: Final = (
    "id",
    "agency",
    "person",
    "category",
    "kind",
    "title",
    "minutes",
    "hours",
    "taken_at",
    "session_id",
    "entered_by",
    "entered_at",
)


def _iso(t: datetime | None) -> str | None:
    return t.isoformat() if t is not None else None


def _day(t: datetime | None, zone: tzinfo) -> str:
    return t.astimezone(zone).date().isoformat() if t is not None else ""


def hours(minutes: int) -> str:
    """Minutes as hours with two decimals (95 → 1.58)."""
    return f"{minutes / 60:.2f}"


def _reason_json(reason: ReasonCount) -> dict[str, Any]:
    return {
        "code": reason.code,
        "kind": reason.kind,
        "count": reason.count,
        "last_at": _iso(reason.last_at),
        "calls": list(reason.calls),
    }


def needs_json(needs: Needs) -> dict[str, Any]:
    return {
        "reviewed_calls": needs.reviewed_calls,
        "suggestions": [
            {
                "scenario": s.scenario,
                "count": s.count,
                "last_at": _iso(s.last_at),
                "reasons": [_reason_json(r) for r in s.reasons],
            }
            for s in needs.suggestions
        ],
        "unmapped": [_reason_json(r) for r in needs.unmapped],
    }


def person_json(c: Compliance, needs: Needs, records: Sequence[Any]) -> dict[str, Any]:
    """One person's line: `records` are the store's records (with `as_json`)."""
    return {
        "person": c.person,
        "status": c.status,
        "initial_minutes": c.initial_minutes,
        "initial_completed_at": _iso(c.initial_completed_at),
        "continuing_minutes": c.ce_minutes,
        "window_from": _iso(c.ce_window_from),
        "continuing_required_from": _iso(c.ce_required_from),
        "continuing_not_yet_due": c.ce_not_yet_due,
        "continuing_due_on": _iso(c.ce_due_on),
        "due_soon": c.due_soon,
        "needs": needs_json(needs),
        "records": [r.as_json() for r in records],
    }


def ordered(standings: Iterable[Compliance]) -> list[Compliance]:
    return sorted(
        standings,
        key=lambda c: (_ORDER[c.status], c.due_soon or 999, c.person.casefold(), c.person),
    )


def counts(standings: Sequence[Compliance]) -> dict[str, int]:
    """How many people, and how many of each status; `out_of_compliance` is the board's flag."""
    by = {status: sum(1 for c in standings if c.status == status) for status in _ORDER}
    return {
        "people": len(standings),
        **by,
        "out_of_compliance": by["initial_incomplete"] + by["ce_due"],
        "due_within_30_days": sum(1 for c in standings if c.due_soon == 30),
        "due_within_60_days": sum(1 for c in standings if c.due_soon is not None),
    }


def people_row(agency: str, c: Compliance, needs: Needs, zone: tzinfo) -> Mapping[str, object]:
    return {
        "agency": agency,
        "person": c.person,
        "status": c.status,
        "initial_hours": hours(c.initial_minutes),
        "initial_completed_on": _day(c.initial_completed_at, zone),
        "continuing_hours_12_months": hours(c.ce_minutes),
        "window_from": _day(c.ce_window_from, zone),
        "continuing_required_from": _day(c.ce_required_from, zone),
        "continuing_due_on": _day(c.ce_due_on, zone),
        "due_within_days": c.due_soon,
        "suggested_scenarios": [s.scenario for s in needs.suggestions],
        "as_of": c.as_of.isoformat(),
    }


def record_row(record: Any) -> Mapping[str, object]:
    out = record.as_json()
    return {**{k: out[k] for k in RECORD_COLUMNS if k != "hours"}, "hours": hours(record.minutes)}
