"""Honest about small numbers: p-chart control limits and funnel plots for rates, pure.

A centre sees a few arrests a month, so a month's recognition rate of 1 of 2 says little. Drawn
with its own control limits (the period's mean proportion p̄ ± 3 standard errors for that month's
n, a Shewhart p-chart), a low month is read as a signal only when it falls outside them. Agencies
or telecommunicators of very different volumes are compared on a funnel plot: each one's rate
against its n, with limits around the pooled rate that narrow as n grows (95 % and 99.8 %, as in
Spiegelhalter's funnel plots), so a small unit is not singled out for its noise.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Final

CONTROL_SIGMAS: Final = 3.0
FUNNEL_Z: Final = {"95": 1.959964, "99.8": 3.090232}
FUNNEL_STEPS: Final = 60


def _percent(p: float) -> float:
    return round(min(max(p, 0.0), 1.0) * 100, 1)


def limits(center: float, n: int, z: float) -> tuple[float, float]:
    """The lower and upper limits (percent) of a proportion around `center` for n trials."""
    spread = z * math.sqrt(center * (1 - center) / n)
    return _percent(center - spread), _percent(center + spread)


def p_chart(months: Sequence[Mapping[str, Any]], key: str) -> dict[str, Any]:
    """Control limits of a monthly rate (`key` of each month's figures): the centre line is the
    period's pooled rate; each month with a denominator gets its own limits and whether its
    rate lies outside them (a signal worth a look, not noise)."""
    numerator = sum(m[key]["numerator"] for m in months)
    denominator = sum(m[key]["denominator"] for m in months)
    if denominator == 0:
        return {"center": None, "sigmas": CONTROL_SIGMAS, "months": []}
    center = numerator / denominator
    out = []
    for month in months:
        n = month[key]["denominator"]
        if n == 0:
            continue
        lower, upper = limits(center, n, CONTROL_SIGMAS)
        value = month[key]["numerator"] * 100 / n
        out.append(
            {
                "month": month["month"],
                "n": n,
                "lower": lower,
                "upper": upper,
                "outside": value < lower or value > upper,
            }
        )
    return {"center": _percent(center), "sigmas": CONTROL_SIGMAS, "months": out}


def funnel(units: Iterable[tuple[str | None, Mapping[str, Any]]]) -> dict[str, Any]:
    """A funnel plot of one rate over several units (name, the rate's figures): each unit's n
    and percent, the pooled rate, and the 95 % and 99.8 % limits from n = 1 to the largest n.
    Units whose denominator is 0 have nothing to plot and are left out."""
    points = [
        {
            "name": name,
            "n": rate["denominator"],
            "numerator": rate["numerator"],
            "percent": rate["percent"],
        }
        for name, rate in units
        if rate["denominator"] > 0
    ]
    total = sum(p["n"] for p in points)
    if total == 0:
        return {"center": None, "points": [], "limits": []}
    center = sum(p["numerator"] for p in points) / total
    largest = max(p["n"] for p in points)
    ns = sorted({1, largest, *(max(1, round(largest * i / FUNNEL_STEPS)) for i in range(1, 61))})
    curve = []
    for n in ns:
        row: dict[str, Any] = {"n": n}
        for name, z in FUNNEL_Z.items():
            row[f"lower_{name}"], row[f"upper_{name}"] = limits(center, n, z)
        curve.append(row)
    for p in points:
        low, high = limits(center, p["n"], FUNNEL_Z["99.8"])
        p["outside_99_8"] = p["percent"] is not None and not low <= p["percent"] <= high
    return {"center": _percent(center), "points": points, "limits": curve}


# The rates compared across units on a funnel plot each.
FUNNEL_RATES: Final = ("recognition_rate", "tcpr_rate")


def funnels(units: Iterable[tuple[str | None, Mapping[str, Any]]]) -> dict[str, Any]:
    """One funnel plot per rate of FUNNEL_RATES, over units given as (name, their figures)."""
    units = list(units)
    return {key: funnel((name, figures[key]) for name, figures in units) for key in FUNNEL_RATES}
