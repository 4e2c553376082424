"""The telecommunicator panel on a live floor, in a real Chromium against the real service:
breathing to verify (the agonal-breathing trap), a first compression only once the instructions
have begun and CPR already in progress as its own key, the agency's signed protocol pack (its
lines, its stamp on `tcpr.started`, its rescue-breath decisions, the AED line), calls outside the
alert scope kept apart, dispatch in parallel, and a silent CAD feed."""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from calls import call, open_panel, post_calls
from playwright.async_api import Page, expect
from support.harness import Server, service_settings, start_server

from contract.kinds import Kind
from service.protocols import SHIPPED
from service.triage.call_state import phase
from service.triage.state import fold

NewPage = Callable[..., Awaitable[Page]]
Screenshot = Callable[[Page, str], Awaitable[Path]]
ME = "test-telecommunicator"  # the name the harness gives this role's token
NOT_AWAKE_BREATHING = (
    ("triage.conscious", 10, {"answer": "no"}),
    ("triage.breathing", 15, {"answer": "yes"}),  # unconfirmed: could be agonal
)


@contextlib.asynccontextmanager
async def server_with(sqlite_url: str, **settings: Any) -> AsyncIterator[Server]:
    running = await start_server(service_settings(sqlite_url, **settings))
    try:
        yield running
    finally:
        await running.stop()


async def events_of(server: Server, call_id: str, source: str | None = None) -> list[Any]:
    stored = await server.services.store.call_events("A", call_id)
    return [e for e in stored if source is None or e.source == source]


async def audit_of(server: Server, call_id: str) -> dict[str, Any]:
    async with await server.client("supervisor", "A") as supervisor:
        response = await supervisor.get(f"/api/v1/calls/A/{call_id}/audit")
        assert response.status_code == 200
        audit: dict[str, Any] = response.json()
        return audit


async def test_breathing_to_verify_agonal_or_confirmed_normal(
    ui_server: Server, new_page: NewPage, console_errors: list[str], screenshot: Screenshot
) -> None:
    # Not awake, "yes, breathing" by the CAD: V1 is 57 s from T0, V2 (newer, in focus) 30 s.
    await post_calls(
        ui_server,
        call("V1", 57, ME, *NOT_AWAKE_BREATHING),
        call("V2", 30, ME, *NOT_AWAKE_BREATHING),
    )
    page = await open_panel(ui_server, new_page)
    card = page.locator("#card")
    await expect(page.locator("#call-id")).to_have_text("V2")
    await expect(card).to_have_attribute("data-phase", "verify_breathing")
    await expect(card).to_have_class("verify")  # calm: no alert has fired
    await expect(page.locator("#card-title")).to_have_text(
        "Breathing to verify: not awake, said to be breathing"
    )
    await expect(page.locator("#card-body")).to_contain_text("Gasping is NOT breathing")
    describe = page.locator("#card-describe li")
    await expect(describe).to_have_count(3)
    await expect(describe.nth(0)).to_contain_text("phone by the patient's mouth")
    await expect(describe.nth(1)).to_contain_text("10 seconds")
    await expect(describe.nth(2)).to_contain_text("gasping, snoring, gurgling, moaning")
    await expect(page.locator("#card-answers [data-verify='agonal'] kbd")).to_have_text("G")
    await expect(page.locator("#card-answers [data-verify='normal'] kbd")).to_have_text("K")
    await expect(page.locator("#phase")).to_have_text("Verify breathing")
    await expect(page.locator("#keys [data-key='verify']")).to_have_text(
        "G agonal / not normal, K normal confirmed"
    )
    await expect(page.locator("#clock-recognition")).to_have_class("clock")  # racing, < 60 s
    await screenshot(page, "panel-verify-1280x720")

    # The recognition clock and alerts keep running while the breathing is verified.
    await page.keyboard.press("]")
    await expect(page.locator("#call-id")).to_have_text("V1")
    await expect(card).to_have_attribute("data-phase", "verify_breathing")
    # The questions are answered: the alert says what is left to do.
    await expect(page.locator("#alert-banner")).to_have_text(
        "Recognition due: have the caller describe the breathing (G agonal / K normal)",
        timeout=10_000,
    )
    await expect(page.locator("#clock-recognition")).to_have_class("clock warn")
    await expect(card).to_have_class("verify due")
    assert [e.data["alert"] for e in await events_of(ui_server, "V1", "system")] == [
        "recognition_due"
    ]

    # G: the caller describes gasping. Agonal: arrest recognised by the question path.
    await page.keyboard.press("g")
    await expect(card).to_have_attribute("data-phase", "recognized")
    (agonal,) = await events_of(ui_server, "V1", "console")
    assert agonal.kind == Kind.TRIAGE_BREATHING
    assert agonal.data == {"answer": "no", "agonal": True}
    assert agonal.actor == ME
    audit = await audit_of(ui_server, "V1")
    assert audit["recognized"] is True
    assert audit["recognition_path"] == "question"
    assert audit["answers"]["breathing_agonal"] is True
    assert audit["verify_breathing"] is False

    # K on the other call: breathing described and normal, arrest ruled out.
    await page.keyboard.press("[")
    await expect(page.locator("#call-id")).to_have_text("V2")
    await page.keyboard.press("k")
    await expect(card).to_have_attribute("data-phase", "ruled_out")
    (normal,) = await events_of(ui_server, "V2", "console")
    assert normal.kind == Kind.TRIAGE_BREATHING
    assert normal.data == {"answer": "yes", "confirmed": True}
    audit = await audit_of(ui_server, "V2")
    assert audit["recognized"] is False
    assert audit["answers"]["breathing_confirmed"] is True
    assert audit["verify_breathing"] is False
    assert phase(fold("A", "V2", await events_of(ui_server, "V2"))) == "ruled_out"
    # G and K mean nothing once the breathing is verified: nothing more is stored.
    await page.keyboard.press("g")
    await asyncio.sleep(0.5)
    assert len(await events_of(ui_server, "V2", "console")) == 1
    assert console_errors == []


async def test_gasping_said_at_the_breathing_question_recognises_at_once(
    ui_server: Server, new_page: NewPage, console_errors: list[str]
) -> None:
    # Not awake; the caller answers "breathing normally?" with "he's gasping".
    await post_calls(ui_server, call("G1", 20, ME, ("triage.conscious", 10, {"answer": "no"})))
    page = await open_panel(ui_server, new_page)
    card = page.locator("#card")
    await expect(card).to_have_attribute("data-phase", "ask_breathing")
    await expect(page.locator("#card-answers [data-verify='agonal'] kbd")).to_have_text("G")
    # K would skip the describing the verify card asks for: here it records nothing.
    await page.keyboard.press("k")
    await asyncio.sleep(0.5)
    assert await events_of(ui_server, "G1", "console") == []
    await page.keyboard.press("g")
    await expect(card).to_have_attribute("data-phase", "recognized")
    (agonal,) = await events_of(ui_server, "G1", "console")
    assert agonal.kind == Kind.TRIAGE_BREATHING
    assert agonal.data == {"answer": "no", "agonal": True}
    audit = await audit_of(ui_server, "G1")
    assert audit["recognized"] is True and audit["recognition_path"] == "question"
    assert audit["answers"]["breathing_agonal"] is True
    assert console_errors == []


async def test_first_compression_only_once_the_instructions_began(
    ui_server: Server, new_page: NewPage, console_errors: list[str]
) -> None:
    await post_calls(
        ui_server,
        call("B1", 25, ME, ("ohca.recognized", 10, {})),
        call("B2", 20, ME, ("ohca.recognized", 10, {})),
    )
    page = await open_panel(ui_server, new_page)
    card = page.locator("#card")
    hint = page.locator("#card-hint")
    await expect(page.locator("#call-id")).to_have_text("B2")
    await expect(card).to_have_attribute("data-phase", "recognized")
    # Before the instructions, no first-compression key is offered, and C is refused.
    await expect(page.locator("#card-answers")).not_to_contain_text("Caller has started")
    await page.keyboard.press("c")
    await expect(hint).to_be_visible()
    await expect(hint).to_have_text(
        "Begin the instructions first (Space): a first compression is the one you directed."
    )
    await asyncio.sleep(0.5)
    assert await events_of(ui_server, "B2", "console") == []
    await expect(card).to_have_attribute("data-phase", "recognized")
    await expect(hint).to_be_hidden(timeout=6_000)  # briefly

    # B: a bystander had already begun CPR. Its own key, before the instructions.
    b_key = page.locator("#card-answers [data-key='b']")
    await expect(b_key).to_contain_text("CPR already in progress")
    await page.keyboard.press("b")
    await expect(card).to_have_attribute("data-phase", "tcpr_not_given")
    await expect(page.locator("#card-title")).to_have_text(
        "CPR already in progress (a bystander or professional began before the instructions)"
    )
    (stored,) = await events_of(ui_server, "B2", "console")
    assert stored.kind == Kind.TCPR_NOT_GIVEN and stored.data == {"reason": "cpr_in_progress"}

    # And during the instructions: Space begins them, then the caller says someone took over.
    await page.keyboard.press("]")
    await expect(page.locator("#call-id")).to_have_text("B1")
    await page.keyboard.press(" ")
    await expect(card).to_have_attribute("data-phase", "tcpr_instructions")
    await expect(page.locator("#card-answers")).to_contain_text("Caller has started")
    await expect(b_key).to_be_visible()
    await page.keyboard.press("b")
    await expect(card).to_have_attribute("data-phase", "tcpr_not_given")
    stored_b1 = await events_of(ui_server, "B1", "console")
    assert [(e.kind, e.data.get("reason")) for e in stored_b1] == [
        (Kind.TCPR_STARTED, None),
        (Kind.TCPR_NOT_GIVEN, "cpr_in_progress"),
    ]
    audit = await audit_of(ui_server, "B1")
    assert audit["tcpr"]["first_compression"] is False
    assert audit["tcpr"]["not_given_reason"] == "cpr_in_progress"
    assert console_errors == []


SIGNED_LINE = "Put your phone on speaker beside the patient: Acme County protocol, line one."


def signed_pack(root: Path) -> None:
    """Agency A's own English pack, signed by its medical director: the shipped texts with the
    first adult step changed, rescue breaths enabled for children and asphyxial arrests."""
    folder = root / "A" / "acme-tcpr-2026-03"
    folder.mkdir(parents=True)
    texts = json.loads((SHIPPED / "tcpr-sample-en" / "texts.json").read_text())
    texts["steps"]["adult"][0] = SIGNED_LINE
    (folder / "texts.json").write_text(json.dumps(texts))
    manifest = {
        "id": "acme-tcpr",
        "version": "2026-03",
        "language": "en",
        "signed_by": "Dr. Ada Director, Acme County EMS medical director",
        "signed_at": "2026-02-20T09:00:00+00:00",
        "effective_from": "2026-03-01T00:00:00+00:00",
        "decisions": {"rescue_breaths_child": True, "rescue_breaths_asphyxial": True},
    }
    (folder / "manifest.json").write_text(json.dumps(manifest))


async def test_the_agencys_signed_pack_is_shown_and_stamped(
    sqlite_url: str,
    tmp_path: Path,
    new_page: NewPage,
    console_errors: list[str],
    screenshot: Screenshot,
) -> None:
    signed_pack(tmp_path / "packs")
    async with server_with(sqlite_url, prompts_dir=tmp_path / "packs") as server:
        await post_calls(server, call("P1", 20, ME, ("ohca.recognized", 10, {})))
        page = await open_panel(server, new_page)
        card = page.locator("#card")
        protocol = page.locator("#card-protocol")
        await expect(card).to_have_attribute("data-phase", "recognized")
        await expect(protocol).to_have_text("Protocol acme-tcpr@2026-03")  # signed: no warning
        await page.keyboard.press(" ")
        await expect(card).to_have_attribute("data-phase", "tcpr_instructions")
        await expect(page.locator("#steps li.current")).to_have_text(SIGNED_LINE)
        await expect(page.locator("#card-title")).to_have_text(SIGNED_LINE)
        (started,) = await events_of(server, "P1", "console")
        assert started.kind == Kind.TCPR_STARTED
        assert started.data == {
            "variant": "adult",
            "language": "en",
            "protocol": "acme-tcpr@2026-03",
        }
        audit = await audit_of(server, "P1")
        assert audit["tcpr"]["protocol"] == "acme-tcpr@2026-03"
        assert audit["tcpr"]["language"] == "en"

        # Rescue breaths only where the director enabled them: children here, never adults.
        rescue = page.locator("#rescue")
        await expect(rescue).to_be_hidden()
        await page.keyboard.press("v")  # child
        await expect(page.locator("#variant")).to_have_text("Child (1 year to puberty)")
        await expect(rescue).to_be_visible()
        await expect(page.locator("#rescue-title")).to_have_text(
            "Rescue breaths (where your medical director enables them)"
        )
        await expect(page.locator("#rescue-steps li")).to_have_count(4)
        # The rescue breaths follow the compression steps: Space walks on into them.
        for _ in range(9):
            await page.keyboard.press(" ")
        await expect(page.locator("#rescue-steps li.current")).to_contain_text("After 30 pushes")
        await page.keyboard.press("v")  # infant: not enabled in this pack
        await expect(rescue).to_be_hidden()
        await page.keyboard.press("v")  # adult again
        await expect(rescue).to_be_hidden()  # an adult cardiac arrest: compression-only
        # D: a drowning or other asphyxial arrest, where the director enables breaths for it.
        await page.keyboard.press("d")
        await expect(rescue).to_be_visible()
        await expect(page.locator("#keys [data-key='asphyxial']")).to_have_text(
            "D drowning / other asphyxial arrest"
        )
        await page.keyboard.press("d")
        await expect(rescue).to_be_hidden()

        # E: an AED has arrived, a line the telecommunicator reads out, on the card.
        aed = page.locator("#card-aed")
        await expect(aed).to_be_hidden()
        await page.keyboard.press("e")
        await expect(aed).to_be_visible()
        await expect(aed).to_have_text(
            "An AED has arrived: turn it on and follow its voice. "
            "Keep pushing until it tells you to stop."
        )
        await expect(page.locator("#keys [data-key='aed']")).to_have_text("E AED arrived")
        await screenshot(page, "panel-aed-1280x720")
        await page.keyboard.press("e")
        await expect(aed).to_be_hidden()

        # L switches among the agency's languages: Spanish is the shipped sample's.
        await page.keyboard.press("l")
        await expect(protocol).to_contain_text("Protocolo tcpr-sample@")
        await expect(protocol).to_contain_text("textos de ejemplo")
        await expect(page.locator("#language")).to_have_text("ES")
        await page.keyboard.press("l")
        await expect(protocol).to_have_text("Protocol acme-tcpr@2026-03")
        assert console_errors == []


async def test_calls_outside_the_alert_scope_are_apart_and_silent(
    sqlite_url: str, new_page: NewPage, console_errors: list[str], screenshot: Screenshot
) -> None:
    agencies = json.dumps({"A": {"alert_scope": "medical"}})
    async with server_with(sqlite_url, agencies=agencies) as server:
        # A police call, newer than the medical one, would otherwise be first.
        await post_calls(
            server,
            call("M1", 59, ME, ("call.nature", 2, {"code": "10-D-1", "text": "Chest pain"})),
            call("P1", 57, ME, ("call.nature", 2, {"code": "131-D-1", "text": "Police"})),
        )
        page = await open_panel(server, new_page)
        await expect(page.locator("#call-id")).to_have_text("M1")
        await expect(page.locator("#calls li")).to_have_count(1)
        others = page.locator("#other-calls")
        await expect(others).to_be_visible()
        await expect(page.locator("#other-calls-title")).to_have_text(
            "Not a medical call: no alerts (1)"
        )
        assert await others.evaluate("(d) => d.open") is False  # collapsed
        await expect(page.locator("#other-calls-list li.out")).to_have_attribute(
            "data-call-id", "P1"
        )
        await expect(page.locator("#alert-banner")).to_have_text(
            "Recognition due: ask the two questions", timeout=10_000
        )
        # P1 passes 60 s too, and raises nothing.
        await asyncio.sleep(4)
        assert [e.data["alert"] for e in await events_of(server, "M1", "system")] == [
            "recognition_due"
        ]
        assert await events_of(server, "P1", "system") == []
        # [ ] stay among the calls in scope while the others are collapsed.
        await page.keyboard.press("]")
        await expect(page.locator("#call-id")).to_have_text("M1")
        # Opened from the keyboard (Tab to it, Enter), the keys walk into it.
        await page.locator("#other-calls summary").focus()
        await page.keyboard.press("Enter")
        assert await others.evaluate("(d) => d.open") is True
        await page.keyboard.press("]")
        await expect(page.locator("#call-id")).to_have_text("P1")
        await expect(page.locator("#card-note")).to_have_text("Not a medical call: no alerts")
        await expect(page.locator("#card")).to_have_class("out")
        await expect(page.locator("#clock-recognition")).to_have_class("clock")  # uncoloured
        await expect(page.locator("#alert-banner")).to_be_hidden()
        await screenshot(page, "panel-other-calls-1280x720")
        await page.keyboard.press("]")
        await expect(page.locator("#call-id")).to_have_text("M1")
        assert await events_of(server, "P1", "console") == []  # nothing brought it into scope
        assert console_errors == []


async def test_not_dispatched_then_dispatch_overdue(
    sqlite_url: str, new_page: NewPage, console_errors: list[str], screenshot: Screenshot
) -> None:
    agencies = json.dumps({"A": {"dispatch_alerts": True}})
    async with server_with(sqlite_url, agencies=agencies) as server:
        # A "no" (not awake) and no unit; the dispatch deadline is T0 + 90 s.
        await post_calls(server, call("D1", 84, ME, ("triage.conscious", 10, {"answer": "no"})))
        page = await open_panel(server, new_page)
        dispatch = page.locator("#dispatch")
        await expect(page.locator("#card")).to_have_attribute("data-phase", "ask_breathing")
        await expect(dispatch).to_have_text("Not dispatched")
        await expect(dispatch).to_have_class("")
        await expect(dispatch).to_have_class("late", timeout=15_000)
        await expect(dispatch).to_have_text(
            "Not dispatched · Dispatch overdue: a 'no' to either question calls for a unit now"
        )
        await screenshot(page, "panel-dispatch-overdue-1280x720")
        alerts = [e.data["alert"] for e in await events_of(server, "D1", "system")]
        assert "dispatch_overdue" in alerts
        async with await server.client("adapter", "A") as adapter:
            response = await adapter.post(
                "/api/v1/events",
                json={
                    "event_id": "D1-unit",
                    "call_id": "D1",
                    "agency": "A",
                    "kind": "unit.dispatched",
                    "at": datetime.now(UTC).isoformat(),
                    "data": {"unit": "M12"},
                },
            )
            assert response.status_code == 200
        await expect(dispatch).to_be_hidden()
        assert console_errors == []


async def test_not_dispatched_only_where_the_agency_wants_it(
    ui_server: Server, new_page: NewPage, console_errors: list[str]
) -> None:
    await post_calls(ui_server, call("D2", 30, ME, ("triage.conscious", 10, {"answer": "no"})))
    page = await open_panel(ui_server, new_page)
    await expect(page.locator("#card")).to_have_attribute("data-phase", "ask_breathing")
    assert await page.evaluate("window.tcpr.live.calls.get('A/D2').needs_dispatch") is True
    await expect(page.locator("#dispatch")).to_be_hidden()  # dispatch alerts are off here
    assert console_errors == []


async def test_a_silent_cad_feed_shows_until_it_beats(
    sqlite_url: str, new_page: NewPage, console_errors: list[str], screenshot: Screenshot
) -> None:
    # 4 s: the panel opens (and shows no banner) before a feed watched from the start is late,
    # even with the other test processes loading the machine.
    agencies = json.dumps({"A": {"feed_silence_seconds": 4}})
    async with server_with(sqlite_url, agencies=agencies) as server:
        page = await open_panel(server, new_page)
        feed = page.locator("#feed-banner")
        await expect(feed).to_be_hidden()
        await expect(feed).to_have_attribute("role", "alert")
        await post_calls(server, call("F1", 0, ME)[:1])  # the feed's last event: now
        await expect(feed).to_be_visible(timeout=10_000)
        await expect(feed).to_have_text(re.compile(r"^CAD feed silent since \d\d:\d\d:\d\d$"))
        (silent,) = await page.evaluate("window.tcpr.live.silentFeeds()")
        local = datetime.fromisoformat(silent["last_activity"]).astimezone().strftime("%H:%M:%S")
        await expect(feed).to_have_text(f"CAD feed silent since {local}")
        await screenshot(page, "panel-feed-silent-1280x720")

        # The adapter beats: the banner clears (beats keep coming, faster than the 4 s limit).
        async def beat() -> None:
            async with await server.client("adapter", "A") as adapter:
                while True:
                    response = await adapter.post("/api/v1/feeds/heartbeat?agency=A")
                    assert response.status_code == 200
                    await asyncio.sleep(0.25)

        beating = asyncio.create_task(beat())
        try:
            await expect(feed).to_be_hidden(timeout=5_000)
            await asyncio.sleep(4.5)  # longer than the limit: the beats keep it hidden
            await expect(feed).to_be_hidden()
        finally:
            beating.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await beating
        # Silent again once the beats stop.
        await expect(feed).to_be_visible(timeout=10_000)
        assert console_errors == []


async def test_a_reload_mid_call_resumes_the_same_script_and_step(
    sqlite_url: str, new_page: NewPage, console_errors: list[str]
) -> None:
    """An infant's instructions, two steps in: after a reload the panel is back on that call,
    on the infant script at the same step, not on the adult one or a newer call."""
    async with server_with(sqlite_url) as server:
        await post_calls(server, call("I1", 40, ME, ("ohca.recognized", 10, {})))
        page = await open_panel(server, new_page)
        await expect(page.locator("#call-id")).to_have_text("I1")
        await page.keyboard.press("v")
        await page.keyboard.press("v")  # infant
        await expect(page.locator("#variant")).to_have_text("Infant (under 1 year)")
        await page.keyboard.press(" ")  # begin: tcpr.started records the variant
        await expect(page.locator("#card")).to_have_attribute("data-phase", "tcpr_instructions")
        await page.keyboard.press(" ")
        await page.keyboard.press(" ")
        current = await page.locator("#steps li.current").text_content()
        # A newer call arrives; then the page reloads.
        await post_calls(server, call("N1", 5, ME))
        await page.reload()
        await expect(page.locator("#status")).to_have_class("status live")
        await expect(page.locator("#call-id")).to_have_text("I1")
        await expect(page.locator("#variant")).to_have_text("Infant (under 1 year)")
        await expect(page.locator("#steps li.current")).to_have_text(current or "")
        (started,) = [
            e for e in await events_of(server, "I1", "console") if e.kind == "tcpr.started"
        ]
        assert started.data["variant"] == "infant"
        assert console_errors == []


async def test_the_next_call_takes_the_card_from_one_that_ended(
    ui_server: Server, new_page: NewPage, console_errors: list[str]
) -> None:
    """A call ended stays on the card ("Ended") until another comes: then the new caller's
    questions are on the card at once, and the keys answer them, not the ended call."""
    await post_calls(ui_server, call("E1", 30, ME))
    page = await open_panel(ui_server, new_page)
    card = page.locator("#card")
    await expect(page.locator("#call-id")).to_have_text("E1")
    ended = {"event_id": "E1-end", "call_id": "E1", "agency": "A", "kind": "call.ended",
             "at": datetime.now(UTC).isoformat()}  # fmt: skip
    async with await ui_server.client("adapter", "A") as adapter:
        assert (await adapter.post("/api/v1/events", json=ended)).status_code == 200
    await expect(card).to_have_attribute("data-phase", "ended")
    await expect(page.locator("#call-id")).to_have_text("E1")
    await post_calls(ui_server, call("E2", 2, ME))
    await expect(page.locator("#call-id")).to_have_text("E2")
    await expect(card).to_have_attribute("data-phase", "ask_conscious")
    await page.keyboard.press("n")
    await expect(card).to_have_attribute("data-phase", "ask_breathing")
    assert [e.kind for e in await events_of(ui_server, "E2", "console")] == ["triage.conscious"]
    assert console_errors == []
