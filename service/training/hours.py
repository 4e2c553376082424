"""Continuing-education compliance in T-CPR, per person (AHA programme, part two):

    "Train and provide continuing education in T-CPR for all telecommunicators: initial training
    3–4 hours for 100 % of call takers; ongoing 2–3 hours annually."

The rule as encoded here, with the clock passed in:
- **initial**: the person's `initial` training adds up to at least 3 h (4 h is the recommended
  top). Training is *complete* at the record that brought the total to 3 h.
- **continuing**, "in each 12 months": at instant `t`, the `continuing` minutes taken in the
  trailing 12 calendar months, the window (t − 12 months, t], must reach 2 h (3 h recommended).
  A record taken exactly 12 months ago has left the window. Months are counted on the agency's
  own calendar, so a course on 10 March counts through 9 March of the next year.
- **not yet due**: for 12 months after the initial training was complete, continuing education
  is not yet required (the initial course is that year's training). The answer says from when.
- **status**: `initial_incomplete` (under 3 h of initial training), else `ce_due` (due, and under
  2 h in the window), else `compliant`.
- **due soon**, for planning: the first moment in the next 60 days at which the person would be
  `ce_due` if nothing more were entered (hours leaving the window, or the first year ending), and
  whether it falls within 30 or 60 days.

Only records taken at or before `now` count: a future date is a plan, not training.
"""

from __future__ import annotations

from calendar import monthrange
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, tzinfo
from typing import Final, Literal

INITIAL_MINIMUM_MINUTES: Final = 180
INITIAL_RECOMMENDED_MINUTES: Final = 240
CE_MINIMUM_MINUTES: Final = 120
CE_RECOMMENDED_MINUTES: Final = 180
WINDOW_MONTHS: Final = 12
# The longest single record: a long day of classroom training, and the most a session credits.
MAX_RECORD_MINUTES: Final = 960
DUE_SOON_DAYS: Final = (30, 60)

Status = Literal["compliant", "initial_incomplete", "ce_due"]
Category = Literal["initial", "continuing"]


@dataclass(frozen=True, slots=True)
class Training:
    """One record's time as the rule reads it."""

    category: Category
    minutes: int
    taken_at: datetime


@dataclass(frozen=True, slots=True)
class Compliance:
    """One person's standing at `as_of`."""

    person: str
    status: Status
    initial_minutes: int
    initial_completed_at: datetime | None
    ce_minutes: int  # continuing minutes in the window (ce_window_from, as_of]
    ce_window_from: datetime
    ce_required_from: datetime | None  # None until the initial training is complete
    ce_not_yet_due: bool  # complete initial training less than 12 months old
    ce_due_on: datetime | None  # the first moment within the horizon it would be ce_due
    due_soon: int | None  # 30 or 60: ce_due_on falls within that many days, else None
    as_of: datetime


def add_months(t: datetime, months: int, zone: tzinfo) -> datetime:
    """The same wall time `months` calendar months later in `zone` (day clamped to the month's
    last: 31 March less one month is 28 or 29 February)."""
    local = t.astimezone(zone)
    index = local.year * 12 + local.month - 1 + months
    year, month = divmod(index, 12)
    day = min(local.day, monthrange(year, month + 1)[1])
    return local.replace(year=year, month=month + 1, day=day)


def initial_completed_at(records: Iterable[Training]) -> datetime | None:
    """When the initial training reached the minimum: the record that brought it to 3 h."""
    total = 0
    for record in sorted((r for r in records if r.category == "initial"), key=_when):
        total += record.minutes
        if total >= INITIAL_MINIMUM_MINUTES:
            return record.taken_at
    return None


def ce_minutes_at(records: Iterable[Training], t: datetime, zone: tzinfo) -> int:
    """Continuing minutes in the window (t − 12 months, t]."""
    start = add_months(t, -WINDOW_MONTHS, zone)
    return sum(r.minutes for r in records if r.category == "continuing" and start < r.taken_at <= t)


def status_at(
    records: Sequence[Training], t: datetime, completed: datetime | None, zone: tzinfo
) -> Status:
    """The status at `t` from the records given (the caller gives only those taken by now)."""
    if completed is None or completed > t:
        return "initial_incomplete"
    if t < add_months(completed, WINDOW_MONTHS, zone):
        return "compliant"  # not yet due
    return "ce_due" if ce_minutes_at(records, t, zone) < CE_MINIMUM_MINUTES else "compliant"


def compliance(person: str, records: Iterable[Training], now: datetime, zone: tzinfo) -> Compliance:
    """The person's standing at `now` and when, if nothing is added, it would lapse."""
    taken = [r for r in records if r.taken_at <= now]
    completed = initial_completed_at(taken)
    status = status_at(taken, now, completed, zone)
    required_from = add_months(completed, WINDOW_MONTHS, zone) if completed else None
    due_on = (
        _next_due(taken, now, completed, required_from, zone) if status == "compliant" else None
    )
    soon = None
    if due_on is not None:
        soon = next(d for d in DUE_SOON_DAYS if due_on <= now + timedelta(days=d))
    return Compliance(
        person=person,
        status=status,
        initial_minutes=sum(r.minutes for r in taken if r.category == "initial"),
        initial_completed_at=completed,
        ce_minutes=ce_minutes_at(taken, now, zone),
        ce_window_from=add_months(now, -WINDOW_MONTHS, zone),
        ce_required_from=required_from,
        ce_not_yet_due=required_from is not None and now < required_from,
        ce_due_on=due_on,
        due_soon=soon,
        as_of=now,
    )


def _next_due(
    taken: Sequence[Training],
    now: datetime,
    completed: datetime | None,
    required_from: datetime | None,
    zone: tzinfo,
) -> datetime | None:
    """The first instant in (now, now + 60 days] at which the status turns `ce_due`: the
    status changes only when a record leaves the window or the first year ends, so only
    those instants are tried."""
    horizon = now + timedelta(days=DUE_SOON_DAYS[-1])
    moments = {
        add_months(r.taken_at, WINDOW_MONTHS, zone) for r in taken if r.category == "continuing"
    }
    if required_from is not None:
        moments.add(required_from)
    for t in sorted(m for m in moments if now < m <= horizon):
        if status_at(taken, t, completed, zone) == "ce_due":
            return t
    return None


def _when(record: Training) -> datetime:
    return record.taken_at
