"""The supervisor board in a real Chromium: every live call, most urgent first, breaches marked,
and the day's running figures."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path

from calls import call, post_calls
from harness import Server
from playwright.async_api import Page, expect
from signin import unexpected

NewPage = Callable[..., Awaitable[Page]]
Screenshot = Callable[[Page, str], Awaitable[Path]]


async def seed(server: Server) -> None:
    calls = [
        call("2026-000101", 40, "tc-114", ("triage.conscious", 20, {"answer": "no"})),
        call("2026-000102", 80, "tc-207"),  # 10 s from the recognition benchmark
        call("2026-000103", 100, "tc-162"),  # past it
        call(
            "2026-000104",
            130,
            "tc-318",
            ("ohca.recognized", 45, {}),
            ("tcpr.started", 60, {}),
            ("tcpr.first_compression", 95, {}),
        ),
        call("2026-000105", 60, "tc-425", ("triage.conscious", 25, {"answer": "yes"})),
    ]
    await post_calls(server, *calls)


async def test_board_orders_by_urgency_and_marks_breaches(
    ui_server: Server, new_page: NewPage, console_errors: list[str], screenshot: Screenshot
) -> None:
    await seed(ui_server)
    token = await ui_server.token("supervisor", "A")
    page = await new_page(viewport=(1920, 1080))
    await page.goto(f"{ui_server.url}/ui/#token={token}")
    rows = page.locator("#board tbody tr")
    await expect(rows).to_have_count(5)
    order = await rows.evaluate_all("rows => rows.map(r => r.dataset.callId)")
    # Racing a benchmark first, nearest deadline first; calls with nothing left to race last.
    assert order[:3] == ["2026-000103", "2026-000102", "2026-000101"]
    assert set(order[3:]) == {"2026-000104", "2026-000105"}
    await expect(page.locator('tr[data-call-id="2026-000103"]')).to_have_class("breached")
    await expect(page.locator('tr[data-call-id="2026-000102"]')).to_have_class("near")
    await expect(page.locator('tr[data-call-id="2026-000103"] td.clock').first).to_have_class(
        "clock late"
    )
    await expect(page.locator('tr[data-call-id="2026-000104"] td.clock').first).to_have_class(
        "clock met"
    )
    await expect(page.locator('tr[data-call-id="2026-000103"] .alert.overdue')).to_have_count(1)
    # Today's figures: five calls, one recognised (in time), one first compression (in time).
    await expect(page.locator("#fig-calls")).to_have_text("5")
    await expect(page.locator("#fig-recognized")).to_have_text("1 (1)")
    await expect(page.locator("#fig-median-recognition")).to_have_text("45 s")
    await expect(page.locator("#fig-compressions")).to_have_text("1 (1)")
    await screenshot(page, "board-1920x1080")
    await page.set_viewport_size({"width": 1280, "height": 720})
    await screenshot(page, "board-1280x720")
    assert console_errors == []


async def test_a_telecommunicator_is_sent_to_the_panel(
    ui_server: Server, new_page: NewPage, console_errors: list[str]
) -> None:
    token = await ui_server.token("telecommunicator", "A")
    page = await new_page()
    await page.goto(f"{ui_server.url}/ui/#token={token}")
    await page.wait_for_url("**/ui/panel.html")
    await expect(page.locator("#status")).to_have_class("status live")
    assert console_errors == []


async def test_a_bad_token_asks_to_sign_in(
    ui_server: Server, new_page: NewPage, console_errors: list[str]
) -> None:
    page = await new_page()
    await page.goto(f"{ui_server.url}/ui/#token=tcpr_wrong")
    await expect(page.locator("#signin")).to_be_visible()
    await page.fill("#token", await ui_server.token("supervisor", "A"))
    await page.click("#signin button")
    await expect(page.locator("#status")).to_have_class("status live")
    assert unexpected(console_errors) == []
