"""The §5 measures as flat CSV rows, pure: one row per measure, or one row per month.

A spreadsheet is what QI staff and state coordinators bring figures into, so every value lands
in its own column, blank where the JSON says null.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, Final

RATES: Final = ("recognition_rate", "recognizable_recognition_rate", "tcpr_rate")
MEDIANS: Final = ("median_seconds_to_recognition", "median_seconds_to_first_compression")
COUNTS: Final = (
    "calls_in_period",
    "population",
    "qi_reviewed",
    "qi_reviewed_all_calls",
    "over_triage",
    "without_ems_outcome",
)
BREAKDOWNS: Final = ("tcpr_exclusions", "outside_population")

MEASURE_COLUMNS: Final = (
    "agency",
    "from",
    "to",
    "benchmark_profile",
    "measure",
    "numerator",
    "denominator",
    "percent",
    "goal",
    "value",
    "n",
    "benchmark",
    "count",
)
MONTH_COLUMNS: Final = (
    "period",
    "from",
    "to",
    "benchmark_profile",
    *COUNTS,
    *(f"{rate}_{part}" for rate in RATES for part in ("numerator", "denominator", "percent")),
    *(f"{median}_{part}" for median in MEDIANS for part in ("value", "n")),
)


def cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def measure_rows(
    agency: str, start: str | None, end: str | None, figures: Mapping[str, Any]
) -> list[dict[str, str]]:
    """One row per measure of one scope (an agency, or "all" for a set's total)."""
    head = {
        "agency": agency,
        "from": cell(start),
        "to": cell(end),
        "benchmark_profile": figures["benchmark_profile"],
    }
    blank = dict.fromkeys(MEASURE_COLUMNS, "")
    rows = [{**blank, **head, "measure": key, "count": cell(figures[key])} for key in COUNTS]
    for key in RATES:
        rate = figures[key]
        rows.append(
            {
                **blank,
                **head,
                "measure": key,
                **{part: cell(rate[part]) for part in ("numerator", "denominator", "percent")},
                "goal": cell(rate["goal"]),
            }
        )
    for key in MEDIANS:
        median = figures[key]
        rows.append(
            {
                **blank,
                **head,
                "measure": key,
                **{part: cell(median[part]) for part in ("value", "n", "benchmark")},
            }
        )
    for key in BREAKDOWNS:
        for reason, n in figures[key].items():
            rows.append({**blank, **head, "measure": f"{key}.{reason}", "count": cell(n)})
    return rows


def month_row(period: str, start: str, end: str, figures: Mapping[str, Any]) -> dict[str, str]:
    row = {
        "period": period,
        "from": start,
        "to": end,
        "benchmark_profile": figures["benchmark_profile"],
    }
    row.update({key: cell(figures[key]) for key in COUNTS})
    for rate in RATES:
        for part in ("numerator", "denominator", "percent"):
            row[f"{rate}_{part}"] = cell(figures[rate][part])
    for median in MEDIANS:
        for part in ("value", "n"):
            row[f"{median}_{part}"] = cell(figures[median][part])
    return row


def monthly_rows(
    months: Iterable[Mapping[str, Any]], total: Mapping[str, Any], start: str, end: str
) -> list[dict[str, str]]:
    """One row per month, then the period's total."""
    rows = [month_row(m["month"], m["from"], m["to"], m) for m in months]
    rows.append(month_row("total", start, end, total))
    return rows
