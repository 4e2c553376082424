"""Control limits for monthly rates and funnel plots (service.qi.spc), by hand."""

from __future__ import annotations

from typing import Any

from service.qi.spc import funnel, limits, p_chart


def month(label: str, numerator: int, denominator: int) -> dict[str, Any]:
    return {
        "month": label,
        "recognition_rate": {"numerator": numerator, "denominator": denominator},
    }


def test_p_chart_limits_follow_each_months_n() -> None:
    months = [month(f"2026-0{i + 1}", n, 25) for i, n in enumerate((20, 20, 20, 5))]
    months.append(month("2026-05", 0, 0))  # no arrests: nothing to chart
    chart = p_chart(months, "recognition_rate")
    # Pooled 65 / 100; sd = sqrt(0.65 * 0.35 / 25) = 0.095394; 3 sd = 0.286182.
    assert chart["center"] == 65.0
    assert chart["sigmas"] == 3.0
    assert [m["month"] for m in chart["months"]] == ["2026-01", "2026-02", "2026-03", "2026-04"]
    first = chart["months"][0]
    assert (first["n"], first["lower"], first["upper"], first["outside"]) == (25, 36.4, 93.6, False)
    # 5 of 25 = 20 %, under 36.4 %: a signal, not noise.
    assert chart["months"][3]["outside"] is True


def test_a_small_month_has_wide_limits() -> None:
    # 1 of 2 in a month of a period at 50 %: limits are 0 to 100, nothing to read into it.
    chart = p_chart([month("a", 9, 18), month("b", 1, 2)], "recognition_rate")
    assert chart["months"][1] == {
        "month": "b",
        "n": 2,
        "lower": 0.0,
        "upper": 100.0,
        "outside": False,
    }


def test_p_chart_of_nothing() -> None:
    assert p_chart([month("a", 0, 0)], "recognition_rate") == {
        "center": None,
        "sigmas": 3.0,
        "months": [],
    }


def test_limits_are_clipped_to_percentages() -> None:
    assert limits(0.5, 1, 3.0) == (0.0, 100.0)
    assert limits(0.5, 100, 2.0) == (40.0, 60.0)  # 2 * sqrt(0.25 / 100) = 0.1


def test_funnel_points_and_limits() -> None:
    def rate(numerator: int, denominator: int) -> dict[str, Any]:
        percent = None if denominator == 0 else round(numerator * 100 / denominator, 1)
        return {"numerator": numerator, "denominator": denominator, "percent": percent}

    plot = funnel([("A", rate(8, 10)), ("B", rate(1, 10)), ("C", rate(30, 40)), ("D", rate(0, 0))])
    # Pooled 39 / 60 = 65 %.
    assert plot["center"] == 65.0
    assert [p["name"] for p in plot["points"]] == ["A", "B", "C"]  # D has nothing to plot
    outside = {p["name"]: p["outside_99_8"] for p in plot["points"]}
    # n = 10: 3.090232 * sqrt(0.65 * 0.35 / 10) = 0.466 -> 18.4 % to 100 %: B (10 %) is out.
    # n = 40: 0.233 -> 41.7 % to 88.3 %: C (75 %) is in.
    assert outside == {"A": False, "B": True, "C": False}
    by_n = {row["n"]: row for row in plot["limits"]}
    assert (by_n[10]["lower_99.8"], by_n[10]["upper_99.8"]) == (18.4, 100.0)
    assert (by_n[40]["lower_99.8"], by_n[40]["upper_99.8"]) == (41.7, 88.3)
    # 95 %: 1.959964 * 0.075416 = 0.147813 at n = 40 -> 50.2 % to 79.8 %.
    assert (by_n[40]["lower_95"], by_n[40]["upper_95"]) == (50.2, 79.8)
    assert plot["limits"][0]["n"] == 1
    assert plot["limits"][-1]["n"] == 40
