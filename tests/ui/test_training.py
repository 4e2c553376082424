"""A training session in real Chromium (issue 19): the trainer starts it on trainer.html and
plays a scenario; the trainee works it by keyboard in the ordinary panel, which says TRAINING;
the trainer reads the caller's lines and sees what the trainee pressed; the score on the
trainer's page and on the printable report is what the call's audit says."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import pytest_asyncio
from playwright.async_api import Dialog, Page, expect
from support.harness import Server, service_settings, start_server
from support.training import TRAINING_AGENCIES, expected_from_audit

from service.training.scenarios import scenario_named

NewPage = Callable[..., Awaitable[Page]]
Screenshot = Callable[[Page, str], Awaitable[Path]]
TRAINEE = "dana"


@pytest_asyncio.fixture(loop_scope="session")
async def training_server(sqlite_url: str) -> AsyncIterator[Server]:
    running = await start_server(service_settings(sqlite_url, agencies=TRAINING_AGENCIES))
    try:
        yield running
    finally:
        await running.stop()


async def signed_in(server: Server, new_page: NewPage, path: str, role: str, name: str) -> Page:
    token = await server.services.tokens.create(role, ["KCE", "KCE-TRAIN"], name)
    page = await new_page(viewport=(1280, 860))
    await page.goto(f"{server.url}/ui/{path}#token={token}")
    return page


async def accept(dialog: Dialog) -> None:
    await dialog.accept()


async def test_a_trainee_runs_a_scenario_by_keyboard_and_is_scored_as_audited(
    training_server: Server, new_page: NewPage, console_errors: list[str], screenshot: Screenshot
) -> None:
    server = training_server
    trainer = await signed_in(server, new_page, "trainer.html", "supervisor", "sgt-lee")
    await expect(trainer.locator("#new-session")).to_be_visible()
    await trainer.fill("#trainee", TRAINEE)
    await trainer.select_option("#home-agency", "KCE")
    await trainer.select_option("#agency", "KCE-TRAIN")
    await trainer.select_option("#category", "initial")
    boxes = trainer.locator("input[name=scenario]")
    await expect(boxes).to_have_count(7)
    for value in await boxes.evaluate_all("(nodes) => nodes.map((n) => n.value)"):
        if value != "classic_arrest":
            await trainer.uncheck(f"input[name=scenario][value={value}]")
    await trainer.get_by_text("Playback speed").click()
    await trainer.fill("#speed", "5")  # the arrest code comes at 20 s, EMS at 90 s
    await trainer.get_by_role("button", name="Start session").click()
    await expect(trainer.locator("#session-title")).to_have_text(f"Session 1: {TRAINEE}")

    panel = await signed_in(server, new_page, "panel.html", "telecommunicator", TRAINEE)
    await expect(panel.locator("#status")).to_have_class("status live")
    await expect(panel.locator("#training-banner")).to_be_hidden()

    await trainer.keyboard.press("n")  # play the next scenario
    classic = scenario_named("classic_arrest")
    say = trainer.locator("#caller-lines .say")
    await expect(say.first).to_have_text(classic.lines["opening"][0].text)
    await expect(say.nth(1)).to_have_text(classic.lines["conscious"][0].text)

    card = panel.locator("#card")
    await expect(panel.locator("#call-id")).to_have_text("TRN-1-1")
    await expect(panel.locator("#training-banner")).to_be_visible()
    await expect(panel.locator("#training-banner")).to_contain_text("TRAINING")
    await expect(panel.locator("#calls li .training-tag")).to_have_text("TRAINING")
    await expect(card).to_have_attribute("data-phase", "ask_conscious")
    await panel.keyboard.press("n")  # not awake
    await expect(card).to_have_attribute("data-phase", "ask_breathing")
    await expect(say.first).to_have_text(classic.lines["breathing"][0].text)
    await panel.keyboard.press("n")  # not breathing normally
    await expect(card).to_have_attribute("data-phase", "recognized")
    await panel.keyboard.press(" ")  # T-CPR instructions begin
    await expect(card).to_have_attribute("data-phase", "tcpr_instructions")
    await panel.keyboard.press(" ")
    await panel.keyboard.press("c")  # the first compression
    await expect(card).to_have_attribute("data-phase", "compressions")
    await expect(say.first).to_have_text(classic.lines["compressions"][0].text)
    await expect(trainer.locator("#pressed li")).to_have_count(4)
    await expect(trainer.locator("#pressed li").first).to_contain_text("Awake / conscious? no")
    await screenshot(trainer, "trainer-1280x860")

    await trainer.keyboard.press("s")  # the trainer ends the call
    await expect(trainer.locator("#score")).to_be_visible()
    async with await server.client("supervisor", "KCE-TRAIN") as supervisor:
        audit = (await supervisor.get("/api/v1/calls/KCE-TRAIN/TRN-1-1/audit")).json()
    expected = expected_from_audit(classic, audit)
    rows = trainer.locator("#score-checks tr")
    await expect(rows).to_have_count(len(expected))
    for name, passed in expected.items():
        row = trainer.locator(f"#score-checks tr[data-check={name}]")
        await expect(row).to_have_class("passed" if passed else "failed")
    assert all(expected.values())  # a clean run: every check met, as the audit says

    trainer.on("dialog", accept)
    await trainer.get_by_role("button", name="End session (credit time)").click()
    await expect(trainer.locator("#session-facts")).to_contain_text("completed")

    # The trainee opens the printable report of their own session.
    await panel.goto(f"{server.url}/ui/training-report.html?id=1")
    await expect(panel.locator("body")).to_have_attribute("data-ready", "true")
    await expect(panel.locator("#report")).to_contain_text(f"{TRAINEE} (KCE)")
    await expect(panel.locator("#report")).to_contain_text("sgt-lee")
    for name, passed in expected.items():
        mark = panel.locator(f"tr[data-check={name}] .mark")
        await expect(mark).to_have_text("✓ met" if passed else "✗ not met")
    assert await panel.evaluate("window.tcprCspViolations") == []
    assert await trainer.evaluate("window.tcprCspViolations") == []
    assert console_errors == []


async def test_next_asks_before_it_cuts_a_playing_call_short(
    training_server: Server, new_page: NewPage, console_errors: list[str]
) -> None:
    """N while a scenario is still playing would end the trainee's call mid-way: the trainer is
    asked first, and a "no" leaves the call playing."""
    server = training_server
    trainer = await signed_in(server, new_page, "trainer.html", "supervisor", "sgt-lee")
    await expect(trainer.locator("#new-session")).to_be_visible()
    await expect(trainer.locator("input[name=scenario]")).to_have_count(7)
    await trainer.fill("#trainee", TRAINEE)
    await trainer.select_option("#home-agency", "KCE")
    await trainer.select_option("#agency", "KCE-TRAIN")
    for value in await trainer.locator("input[name=scenario]").evaluate_all(
        "(nodes) => nodes.map((n) => n.value)"
    ):
        if value not in ("agonal_breathing", "infant"):
            await trainer.uncheck(f"input[name=scenario][value={value}]")
    await trainer.get_by_role("button", name="Start session").click()
    played = trainer.locator("#played li")
    await expect(played).to_have_count(2)
    await trainer.keyboard.press("n")  # nothing playing yet: no question
    await expect(played.nth(0)).to_have_class("playing current")
    asked: list[str] = []

    async def answer(dialog: Dialog, accepting: bool) -> None:
        asked.append(dialog.message)
        await (dialog.accept() if accepting else dialog.dismiss())

    trainer.once("dialog", lambda d: answer(d, False))
    await trainer.keyboard.press("n")
    for _ in range(200):  # the question comes as the key is handled
        if asked:
            break
        await asyncio.sleep(0.025)
    assert "Agonal breathing is still playing" in asked[0]
    await expect(played.nth(0)).to_have_class("playing current")
    await expect(played.nth(1)).to_have_class("pending")
    trainer.once("dialog", lambda d: answer(d, True))
    await trainer.keyboard.press("n")
    await expect(played.nth(1)).to_have_class("playing current")
    await expect(played.nth(0)).to_have_class("ended")
    assert len(asked) == 2
    assert console_errors == []
