"""The training page in a real Chromium: a hand-made history's hours and statuses as of a date,
a person's records opened by keyboard, a classroom record entered (and a bad one refused naming
its field), and the board's quiet training line."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from playwright.async_api import Page, expect
from support.harness import Server, event

NewPage = Callable[..., Awaitable[Page]]
Screenshot = Callable[[Page, str], Awaitable[Path]]


def record(
    person: str, category: str, minutes: int, taken_at: str, kind: str = "classroom"
) -> dict[str, Any]:
    title = f"{'Initial' if category == 'initial' else 'Refresher'} T-CPR"
    return {
        "agency": "A", "person": person, "category": category, "kind": kind,
        "title": title, "minutes": minutes, "taken_at": taken_at,
    }  # fmt: skip


# As of 15 March 2026 (agency A keeps UTC), worked by hand:
HISTORY = [
    # ana: 4 h initial, 2 h CE in the last 12 months; the 16 March 2025 hour leaves on the 16th.
    record("ana", "initial", 240, "2024-01-10"),
    record("ana", "continuing", 60, "2025-03-16", kind="online"),
    record("ana", "continuing", 60, "2025-09-01"),
    # cal: 2 h of initial training.
    record("cal", "initial", 120, "2026-02-01"),
    # eve: 3 h of CE, 14 months ago.
    record("eve", "initial", 240, "2024-02-01"),
    record("eve", "continuing", 180, "2025-01-01"),
    # dee: initial complete 8 November 2025: CE not yet due.
    record("dee", "initial", 180, "2025-11-08"),
]


async def seed(server: Server) -> None:
    async with await server.client("supervisor", "A") as sup:
        for body in HISTORY:
            assert (await sup.post("/api/v1/training/records", json=body)).status_code == 201
    # A reviewed call of ana's whose review found agonal breathing taken for breathing.
    t0 = "2026-02-03T10:00:00+00:00"
    review = {
        "recognizable": True, "signed_off": True,
        "nonrecognition_reasons": ["agonal_breathing_reported_as_breathing"], "delay_reasons": [],
    }  # fmt: skip
    events = [
        event("N1-r", "call.received", t0, "N1", data={"psap": "P1"}),
        event("N1-a", "call.answered", "2026-02-03T10:00:05+00:00", "N1", actor="ana"),
        event(
            "N1-q",
            "qi.review",
            "2026-02-04T10:00:00+00:00",
            "N1",
            source="qi",
            actor="rev-1",
            data=review,
        ),
    ]
    async with await server.client("admin", "A") as admin:
        stored = await admin.post("/api/v1/events", json=events)
        assert stored.status_code == 200, stored.text


def row(page: Page, person: str) -> Any:
    return page.locator(f'tr.person[data-person="{person}"]')


async def test_training_page_shows_the_history_and_enters_a_classroom_record(
    ui_server: Server, new_page: NewPage, console_errors: list[str], screenshot: Screenshot
) -> None:
    await seed(ui_server)
    token = await ui_server.token("supervisor", "A")
    page = await new_page(viewport=(1440, 900))
    await page.goto(f"{ui_server.url}/ui/training.html#token={token}")
    await expect(page.locator("#content")).to_be_visible()
    await page.fill("#as-of", "2026-03-15")
    await page.locator("#scope button").press("Enter")
    # The answer as of 15 March, not the first one (as of today) the page showed on opening.
    await expect(page.locator("#status")).to_contain_text(re.compile(r"As of (Mar 15|15 Mar)"))
    await expect(row(page, "cal").locator(".badge")).to_have_text("Initial training incomplete")
    await expect(row(page, "eve").locator(".badge")).to_have_text("Continuing education due")
    await expect(row(page, "ana").locator(".badge").first).to_have_text("Compliant")
    await expect(row(page, "ana")).to_contain_text("4 h of 3 h")
    await expect(row(page, "ana")).to_contain_text("2 h of 2 h")
    await expect(row(page, "ana")).to_contain_text("within 30 days")
    await expect(row(page, "ana").locator("[data-scenario]")).to_have_attribute(
        "data-scenario", "agonal_breathing"
    )
    await expect(row(page, "ana")).to_contain_text("agonal breathing reported as breathing")
    await expect(row(page, "dee")).to_contain_text("not yet due")
    await expect(row(page, "dee").locator(".badge")).to_have_text("Compliant")
    await expect(page.locator("#counts")).to_contain_text("2 out of compliance")
    # Out of compliance first.
    people = await page.locator("tr.person").evaluate_all("rows => rows.map(r => r.dataset.person)")
    assert people == ["cal", "eve", "ana", "dee"]

    # ana's records, opened by keyboard.
    toggle = row(page, "ana").get_by_role("button", name="Show 3 records")
    await toggle.focus()
    await page.keyboard.press("Enter")
    records = page.get_by_role("table", name="Training records of ana")
    await expect(records.locator("tbody tr")).to_have_count(3)
    await expect(records).to_contain_text("online")
    await expect(row(page, "ana").get_by_role("button", name="Hide 3 records")).to_be_focused()
    await screenshot(page, "training")

    # A classroom record the server refuses names its field: a date in the future.
    await page.fill("#e-person", "cal")
    await page.select_option("#e-category", "initial")
    await page.select_option("#e-kind", "classroom")
    await page.fill("#e-title", "Initial T-CPR, part 2")
    await page.fill("#e-minutes", "60")
    await page.fill("#e-taken", "2099-01-01")
    await page.locator("#e-taken").press("Enter")
    await expect(page.locator("#enter-status")).to_contain_text("taken_at")
    await expect(page.locator("#e-taken")).to_have_attribute("aria-invalid", "true")
    # Then entered for 1 March: cal's initial training reaches 3 h.
    await page.fill("#e-taken", "2026-03-01")
    await page.locator("#e-minutes").press("Enter")
    await expect(page.locator("#enter-status")).to_have_text(
        "Entered 60 min of initial training for cal."
    )
    await expect(row(page, "cal").locator(".badge")).to_have_text("Compliant")
    await expect(row(page, "cal")).to_contain_text("3 h of 3 h")
    await expect(page.locator("#counts")).to_contain_text("1 out of compliance")
    async with await ui_server.client("qi", "A") as qi:
        hours = await qi.get("/api/v1/training/hours", params={"agency": "A", "person": "cal"})
    entered = [r for r in hours.json()["people"][0]["records"] if r["minutes"] == 60]
    assert [(r["kind"], r["title"], r["taken_at"]) for r in entered] == [
        ("classroom", "Initial T-CPR, part 2", "2026-03-01T00:00:00+00:00")
    ]
    expected_refusal = "status of 422"
    assert [e for e in console_errors if expected_refusal not in e] == []
    assert await page.evaluate("window.tcprCspViolations") == []


async def test_a_telecommunicator_sees_only_their_own_line(
    ui_server: Server, new_page: NewPage, console_errors: list[str]
) -> None:
    await seed(ui_server)
    token = await ui_server.services.tokens.create("telecommunicator", ["A"], "eve")
    page = await new_page()
    await page.goto(f"{ui_server.url}/ui/training.html#token={token}")
    await expect(page.locator("tr.person")).to_have_count(1)
    await expect(row(page, "eve").locator(".badge")).to_have_text("Continuing education due")
    await expect(page.locator("#enter-section")).to_be_hidden()
    await expect(page.locator("#export-section")).to_be_hidden()
    assert console_errors == []


async def test_the_board_shows_a_quiet_training_line(
    ui_server: Server, new_page: NewPage, console_errors: list[str]
) -> None:
    await seed(ui_server)
    async with await ui_server.client("supervisor", "A") as sup:
        summary = (await sup.get("/api/v1/training/summary", params={"agency": "A"})).json()
    out = summary["out_of_compliance"]
    assert out >= 2  # cal and eve, whatever today is
    token = await ui_server.token("supervisor", "A")
    page = await new_page()
    await page.goto(f"{ui_server.url}/ui/#token={token}")
    flag = page.locator("#training-flag")
    await expect(flag).to_have_text(f"Training: {out} people out of compliance")
    await expect(flag.locator("a")).to_have_attribute("href", "training.html?agency=A")
    assert console_errors == []
