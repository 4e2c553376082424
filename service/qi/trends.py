"""Monthly and yearly measures and their secular trend (DESIGN.md §5, §6 QI pages), pure.

Months are calendar months of the agency's own time zone (`AgencyConfig.zone`): a centre's
"January" starts at its local midnight, whatever UTC says, and a month across a daylight-saving
change is simply shorter or longer in UTC. Months at the edges of a period are clipped to it, so
a month's `from`/`to` are the bounds its figures were counted over.

The secular trend is the ordinary least-squares slope of a measure against the month number, over
the months that have a value (a rate with a denominator, a median with any call), scaled to a
year: percentage points per year for rates, seconds per year for medians. Every month weighs the
same, however many calls it had: the question is whether the centre's months are getting better.
Fewer than three such months give no trend. Rates use the exact ratio, not the one-decimal percent.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from itertools import groupby
from typing import Any, Final
from zoneinfo import ZoneInfo

from service.qi.cohorts import Cohort
from service.qi.measures import measures_from_cohorts
from service.qi.spc import p_chart
from service.triage.profiles import BenchmarkProfile

MIN_MONTHS: Final = 3
# Slopes smaller than these (per year) are reported as flat: under a percentage point or a second
# a year is within what the month-to-month noise of a centre's few arrests produces.
FLAT_POINTS_PER_YEAR: Final = 1.0
FLAT_SECONDS_PER_YEAR: Final = 1.0
# (key, higher is better) for each trended measure.
TRENDED: Final = (
    ("recognition_rate", True),
    ("tcpr_rate", True),
    ("median_seconds_to_recognition", False),
    ("median_seconds_to_first_compression", False),
)


CHARTED_RATES: Final = ("recognition_rate", "tcpr_rate")


@dataclass(frozen=True, slots=True)
class Bucket:
    """A calendar month (clipped to the period): `start` <= T0 < `end`."""

    label: str  # "2026-01"
    start: datetime
    end: datetime


def month_buckets(start: datetime, end: datetime, zone: str) -> list[Bucket]:
    """Every calendar month of `zone` overlapping [start, end), clipped to the period."""
    tz = ZoneInfo(zone)
    local = start.astimezone(tz)
    year, month = local.year, local.month
    out: list[Bucket] = []
    while True:
        first = datetime(year, month, 1, tzinfo=tz)
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
        following = datetime(year, month, 1, tzinfo=tz)
        # Compared as instants: datetimes sharing a tzinfo compare by wall time.
        if first.timestamp() >= end.timestamp():
            return out
        out.append(
            Bucket(
                f"{first.year:04d}-{first.month:02d}",
                max(first, start.astimezone(tz), key=datetime.timestamp),
                min(following, end.astimezone(tz), key=datetime.timestamp),
            )
        )


def bounds(buckets: Sequence[Bucket]) -> list[datetime]:
    """The instants separating consecutive buckets, first start to last end."""
    return [b.start for b in buckets] + ([buckets[-1].end] if buckets else [])


def merge(
    parts: Sequence[tuple[Sequence[Bucket], Sequence[Sequence[Cohort]]]],
) -> tuple[list[Bucket], list[list[Cohort]]]:
    """Agencies of different zones, each counted in its own months, added month by month: the
    set's January is every agency's own January. A merged month spans its earliest start to its
    latest end."""
    by_label: dict[str, tuple[Bucket, list[Cohort]]] = {}
    for buckets, cohorts in parts:
        for bucket, found in zip(buckets, cohorts, strict=True):
            if bucket.label in by_label:
                known, merged = by_label[bucket.label]
                earliest = min(known.start, bucket.start, key=lambda t: t.timestamp())
                latest = max(known.end, bucket.end, key=lambda t: t.timestamp())
                by_label[bucket.label] = (Bucket(bucket.label, earliest, latest), merged)
                merged.extend(found)
            else:
                by_label[bucket.label] = (bucket, list(found))
    labels = sorted(by_label)
    return [by_label[k][0] for k in labels], [by_label[k][1] for k in labels]


def slope(points: Sequence[tuple[float, float]]) -> float | None:
    """Least-squares slope of y on x; None when x does not vary."""
    n = len(points)
    if n < 2:
        return None
    mean_x = sum(x for x, _ in points) / n
    mean_y = sum(y for _, y in points) / n
    sxx = sum((x - mean_x) ** 2 for x, _ in points)
    if sxx == 0:
        return None
    return sum((x - mean_x) * (y - mean_y) for x, y in points) / sxx


def month_value(figures: dict[str, Any], key: str) -> float | None:
    """A month's value of a trended measure: the exact percentage, or the median."""
    measure = figures[key]
    if "denominator" in measure:
        if measure["denominator"] == 0:
            return None
        return float(measure["numerator"] * 100 / measure["denominator"])
    value = measure["value"]
    return None if value is None else float(value)


def secular_trend(months: Sequence[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Per trended measure: slope per year, direction, months used (month i is x = i)."""
    out: dict[str, dict[str, Any]] = {}
    for key, higher_is_better in TRENDED:
        points = [
            (float(i), value)
            for i, month in enumerate(months)
            if (value := month_value(month, key)) is not None
        ]
        per_month = slope(points) if len(points) >= MIN_MONTHS else None
        if per_month is None:
            out[key] = {"slope_per_year": None, "direction": None, "months_used": len(points)}
            continue
        per_year = round(per_month * 12, 2)
        flat = FLAT_POINTS_PER_YEAR if higher_is_better else FLAT_SECONDS_PER_YEAR
        if abs(per_year) < flat:
            direction = "flat"
        elif (per_year > 0) == higher_is_better:
            direction = "improving"
        else:
            direction = "worsening"
        out[key] = {"slope_per_year": per_year, "direction": direction, "months_used": len(points)}
    return out


def trend(
    buckets: Sequence[Bucket], cohorts: Sequence[Sequence[Cohort]], profile: BenchmarkProfile
) -> dict[str, Any]:
    """Months, calendar years and the secular trend from each month's cohorts."""
    months = [
        {
            "month": b.label,
            "from": b.start.isoformat(),
            "to": b.end.isoformat(),
            **measures_from_cohorts(found, profile),
        }
        for b, found in zip(buckets, cohorts, strict=True)
    ]
    years = []
    paired = list(zip(buckets, cohorts, strict=True))
    for year, group in groupby(paired, key=lambda pair: pair[0].label[:4]):
        members = list(group)
        years.append(
            {
                "year": int(year),
                "from": members[0][0].start.isoformat(),
                "to": members[-1][0].end.isoformat(),
                **measures_from_cohorts([c for _, found in members for c in found], profile),
            }
        )
    return {
        "months": months,
        "years": years,
        "secular_trend": secular_trend(months),
        # Each month's own limits around the period's rate (service.qi.spc): a low month with
        # few arrests is noise unless it falls outside them.
        "control_limits": {key: p_chart(months, key) for key in CHARTED_RATES},
    }
