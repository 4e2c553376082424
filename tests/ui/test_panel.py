"""The telecommunicator panel in a real Chromium: the script by keyboard, the clocks, the
metronome's timing, and what happens when the connection drops."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from calls import call, open_panel, post_calls
from playwright.async_api import Page, Route, expect
from support.harness import Server

from contract.kinds import Kind

NewPage = Callable[..., Awaitable[Page]]
Screenshot = Callable[[Page, str], Awaitable[Path]]
ME = "test-telecommunicator"  # the name the harness gives this role's token


async def open_call(server: Server, call_id: str = "C1", age_s: float = 20) -> None:
    """A call connected `age_s` ago and answered by this telecommunicator."""
    await post_calls(server, call(call_id, age_s, ME))


async def console_events(server: Server, call_id: str = "C1") -> list[Any]:
    return [
        e for e in await server.services.store.call_events("A", call_id) if e.source == "console"
    ]


async def test_script_by_keyboard_is_stored_and_audited(
    ui_server: Server, new_page: NewPage, console_errors: list[str], screenshot: Screenshot
) -> None:
    sample = ui_server.services.protocols.in_force("A", "en")
    assert sample is not None and sample.sample
    await open_call(ui_server, age_s=20)
    page = await open_panel(ui_server, new_page)
    card = page.locator("#card")
    await expect(card).to_have_attribute("data-phase", "ask_conscious")
    await expect(page.locator("#card-title")).to_have_text("Is the patient awake?")

    await page.keyboard.press("n")
    # The card moves on only once the store has the answer.
    await expect(card).to_have_attribute("data-phase", "ask_breathing")
    assert [e.kind for e in await console_events(ui_server)] == [Kind.TRIAGE_CONSCIOUS]
    await page.keyboard.press("u")
    await expect(card).to_have_attribute("data-phase", "recognized")
    await expect(page.locator("#clock-recognition")).to_have_class("clock met")

    await page.keyboard.press(" ")  # T-CPR instructions begin
    await expect(card).to_have_attribute("data-phase", "tcpr_instructions")
    await expect(page.locator("#steps li.current")).to_contain_text("speaker")
    await page.keyboard.press(" ")
    await expect(page.locator("#steps li.current")).to_contain_text("flat on their back")
    await expect(page.locator("#metronome-state")).to_have_text("on")
    protocol = page.locator("#card-protocol")
    await expect(protocol).to_contain_text(f"Protocol {sample.protocol}")
    await expect(protocol).to_contain_text("sample texts, not signed by your medical director")
    await screenshot(page, "panel-1280x720")

    await page.keyboard.press("c")
    await expect(card).to_have_attribute("data-phase", "compressions")

    stored = await console_events(ui_server)
    assert [(e.kind, e.data.get("answer")) for e in stored] == [
        (Kind.TRIAGE_CONSCIOUS, "no"),
        (Kind.TRIAGE_BREATHING, "unsure"),
        (Kind.TCPR_STARTED, None),
        (Kind.TCPR_FIRST_COMPRESSION, None),
    ]
    # The instructions name the pack they were read from: the shipped sample, in English.
    assert stored[2].data == {"variant": "adult", "language": "en", "protocol": sample.protocol}
    assert {e.actor for e in stored} == {ME}
    assert all(e.event_id.startswith("con-") for e in stored)

    async with await ui_server.client("supervisor", "A") as supervisor:
        audit = (await supervisor.get("/api/v1/calls/A/C1/audit")).json()
    events = {e.kind: e for e in await ui_server.services.store.call_events("A", "C1")}
    t0 = events[Kind.CALL_RECEIVED].at
    assert audit["recognized"] is True
    assert audit["recognition_path"] == "question"
    # Intervals come from the source times the panel stamped, from T0.
    expected_recognition = round((events[Kind.TRIAGE_BREATHING].at - t0).total_seconds(), 3)
    assert audit["intervals"]["to_recognition"] == expected_recognition
    assert 20 <= expected_recognition < 60
    assert audit["intervals"]["to_first_compression"] == round(
        (events[Kind.TCPR_FIRST_COMPRESSION].at - t0).total_seconds(), 3
    )
    assert audit["benchmarks"] == {"recognition_met": True, "first_compression_met": True}
    assert console_errors == []


async def test_arrest_key_ruled_out_and_reopen(
    ui_server: Server, new_page: NewPage, console_errors: list[str]
) -> None:
    await open_call(ui_server, "C1")
    await open_call(ui_server, "C2")
    page = await open_panel(ui_server, new_page)
    card = page.locator("#card")
    focused = await page.locator("#call-id").text_content()
    await page.keyboard.press("y")  # awake: a yes to either question rules arrest out for now
    await expect(card).to_have_attribute("data-phase", "ruled_out")
    await page.keyboard.press("r")  # patient stopped breathing
    await expect(card).to_have_attribute("data-phase", "recognized")

    await page.keyboard.press("]")  # the other call
    other = "C1" if focused == "C2" else "C2"
    await expect(page.locator("#call-id")).to_have_text(other)
    await page.keyboard.press("a")  # caller says: not breathing, turning blue
    await expect(card).to_have_attribute("data-phase", "recognized")
    (direct,) = [e for e in await console_events(ui_server, other)]
    assert direct.kind == Kind.OHCA_RECOGNIZED
    await page.keyboard.press("x")
    # X's reasons; CPR already in progress is B, a key of its own (not a reason to pick).
    await expect(page.locator("#reasons button")).to_have_count(6)
    await expect(page.locator("#reasons [data-reason='cpr_in_progress']")).to_have_count(0)
    await expect(page.locator("#reasons [data-reason='caller_refused'] kbd")).to_have_text("3")
    await page.keyboard.press("3")  # caller refused
    await expect(card).to_have_attribute("data-phase", "tcpr_not_given")
    stored = await console_events(ui_server, other)
    assert stored[-1].kind == Kind.TCPR_NOT_GIVEN and stored[-1].data["reason"] == "caller_refused"
    assert console_errors == []


async def test_clock_turns_amber_then_red_and_the_alert_shows(
    ui_server: Server, new_page: NewPage, console_errors: list[str]
) -> None:
    # Six seconds before the 90 s mark: time to open the panel on a busy machine and see amber.
    await open_call(ui_server, age_s=84)
    page = await open_panel(ui_server, new_page)
    clock = page.locator("#clock-recognition")
    await expect(clock).to_have_class("clock warn")  # past 60 s
    await expect(page.locator("#alert-banner")).to_have_class("due")
    await expect(clock).to_have_class("clock late", timeout=10_000)  # past 90 s
    await expect(page.locator("#alert-banner")).to_have_text("Recognition benchmark passed")
    assert console_errors == []


async def test_metronome_beats_keep_the_set_rate(
    ui_server: Server, new_page: NewPage, console_errors: list[str]
) -> None:
    await open_call(ui_server)
    async with await ui_server.client("adapter", "A") as client:
        now = datetime.now(UTC).isoformat()
        await client.post(
            "/api/v1/events",
            json=[
                {
                    "event_id": "x1",
                    "call_id": "C1",
                    "agency": "A",
                    "kind": "ohca.recognized",
                    "at": now,
                },
            ],
        )
    page = await open_panel(ui_server, new_page)
    await expect(page.locator("#card")).to_have_attribute("data-phase", "recognized")
    await page.keyboard.press(" ")  # tcpr.started: the metronome starts by itself
    await expect(page.locator("#metronome-state")).to_have_text("on")
    await expect(page.locator("#metronome-rate")).to_have_text("110")
    # 11 beats booked on the audio clock: 10 intervals, two and a half accented bars (the
    # period is exact from the first interval on; more beats would only take longer).
    await page.wait_for_function("() => window.tcpr.metronome.beats.length >= 11", timeout=30_000)
    result = await page.evaluate(
        """() => {
            const m = window.tcpr.metronome;
            const beats = m.beats.slice(0, 11);
            return {state: m.ctx.state, now: m.ctx.currentTime, bpm: m.bpm,
                    booked: m.beats.length, last: m.beats[m.beats.length - 1],
                    intervals: beats.slice(1).map((t, i) => t - beats[i])};
        }"""
    )
    assert result["state"] == "running"
    period = 60 / 110
    worst = max(abs(i - period) for i in result["intervals"])
    assert len(result["intervals"]) == 10
    assert worst < 0.002, f"a beat was {worst * 1000:.3f} ms off the 110/min period"
    # The audio clock really ran through them (the beats were played, not only booked), and
    # beats are booked as it runs: never more than the 100 ms look-ahead and a beat ahead of it.
    assert result["now"] >= 9 * period
    assert result["last"] <= result["now"] + 0.1 + period, result
    # Faster on demand, within 100-120.
    for _ in range(10):
        await page.keyboard.press("+")
    await expect(page.locator("#metronome-rate")).to_have_text("120")
    await page.keyboard.press("m")
    await expect(page.locator("#metronome-state")).to_have_text("off")
    assert console_errors == []


async def test_dropped_socket_resyncs_and_unsent_actions_are_replayed_once(
    ui_server: Server, new_page: NewPage, console_errors: list[str]
) -> None:
    await open_call(ui_server)
    page = await open_panel(ui_server, new_page)
    card = page.locator("#card")
    await expect(card).to_have_attribute("data-phase", "ask_conscious")

    # The API cannot be reached: the answer waits in the outbox, the card does not move.
    async def unreachable(route: Route) -> None:
        await route.abort()

    await page.route("**/api/v1/events", unreachable)
    await page.keyboard.press("n")
    await expect(page.locator("#card-pending")).to_contain_text("(1)")
    await asyncio.sleep(0.5)
    await expect(card).to_have_attribute("data-phase", "ask_conscious")

    # The request reaches the store but its answer is lost on the way back: the browser
    # must send it again with the same id, and the store must keep it once.
    async def lost_reply(route: Route) -> None:
        await route.fetch()
        await route.abort()

    await page.unroute("**/api/v1/events", unreachable)
    await page.route("**/api/v1/events", lost_reply)
    await page.evaluate("window.tcpr.outbox.flush()")
    await expect(card).to_have_attribute("data-phase", "ask_breathing")  # the store has it
    await page.unroute("**/api/v1/events", lost_reply)
    await expect(page.locator("#card-pending")).to_be_hidden(timeout=10_000)
    assert [e.kind for e in await console_events(ui_server)] == [Kind.TRIAGE_CONSCIOUS]

    # The socket drops; meanwhile the CAD records the breathing answer.
    # Read as the status changes (the panel reconnects 250 ms later, sooner than a busy
    # machine may run a timer), or as it stands after 5 s if it never does.
    shown = await page.evaluate(
        """async () => {
            const status = document.querySelector('#status');
            const now = () => [status.className, document.querySelector('#connection').hidden];
            const changed = new Promise((resolve) => {
                const watch = new MutationObserver(() => { watch.disconnect(); resolve(now()); });
                watch.observe(status, {attributes: true});
                setTimeout(() => { watch.disconnect(); resolve(now()); }, 5000);
            });
            window.tcpr.live.drop();
            return await changed;
        }"""
    )
    assert shown == ["status reconnecting", False]  # the loss is shown, not hidden
    async with await ui_server.client("adapter", "A") as client:
        await client.post(
            "/api/v1/events",
            json={
                "event_id": "cad-b",
                "call_id": "C1",
                "agency": "A",
                "kind": "triage.breathing",
                "at": datetime.now(UTC).isoformat(),
                "data": {"answer": "no"},
            },
        )
    await expect(page.locator("#status")).to_have_class("status live")
    await expect(page.locator("#connection")).to_be_hidden()
    await expect(card).to_have_attribute("data-phase", "recognized")
    # The only errors are the requests this test cut off; the page itself threw nothing.
    unexpected = [e for e in console_errors if not ("ERR_FAILED" in e and "/api/v1/events" in e)]
    assert unexpected == []


async def test_spanish_prompts(
    ui_server: Server, new_page: NewPage, console_errors: list[str]
) -> None:
    await open_call(ui_server)
    page = await open_panel(ui_server, new_page)
    await page.keyboard.press("l")
    await expect(page.locator("#card-title")).to_have_text("¿Está despierto el paciente?")
    await expect(page.locator("#card-answers button[data-answer='unsure']")).to_contain_text(
        "No sé"
    )
    await page.keyboard.press("l")
    await expect(page.locator("#card-title")).to_have_text("Is the patient awake?")
    assert console_errors == []


async def test_panel_screenshots(
    ui_server: Server, new_page: NewPage, console_errors: list[str], screenshot: Screenshot
) -> None:
    await open_call(ui_server, "2026-000451", age_s=70)
    await open_call(ui_server, "2026-000452", age_s=15)
    page = await open_panel(ui_server, new_page, viewport=(1920, 1080))
    await expect(page.locator("#call-id")).to_have_text("2026-000452")  # the newest is in focus
    await page.keyboard.press("]")
    await expect(page.locator("#call-id")).to_have_text("2026-000451")
    await expect(page.locator("#clock-recognition")).to_have_class("clock warn")
    await screenshot(page, "panel-1920x1080")
    assert console_errors == []
