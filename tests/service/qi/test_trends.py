"""Monthly buckets in the agency's zone, years, and the secular trend, by hand."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from service.qi.cohorts import cohorts
from service.qi.measures import CallSummary
from service.qi.trends import bounds, merge, month_buckets, secular_trend, slope, trend
from service.triage.profiles import AHA_2020

CHICAGO = ZoneInfo("America/Chicago")


def summary(call_id: str, *, population: bool = True, **extra: object) -> CallSummary:
    values: dict[str, object] = {
        "call_id": call_id,
        "t0": datetime(2026, 1, 10, tzinfo=UTC),
        "in_population": population,
        "has_ems_outcome": population,
        "ems_says_not_arrest": False,
        "ems_witnessed": False,
        "resuscitation_attempted": True if population else None,
        "recognized": False,
        "to_recognition": None,
        "to_first_compression": None,
        "not_given_reason": None,
        "reviewed": False,
        "recognizable": None,
        "signed_off": False,
        "telecommunicator": None,
    }
    values.update(extra)
    return CallSummary(**values)  # type: ignore[arg-type]


def recognised(call_id: str, seconds: float, compression: float | None = None) -> CallSummary:
    return summary(
        call_id, recognized=True, to_recognition=seconds, to_first_compression=compression
    )


def test_months_are_local_calendar_months_across_a_dst_change() -> None:
    start = datetime(2026, 1, 1, tzinfo=CHICAGO)
    end = datetime(2026, 4, 1, tzinfo=CHICAGO)
    months = month_buckets(start, end, "America/Chicago")
    assert [m.label for m in months] == ["2026-01", "2026-02", "2026-03"]
    assert [m.start.isoformat() for m in months] == [
        "2026-01-01T00:00:00-06:00",
        "2026-02-01T00:00:00-06:00",
        "2026-03-01T00:00:00-06:00",
    ]
    # Daylight saving starts on 8 March 2026: March ends at midnight CDT, one hour short in UTC.
    assert months[-1].end.isoformat() == "2026-04-01T00:00:00-05:00"
    assert months[-1].end.astimezone(UTC) - months[-1].start == timedelta(days=31, hours=-1)
    # A call at 05:30Z on 1 February is still 31 January, 23:30 in Chicago: January's.
    edges = bounds(months)
    assert edges[1] == datetime(2026, 2, 1, 6, 0, tzinfo=UTC)
    assert datetime(2026, 2, 1, 5, 30, tzinfo=UTC) < edges[1]
    assert len(edges) == 4


def test_fall_back_month_is_an_hour_longer() -> None:
    months = month_buckets(
        datetime(2026, 11, 1, tzinfo=CHICAGO),
        datetime(2026, 12, 1, tzinfo=CHICAGO),
        "America/Chicago",
    )
    assert len(months) == 1
    assert months[0].end.astimezone(UTC) - months[0].start == timedelta(days=30, hours=1)


def test_edge_months_are_clipped_to_the_period() -> None:
    start = datetime(2026, 1, 15, 12, tzinfo=UTC)
    end = datetime(2026, 3, 1, tzinfo=CHICAGO)
    months = month_buckets(start, end, "America/Chicago")
    assert [m.label for m in months] == ["2026-01", "2026-02"]
    assert months[0].start == start
    assert months[0].start.isoformat() == "2026-01-15T06:00:00-06:00"
    assert months[-1].end == end
    # A period ending exactly at a month's start does not open that month.
    assert [
        m.label
        for m in month_buckets(start, datetime(2026, 2, 1, tzinfo=CHICAGO), "America/Chicago")
    ] == ["2026-01"]


def test_trend_keeps_empty_months_and_sums_years() -> None:
    start = datetime(2025, 12, 1, tzinfo=UTC)
    months = month_buckets(start, datetime(2026, 3, 1, tzinfo=UTC), "UTC")
    december = cohorts([recognised("D1", 60, 120), summary("D2")])
    january: list = []
    february = cohorts(
        [recognised("F1", 80), recognised("F2", 100, 200), summary("X", population=False)]
    )
    result = trend(months, [december, january, february], AHA_2020)

    assert [m["month"] for m in result["months"]] == ["2025-12", "2026-01", "2026-02"]
    empty = result["months"][1]
    assert empty["from"] == "2026-01-01T00:00:00+00:00"
    assert empty["calls_in_period"] == 0
    assert empty["recognition_rate"] == {
        "numerator": 0,
        "denominator": 0,
        "percent": None,
        "goal": 75.0,
    }
    assert empty["median_seconds_to_recognition"] == {"value": None, "n": 0, "benchmark": 90}
    assert result["months"][0]["recognition_rate"]["percent"] == 50.0
    # February: recognised F1 (80) and F2 (100): the even-n median is their mean.
    assert result["months"][2]["median_seconds_to_recognition"]["value"] == 90.0
    assert result["months"][2]["calls_in_period"] == 3

    years = result["years"]
    assert [(y["year"], y["from"], y["to"]) for y in years] == [
        (2025, "2025-12-01T00:00:00+00:00", "2026-01-01T00:00:00+00:00"),
        (2026, "2026-01-01T00:00:00+00:00", "2026-03-01T00:00:00+00:00"),
    ]
    assert years[0]["population"] == 2
    assert years[1]["population"] == 2
    assert years[1]["recognition_rate"]["numerator"] == 2
    assert years[1]["median_seconds_to_first_compression"] == {
        "value": 200.0,
        "n": 1,
        "benchmark": 150,
    }
    # Three months but only two with a recognition rate: no trend yet.
    assert result["secular_trend"]["recognition_rate"] == {
        "slope_per_year": None,
        "direction": None,
        "months_used": 2,
    }


def test_slope_is_least_squares() -> None:
    # y = 2x + 1 exactly, then a scatter: x 0..3, y 1 3 2 6 -> slope 1.4 (Sxy 7 / Sxx 5)
    assert slope([(0, 1), (1, 3), (2, 5)]) == pytest.approx(2.0)
    assert slope([(0, 1), (1, 3), (2, 2), (3, 6)]) == pytest.approx(1.4)
    assert slope([(1, 5)]) is None
    assert slope([(1, 5), (1, 6)]) is None


def month(recognised_n: int, population: int, median: float | None) -> dict:
    return {
        "recognition_rate": {"numerator": recognised_n, "denominator": population},
        "tcpr_rate": {"numerator": 0, "denominator": 0},
        "median_seconds_to_recognition": {"value": median},
        "median_seconds_to_first_compression": {"value": None},
    }


def test_secular_trend_direction_per_measure() -> None:
    # Rates 50, 60, (none), 70 % at months 0, 1, 3: Sxx = 14/3*... computed: x 0 1 3, y 50 60 70
    # mean x 4/3, mean y 60; Sxy = (-4/3)(-10) + (-1/3)(0) + (5/3)(10) = 30; Sxx = 16/9+1/9+25/9
    # = 42/9; slope = 30 / (42/9) = 6.428571 pp per month -> 77.14 per year.
    # Medians 80, 70, 65, 60 s at months 0..3: slope -6.5 s per month -> -78 s per year.
    months = [month(1, 2, 80), month(3, 5, 70), month(0, 0, 65), month(7, 10, 60)]
    result = secular_trend(months)
    assert result["recognition_rate"] == {
        "slope_per_year": 77.14,
        "direction": "improving",
        "months_used": 3,
    }
    assert result["median_seconds_to_recognition"] == {
        "slope_per_year": -78.0,
        "direction": "improving",
        "months_used": 4,
    }
    assert result["tcpr_rate"]["slope_per_year"] is None
    assert result["median_seconds_to_first_compression"]["months_used"] == 0

    worse = secular_trend([month(9, 10, 60), month(8, 10, 70), month(7, 10, 80)])
    assert worse["recognition_rate"]["direction"] == "worsening"
    assert worse["recognition_rate"]["slope_per_year"] == -120.0
    assert worse["median_seconds_to_recognition"]["direction"] == "worsening"
    assert worse["median_seconds_to_recognition"]["slope_per_year"] == 120.0

    # 0.05 s per month is 0.6 s a year: under a second a year is flat.
    flat = secular_trend([month(1, 1, 60.0), month(1, 1, 60.05), month(1, 1, 60.1)])
    assert flat["median_seconds_to_recognition"]["direction"] == "flat"
    assert flat["recognition_rate"] == {
        "slope_per_year": 0.0,
        "direction": "flat",
        "months_used": 3,
    }


def test_agencies_of_different_zones_add_up_month_by_month() -> None:
    period = ("2026-01-01", "2026-03-01")
    parts = []
    for zone, found in (
        ("America/Chicago", [recognised("C1", 50)]),
        ("America/New_York", [recognised("N1", 70)]),
    ):
        tz = ZoneInfo(zone)
        start = datetime.fromisoformat(period[0]).replace(tzinfo=tz)
        end = datetime.fromisoformat(period[1]).replace(tzinfo=tz)
        buckets = month_buckets(start, end, zone)
        parts.append((buckets, [cohorts(found), []]))
    buckets, merged = merge(parts)
    assert [b.label for b in buckets] == ["2026-01", "2026-02"]
    # January spans New York's midnight (05:00Z) to Chicago's end (1 February 06:00Z).
    assert buckets[0].start.astimezone(UTC) == datetime(2026, 1, 1, 5, tzinfo=UTC)
    assert buckets[0].end.astimezone(UTC) == datetime(2026, 2, 1, 6, tzinfo=UTC)
    result = trend(buckets, merged, AHA_2020)
    assert result["months"][0]["population"] == 2
    assert result["months"][0]["median_seconds_to_recognition"]["value"] == 60.0
    assert result["months"][1]["population"] == 0
