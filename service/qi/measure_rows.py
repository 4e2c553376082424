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
    "t0_fallback_calls",
    "recognitions_after_arrival",
)
BREAKDOWNS: Final = ("tcpr_exclusions", "outside_population")
# The reviewed (AHA) block: its rates (coverage too) and medians, as `reviewed.<key>` rows.
REVIEWED_RATES: Final = (*RATES, "coverage")

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
    *(
        f"reviewed_{rate}_{part}"
        for rate in REVIEWED_RATES
        for part in ("numerator", "denominator", "percent")
    ),
    *(f"reviewed_{median}_{part}" for median in MEDIANS for part in ("value", "n")),
)
BREAKDOWN_COLUMNS: Final = ("by", "group", "suppressed", *MEASURE_COLUMNS[1:])


def cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def _rate_row(blank: dict[str, str], head: dict[str, str], key: str, rate: Any) -> dict[str, str]:
    return {
        **blank,
        **head,
        "measure": key,
        **{part: cell(rate[part]) for part in ("numerator", "denominator", "percent")},
        "goal": cell(rate["goal"]),
    }


def _median_row(
    blank: dict[str, str], head: dict[str, str], key: str, median: Any
) -> dict[str, str]:
    return {
        **blank,
        **head,
        "measure": key,
        **{part: cell(median[part]) for part in ("value", "n", "benchmark")},
    }


def measure_rows(
    agency: str, start: str | None, end: str | None, figures: Mapping[str, Any]
) -> list[dict[str, str]]:
    """One row per measure of one scope (an agency, or "all" for a set's total): the
    provisional measures, then the reviewed (AHA) ones as `reviewed.<key>`."""
    head = {
        "agency": agency,
        "from": cell(start),
        "to": cell(end),
        "benchmark_profile": figures["benchmark_profile"],
    }
    blank = dict.fromkeys(MEASURE_COLUMNS, "")
    rows = [{**blank, **head, "measure": key, "count": cell(figures[key])} for key in COUNTS]
    rows += [_rate_row(blank, head, key, figures[key]) for key in RATES]
    rows += [_median_row(blank, head, key, figures[key]) for key in MEDIANS]
    for key in BREAKDOWNS:
        for reason, n in figures[key].items():
            rows.append({**blank, **head, "measure": f"{key}.{reason}", "count": cell(n)})
    reviewed = figures["reviewed"]
    rows.append(
        {**blank, **head, "measure": "reviewed.qi_reviewed", "count": cell(reviewed["qi_reviewed"])}
    )
    rows += [_rate_row(blank, head, f"reviewed.{key}", reviewed[key]) for key in REVIEWED_RATES]
    rows += [_median_row(blank, head, f"reviewed.{key}", reviewed[key]) for key in MEDIANS]
    for reason, n in reviewed["tcpr_exclusions"].items():
        rows.append(
            {**blank, **head, "measure": f"reviewed.tcpr_exclusions.{reason}", "count": cell(n)}
        )
    for kind, tally in reviewed["reasons"].items():
        for reason, n in tally.items():
            rows.append(
                {**blank, **head, "measure": f"reviewed.reasons.{kind}.{reason}", "count": cell(n)}
            )
    return rows


def breakdown_rows(
    by: str, start: str | None, end: str | None, groups: Iterable[Mapping[str, Any]]
) -> list[dict[str, str]]:
    """A breakdown as CSV: each group's measure rows; a suppressed group is one row that says
    so, with no figure in it."""
    rows: list[dict[str, str]] = []
    blank = dict.fromkeys(BREAKDOWN_COLUMNS, "")
    for group in groups:
        name = cell(group["group"])
        if group["suppressed"]:
            rows.append(
                {**blank, "by": by, "group": name, "suppressed": "true", "measure": "population"}
            )
            continue
        for row in measure_rows("", start, end, group):
            del row["agency"]
            rows.append({**blank, "by": by, "group": name, "suppressed": "false", **row})
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
    reviewed = figures["reviewed"]
    for rate in REVIEWED_RATES:
        for part in ("numerator", "denominator", "percent"):
            row[f"reviewed_{rate}_{part}"] = cell(reviewed[rate][part])
    for median in MEDIANS:
        for part in ("value", "n"):
            row[f"reviewed_{median}_{part}"] = cell(reviewed[median][part])
    return row


def monthly_rows(
    months: Iterable[Mapping[str, Any]], total: Mapping[str, Any], start: str, end: str
) -> list[dict[str, str]]:
    """One row per month, then the period's total."""
    rows = [month_row(m["month"], m["from"], m["to"], m) for m in months]
    rows.append(month_row("total", start, end, total))
    return rows
