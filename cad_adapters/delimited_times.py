"""Reading and placing a delimited row's times (`time` in the mapping file).

Times of day (`time.date_column`) are placed by instants, never by wall clock or by column or
list order:
- the anchor is the row's call.received time when it has one (T0: the call's other events follow
  it), otherwise any of its times; the anchor is on the row's date;
- every other time of day is its first instant, on that date or the next day, that is no more than
  5 minutes (SKEW: two systems' clocks) before the anchor; if that is more than 12 hours after the
  anchor, it is instead its last instant before the anchor (a bad row stays a short one);
- a wall time that happens twice (fall back) is tried at both instants, as anchor and otherwise;
  of all these placements the one spanning the shortest time wins. So received 23:58 and
  dispatched 00:03 put 00:03 on the next day, and on the Central fall-back night received 01:50,
  dispatched 01:05 are 01:50 CDT and 01:05 CST, 15 minutes later;
- placements that span the same time (a call inside the repeated hour) are decided by
  `time.ambiguous`: "earlier" takes the fewest second occurrences, "later" the fewest first ones,
  then the earliest placement wins; "reject" refuses any row placed on a repeated wall time. A wall
  time the clocks skipped (spring forward) is a ParseError wherever it is placed.
Full timestamps are read each on its own: their repeated hour is `time.ambiguous`'s alone.

Pure: no I/O, no clock.
"""

from __future__ import annotations

import contextlib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from cad_adapters.core import ParseError
from cad_adapters.mapping import DATE_DIRECTIVE, TimeSpec

SKEW = timedelta(minutes=5)  # how far a time may precede its row's anchor and stay before it
HALF_DAY = timedelta(hours=12)  # a time that would follow the anchor by more is taken before it


@dataclass(frozen=True, slots=True)
class Found:
    """One time value of a row: which event spec it belongs to and where it stood."""

    spec: int
    column: str
    value: str
    unit: str | None
    received: bool  # the call.received time: the anchor of the row's times of day


@dataclass(frozen=True, slots=True)
class _Reading:
    """One way to read a wall time in the mapping's zone."""

    local: datetime  # aware, in the zone (or the value's own offset)
    utc: datetime  # the instant: compare these, never `local` (same-zone comparison ignores fold)
    second: bool = False  # the second occurrence of a wall time that happens twice
    twice: bool = False  # the wall time happens twice (the clocks went back)
    missing: bool = False  # the wall time does not exist (the clocks went forward)


def place(
    found: list[Found], row: Mapping[str, str | None], spec: TimeSpec, zone: ZoneInfo
) -> list[datetime]:
    """Each time as an aware datetime: dates completed, rollover applied, zone given."""
    parsed = [_read(f.value, f.column, spec.formats) for f in found]
    out: list[datetime | None] = [
        _zoned(dt, f, spec, zone) if dated else None
        for f, (dt, dated) in zip(found, parsed, strict=True)
    ]
    clock = [i for i, (_, dated) in enumerate(parsed) if not dated]
    if clock:
        times = [(found[i], parsed[i][0].timetz()) for i in clock]
        day = _row_date(times[0][0], row, spec)
        for i, at in zip(clock, _times_of_day(times, day, spec, zone), strict=True):
            out[i] = at
    return [at for at in out if at is not None]


def _times_of_day(
    times: list[tuple[Found, time]], day: date, spec: TimeSpec, zone: ZoneInfo
) -> list[datetime]:
    """The row's times of day placed together (the rule is in the module docstring)."""
    days = [day]
    with contextlib.suppress(OverflowError):
        days.append(day + timedelta(days=1))
    options = [
        [r for d in days for r in _readings(datetime.combine(d, t), f, zone)] for f, t in times
    ]
    for opts in options:
        opts.sort(key=lambda r: r.utc)
    received = [i for i, (f, _) in enumerate(times) if f.received]
    rule = spec.ambiguous
    best: tuple[Any, ...] | None = None
    placed: list[_Reading] = []
    for i in received or range(len(times)):
        for anchor in (r for r in options[i] if r.local.date() == day):
            candidate = [anchor if j == i else _follow(anchor, o) for j, o in enumerate(options)]
            instants = sorted(r.utc for r in candidate)
            folds = sum(
                r.second if rule != "later" else r.twice and not r.second for r in candidate
            )
            key = (instants[-1] - instants[0], folds, instants)
            if best is None or key < best:
                best, placed = key, candidate
    for (f, _), r in zip(times, placed, strict=True):
        _check(r, f, spec, zone)
    return [r.local for r in placed]


def _readings(wall: datetime, f: Found, zone: ZoneInfo) -> list[_Reading]:
    """The instants a wall time (naive: in the mapping's zone) may mean: one, or two."""
    try:
        if wall.tzinfo is not None:
            return [_Reading(wall, wall.astimezone(UTC))]
        first, second = wall.replace(tzinfo=zone, fold=0), wall.replace(tzinfo=zone, fold=1)
        utc = first.astimezone(UTC)
        if utc.astimezone(zone).replace(tzinfo=None) != wall:
            return [_Reading(first, utc, missing=True)]
        if first.utcoffset() == second.utcoffset():
            return [_Reading(first, utc)]
        return [
            _Reading(first, utc, twice=True),
            _Reading(second, second.astimezone(UTC), second=True, twice=True),
        ]
    except OverflowError:
        raise ParseError(f"{f.value!r} falls outside the years 1 to 9999", f.column) from None


def _zoned(dt: datetime, f: Found, spec: TimeSpec, zone: ZoneInfo) -> datetime:
    """A full timestamp: its own offset, else the zone's, `ambiguous` choosing in the fall."""
    readings = _readings(dt, f, zone)
    reading = readings[-1] if spec.ambiguous == "later" else readings[0]
    _check(reading, f, spec, zone)
    return reading.local


def _check(r: _Reading, f: Found, spec: TimeSpec, zone: ZoneInfo) -> None:
    wall = r.local.replace(tzinfo=None)
    if r.missing:
        raise ParseError(
            f"{wall:%Y-%m-%d %H:%M:%S} does not exist in {zone.key} (the clocks went forward)",
            f.column,
        )
    if r.twice and spec.ambiguous == "reject":
        raise ParseError(
            f"{wall:%Y-%m-%d %H:%M:%S} happens twice in {zone.key} (the clocks went back)",
            f.column,
        )


def _row_date(f: Found, row: Mapping[str, str | None], spec: TimeSpec) -> date:
    """The date the row's times of day are on (`time.date_column`)."""
    column = spec.date_column or ""
    value = row[column]
    if value is None:
        raise ParseError(f"no date for the time of day {f.value!r} of {f.column}", column)
    return _read(value, column, spec.date_formats)[0].date()


def _follow(anchor: _Reading, options: list[_Reading]) -> _Reading:
    """The reading of a time of day that goes with the anchor (`options` in time order)."""
    after = [r for r in options if r.utc >= anchor.utc - SKEW]
    before = [r for r in options if r.utc < anchor.utc - SKEW]
    if after and (after[0].utc - anchor.utc <= HALF_DAY or not before):
        return after[0]
    return before[-1]


def _read(value: str, column: str, formats: tuple[str, ...]) -> tuple[datetime, bool]:
    """The value by the first format that reads it, and whether that format gives a date."""
    impossible = None
    for fmt in formats:
        try:
            if fmt == "iso":
                return datetime.fromisoformat(value), True
            return datetime.strptime(value, fmt), bool(DATE_DIRECTIVE.search(fmt))
        except ValueError as exc:
            reason = str(exc)
            if not reason.startswith(("time data", "unconverted data", "Invalid isoformat")):
                impossible = impossible or reason  # it has the shape but names no real instant
    if impossible is not None:
        raise ParseError(f"impossible date or time {value!r}: {impossible}", column)
    raise ParseError(f"{value!r} matches none of the formats {', '.join(formats)}", column)
