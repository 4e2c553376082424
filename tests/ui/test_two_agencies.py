"""Two agencies on one board and one console, in a real Chromium: a call is its agency and its CAD
number together, so two centres' calls with the same number are two calls on the screen, each
with its own clocks, and a key pressed on one is recorded on that one only."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from calls import call
from playwright.async_api import Page, expect
from support.harness import Server

NewPage = Callable[..., Awaitable[Page]]
ME = "test-telecommunicator"


def of_agency(events: list[dict[str, Any]], agency: str) -> list[dict[str, Any]]:
    return [{**e, "agency": agency, "event_id": f"{agency}-{e['event_id']}"} for e in events]


async def seed(server: Server) -> None:
    # The same CAD number in both: A's call began 70 s ago and is unconscious; B's 20 s ago.
    a = of_agency(call("24-0001", 70, ME, ("triage.conscious", 10, {"answer": "no"})), "A")
    b = of_agency(call("24-0001", 20, ME), "B")
    async with await server.client("adapter", "A", "B") as adapter:
        response = await adapter.post("/api/v1/events", json=a + b)
        assert response.status_code == 200, response.text


async def test_the_board_shows_both_agencies_calls_with_one_number(
    ui_server: Server, new_page: NewPage, console_errors: list[str]
) -> None:
    await seed(ui_server)
    token = await ui_server.token("supervisor", "A", "B")
    page = await new_page(viewport=(1280, 720))
    await page.goto(f"{ui_server.url}/ui/#token={token}")
    rows = page.locator('#board tbody tr[data-call-id="24-0001"]')
    await expect(rows).to_have_count(2)
    assert sorted(await rows.evaluate_all("rows => rows.map(r => r.dataset.agency)")) == ["A", "B"]
    a_row = page.locator('#board tbody tr[data-agency="A"]')
    await expect(a_row.locator("td").first).to_have_text("A 24-0001")
    await expect(a_row.locator("td").nth(2)).to_have_text("ask breathing")
    b_row = page.locator('#board tbody tr[data-agency="B"]')
    await expect(b_row.locator("td").first).to_have_text("B 24-0001")
    await expect(b_row.locator("td").nth(2)).to_have_text("ask conscious")
    assert console_errors == []


async def test_a_key_on_one_agencys_call_is_recorded_on_that_call_only(
    ui_server: Server, new_page: NewPage, console_errors: list[str]
) -> None:
    await seed(ui_server)
    token = await ui_server.token("telecommunicator", "A", "B")
    page = await new_page(viewport=(1280, 720))
    await page.goto(f"{ui_server.url}/ui/panel.html#token={token}")
    await expect(page.locator("#status")).to_have_class("status live")
    items = page.locator('#calls li[data-call-id="24-0001"]')
    await expect(items).to_have_count(2)

    await page.locator('#calls li[data-agency="B"]').click()
    await expect(page.locator("#call-id")).to_have_text("B 24-0001")
    card = page.locator("#card")
    await expect(card).to_have_attribute("data-phase", "ask_conscious")
    await page.keyboard.press("n")
    await expect(card).to_have_attribute("data-phase", "ask_breathing")

    store = ui_server.services.store
    b_console = [e.kind for e in await store.call_events("B", "24-0001") if e.source == "console"]
    a_console = [e.kind for e in await store.call_events("A", "24-0001") if e.source == "console"]
    assert b_console == ["triage.conscious"]
    assert a_console == []
    # A's call kept its own place: it is still at the breathing question from the CAD's answer.
    await page.locator('#calls li[data-agency="A"]').click()
    await expect(page.locator("#call-id")).to_have_text("A 24-0001")
    await expect(card).to_have_attribute("data-phase", "ask_breathing")
    assert console_errors == []
