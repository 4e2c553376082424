"""A training agency in a real Chromium: the supervisor board keeps its calls in their own table,
marked TRAINING and out of the day's figures; the measures page offers it alone, marks its
report, exports nothing of it, and a real agency's measures stay what they were before a
scenario was played."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

import pytest_asyncio
from calls import call
from playwright.async_api import Page, expect
from support.harness import Server, service_settings, start_server

NewPage = Callable[..., Awaitable[Page]]
AGENCIES = {"A": {}, "A-TRAIN": {"training": True}}
POPULATION = {"ohca": True, "resuscitation_attempted": True, "ems_witnessed": False}


@pytest_asyncio.fixture(loop_scope="session")
async def server(sqlite_url: str) -> AsyncIterator[Server]:
    running = await start_server(service_settings(sqlite_url, agencies=AGENCIES))
    try:
        yield running
    finally:
        await running.stop()


def of(agency: str, events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{**e, "agency": agency} for e in events]


async def post(server: Server, events: list[dict[str, Any]]) -> None:
    async with await server.client("adapter", "A", "A-TRAIN") as client:
        response = await client.post("/api/v1/events", json=events)
        assert response.status_code == 200, response.text


def arrest(call_id: str, t0: datetime) -> list[dict[str, Any]]:
    """Recognised at 50 s by the questions, first compression at 120 s, in the population."""
    return call(
        call_id,
        0,
        "tc-1",
        ("triage.conscious", 30, {"answer": "no"}),
        ("triage.breathing", 50, {"answer": "no", "agonal": True}),
        ("unit.dispatched", 55, {"unit": "M12"}),
        ("tcpr.started", 90, {}),
        ("tcpr.first_compression", 120, {}),
        ("call.ended", 600, {}),
        ("ems.outcome", 3600, POPULATION),
        t0=t0,
    )


async def test_the_board_keeps_training_calls_in_their_own_table(
    server: Server, new_page: NewPage, console_errors: list[str]
) -> None:
    await post(server, of("A", call("2026-000901", 20, "tc-114")))
    await post(server, of("A-TRAIN", call("SCN-1", 70, "trainee-7")))
    token = await server.token("supervisor", "A", "A-TRAIN")
    page = await new_page(viewport=(1280, 720))
    await page.goto(f"{server.url}/ui/#token={token}")
    await expect(page.locator("#status")).to_have_class("status live")
    await expect(page.locator("#agencies")).to_have_text("A, A-TRAIN (training)")
    real = page.locator("#board tbody tr")
    await expect(real).to_have_count(1)
    await expect(real.first).to_have_attribute("data-call-id", "2026-000901")
    practice = page.locator("#training-calls tbody tr")
    await expect(practice).to_have_count(1)
    await expect(practice.first).to_have_attribute("data-call-id", "SCN-1")
    await expect(practice.first.locator(".mark.training")).to_have_text("training")
    await expect(page.locator("#training")).to_be_visible()
    await expect(page.locator("#fig-calls")).to_have_text("1")  # the real call only
    # Training compliance is the real agency's people: a trainee who worked a scenario in
    # A-TRAIN is not a second person out of compliance, and the line opens A's page.
    flag = page.locator("#training-flag")
    await expect(flag).to_have_text("Training: 1 person out of compliance")
    await expect(flag.locator("a")).to_have_attribute("href", "training.html?agency=A")
    assert console_errors == []


async def test_the_measures_page_offers_a_training_agency_alone_and_marks_it(
    server: Server, new_page: NewPage, console_errors: list[str]
) -> None:
    await post(server, of("A", arrest("R1", datetime(2026, 2, 10, 14, tzinfo=UTC))))
    token = await server.token("qi", "A", "A-TRAIN")
    page = await new_page(viewport=(1440, 900))
    real_report = f"{server.url}/ui/measures.html?agency=A&from=2026-02-01&through=2026-02-28"
    await page.goto(f"{real_report}#token={token}")
    status = page.locator("#status")
    await expect(status).to_have_text("1 calls in the period, 1 in the population.")
    card = page.locator('.measure[data-measure="recognition_rate"] .provisional')
    before = [await card.locator(".fraction").text_content(), await page.inner_text("#figures")]

    await post(server, of("A-TRAIN", arrest("SCN-1", datetime(2026, 2, 10, 15, tzinfo=UTC))))
    await page.goto(real_report)
    await expect(status).to_have_text("1 calls in the period, 1 in the population.")
    after = [await card.locator(".fraction").text_content(), await page.inner_text("#figures")]
    assert after == before
    await expect(page.locator("#training-banner")).to_be_hidden()

    # Picked, the training agency takes the place of the others: it is reported alone, marked.
    training_box = page.locator('#agency-boxes input[value="A-TRAIN"]')
    await expect(page.locator("#agency-boxes label.training-agency")).to_have_text(
        " A-TRAIN (training)"
    )
    await training_box.check()
    await expect(page.locator('#agency-boxes input[value="A"]')).not_to_be_checked()
    await page.click("#show")
    await expect(page.locator("#training-banner")).to_be_visible()
    await expect(page.locator("#training-banner")).to_contain_text("TRAINING")
    await expect(status).to_have_text("1 calls in the period, 1 in the population.")
    for button in await page.locator("[data-export]").all():
        await expect(button).to_be_disabled()

    # A link naming both is refused on the page, as the service refuses it.
    await page.goto(f"{real_report}&agency=A-TRAIN")
    await expect(page.locator("#error")).to_contain_text("A-TRAIN is a training agency")
    assert console_errors == []


async def test_the_qi_page_marks_a_training_agency_s_audits_and_exports_none(
    server: Server, new_page: NewPage, console_errors: list[str]
) -> None:
    await post(server, of("A", arrest("R1", datetime(2026, 2, 10, 14, tzinfo=UTC))))
    await post(server, of("A-TRAIN", arrest("SCN-1", datetime(2026, 2, 10, 15, tzinfo=UTC))))
    token = await server.token("qi", "A", "A-TRAIN")
    page = await new_page(viewport=(1440, 900))
    await page.goto(f"{server.url}/ui/qi.html?agency=A#token={token}")
    await expect(page.locator("#counts")).to_contain_text("1 shown of 1 calls")
    await expect(page.locator("#training-note")).to_be_hidden()
    await page.locator('#audits tbody tr[data-call-id="R1"]').click()
    await expect(page.locator('article.audit[data-call-id="R1"] h2')).to_have_text("Call R1")
    await expect(page.locator("#export-list-csv")).to_be_enabled()
    await expect(page.locator('#f-agency option[value="A-TRAIN"]')).to_have_text(
        "A-TRAIN (training)"
    )
    await page.select_option("#f-agency", "A-TRAIN")
    await expect(page.locator("#training-note")).to_be_visible()
    await expect(page.locator('#audits tbody tr[data-call-id="SCN-1"]')).to_have_count(1)
    await page.locator('#audits tbody tr[data-call-id="SCN-1"]').click()
    heading = page.locator('article.audit[data-call-id="SCN-1"] h2')
    await expect(heading.locator(".badge.training")).to_have_text("training")
    await expect(page.locator("#export-list-csv")).to_be_disabled()
    await expect(page.locator("#export-list-json")).to_be_disabled()
    await expect(page.locator("#print-list")).to_be_hidden()
    assert console_errors == []


async def test_the_training_page_offers_real_agencies_and_follows_the_one_chosen(
    server: Server, new_page: NewPage, console_errors: list[str]
) -> None:
    """A trainee's hours are kept in their own agency: the training agency is not offered.
    Choosing another agency shows its people at once, so the table, the entry form and the CSVs
    are never two agencies at a time."""
    async with await server.client("supervisor", "A", "B", "A-TRAIN") as sup:
        for agency, person in (("A", "ana"), ("B", "bo")):
            body = {"agency": agency, "person": person, "category": "initial",
                    "kind": "classroom", "title": "Initial T-CPR", "minutes": 200,
                    "taken_at": "2026-01-10"}  # fmt: skip
            assert (await sup.post("/api/v1/training/records", json=body)).status_code == 201
    token = await server.token("supervisor", "A", "B", "A-TRAIN")
    page = await new_page(viewport=(1280, 720))
    await page.goto(f"{server.url}/ui/training.html?agency=A#token={token}")
    options = page.locator("#agency option")
    await expect(options).to_have_count(2)
    assert await options.all_inner_texts() == ["A", "B"]
    people = page.locator("tr.person")
    await expect(people).to_have_count(1)
    await expect(people.first).to_contain_text("ana")
    await page.select_option("#agency", "B")  # no Show pressed
    await expect(people).to_have_count(1)
    await expect(people.first).to_contain_text("bo")
    assert "agency=B" in page.url
    # The trainer's sessions are one link away, and named apart from the hours.
    nav = page.get_by_role("navigation", name="Pages")
    await expect(nav.get_by_role("link", name="Training hours")).to_have_attribute(
        "href", "training.html"
    )
    await expect(nav.get_by_role("link", name="Training sessions")).to_have_attribute(
        "href", "trainer.html"
    )
    assert console_errors == []
