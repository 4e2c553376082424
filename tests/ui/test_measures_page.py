"""The QI measures page in a real Chromium against the real service: four months of calls go in
through the API, and the page shows the §5 measures with hand-computed values, the AHA's reviewed
figures beside the provisional ones with the review coverage, the training needs, one bar per
month scaled to its rate with its p-chart control limits, the goal lines, funnel plots, the
feedback cards, the equity breakdown with small cells suppressed, and exports that download real
CSVs."""

from __future__ import annotations

import asyncio
import csv
import io
import json
import re
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from calls import call, post_calls
from playwright.async_api import Page, expect
from signin import unexpected
from support.harness import Server, service_settings, start_server
from support.paths import REPO

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
    more: tuple[tuple[str, float, dict[str, Any]], ...] = (),
) -> list[dict[str, Any]]:
    """A call with a unit dispatched at 35 s, recognised `recognized` s after T0 (direct),
    coached to a first compression at `compression` s (T-CPR begun 15 s before), `more` events,
    ended, then linked to its EMS outcome."""
    extra: list[tuple[str, float, dict[str, Any]]] = [("unit.dispatched", 35, {"unit": "M12"})]
    extra += more
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


def without_received(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The call as a CAD feed that lacks the connect time sends it: T0 falls back to the
    answer (call.answered, 4 s after the call was received)."""
    return [e for e in events if e["kind"] != "call.received"]


def day(month: str, d: int, hour: int = 14) -> datetime:
    year, mm = (int(x) for x in month.split("-"))
    return datetime(year, mm, d, hour, tzinfo=UTC)


# Agency A (UTC). Per month: population calls, recognised, T-CPR and the medians worked by hand.
CALLS = [
    # October 2025: population 4, recognised 3 -> 75.0 %; T-CPR 2 of 2 (O4 excluded: CPR in
    # progress); recognition 40, 70, 120 -> median 70; compressions 100, 140 -> 120. O3 (never
    # recognised) came without call.received: measured from the answer.
    arrest("O1", day("2025-10", 3), "tc-114", recognized=40, compression=100),
    arrest("O2", day("2025-10", 9), "tc-207", recognized=70, compression=140),
    without_received(arrest("O3", day("2025-10", 15), "tc-207")),
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


def review(call_id: str, at: datetime, *, signed_off: bool = True, **data: Any) -> dict[str, Any]:
    """A qi.review event; a signed-off one names its reviewer (the AHA counts only these)."""
    return {
        "event_id": f"{call_id}-review",
        "call_id": call_id,
        "agency": "A",
        "kind": "qi.review",
        "source": "qi",
        "actor": "qi-reviewer",
        "at": at.isoformat(),
        "data": {**data, "signed_off": signed_off},
    }


async def post_reviews(server: Server, *reviews: dict[str, Any], role: str = "qi") -> None:
    async with await server.client(role, "A") as client:
        for event in reviews:
            response = await client.post("/api/v1/events", json=event)
            assert response.status_code == 200, response.text


async def seed(server: Server) -> None:
    await post_calls(server, *CALLS)
    # N2: QI judged it not recognisable (the caller was not with the patient) and signed off.
    await post_reviews(
        server,
        review(
            "N2",
            day("2025-11", 14),
            recognizable=False,
            nonrecognition_reasons=["caller_not_with_patient"],
        ),
    )


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
        card = page.locator(f'.measure[data-measure="{key}"] .provisional')
        await expect(card.locator(".value")).to_have_text(value)
        await expect(card.locator(".fraction")).to_have_text(fraction)
    await expect(
        page.locator('.measure[data-measure="recognizable_recognition_rate"] .provisional')
    ).to_have_class(
        "figure provisional missed"  # 90.0 % is below the 95 % goal
    )
    await expect(
        page.locator('.measure[data-measure="recognition_rate"] .provisional')
    ).to_have_class("figure provisional met")
    await expect(page.locator("#figure-calls")).to_have_text("14")
    await expect(page.locator("#figure-population")).to_have_text("11")
    await expect(page.locator("#figure-reviewed")).to_have_text("1 of 11")
    await expect(page.locator("#figure-over-triage")).to_have_text("1")
    await expect(page.locator("#figure-without-ems")).to_have_text("1")
    await expect(page.locator("#figure-t0-fallback")).to_have_text("1")
    await expect(page.locator("#figure-after-arrival")).to_have_text("0")
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

    # tc-114: T-CPR O1 N1 D3 J1 of the same (O4 excluded); recognition 40 45 [50] 60 120;
    # compressions 95 [100 110] 130 -> 105 s.
    await expect(page.locator('.feedback[data-telecommunicator="tc-114"] .headline')).to_have_text(
        "Recognised 5 of 6 arrests, compressions in 4 of 4 eligible, median 50 s to recognition"
        " — under the 90 s benchmark; median first compression 105 s"
    )

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


# More signed-off reviews of the first data set, and a draft (which the AHA does not count):
# O1 (recognised 40 s, compression 100 s; delayed by address verification), O3 (never recognised:
# agonal breathing reported as breathing), D2 (recognised 80 s, never coached to compressions:
# address verification and free text, counted as "other"); D1's review is still a draft.
MORE_REVIEWS = [
    review("O1", day("2025-10", 20), recognizable=True, delay_reasons=["address_verification"]),
    review(
        "O3",
        day("2025-10", 21),
        recognizable=True,
        nonrecognition_reasons=["agonal_breathing_reported_as_breathing"],
    ),
    review(
        "D2",
        day("2025-12", 20),
        recognizable=True,
        delay_reasons=["address_verification", "other: the caller put the phone down"],
    ),
    review("D1", day("2025-12", 21), signed_off=False, delay_reasons=["caller_distress"]),
]
# Signed off: N2, O1, O3, D2, all in the population: 4 of 11 -> 36.4 %.
# Reviewed (AHA): recognised and reviewed O1, D2 over the whole population: 2 / 11 -> 18.2 %;
# recognisable: reviewed and not judged unrecognisable O1, O3, D2, recognised 2 -> 66.7 %;
# T-CPR: reviewed recognised O1 (compressed), D2 (not) -> 1 / 2 = 50.0 %; recognition 40, 80
# -> 60 s; compressions 100 -> 100 s.
REVIEWED = {
    "recognition_rate": ("18.2 %", "2 / 11", "figure reviewed missed"),
    "recognizable_recognition_rate": ("66.7 %", "2 / 3", "figure reviewed missed"),
    "tcpr_rate": ("50.0 %", "1 / 2", "figure reviewed missed"),
    "median_seconds_to_recognition": ("60 s", "n = 2", "figure reviewed met"),
    "median_seconds_to_first_compression": ("100 s", "n = 1", "figure reviewed met"),
}


async def more_reviews(server: Server) -> None:
    # A supervisor may review too (the AHA's "supervisor or designated QI person").
    await post_reviews(server, *MORE_REVIEWS[:2])
    await post_reviews(server, *MORE_REVIEWS[2:], role="supervisor")


async def test_reviewed_figures_stand_beside_the_provisional_with_coverage(
    ui_server: Server, new_page: NewPage, console_errors: list[str], screenshot: Screenshot
) -> None:
    await seed(ui_server)
    await more_reviews(ui_server)
    page = await open_report(ui_server, new_page)

    # The two columns, the AHA's first and named as such.
    await expect(page.locator("#headline thead th")).to_have_text(
        [
            "Measure",
            re.compile(r"^Reviewed \(AHA\).*The AHA's figure"),
            re.compile(r"^Provisional \(drafts as they stand\)"),
        ]
    )
    for key, (value, fraction, cls) in REVIEWED.items():
        reviewed = page.locator(f'.measure[data-measure="{key}"] .reviewed')
        await expect(reviewed.locator(".value")).to_have_text(value)
        await expect(reviewed.locator(".fraction")).to_have_text(fraction)
        await expect(reviewed).to_have_class(cls)
        provisional = page.locator(f'.measure[data-measure="{key}"] .provisional')
        await expect(provisional.locator(".value")).to_have_text(HEADLINE[key][0])
        await expect(provisional.locator(".fraction")).to_have_text(HEADLINE[key][1])
        # Side by side: the same row, the reviewed figure to the left of the provisional one.
        left = await reviewed.evaluate("e => e.getBoundingClientRect()")
        right = await provisional.evaluate("e => e.getBoundingClientRect()")
        assert left["top"] == right["top"]
        assert left["right"] <= right["left"]
    await expect(
        page.locator('.measure[data-measure="recognition_rate"] .reviewed .caveat')
    ).to_have_text("a floor until coverage is complete")
    await expect(page.locator("#coverage-line")).to_have_text(
        "QI-reviewed 4 of 11 population calls — 36.4 %, goal 100 %"
    )
    await expect(page.locator("#coverage")).to_have_class("coverage incomplete")
    await expect(page.locator("#coverage")).to_contain_text("cannot be published")
    await expect(page.locator("#figure-reviewed")).to_have_text("4 of 11")

    # O3 came without call.received; no recognition came after EMS arrival.
    await expect(page.locator("#quality-t0-fallback")).to_have_text(
        "1 call measured from the answer: no call.received, ring and transfer time lost"
    )
    await expect(page.locator("#quality-after-arrival")).to_have_count(0)

    # Training needs: signed-off reviews only (D1's draft "caller distress" is not counted),
    # most frequent first.
    nonrecognition = page.locator("#reasons-nonrecognition tbody tr")
    await expect(nonrecognition.locator("th")).to_have_text(
        ["agonal breathing reported as breathing", "caller not with patient"]
    )
    await expect(nonrecognition.locator("td.count")).to_have_text(["1", "1"])
    delay = page.locator("#reasons-delay tbody tr")
    await expect(delay.locator("th")).to_have_text(["address verification", "other (free text)"])
    await expect(delay.locator("td.count")).to_have_text(["2", "1"])
    assert await delay.locator(".reason-bar .fill").evaluate_all(
        "fs => fs.map(f => Math.round(f.getBoundingClientRect().width * 2 /"
        " f.parentElement.getBoundingClientRect().width))"
    ) == [2, 1]  # bars in proportion to the counts
    await expect(page.locator("#training")).not_to_contain_text("caller distress")

    # The annual summary: each year's reviewed figures and reasons. 2025: population 9,
    # reviewed O1 O3 N2 D2 (4 of 9), recognised and reviewed O1 D2 -> 22.2 % (2/9).
    y2025 = page.locator('#annual tr[data-year="2025"]')
    await expect(y2025.locator(".coverage-cell")).to_have_text("4 of 944.4 %")
    await expect(y2025.locator('td[data-measure="recognition_rate"] .aha')).to_have_text(
        "AHA: 22.2 % (2/9)"
    )
    await expect(
        page.locator('#annual-reasons tr[data-year="2025"] td[data-reasons="nonrecognition"]')
    ).to_have_text("agonal breathing reported as breathing (1), caller not with patient (1)")
    await expect(
        page.locator('#annual-reasons tr[data-year="2025"] td[data-reasons="delay"]')
    ).to_have_text("address verification (2), other (free text) (1)")
    await expect(page.locator('#annual-reasons tr[data-year="2026"] td').nth(1)).to_have_text(
        "none"
    )

    # Cards: the verdict (measures 1 and 2 together) and the person's QI coverage.
    # tc-114 reviewed O1 N2 of 6 (O1 recognised, compressed); tc-207 reviewed O3 D2 of 5
    # (D2 recognised, not compressed).
    tc114 = page.locator('.feedback[data-telecommunicator="tc-114"]')
    await expect(tc114.locator(".verdict")).to_have_text(
        "Meets both AHA goals: recognition and T-CPR"
    )
    await expect(tc114.locator(".coverage")).to_have_text(
        "QI-reviewed 2 of 6 population calls (33.3 %) · AHA reviewed: recognition"
        " 16.7 % (1/6), T-CPR 100.0 % (1/1)"
    )
    tc207 = page.locator('.feedback[data-telecommunicator="tc-207"]')
    await expect(tc207.locator(".coverage")).to_contain_text(
        "QI-reviewed 2 of 5 population calls (40.0 %)"
    )
    await expect(tc207.locator("ul.opportunities")).to_contain_text(
        "Training needs from QI review: address verification (1), other (1),"
        " agonal breathing reported as breathing (1)"
    )
    await expect(page.locator('#tc-table tr[data-telecommunicator="tc-207"]')).to_contain_text(
        "40.0 % (2/5)"
    )

    # For the README: the top of the report at the two usual widths.
    for width, height in ((1280, 720), (1920, 1080)):
        await page.set_viewport_size({"width": width, "height": height})
        await page.locator("#h-headline").scroll_into_view_if_needed()
        await page.evaluate("document.querySelector('#h-headline').scrollIntoView()")
        await screenshot(page, f"measures-{width}x{height}")
    assert console_errors == []


# A second data set, spring 2025 in agency A (UTC), ten population arrests a month:
# March C01-C10: female, 70, recognised at 60 s, first compression at 120 s (tc-1 took C01-C05,
#   tc-2 C06-C10).
# April C11-C20: C11-C18 female, 70, C19-C20 male, 50; recognised at 80 s, compression at 140 s
#   except C17 and C18 (never coached to compressions); tc-2 took all.
# May C21-C30: none recognised by the telecommunicator (tc-3 took all): C21-C23 female, 70,
#   C24-C27 male, 50, C28-C30 with no sex or age recorded. C25 was recognised at 420 s, after
#   the crew arrived at 400 s: not counted.
# Signed-off reviews: C01, C02, C17 (delay: caller distress), C21 (agonal breathing), C22 (agonal
# breathing, language barrier), C24 (seizure-like activity).
FEMALE = {**POPULATION, "sex": "female", "age_years": 70}
MALE = {**POPULATION, "sex": "male", "age_years": 50}


def spring_calls() -> list[list[dict[str, Any]]]:
    calls = []
    for i in range(1, 11):
        actor = "tc-1" if i <= 5 else "tc-2"
        calls.append(
            arrest(
                f"C{i:02d}",
                day("2025-03", i),
                actor,
                recognized=60,
                compression=120,
                outcome=FEMALE,
            )
        )
    for i in range(11, 21):
        calls.append(
            arrest(
                f"C{i:02d}",
                day("2025-04", i - 10),
                "tc-2",
                recognized=80,
                compression=None if i in (17, 18) else 140,
                outcome=FEMALE if i <= 18 else MALE,
            )
        )
    for i in range(21, 31):
        outcome = FEMALE if i <= 23 else MALE if i <= 27 else POPULATION
        late = (("unit.on_scene", 400, {"unit": "M12"}), ("ohca.recognized", 420, {}))
        calls.append(
            arrest(
                f"C{i:02d}",
                day("2025-05", i - 20),
                "tc-3",
                outcome=outcome,
                more=late if i == 25 else (),
            )
        )
    return calls


async def seed_spring(server: Server) -> None:
    await post_calls(server, *spring_calls())
    at = day("2025-06", 2)
    await post_reviews(
        server,
        review("C01", at, recognizable=True),
        review("C02", at, recognizable=True),
        review("C17", at, recognizable=True, delay_reasons=["caller_distress"]),
        review(
            "C21",
            at,
            recognizable=True,
            nonrecognition_reasons=["agonal_breathing_reported_as_breathing"],
        ),
        review(
            "C22",
            at,
            recognizable=True,
            nonrecognition_reasons=["agonal_breathing_reported_as_breathing", "language_barrier"],
        ),
        review("C24", at, recognizable=True, nonrecognition_reasons=["seizure_like_activity"]),
    )


async def open_spring(
    server: Server, new_page: NewPage, viewport: tuple[int, int] = (1440, 900)
) -> Page:
    token = await server.token("qi", "A")
    page = await new_page(viewport=viewport)
    await page.goto(
        f"{server.url}/ui/measures.html?agency=A&from=2025-03-01&through=2025-05-31#token={token}"
    )
    await expect(page.locator("#status")).to_have_text(
        "30 calls in the period, 30 in the population."
    )
    return page


async def test_monthly_rates_show_their_control_limits_and_the_month_outside(
    ui_server: Server, new_page: NewPage, console_errors: list[str], screenshot: Screenshot
) -> None:
    await seed_spring(ui_server)
    page = await open_spring(ui_server, new_page)
    # Recognition: 10 of 10, 10 of 10, 0 of 10; the centre is 20 of 30 = 66.7 %, and each month's
    # limits are 66.7 % ± 3 √(⅔ · ⅓ / 10) = ± 44.7 points: 21.9 % to 100 % (clipped). May's 0 %
    # lies outside them: a signal, not noise.
    rates = page.locator('svg.chart[data-measure="recognition_rate"]')
    limits = await rates.locator("rect.limits").evaluate_all(
        "rs => rs.map(r => [r.dataset.month, Number(r.dataset.lower), Number(r.dataset.upper),"
        " r.getBBox().y, r.getBBox().height])"
    )
    assert [row[:3] for row in limits] == [
        ["2025-03", 21.9, 100.0],
        ["2025-04", 21.9, 100.0],
        ["2025-05", 21.9, 100.0],
    ]
    bars = await rates.locator("rect.bar").evaluate_all(
        "rs => rs.map(r => [Number(r.dataset.value), r.getBBox().y, r.getBBox().height])"
    )
    assert [b[0] for b in bars] == [100.0, 100.0, 0.0]
    top, full = bars[0][1], bars[0][2]  # March's bar spans 0 to 100 %
    baseline = top + full
    for _, y, height in [row[2:] for row in limits]:
        assert y == pytest.approx(top, abs=0.01)  # upper limit at 100 %
        assert y + height == pytest.approx(baseline - full * 0.219, abs=0.01)  # lower at 21.9 %
    center = rates.locator("line.center")
    assert await center.get_attribute("data-value") == "66.7"
    center_y = float(await center.get_attribute("y1") or "nan")
    assert center_y == pytest.approx(baseline - full * 0.667, abs=0.01)
    outside = rates.locator("g.month.outside")
    await expect(outside).to_have_count(1)
    await expect(outside).to_have_attribute("data-month", "2025-05")
    await expect(outside.locator("rect.bar")).to_have_class("bar missed outside")
    await expect(outside.locator("rect.bar title")).to_have_text(
        "May 2025: 0.0 % (0 of 10); control limits 21.9 % to 100.0 %: outside them, a signal"
    )
    await expect(rates.locator("text.signal")).to_have_count(1)
    await expect(rates.locator("desc")).to_contain_text(
        "Outside the control limits (a signal): May 2025."
    )
    figure = page.locator('figure[data-measure="recognition_rate"]')
    await expect(figure.locator(".chart-legend")).to_contain_text(
        "limits: 3 standard errors for that month's number of arrests; a month outside them is a"
        " signal, inside is noise"
    )
    await expect(figure.locator(".chart-legend")).to_contain_text("centre 66.7 %")
    await figure.locator("button.table-toggle").click()
    await expect(figure.locator("table.chart-data tbody tr").nth(2)).to_have_text(
        ["May 20250.0 %01021.9 %100.0 %outside"]
    )
    # T-CPR: 10 of 10 and 8 of 10 around 18 of 20 = 90.0 %, limits 61.5 % to 100 %; May has no
    # recognised arrest, so no limits and nothing to signal.
    tcpr = page.locator('svg.chart[data-measure="tcpr_rate"]')
    assert await tcpr.locator("rect.limits").evaluate_all(
        "rs => rs.map(r => [r.dataset.month, Number(r.dataset.lower), Number(r.dataset.upper)])"
    ) == [["2025-03", 61.5, 100.0], ["2025-04", 61.5, 100.0]]
    assert await tcpr.locator("line.center").get_attribute("data-value") == "90"
    await expect(tcpr.locator("g.month.outside")).to_have_count(0)
    # The recognisable rate has no control limits from the service: none drawn.
    await expect(
        page.locator('svg.chart[data-measure="recognizable_recognition_rate"] rect.limits')
    ).to_have_count(0)
    # C25's recognition after the crew arrived is noted, not counted.
    await expect(page.locator("#quality-after-arrival")).to_have_text(
        "1 recognition after EMS arrival, not counted"
    )
    await expect(page.locator("#quality-t0-fallback")).to_have_count(0)

    await page.set_viewport_size({"width": 1280, "height": 720})
    await page.evaluate("document.querySelector('#h-trend').scrollIntoView()")
    await screenshot(page, "measures-trend-1280x720")
    assert console_errors == []


async def test_the_funnel_plot_draws_a_point_per_telecommunicator(
    ui_server: Server, new_page: NewPage, console_errors: list[str], screenshot: Screenshot
) -> None:
    await seed_spring(ui_server)
    page = await open_spring(ui_server, new_page)
    # Recognition: tc-1 5 of 5, tc-2 15 of 15, tc-3 0 of 10, around 20 of 30 = 66.7 %. At n = 10
    # the 99.8 % limits are 66.7 % ± 3.09 √(⅔ · ⅓ / 10) = 20.6 % to 100 %: tc-3 lies outside.
    funnel = page.locator('#tc-funnels svg.funnel[data-funnel="recognition_rate"]')
    points = funnel.locator("g.funnel-unit")
    await expect(points).to_have_count(3)
    got = await points.evaluate_all(
        "gs => gs.map(g => { const c = g.querySelector('circle');"
        " return [g.dataset.name, Number(c.dataset.n), Number(c.dataset.percent),"
        " c.dataset.outside, g.querySelector('text').textContent]; })"
    )
    assert sorted(got) == [
        ["tc-1", 5, 100.0, "false", "tc-1"],
        ["tc-2", 15, 100.0, "false", "tc-2"],
        ["tc-3", 10, 0.0, "true", "tc-3"],
    ]
    await expect(funnel.locator("circle.funnel-point.outside")).to_have_count(1)
    await expect(funnel.locator("g.funnel-unit.outside")).to_have_attribute("data-name", "tc-3")
    # Each dot stands over its n on the x axis (ticks 0, 5, 10, 15).
    ticks = {
        int(n): x
        for n, x in await funnel.locator("text.x-tick").evaluate_all(
            "ts => ts.map(t => [t.dataset.n, Number(t.getAttribute('x'))])"
        )
    }
    assert sorted(ticks) == [0, 5, 10, 15]
    for name, n, *_ in got:
        cx = await funnel.locator(f'g.funnel-unit[data-name="{name}"] circle').get_attribute("cx")
        assert float(cx or "nan") == pytest.approx(ticks[n], abs=0.01)
    assert await funnel.locator("line.center").get_attribute("data-value") == "66.7"
    await expect(funnel.locator("path.funnel-limit")).to_have_count(4)
    await expect(funnel.locator("desc")).to_contain_text(
        "Outside the 99.8 % limits: tc-3 (0.0 % of 10)."
    )
    # T-CPR: tc-3 had no recognised arrest, so nothing to plot for them.
    tcpr = page.locator('#tc-funnels svg.funnel[data-funnel="tcpr_rate"]')
    await expect(tcpr.locator("g.funnel-unit")).to_have_count(2)
    await expect(tcpr.locator("circle.funnel-point.outside")).to_have_count(0)
    # tc-3's card: the verdict of measures 1 and 2 together.
    await expect(page.locator('.feedback[data-telecommunicator="tc-3"] .verdict')).to_have_text(
        "Below the recognition goal; no recognised arrest was eligible for T-CPR"
    )
    await page.set_viewport_size({"width": 1920, "height": 1080})
    await page.evaluate("document.querySelector('#h-tc').scrollIntoView()")
    await screenshot(page, "measures-funnel-1920x1080")
    assert console_errors == []


async def test_equity_shows_each_group_and_suppresses_small_ones(
    ui_server: Server, new_page: NewPage, console_errors: list[str], screenshot: Screenshot
) -> None:
    await seed_spring(ui_server)
    page = await open_spring(ui_server, new_page)
    # By sex (the default): female C01-C18 and C21-C23 (21), male 6, not recorded 3: the two
    # small groups are suppressed.
    rows = page.locator("#equity tbody tr")
    await expect(rows).to_have_count(3)
    await expect(rows.locator("th")).to_have_text(["female", "male", "not recorded"])
    female = page.locator('#equity tr[data-group="female"]')
    # Provisional: recognised C01-C18 of 21 -> 85.7 %; T-CPR C01-C16 of the 18 -> 88.9 %;
    # recognition 10 × 60 s and 8 × 80 s -> 60 s; compressions 10 × 120 s, 6 × 140 s -> 120 s.
    # Reviewed (AHA): C01 C02 C17 C21 C22 of 21 (23.8 %); recognised and reviewed C01 C02 C17
    # -> 3 / 21 = 14.3 %; T-CPR C01 C02 of those three -> 66.7 %; 60 60 80 -> 60 s;
    # 120 120 -> 120 s.
    expected = {
        ("recognition_rate", "reviewed"): "14.3 % (3/21)",
        ("recognition_rate", "provisional"): "85.7 % (18/21)",
        ("tcpr_rate", "reviewed"): "66.7 % (2/3)",
        ("tcpr_rate", "provisional"): "88.9 % (16/18)",
        ("median_seconds_to_recognition", "reviewed"): "60 s (n = 3)",
        ("median_seconds_to_recognition", "provisional"): "60 s (n = 18)",
        ("median_seconds_to_first_compression", "reviewed"): "120 s (n = 2)",
        ("median_seconds_to_first_compression", "provisional"): "120 s (n = 16)",
    }
    for (key, which), text in expected.items():
        cell = female.locator(f'td[data-measure="{key}"][data-set="{which}"]')
        await expect(cell).to_have_text(text)
    await expect(female.locator("td.population")).to_have_text("21")
    await expect(female.locator('td[data-measure="coverage"]')).to_have_text("23.8 % (5/21)")
    for group in ("male", ""):
        small = page.locator(f'#equity tr[data-group="{group}"]')
        await expect(small.locator("td")).to_have_text(["suppressed (1–10 arrests)"])
        # No figure at all: no rate, median or count, not even the group's size.
        rest = (await small.inner_text()).replace("suppressed (1–10 arrests)", "")
        assert not re.search(r"\d", rest), rest
    await expect(page.locator("#equity-status")).to_have_text("3 groups, 1 shown, 2 suppressed.")

    # Another dimension: age group (70 -> 65–79, 50 -> 40–64).
    await page.select_option("#equity-by", "age_group")
    await page.click("#equity-show")
    await expect(rows.locator("th")).to_have_text(["65–79", "40–64", "not recorded"])
    older = page.locator('#equity tr[data-group="65–79"]')
    await expect(
        older.locator('td[data-measure="recognition_rate"][data-set="provisional"]')
    ).to_have_text("85.7 % (18/21)")
    await expect(page.locator("#equity thead th").first).to_have_text("Age group")
    # The agency dimension is offered only for a set of agencies.
    assert "agency" not in await page.locator("#equity-by option").evaluate_all(
        "os => os.map(o => o.value)"
    )

    # The CSV holds the same: the suppressed groups one row each, with no figure in it.
    rows_csv = csv_rows(await downloaded(page, "breakdown-csv"))
    assert {r["by"] for r in rows_csv} == {"age_group"}
    small_rows = [r for r in rows_csv if r["suppressed"] == "true"]
    assert sorted(r["group"] for r in small_rows) == ["", "40–64"]
    assert all(
        r[k] == "" for r in small_rows for k in ("numerator", "denominator", "percent", "count")
    )
    rate = next(r for r in rows_csv if r["group"] == "65–79" and r["measure"] == "recognition_rate")
    assert (rate["numerator"], rate["denominator"], rate["percent"]) == ("18", "21", "85.7")
    await expect(page.locator("#equity ~ .export-status")).to_contain_text("Saved")

    await page.set_viewport_size({"width": 1280, "height": 720})
    await page.evaluate("document.querySelector('#h-equity').scrollIntoView()")
    await screenshot(page, "measures-equity-1280x720")
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
    provisional = page.locator('.measure[data-measure="recognition_rate"] .provisional')
    await expect(provisional.locator(".value")).to_have_text("—")
    await expect(provisional.locator(".verdict")).to_contain_text("no calls")
    reviewed = page.locator('.measure[data-measure="recognition_rate"] .reviewed')
    await expect(reviewed.locator(".value")).to_have_text("—")
    await expect(page.locator("#coverage-line")).to_have_text(
        "QI-reviewed: no population calls to review in this period."
    )
    await expect(page.locator("#quality")).to_be_hidden()
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
        card = page.locator(f'.measure[data-measure="{key}"] .provisional')
        await expect(card.locator(".value")).to_have_text(value)
        await expect(card.locator(".fraction")).to_have_text(fraction)
    await expect(page.locator('#by-agency tr[data-agency="A"]')).to_contain_text("81.8 % (9/11)")
    await expect(page.locator('#by-agency tr[data-agency="B"]')).to_contain_text("100.0 % (2/2)")
    # Each agency's QI coverage (A: N2 of 11 signed off; B: none of 2), and the agencies on a
    # funnel plot of the recognition rate: A 9 of 11, B 2 of 2.
    await expect(page.locator('#by-agency tr[data-agency="A"] .coverage-cell')).to_have_text(
        "9.1 % (1/11)"
    )
    await expect(page.locator('#by-agency tr[data-agency="B"] .coverage-cell')).to_have_text(
        "0.0 % (0/2)"
    )
    agencies = page.locator('#agency-funnels svg.funnel[data-funnel="recognition_rate"]')
    assert sorted(
        await agencies.locator("circle.funnel-point").evaluate_all(
            "cs => cs.map(c => [c.closest('g').dataset.name, Number(c.dataset.n),"
            " Number(c.dataset.percent)])"
        )
    ) == [["A", 11, 81.8], ["B", 2, 100.0]]
    await expect(agencies.locator("line.center")).to_have_attribute("data-value", "84.6")
    # A funnel of telecommunicators for each agency.
    await expect(page.locator("#tc-funnels svg.funnel")).to_have_count(4)
    # The equity breakdown by agency, for a set: B's 2 arrests are suppressed.
    await page.select_option("#equity-by", "agency")
    await page.click("#equity-show")
    await expect(page.locator("#equity tbody tr th")).to_have_text(["A", "B"])
    await expect(page.locator('#equity tr[data-group="B"] td')).to_have_text(
        ["suppressed (1–10 arrests)"]
    )
    await expect(
        page.locator('#equity tr[data-group="A"] td[data-measure="recognition_rate"]')
    ).to_have_text(["0.0 % (0/11)", "81.8 % (9/11)"])
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
        card = page.locator('.measure[data-measure="recognition_rate"] .provisional')
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


# -- protocol versions on the trend ------------------------------------------------------------

SHIPPED_PACKS = REPO / "ui" / "prompts"
DIRECTOR = "Dr. A. Medina, medical director"
# Agency A's own signed versions (in Chicago): one in force before the period, one taking effect
# mid-December in English and Spanish alike, and one not in force yet.
VERSIONS = [
    ("2025-06", "en", "2025-06-01T00:00:00-05:00"),
    ("2025-12", "en", "2025-12-16T00:00:00-06:00"),
    ("2025-12", "es", "2025-12-16T00:00:00-06:00"),
    ("2099-01", "en", "2099-01-01T00:00:00-06:00"),
]


def write_packs(root: Path) -> None:
    """<root>/A/<pack>/{manifest.json,texts.json}, texts as shipped (service/protocols.py)."""
    for version, language, effective_from in VERSIONS:
        folder = root / "A" / f"kce-tcpr-{version}-{language}"
        folder.mkdir(parents=True)
        manifest = {
            "id": "kce-tcpr",
            "version": version,
            "language": language,
            "signed_by": DIRECTOR,
            "signed_at": "2025-05-20T10:00:00-05:00",
            "effective_from": effective_from,
        }
        (folder / "manifest.json").write_text(json.dumps(manifest))
        texts = (SHIPPED_PACKS / f"tcpr-sample-{language}" / "texts.json").read_text()
        (folder / "texts.json").write_text(texts)


def coached_with(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The call's `tcpr.started` names the version in force at its T0, as the panel does."""
    t0 = datetime.fromisoformat(events[0]["at"])
    version = "2025-12" if t0 >= datetime.fromisoformat(VERSIONS[1][2]) else "2025-06"
    return [
        {**e, "data": {**e["data"], "protocol": f"kce-tcpr@{version}", "language": "en"}}
        if e["kind"] == "tcpr.started"
        else e
        for e in events
    ]


async def test_the_trend_marks_when_a_protocol_version_took_effect(
    sqlite_url: str,
    tmp_path: Path,
    new_page: NewPage,
    console_errors: list[str],
    screenshot: Screenshot,
) -> None:
    write_packs(tmp_path / "packs")
    server = await start_server(
        service_settings(
            sqlite_url,
            agencies={"A": {"zone": "America/Chicago"}},
            prompts_dir=tmp_path / "packs",
        )
    )
    try:
        await post_calls(server, *(coached_with(c) for c in CALLS))
        page = await open_report(server, new_page)
        # The interval to first compression: one mark, on 16 December (Chicago), for the English
        # and Spanish texts of kce-tcpr@2025-12; June's and 2099's fall outside the months.
        chart = page.locator('svg.chart[data-measure="median_seconds_to_first_compression"]')
        mark = chart.locator("g.protocol-change")
        await expect(mark).to_have_count(1)
        await expect(mark).to_have_attribute("data-month", "2025-12")
        await expect(mark).to_have_attribute("data-protocol", "kce-tcpr@2025-12")
        await expect(mark.locator("text.protocol-label")).to_have_text("kce-tcpr@2025-12")
        await expect(mark.locator("title")).to_have_text(
            f"kce-tcpr@2025-12 took effect 16 Dec 2025 (en, es), signed by {DIRECTOR}"
        )
        # Drawn half way into December: 15 of its 31 days had gone.
        ticks = await chart.locator("text.month-tick").evaluate_all(
            "ts => ts.map(t => Number(t.getAttribute('x')))"
        )
        band = ticks[1] - ticks[0]
        x = float(await mark.locator("line.protocol-line").get_attribute("x1") or "nan")
        assert x == pytest.approx(ticks[2] - band / 2 + band * 15 / 31, abs=0.01)
        await expect(chart.locator("desc")).to_contain_text(
            "Protocol versions taking effect: kce-tcpr@2025-12 on 16 Dec 2025."
        )
        # Every monthly chart has it, and says so in words.
        await expect(page.locator("svg.chart g.protocol-change")).to_have_count(5)
        figure = page.locator('figure[data-measure="median_seconds_to_first_compression"]')
        await expect(figure.locator(".protocol-legend")).to_contain_text(
            "a protocol version took effect (id@version)"
        )
        await expect(page.locator("#trend-zone")).to_contain_text(
            "marks the day a protocol version took effect (kce-tcpr@2025-12)"
        )
        # The data table names it on its month, for a screen reader.
        await figure.locator("button.table-toggle").click()
        table = figure.locator("table.chart-data")
        await expect(table.locator("thead th").last).to_have_text("Protocol version taking effect")
        await expect(table.locator("tbody tr td:last-child")).to_have_text(
            ["—", "—", "kce-tcpr@2025-12 from 16 Dec 2025", "—"]
        )
        # Medians 120, 110, 165, 122.5 s around it: the points stay where they were.
        points = await chart.locator("circle.point").evaluate_all(
            "cs => cs.map(c => Number(c.dataset.value))"
        )
        assert points == [120.0, 110.0, 165.0, 122.5]

        # The equity breakdown by protocol version: each version a group (small ones suppressed).
        options = await page.locator("#equity-by option").evaluate_all(
            "os => os.map(o => [o.value, o.textContent])"
        )
        assert ["protocol", "Protocol version"] in options
        await page.select_option("#equity-by", "protocol")
        await page.click("#equity-show")
        await expect(page.locator("#equity thead th").first).to_have_text("Protocol version")
        groups = page.locator("#equity tbody tr")
        await expect(groups.first).to_be_visible()
        names = await groups.evaluate_all("rs => rs.map(r => r.dataset.group)")
        assert set(names) == {"kce-tcpr@2025-06", "kce-tcpr@2025-12", ""}

        await page.set_viewport_size({"width": 1280, "height": 720})
        await figure.locator("button.table-toggle").click()
        await page.evaluate(
            "document.querySelector('figure[data-measure=median_seconds_to_recognition]')"
            ".scrollIntoView()"
        )
        await screenshot(page, "measures-protocol-1280x720")
        assert console_errors == []
    finally:
        await server.stop()
