"""What keeps a telecommunicator's keys on the right call and the card honest, in a real Chromium:
a call of one's own takes the card from one the panel picked by itself, a second key while an
answer is still being saved is not a second answer, "not given" is not offered once compressions
began, a not-given call's compression clock is not shown late, the beat keeps running for a
bystander's CPR, the child / infant choice survives a reload, and the board greys alerts whose
call has moved on."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

from calls import call, open_panel, post_calls
from playwright.async_api import Page, expect
from support.harness import Server, service_settings, start_server

from contract.kinds import Kind

NewPage = Callable[..., Awaitable[Page]]
ME = "test-telecommunicator"  # the name the harness gives this role's token


async def console_events(server: Server, call_id: str) -> list[Any]:
    stored = await server.services.store.call_events("A", call_id)
    return [e for e in stored if e.source == "console"]


async def test_my_new_call_takes_the_card_from_a_colleagues(
    ui_server: Server, new_page: NewPage, console_errors: list[str]
) -> None:
    # Nothing of mine: the panel shows a colleague's call by itself.
    await post_calls(ui_server, call("COLL", 30, "tc-555"))
    page = await open_panel(ui_server, new_page)
    await expect(page.locator("#call-id")).to_have_text("COLL")
    # My call comes in: it takes the card, so my caller's answer lands on it.
    await post_calls(ui_server, call("MINE", 3, ME))
    await expect(page.locator("#call-id")).to_have_text("MINE")
    await page.keyboard.press("n")
    await expect(page.locator("#card")).to_have_attribute("data-phase", "ask_breathing")
    assert [e.kind for e in await console_events(ui_server, "MINE")] == [Kind.TRIAGE_CONSCIOUS]
    assert await console_events(ui_server, "COLL") == []
    # A colleague's call chosen on purpose (]) keeps the card against calls that are not mine...
    await page.keyboard.press("]")
    await expect(page.locator("#call-id")).to_have_text("COLL")
    await post_calls(ui_server, call("OTHER", 1, "tc-777"))
    await asyncio.sleep(0.5)
    await expect(page.locator("#call-id")).to_have_text("COLL")
    # ...but a call newly mine takes it: my caller is on the line.
    await post_calls(ui_server, call("MINE2", 1, ME))
    await expect(page.locator("#call-id")).to_have_text("MINE2")
    assert console_errors == []


async def test_a_second_key_while_an_answer_is_saving_is_not_a_second_answer(
    ui_server: Server, new_page: NewPage, console_errors: list[str]
) -> None:
    await post_calls(ui_server, call("S1", 10, ME))
    page = await open_panel(ui_server, new_page)
    card = page.locator("#card")
    await expect(card).to_have_attribute("data-phase", "ask_conscious")

    # The network is down (the browser's own offline switch: nothing leaves the page).
    await page.context.set_offline(True)
    await page.keyboard.press("n")
    await page.keyboard.press("n")  # the caller's breathing "no", pressed before the card moved
    pending = page.locator("#card-pending")
    await expect(pending).to_contain_text("(1)")
    await expect(pending).to_have_class("stuck", timeout=8_000)  # said loudly after 4 s
    await expect(card).to_have_attribute("data-phase", "ask_conscious")
    await page.context.set_offline(False)
    await expect(card).to_have_attribute("data-phase", "ask_breathing", timeout=15_000)
    await expect(pending).to_be_hidden(timeout=10_000)
    stored = await console_events(ui_server, "S1")
    assert [(e.kind, e.data) for e in stored] == [(Kind.TRIAGE_CONSCIOUS, {"answer": "no"})]
    # Only what the network being down caused: the refused posts and the socket's reconnects.
    assert [e for e in console_errors if "ERR_INTERNET_DISCONNECTED" not in e] == []


RECOGNISED_AND_COACHED = (
    ("triage.conscious", 10, {"answer": "no"}),
    ("triage.breathing", 15, {"answer": "no"}),
)


async def test_not_given_is_not_offered_once_compressions_began(
    ui_server: Server, new_page: NewPage, console_errors: list[str]
) -> None:
    await post_calls(ui_server, call("X1", 40, ME, *RECOGNISED_AND_COACHED))
    page = await open_panel(ui_server, new_page)
    card = page.locator("#card")
    await expect(card).to_have_attribute("data-phase", "recognized")
    await expect(page.locator("#card-answers [data-key='x']")).to_be_visible()
    await page.keyboard.press("Space")  # instructions begin
    await expect(card).to_have_attribute("data-phase", "tcpr_instructions")
    await page.keyboard.press("c")  # the first directed compression
    await expect(card).to_have_attribute("data-phase", "compressions")
    await expect(page.locator("#card-answers [data-key='x']")).to_have_count(0)
    await page.keyboard.press("x")
    await page.keyboard.press("5")
    await asyncio.sleep(0.5)
    kinds = [e.kind for e in await console_events(ui_server, "X1")]
    assert Kind.TCPR_NOT_GIVEN not in kinds
    assert console_errors == []


async def test_a_bystanders_cpr_keeps_the_beat_and_no_late_clock(
    ui_server: Server, new_page: NewPage, console_errors: list[str]
) -> None:
    # Recognised 15 s in, 170 s ago: past the 150 s first-compression benchmark.
    await post_calls(ui_server, call("B1", 170, ME, *RECOGNISED_AND_COACHED))
    page = await open_panel(ui_server, new_page)
    card = page.locator("#card")
    await expect(card).to_have_attribute("data-phase", "recognized")
    await expect(page.locator("#clock-compression")).to_have_class("clock late")
    await page.keyboard.press("b")  # CPR already in progress when the call came
    await expect(card).to_have_attribute("data-phase", "tcpr_not_given")
    # A reason, not a miss: the clock counts on, uncoloured; the bystander's rate needs the beat.
    await expect(page.locator("#clock-compression")).to_have_class("clock")
    await expect(page.locator("#metronome-state")).to_have_text("on")
    await page.keyboard.press("m")
    await expect(page.locator("#metronome-state")).to_have_text("off")
    assert console_errors == []


async def test_the_child_or_infant_choice_survives_a_reload(
    ui_server: Server, new_page: NewPage, console_errors: list[str]
) -> None:
    await post_calls(ui_server, call("V1", 40, ME, *RECOGNISED_AND_COACHED))
    page = await open_panel(ui_server, new_page)
    await expect(page.locator("#card")).to_have_attribute("data-phase", "recognized")
    await expect(page.locator("#variant")).to_have_text(re.compile(r"^Adult"))
    await page.keyboard.press("v")
    await expect(page.locator("#variant")).to_have_text(re.compile(r"^Child"))
    await page.reload()
    await expect(page.locator("#status")).to_have_class("status live")
    await expect(page.locator("#variant")).to_have_text(re.compile(r"^Child"))
    assert console_errors == []


async def test_the_board_greys_alerts_whose_call_has_moved_on(
    ui_server: Server, new_page: NewPage, console_errors: list[str]
) -> None:
    # Unrecognised for 95 s: both recognition alerts fire and stand.
    await post_calls(ui_server, call("R1", 95, ME))
    token = await ui_server.token("supervisor", "A")
    page = await new_page(viewport=(1280, 720))
    await page.goto(f"{ui_server.url}/ui/#token={token}")
    alerts = page.locator('#board tr[data-call-id="R1"] .alert')
    await expect(alerts).to_have_count(2, timeout=10_000)
    await expect(page.locator('#board tr[data-call-id="R1"] .alert.past')).to_have_count(0)
    # Then recognised: what the alerts asked for is done, and they show as past.
    await post_calls(
        ui_server,
        [
            {"event_id": "R1-rec", "call_id": "R1", "agency": "A", "kind": "ohca.recognized",
             "at": datetime.now(UTC).isoformat(), "source": "console", "actor": ME},
        ],
    )  # fmt: skip
    await expect(page.locator('#board tr[data-call-id="R1"] .alert.past')).to_have_count(2)
    assert console_errors == []


async def test_the_panel_says_when_the_browser_keeps_sound_off(
    ui_server: Server, new_page: NewPage, console_errors: list[str]
) -> None:
    # After a reload no key has been pressed yet: the browser lets no sound play.
    await post_calls(ui_server, call("A1", 20, ME))
    page = await open_panel(ui_server, new_page)
    notice = page.locator("#sound-off")
    await expect(notice).to_be_visible()
    await expect(notice).to_contain_text("Sound is off")
    await page.keyboard.press("Escape")  # any key is the gesture that lets sound start
    await expect(notice).to_be_hidden()
    assert console_errors == []


async def test_a_stray_key_does_not_answer_for_a_colleagues_caller(
    ui_server: Server, new_page: NewPage, console_errors: list[str]
) -> None:
    # Nothing of mine: the card shows tc-555's call, which I have not chosen.
    await post_calls(ui_server, call("THEIRS", 20, "tc-555"))
    page = await open_panel(ui_server, new_page)
    card = page.locator("#card")
    await expect(page.locator("#call-id")).to_have_text("THEIRS")
    await page.keyboard.press("n")
    await expect(page.locator("#card-hint")).to_have_text(
        "tc-555's call: choose it with [ ] or a click to act on it."
    )
    await asyncio.sleep(0.5)
    assert await console_events(ui_server, "THEIRS") == []
    await expect(card).to_have_attribute("data-phase", "ask_conscious")
    # Chosen on purpose (say, to help a colleague), the keys act on it.
    await page.keyboard.press("]")
    await page.keyboard.press("n")
    await expect(card).to_have_attribute("data-phase", "ask_breathing")
    assert [e.kind for e in await console_events(ui_server, "THEIRS")] == [Kind.TRIAGE_CONSCIOUS]
    assert console_errors == []


async def test_a_card_button_on_a_colleagues_call_needs_the_call_chosen(
    ui_server: Server, new_page: NewPage, console_errors: list[str]
) -> None:
    await post_calls(ui_server, call("THEIRS", 40, "tc-500", *RECOGNISED_AND_COACHED))
    page = await open_panel(ui_server, new_page)
    await expect(page.locator("#card")).to_have_attribute("data-phase", "recognized")
    await page.locator("#card-answers button", has_text="Space").click()
    await expect(page.locator("#card-hint")).to_contain_text("tc-500's call")
    await asyncio.sleep(0.5)
    assert await console_events(ui_server, "THEIRS") == []
    assert console_errors == []


async def test_a_stored_answer_not_yet_in_the_calls_view_still_holds_the_next_key(
    ui_server: Server, new_page: NewPage, console_errors: list[str]
) -> None:
    """A slow broker or another replica: the store took my answer, the call's view has not shown
    it yet. A second key then is not a second answer to the same question."""
    await post_calls(ui_server, call("W1", 10, ME))
    page = await open_panel(ui_server, new_page)
    card = page.locator("#card")
    await expect(card).to_have_attribute("data-phase", "ask_conscious")
    await page.evaluate(
        """() => {
            const view = window.tcpr.live.calls.get('A/W1');
            window.tcpr.outbox.stored.push({ event_id: 'con-test', call_id: 'W1', agency: 'A',
              kind: 'triage.conscious', at: new Date().toISOString(), seq: view._seq + 1000 });
        }"""
    )
    await page.keyboard.press("n")
    await asyncio.sleep(0.5)
    assert await console_events(ui_server, "W1") == []
    await page.evaluate("() => { window.tcpr.outbox.stored.length = 0; }")
    await page.keyboard.press("n")
    await expect(card).to_have_attribute("data-phase", "ask_breathing")
    assert console_errors == []


TRAINING_AGENCIES = '{"A": {}, "A-TRAIN": {"training": true}}'


async def test_a_trainees_keys_never_act_on_a_real_call_they_did_not_choose(
    sqlite_url: str, new_page: NewPage, console_errors: list[str]
) -> None:
    server = await start_server(service_settings(sqlite_url, agencies=TRAINING_AGENCIES))
    try:
        # A real call ringing, answered by nobody yet, is on the trainee's card.
        ring = [e for e in call("REAL-1", 5, "x") if e["kind"] == "call.received"]
        await post_calls(server, ring)
        trainee = await server.services.tokens.create(
            "telecommunicator", ["A", "A-TRAIN"], "trainee-1"
        )
        page = await new_page(viewport=(1280, 720))
        await page.goto(f"{server.url}/ui/panel.html#token={trainee}")
        await expect(page.locator("#call-id")).to_have_text("REAL-1")
        await page.keyboard.press("n")
        await expect(page.locator("#card-hint")).to_contain_text("A real call you have not chosen")
        await asyncio.sleep(0.5)
        assert await console_events(server, "REAL-1") == []
        # The scenario is answered in the trainee's name: it takes the card, and the keys act there.
        scenario = [
            {**e, "agency": "A-TRAIN", "event_id": f"T-{e['event_id']}"}
            for e in call("TRN-1", 3, "trainee-1")
        ]
        async with await server.client("adapter", "A-TRAIN") as adapter:
            assert (await adapter.post("/api/v1/events", json=scenario)).status_code == 200
        await expect(page.locator("#call-id")).to_have_text("TRN-1")
        await page.keyboard.press("n")
        await expect(page.locator("#card")).to_have_attribute("data-phase", "ask_breathing")
        stored = await server.services.store.call_events("A-TRAIN", "TRN-1")
        assert [e.kind for e in stored if e.source == "console"] == [Kind.TRIAGE_CONSCIOUS]
        assert await console_events(server, "REAL-1") == []
        assert console_errors == []
    finally:
        await server.stop()
