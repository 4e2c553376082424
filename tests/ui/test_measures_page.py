"""The QI measures page in a real Chromium against the real service: four months of calls go in
through the API, and the page shows the §5 measures with hand-computed values, one bar per month
scaled to its rate, the goal lines, the feedback cards, and exports that download real CSVs."""

from __future__ import annotations

import asyncio
import csv
import io
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from calls import call, post_calls
from harness import Server, service_settings, start_server
from playwright.async_api import Page, expect
from signin import unexpected

NewPage = Callable[..., Awaitable[Page]]
Screenshot = Callable[[Page, str], Awaitable[Path]]

POPULATION = {"ohca": True, "resuscitation_attempted": True, "ems_witnessed": False}
NOT_ARREST = {"ohca": False, "resuscitation_attempted": False, "ems_witnessed": False}
EMS_WITNESSED = {"ohca": True, "resuscitation_attempted": True, "ems_witnessed": True}


def arrest(
    call_id: str,
    t0: datetime,
    actor: str,
    *,
    recognized: float | None = None,
    compression: float | None = None,
    not_given: str | None = None,
    outcome: dict[str, Any] | None = POPULATION,
) -> list[dict[str, Any]]:
    """A call with a unit dispatched at 35 s, recognised `recognized` s after T0 (direct),
    coached to a first compression at `compression` s (T-CPR begun 15 s before), ended, then
    linked to its EMS outcome."""
    extra: list[tuple[str, float, dict[str, Any]]] = [("unit.dispatched", 35, {"unit": "M12"})]
    if recognized is not None:
        extra.append(("ohca.recognized", recognized, {}))
    if compression is not None:
        extra += [
            ("tcpr.started", compression - 15, {}),
            ("tcpr.first_compression", compression, {}),
        ]
    if not_given is not None:
        extra.append(("tcpr.not_given", (recognized or 0) + 5, {"reason": not_given}))
    extra.append(("call.ended", 600, {}))
    if outcome is not None:
        extra.append(("ems.outcome", 3600, outcome))
    return call(call_id, 0, actor, *extra, t0=t0)


def day(month: str, d: int, hour: int = 14) -> datetime:
    year, mm = (int(x) for x in month.split("-"))
    return datetime(year, mm, d, hour, tzinfo=UTC)


# Agency A (UTC). Per month: population calls, recognised, T-CPR and the medians worked by hand.
CALLS = [
    # October 2025: population 4, recognised 3 -> 75.0 %; T-CPR 2 of 2 (O4 excluded: CPR in
    # progress); recognition 40, 70, 120 -> median 70; compressions 100, 140 -> 120.
    arrest("O1", day("2025-10", 3), "tc-114", recognized=40, compression=100),
    arrest("O2", day("2025-10", 9), "tc-207", recognized=70, compression=140),
    arrest("O3", day("2025-10", 15), "tc-207"),
    arrest("O4", day("2025-10", 27), "tc-114", recognized=120, not_given="cpr_in_progress"),
    # November: population 2 (N3 was no arrest: over-triage), recognised 1 -> 50.0 %; N2 judged
    # not recognisable by QI (below), so the recognisable rate is 1 of 1.
    arrest("N1", day("2025-11", 4), "tc-114", recognized=50, compression=110),
    arrest("N2", day("2025-11", 12), "tc-114"),
    arrest("N3", day("2025-11", 20), "tc-207", recognized=30, outcome=NOT_ARREST),
    # December: population 3 (D4 EMS-witnessed), recognised 3 -> 100.0 %; T-CPR 2 of 3 -> 66.7 %
    # (D2 recognised, never coached to compressions); recognition 60, 80, 100 -> 80;
    # compressions 130, 200 -> 165.
    arrest("D1", day("2025-12", 1), "tc-207", recognized=100, compression=200),
    arrest("D2", day("2025-12", 10), "tc-207", recognized=80),
    arrest("D3", day("2025-12", 18), "tc-114", recognized=60, compression=130),
    arrest("D4", day("2025-12", 30), "tc-114", outcome=EMS_WITNESSED),
    # January 2026: population 2, recognised 2 -> 100.0 %; recognition 45, 85 -> 65; compressions
    # 95, 150 -> 122.5. J3 has no EMS outcome yet.
    arrest("J1", day("2026-01", 6), "tc-114", recognized=45, compression=95),
    arrest("J2", day("2026-01", 19), "tc-207", recognized=85, compression=150),
    arrest("J3", day("2026-01", 25), "tc-114", recognized=20, outcome=None),
]
MONTHS = ["2025-10", "2025-11", "2025-12", "2026-01"]
MONTHLY_RECOGNITION = [75.0, 50.0, 100.0, 100.0]
MONTHLY_TCPR = [100.0, 100.0, 66.7, 100.0]
MONTHLY_MEDIAN_RECOGNITION = [70.0, 50.0, 80.0, 65.0]
# Whole period: 14 calls, population 11 (O1-O4, N1, N2, D1-D3, J1, J2), recognised 9 -> 81.8 %;
# recognisable 9 of 10 (N2 out) -> 90.0 %; T-CPR 7 of 8 (O4 excluded, D2 missed) -> 87.5 %;
# recognition 40 45 50 60 [70] 80 85 100 120 -> 70 s; compressions 95 100 110 [130] 140 150 200
# -> 130 s.
HEADLINE = {
    "recognition_rate": ("81.8 %", "9 / 11"),
    "recognizable_recognition_rate": ("90.0 %", "9 / 10"),
    "tcpr_rate": ("87.5 %", "7 / 8"),
    "median_seconds_to_recognition": ("70 s", "n = 9"),
    "median_seconds_to_first_compression": ("130 s", "n = 7"),
}
POPULATION_CALLS = {"O1", "O2", "O3", "O4", "N1", "N2", "D1", "D2", "D3", "J1", "J2"}


async def seed(server: Server) -> None:
    await post_calls(server, *CALLS)
    review = {
        "event_id": "N2-review",
        "call_id": "N2",
        "agency": "A",
        "kind": "qi.review",
        "source": "qi",
        "actor": "qi-reviewer",
        "at": day("2025-11", 14).isoformat(),
        "data": {"recognizable": False, "nonrecognition_reasons": ["caller_not_with_patient"]},
    }
    async with await server.client("qi", "A") as client:
        assert (await client.post("/api/v1/events", json=review)).status_code == 200


async def open_report(server: Server, new_page: NewPage) -> Page:
    """Sign in with a qi token, choose the four months in the form, wait for the report."""
    token = await server.token("qi", "A")
    page = await new_page(viewport=(1440, 900))
    await page.goto(f"{server.url}/ui/measures.html#token={token}")
    await expect(page.locator("#period")).to_be_visible()
    await expect(page.locator('#agency-boxes input[value="A"]')).to_be_checked()
    await page.fill("#from", "2025-10-01")
    await page.fill("#through", "2026-01-31")
    await page.click("#show")
    await expect(page.locator("#status")).to_have_text(
        "14 calls in the period, 11 in the population."
    )
    return page


async def test_measures_page_shows_the_period_with_real_numbers(
    ui_server: Server, new_page: NewPage, console_errors: list[str], screenshot: Screenshot
) -> None:
    await seed(ui_server)
    page = await open_report(ui_server, new_page)

    for key, (value, fraction) in HEADLINE.items():
        card = page.locator(f'.measure[data-measure="{key}"]')
        await expect(card.locator(".value")).to_have_text(value)
        await expect(card.locator(".fraction")).to_have_text(fraction)
    await expect(
        page.locator('.measure[data-measure="recognizable_recognition_rate"]')
    ).to_have_class(
        "measure missed"  # 90.0 % is below the 95 % goal
    )
    await expect(page.locator('.measure[data-measure="recognition_rate"]')).to_have_class(
        "measure met"
    )
    await expect(page.locator("#figure-calls")).to_have_text("14")
    await expect(page.locator("#figure-population")).to_have_text("11")
    await expect(page.locator("#figure-reviewed")).to_have_text("1 of 11")
    await expect(page.locator("#figure-over-triage")).to_have_text("1")
    await expect(page.locator("#figure-without-ems")).to_have_text("1")
    await expect(page.locator("#figure-exclusions")).to_have_text("cpr in progress: 1")
    await expect(page.locator("#figure-outside li")).to_have_text(
        ["ems witnessed: 1", "not cardiac arrest: 1"]
    )

    # Rate charts: one month group per calendar month, a bar in each, heights in proportion.
    rates = page.locator('svg.chart[data-measure="recognition_rate"]')
    await expect(rates.locator("g.month")).to_have_count(4)
    assert (
        await rates.locator("g.month").evaluate_all("gs => gs.map(g => g.dataset.month)") == MONTHS
    )
    bars = await rates.locator("rect.bar").evaluate_all(
        "rs => rs.map(r => [Number(r.dataset.value), r.getBBox().height, r.getBBox().y])"
    )
    assert [b[0] for b in bars] == MONTHLY_RECOGNITION
    full = bars[2][1]  # December: 100 %
    for value, height, _ in bars:
        assert height == pytest.approx(full * value / 100, abs=0.01)
    bottoms = {round(height + y, 3) for _, height, y in bars}
    assert len(bottoms) == 1  # every bar stands on the same baseline
    goal = await rates.locator("line.goal").evaluate("l => Number(l.getAttribute('y1'))")
    baseline = bottoms.pop()
    assert baseline - goal == pytest.approx(full * 0.75, abs=0.01)  # the 75 % goal line
    await expect(rates.locator("title").first).to_have_text("Recognition rate by month")
    tcpr = page.locator('svg.chart[data-measure="tcpr_rate"] rect.bar')
    assert await tcpr.evaluate_all("rs => rs.map(r => Number(r.dataset.value))") == MONTHLY_TCPR
    # Median charts: a point per month on a line, and the benchmark line at 90 s.
    medians = page.locator('svg.chart[data-measure="median_seconds_to_recognition"]')
    points = await medians.locator("circle.point").evaluate_all(
        "cs => cs.map(c => Number(c.dataset.value))"
    )
    assert points == MONTHLY_MEDIAN_RECOGNITION
    await expect(medians.locator("path.line")).to_have_count(1)
    await expect(medians.locator("line.goal")).to_have_count(1)
    await expect(page.locator("svg.chart")).to_have_count(5)
    # The data table beside a chart opens for screen readers and holds the same numbers.
    figure = page.locator('figure[data-measure="recognition_rate"]')
    await figure.locator("button.table-toggle").click()
    await expect(figure.locator("table.chart-data tbody tr")).to_have_count(4)
    await expect(figure.locator("table.chart-data tbody tr").nth(1)).to_contain_text("50.0 %")
    await expect(figure.locator("button.table-toggle")).to_have_attribute("aria-expanded", "true")
    await figure.locator("button.table-toggle").click()
    await expect(figure.locator("table.chart-data")).to_be_hidden()

    # The annual summary: 2025 (October to December) and 2026 (January).
    await expect(page.locator('#annual tr[data-year="2025"]')).to_contain_text("77.8 % (7/9)")
    await expect(page.locator('#annual tr[data-year="2026"]')).to_contain_text("100.0 % (2/2)")
    await expect(
        page.locator('#secular tr[data-measure="recognition_rate"] .direction')
    ).to_contain_text("improving")

    # Per telecommunicator: tc-114 took O1 O4 N1 N2 D3 D4 J1 J3 (population 6, recognised 5),
    # tc-207 took O2 O3 N3 D1 D2 J2 (population 5, recognised 4).
    rows = page.locator("#tc-table tbody tr")
    await expect(rows).to_have_count(2)
    await expect(page.locator('#tc-table tr[data-telecommunicator="tc-114"]')).to_contain_text(
        "83.3 % (5/6)"
    )
    await expect(page.locator('#tc-table tr[data-telecommunicator="tc-207"]')).to_contain_text(
        "80.0 % (4/5)"
    )
    cards = page.locator(".feedback")
    await expect(cards).to_have_count(2)
    for name in ("tc-114", "tc-207"):
        card = page.locator(f'.feedback[data-telecommunicator="{name}"]')
        await expect(card.locator(".headline")).not_to_be_empty()
        await expect(card.locator("h4")).to_have_text(["Strengths", "Opportunities"])
    # Sorting by recognition rate, highest first.
    header = page.locator("#tc-table thead th", has_text="Recognition rate")
    await header.locator("button").click()
    await header.locator("button").click()
    await expect(header).to_have_attribute("aria-sort", "descending")
    await expect(rows.first).to_have_attribute("data-telecommunicator", "tc-114")

    await expect(
        page.locator('.feedback[data-telecommunicator="tc-114"] .headline')
    ).to_contain_text("Recognised 5 of 6 arrests, median 50 s to recognition")

    # Outstanding: recognised under 60 s and compressions under 150 s, earliest compression first:
    # J1 (45 s, 95 s), O1 (40 s, 100 s), N1 (50 s, 110 s).
    listed = page.locator("#recognition tbody tr")
    assert await listed.evaluate_all("rs => rs.map(r => r.dataset.callId)") == ["J1", "O1", "N1"]
    await expect(listed.first).to_contain_text("95 s")
    # Secular trend of recognition: 75, 50, 100, 100 over months 0-3 -> 12.5 points a month.
    await expect(page.locator('#secular tr[data-measure="recognition_rate"] .slope')).to_have_text(
        "+150.0 percentage points/year"
    )

    # For the README: the headline cards and the first rows of charts.
    await page.set_viewport_size({"width": 1440, "height": 1500})
    await page.evaluate("window.scrollTo(0, 0)")
    await screenshot(page, "measures")
    assert console_errors == []


async def downloaded(page: Page, button: str) -> str:
    """Click an export button; the text of the file the browser saved."""
    async with page.expect_download() as info:
        await page.click(f'[data-export="{button}"]')
    path = await (await info.value).path()
    return await asyncio.to_thread(Path(path).read_text, encoding="utf-8")


def csv_rows(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


async def test_exports_download_with_the_token(
    ui_server: Server, new_page: NewPage, console_errors: list[str]
) -> None:
    await seed(ui_server)
    page = await open_report(ui_server, new_page)
    months = csv_rows(await downloaded(page, "measures-csv"))
    assert len(months) == len(MONTHS) + 1  # four months and the total
    cares = csv_rows(await downloaded(page, "cares"))
    assert len(cares) == len(POPULATION_CALLS)
    audits = csv_rows(await downloaded(page, "audits"))
    assert len(audits) == len(CALLS)
    extract = await downloaded(page, "nemsis")
    assert "eTimes.01" in extract
    await expect(page.locator("#export-status")).to_contain_text("Saved")
    assert console_errors == []


async def test_a_refused_token_asks_for_another(
    ui_server: Server, new_page: NewPage, console_errors: list[str]
) -> None:
    page = await new_page()
    await page.goto(f"{ui_server.url}/ui/measures.html#token=not-a-token")
    await expect(page.locator("#signin")).to_be_visible()
    await expect(page.locator("#signin-reason")).to_contain_text("refused")
    # A supervisor may watch calls but not read the measures.
    await page.fill("#token", await ui_server.token("supervisor", "A"))
    await page.click("#signin button")
    await expect(page.locator("#signin-reason")).to_contain_text("supervisor token may not read")
    await page.fill("#token", await ui_server.token("qi", "A"))
    await page.click("#signin button")
    await expect(page.locator("#report")).to_be_visible()
    await expect(page.locator('.measure[data-measure="recognition_rate"] .value')).to_have_text("—")
    await expect(
        page.locator('.measure[data-measure="recognition_rate"] .verdict')
    ).to_contain_text("no calls")
    await expect(page.locator("#status")).to_contain_text("No calls")
    assert unexpected(console_errors) == []


async def test_a_state_coordinator_sees_the_set_and_each_agency(
    ui_server: Server, new_page: NewPage, console_errors: list[str]
) -> None:
    await seed(ui_server)
    # Agency B: two November arrests, both recognised (30 s, 50 s) and coached (90 s, 90 s).
    b_calls = [
        [
            {**e, "agency": "B"}
            for e in arrest("B1", day("2025-11", 2), "tc-900", recognized=30, compression=90)
        ],
        [
            {**e, "agency": "B"}
            for e in arrest("B2", day("2025-11", 8), "tc-900", recognized=50, compression=90)
        ],
    ]
    async with await ui_server.client("adapter", "B") as client:
        for events in b_calls:
            assert (await client.post("/api/v1/events", json=events)).status_code == 200
    token = await ui_server.token("qi", "A", "B")
    page = await new_page(viewport=(1440, 900))
    await page.goto(
        f"{ui_server.url}/ui/measures.html?agency=A&agency=B&from=2025-10-01&through=2026-01-31"
        f"#token={token}"
    )
    await expect(page.locator("#agency-boxes input")).to_have_count(2)
    await expect(page.locator('#agency-boxes input[value="B"]')).to_be_checked()
    await expect(page.locator("#status")).to_have_text(
        "16 calls in the period, 13 in the population."
    )
    # The set: recognised 9 + 2 of 11 + 2 -> 84.6 %; T-CPR 7 + 2 of 8 + 2 -> 90.0 %;
    # recognition 30 40 45 50 50 [60] 70 80 85 100 120 -> 60 s;
    # compressions 90 90 95 100 [110] 130 140 150 200 -> 110 s.
    expected = {
        "recognition_rate": ("84.6 %", "11 / 13"),
        "recognizable_recognition_rate": ("91.7 %", "11 / 12"),
        "tcpr_rate": ("90.0 %", "9 / 10"),
        "median_seconds_to_recognition": ("60 s", "n = 11"),
        "median_seconds_to_first_compression": ("110 s", "n = 9"),
    }
    for key, (value, fraction) in expected.items():
        card = page.locator(f'.measure[data-measure="{key}"]')
        await expect(card.locator(".value")).to_have_text(value)
        await expect(card.locator(".fraction")).to_have_text(fraction)
    await expect(page.locator('#by-agency tr[data-agency="A"]')).to_contain_text("81.8 % (9/11)")
    await expect(page.locator('#by-agency tr[data-agency="B"]')).to_contain_text("100.0 % (2/2)")
    # November for the set: A 1 of 2, B 2 of 2 -> 75.0 %.
    bars = page.locator('svg.chart[data-measure="recognition_rate"] rect.bar')
    values = await bars.evaluate_all("rs => rs.map(r => Number(r.dataset.value))")
    assert values == [75.0, 75.0, 100.0, 100.0]
    await expect(page.locator("#tc-table tbody tr")).to_have_count(3)
    await expect(page.locator('.feedback[data-telecommunicator="tc-900"] h3')).to_have_text(
        "tc-900 (B)"
    )
    assert console_errors == []


async def test_every_figure_counts_the_agency_s_own_calendar(
    sqlite_url: str, new_page: NewPage, console_errors: list[str]
) -> None:
    """Agency A in Chicago: 03:00 UTC on 1 November is still 31 October there, and 03:00 UTC on
    1 January still 31 December. The headline (whose API reads bare dates as UTC) and the
    UTC-dated audit export must count the local November and December, as the months do."""
    server = await start_server(
        service_settings(sqlite_url, agencies={"A": {"zone": "America/Chicago"}})
    )
    try:
        await post_calls(
            server,
            arrest("X1", datetime(2025, 11, 1, 3, tzinfo=UTC), "tc-1", recognized=40),  # 31 Oct
            arrest("X2", datetime(2025, 11, 15, 12, tzinfo=UTC), "tc-1"),
            arrest("X3", datetime(2026, 1, 1, 3, tzinfo=UTC), "tc-1"),  # 31 Dec, 21:00 local
        )
        token = await server.token("qi", "A")
        page = await new_page(viewport=(1440, 900))
        await page.goto(
            f"{server.url}/ui/measures.html?agency=A&from=2025-11-01&through=2025-12-31"
            f"#token={token}"
        )
        # Locally the period holds X2 and X3, neither recognised: 0 of 2 (by UTC days it would
        # be X1 and X2, 1 of 2).
        await expect(page.locator("#status")).to_have_text(
            "2 calls in the period, 2 in the population."
        )
        card = page.locator('.measure[data-measure="recognition_rate"]')
        await expect(card.locator(".value")).to_have_text("0.0 %")
        await expect(card.locator(".fraction")).to_have_text("0 / 2")
        bars = page.locator('svg.chart[data-measure="recognition_rate"] rect.bar')
        assert await bars.evaluate_all(
            "rs => rs.map(r => [r.closest('g').dataset.month, Number(r.dataset.value)])"
        ) == [
            ["2025-11", 0],
            ["2025-12", 0],
        ]
        await expect(page.locator("#trend-zone")).to_contain_text("America/Chicago")
        audits = csv_rows(await downloaded(page, "audits"))
        assert sorted(row["call_id"] for row in audits) == ["X2", "X3"]
        assert console_errors == []
    finally:
        await server.stop()
