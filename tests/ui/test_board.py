"""The supervisor board in a real Chromium: every live call, most urgent first, breaches marked,
calls breathing to verify or not dispatched marked, calls outside the alert scope apart, a silent
CAD feed as a banner, and the day's running figures."""

from __future__ import annotations

import asyncio
import contextlib
import re
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from calls import call, post_calls
from playwright.async_api import Page, expect
from signin import unexpected
from support.harness import Server, service_settings, start_server

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
    await expect(page.locator("#fig-recognized")).to_have_text("1 · 1 in time")
    await expect(page.locator("#fig-median-recognition")).to_have_text("45 s")
    await expect(page.locator("#fig-compressions")).to_have_text("1 · 1 in time")
    # The operator's rule for calls the CAD never ends, stated on the board.
    await expect(page.locator("#live-rule")).to_have_text(
        "A call the CAD never ends leaves this board 4 h after it was received "
        "(TCPR_LIVE_CALL_MAX_AGE_SECONDS); it stays in the QI audits."
    )
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


# -- what a supervisor walks over for (DESIGN §3, §4) --------------------------------------------


async def open_board(server: Server, new_page: NewPage, *agencies: str) -> Page:
    token = await server.token("supervisor", *agencies)
    page = await new_page(viewport=(1280, 720))
    await page.goto(f"{server.url}/ui/#token={token}")
    await expect(page.locator("#status")).to_have_class("status live")
    return page


async def post_events(server: Server, *events: dict[str, Any]) -> None:
    async with await server.client("adapter", "A") as client:
        response = await client.post("/api/v1/events", json=list(events))
        assert response.status_code == 200, response.text


def event(event_id: str, call_id: str, kind: str, data: dict[str, Any]) -> dict[str, Any]:
    """An event of agency A at this moment (the CAD sent it just now)."""
    return {
        "event_id": event_id,
        "call_id": call_id,
        "agency": "A",
        "kind": kind,
        "at": datetime.now(UTC).isoformat(),
        "data": data,
    }


async def test_a_call_breathing_to_verify_is_marked_and_keeps_its_alerts(
    ui_server: Server, new_page: NewPage, console_errors: list[str], screenshot: Screenshot
) -> None:
    # Not awake, "yes, breathing" unconfirmed: maybe agonal. Recognition is due 60 s after T0,
    # eight seconds after it is posted: the alert comes while the board watches.
    await post_calls(
        ui_server,
        call(
            "2026-000201",
            52,
            "tc-114",
            ("triage.conscious", 15, {"answer": "no"}),
            ("triage.breathing", 25, {"answer": "yes"}),
        ),
        # The caller described the breathing and it is normal: ruled out, no mark.
        call(
            "2026-000202",
            70,
            "tc-207",
            ("triage.conscious", 15, {"answer": "no"}),
            ("triage.breathing", 25, {"answer": "yes", "confirmed": True}),
        ),
    )
    page = await open_board(ui_server, new_page)
    row = page.locator('tr[data-call-id="2026-000201"]')
    verify = row.locator(".mark.verify")
    await expect(verify).to_have_text("verify breathing")
    assert "agonal" in (await verify.get_attribute("title") or "")
    await expect(row).to_have_class(re.compile(r"\bverify\b"))
    await expect(row.locator(".alert")).to_have_count(0)
    await expect(page.locator('tr[data-call-id="2026-000202"] .mark')).to_have_count(0)
    await expect(page.locator('tr[data-call-id="2026-000202"] td.phase')).to_have_text("ruled out")
    # Breathing to verify keeps the recognition alerts: the due one arrives, the mark stays.
    await expect(row.locator(".alert")).to_have_text(["recognition due"], timeout=15_000)
    await expect(verify).to_have_text("verify breathing")
    order = await page.locator("#board tbody tr").evaluate_all(
        "rows => rows.map(r => r.dataset.callId)"
    )
    assert order == ["2026-000201", "2026-000202"]  # racing a benchmark; the other is not
    # The row lit up as the alert came, for a moment.
    await expect(row).to_have_class(re.compile(r"\bflash\b"), timeout=1000)
    await expect(row).not_to_have_class(re.compile(r"\bflash\b"))
    await screenshot(page, "board-verify-1280x720")
    assert console_errors == []


async def test_calls_outside_the_alert_scope_are_shown_apart_and_raise_nothing(
    sqlite_url: str, new_page: NewPage, console_errors: list[str], screenshot: Screenshot
) -> None:
    server = await start_server(
        service_settings(sqlite_url, agencies='{"A": {"alert_scope": "medical"}}')
    )
    try:
        # Both past the recognition benchmark: only the medical one (MPDS 10-D-1) raises alerts;
        # the police one (131-D-1) is out of scope.
        await post_calls(
            server,
            call(
                "2026-000301",
                100,
                "tc-114",
                ("call.nature", 5, {"code": "131-D-1", "text": "Traffic incident"}),
            ),
            call(
                "2026-000302",
                100,
                "tc-207",
                ("call.nature", 5, {"code": "10-D-1", "text": "Chest pain"}),
            ),
            call(
                "2026-000303",
                30,
                "tc-318",
                ("call.nature", 5, {"code": "10-D-1", "text": "Chest pain"}),
            ),
            # No nature code yet: out of scope (no alerts) but maybe an arrest in its first
            # seconds, so it stays among the live calls, marked, never tucked away.
            call("2026-000304", 20, "tc-425"),
        )
        page = await open_board(server, new_page)
        racing = page.locator("#board tbody tr")
        await expect(racing).to_have_count(3)
        order = await racing.evaluate_all("rows => rows.map(r => r.dataset.callId)")
        # Nearest deadline first, as ever; the call racing nothing yet last.
        assert order == ["2026-000302", "2026-000303", "2026-000304"]
        await expect(page.locator('tr[data-call-id="2026-000304"] .mark.nature')).to_have_text(
            "no nature code yet"
        )
        medical = page.locator('#board tr[data-call-id="2026-000302"]')
        await expect(medical.locator(".alert")).to_have_text(
            ["recognition due", "recognition overdue"]
        )
        await expect(medical).to_have_class("breached")
        # The out-of-scope call is below, behind a button that says how many there are.
        other = page.locator("#other")
        await expect(other).to_be_visible()
        await expect(other.locator("h2")).to_have_text("Other calls (no alerts)")
        toggle = page.locator("#other-toggle")
        await expect(toggle).to_have_text("Show non-medical calls (1)")
        await expect(toggle).to_have_attribute("aria-expanded", "false")
        await expect(page.locator("#other-calls")).to_be_hidden()
        # Reached and opened by keyboard.
        await page.locator("#signout").focus()
        await page.keyboard.press("Tab")
        await expect(toggle).to_be_focused()
        await page.keyboard.press("Enter")
        await expect(toggle).to_have_text("Hide non-medical calls (1)")
        await expect(toggle).to_have_attribute("aria-expanded", "true")
        police = page.locator('#other-calls tr[data-call-id="2026-000301"]')
        await expect(police.locator("td")).to_have_text(
            [
                "2026-000301",
                "tc-114",
                "131-D-1 Traffic incident",
                "ask conscious",
                re.compile(r"^1:4\d$"),
            ]
        )
        # Its clock counts but races nothing: no warning or late colour.
        await expect(police.locator("td.clock")).to_have_class("clock idle")
        # It raised nothing: the medical call's alerts came, none for it.
        views = await page.evaluate(
            "() => Object.fromEntries([...window.tcpr.live.calls.values()]"
            ".map(c => [c.call_id, [c.in_scope, c.alerts]]))"
        )
        assert views == {
            "2026-000301": [False, []],
            "2026-000302": [True, ["recognition_due", "recognition_overdue"]],
            "2026-000303": [True, []],
            "2026-000304": [False, []],
        }
        await screenshot(page, "board-other-calls-1280x720")
        await toggle.click()
        await expect(page.locator("#other-calls")).to_be_hidden()
        assert console_errors == []
    finally:
        await server.stop()


async def test_a_call_not_dispatched_is_marked_until_a_unit_is(
    sqlite_url: str, new_page: NewPage, console_errors: list[str], screenshot: Screenshot
) -> None:
    server = await start_server(
        service_settings(sqlite_url, agencies='{"A": {"dispatch_alerts": true}}')
    )
    try:
        # A "no" 20 s in and no unit at 100 s: past T0 + the recognition benchmark (90 s).
        await post_calls(
            server,
            call("2026-000401", 100, "tc-114", ("triage.conscious", 20, {"answer": "no"})),
            call(
                "2026-000402",
                100,
                "tc-207",
                ("triage.conscious", 20, {"answer": "no"}),
                ("unit.dispatched", 30, {"unit": "M12"}),
            ),
        )
        page = await open_board(server, new_page)
        row = page.locator('tr[data-call-id="2026-000401"]')
        mark = row.locator(".mark.dispatch")
        await expect(mark).to_have_text("not dispatched")
        assert "dispatch" in (await mark.get_attribute("title") or "")
        # Both fell due at T0 + 90 s, in no particular order.
        await expect(row.locator(".alert.overdue")).to_have_count(2)
        overdue = await row.locator(".alert.overdue").all_text_contents()
        assert sorted(overdue) == ["dispatch overdue", "recognition overdue"]
        # Dispatched in time: no mark, no dispatch alert.
        dispatched = page.locator('tr[data-call-id="2026-000402"]')
        await expect(dispatched.locator(".alert")).to_have_text(
            ["recognition due", "recognition overdue"]
        )
        await expect(dispatched.locator(".mark")).to_have_count(0)
        await screenshot(page, "board-not-dispatched-1280x720")
        # A unit goes: the mark goes; the alert stays on the record.
        await post_events(
            server, event("2026-000401-u", "2026-000401", "unit.dispatched", {"unit": "M7"})
        )
        await expect(mark).to_have_count(0)
        await expect(row.locator(".alert")).to_contain_text(["dispatch overdue"])
        assert console_errors == []
    finally:
        await server.stop()


async def test_a_silent_cad_feed_shows_a_banner_until_it_beats(
    sqlite_url: str, new_page: NewPage, console_errors: list[str], screenshot: Screenshot
) -> None:
    server = await start_server(
        service_settings(sqlite_url, agencies='{"A": {"feed_silence_seconds": 1}}')
    )
    beating: asyncio.Task[None] | None = None
    try:
        await seed(server)
        page = await open_board(server, new_page)
        both = await open_board(server, new_page, "A", "B")
        await expect(page.locator("#board tbody tr")).to_have_count(5)
        banner = page.locator("#feeds .feed-banner")
        # A is named in TCPR_AGENCIES, so it is watched from the start: with no CAD event in the
        # last second (the seed's are minutes old) its feed is already silent.
        await expect(banner).to_have_count(1)
        # An event from the CAD now, then a second of nothing.
        await post_events(server, event("F1-r", "F1", "call.received", {}))
        await expect(banner.locator("strong")).to_have_text(
            re.compile(r"^CAD feed silent since \d\d:\d\d:\d\d$")
        )
        async with await server.client("supervisor", "A") as client:
            feeds = (await client.get("/api/v1/feeds", params={"agency": "A"})).json()["feeds"]
        last = feeds[0]["last_activity"]
        local = await page.evaluate("iso => new Date(iso).toTimeString().slice(0, 8)", last)
        await expect(banner.locator("strong")).to_have_text(f"CAD feed silent since {local}")
        await expect(banner).to_contain_text("No event or heartbeat from the CAD for over 1 s")
        await expect(page.locator("#feeds")).to_have_attribute("aria-live", "assertive")
        # A board of several agencies names the silent one.
        await expect(both.locator("#feeds .feed-banner strong")).to_have_text(
            f"Agency A: CAD feed silent since {local}"
        )
        await screenshot(page, "board-feed-silent-1280x720")

        # The adapter beats: the banner goes, and stays gone while it keeps beating.
        async def beat() -> None:
            async with await server.client("adapter", "A") as adapter:
                while True:
                    response = await adapter.post("/api/v1/feeds/heartbeat", params={"agency": "A"})
                    assert response.status_code == 200, response.text
                    await asyncio.sleep(0.25)

        beating = asyncio.create_task(beat())
        await expect(banner).to_have_count(0)
        await expect(both.locator("#feeds .feed-banner")).to_have_count(0)
        await asyncio.sleep(1.5)
        await expect(banner).to_have_count(0)
        assert not beating.done()
        assert console_errors == []
    finally:
        if beating is not None:
            beating.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await beating
        await server.stop()


# -- debriefs (issue 19) -------------------------------------------------------------------------


async def test_the_board_lists_outstanding_debriefs_and_a_supervisor_marks_one_done(
    ui_server: Server, new_page: NewPage, console_errors: list[str]
) -> None:
    t0 = datetime(2026, 2, 3, 9, 0, tzinfo=UTC)
    outcome = ("ems.outcome", 3600, {"ohca": True, "resuscitation_attempted": True,
                                     "ems_witnessed": False})  # fmt: skip
    ended = ("call.ended", 600, {})
    late = (("ohca.recognized", 120, {}), ("tcpr.first_compression", 140, {}))
    in_time = (("ohca.recognized", 40, {}), ("tcpr.first_compression", 100, {}))
    await post_calls(
        ui_server,
        call("2026-000201", 0, "tc-114", ended, outcome, t0=t0),  # never recognised
        call("2026-000202", 0, "tc-207", *late, ended, outcome, t0=t0),
        call("2026-000203", 0, "tc-318", *in_time, ended, outcome, t0=t0),
        call("2026-000204", 30, "tc-425"),  # live
    )
    page = await open_board(ui_server, new_page, "A")
    # The live call comes first; the debriefs wait below it.
    await expect(page.locator("#board tbody tr")).to_have_count(1)
    await expect(page.locator("#debriefs-title")).to_have_text("Outstanding debriefs: 2")
    items = page.locator("#debriefs-list li")
    await expect(items).to_have_count(2)
    never = page.locator('#debriefs-list li[data-call-id="2026-000201"]')
    await expect(never).to_contain_text("tc-114")
    await expect(never.locator(".reason")).to_have_text("never recognised")
    late = page.locator('#debriefs-list li[data-call-id="2026-000202"]')
    await expect(late.locator(".reason")).to_have_text("recognition late (120 s)")
    assert await page.locator('#debriefs-list li[data-call-id="2026-000203"]').count() == 0
    board_top = await page.locator("#board").evaluate("e => e.getBoundingClientRect().top")
    debriefs_top = await page.locator("#debriefs").evaluate("e => e.getBoundingClientRect().top")
    assert board_top < debriefs_top

    # By keyboard: focus the button, Enter opens the form, type a note, Ctrl+Enter sends it.
    await late.locator("button.mark-done").focus()
    await page.keyboard.press("Enter")
    await expect(late.locator("textarea")).to_be_focused()
    await page.keyboard.type("Went through the breathing question.")
    await page.keyboard.press("Control+Enter")
    await expect(page.locator("#debriefs-title")).to_have_text("Outstanding debriefs: 1")
    await expect(items).to_have_count(1)
    # Escape closes a form without marking anything.
    await never.locator("button.mark-done").click()
    await page.keyboard.press("Escape")
    await expect(never.locator("form")).to_have_count(0)
    await expect(page.locator("#debriefs-title")).to_have_text("Outstanding debriefs: 1")

    async with await ui_server.client("supervisor", "A") as client:
        params = {"agency": "A", "state": "done"}
        done = (await client.get("/api/v1/debriefs", params=params)).json()
    (held,) = done["debriefs"]
    assert held["call_id"] == "2026-000202"
    assert held["note"] == "Went through the breathing question."
    assert held["done_by"] and held["done_at"]
    # By click, without a note.
    await never.locator("button.mark-done").click()
    await never.get_by_role("button", name="Debrief done").click()
    await expect(page.locator("#debriefs-title")).to_have_text("Outstanding debriefs: 0")
    await expect(items).to_have_count(0)
    assert console_errors == []
