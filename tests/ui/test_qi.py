"""QI audit review in a real Chromium: from the filtered list to a signed-off audit, the corrected
time beside the original, the exports and the printable pages."""

from __future__ import annotations

import asyncio
import csv
import io
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from calls import post_calls
from harness import Server
from playwright.async_api import Page, expect
from signin import unexpected

NewPage = Callable[..., Awaitable[Page]]
Screenshot = Callable[[Page, str], Awaitable[Path]]
POPULATION = {"ohca": True, "resuscitation_attempted": True, "ems_witnessed": False}
# Whole seconds, an hour and more ago: no alert can fire, and a time typed into a datetime input
# (to the second) is exactly the time meant.
BASE = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=2)


def t0_of(call_id: str) -> datetime:
    return BASE + timedelta(minutes=int(call_id[-1]) * 10)


def ended_call(call_id: str, tc: str, *extra: tuple[str, float, dict[str, Any]]) -> list[Any]:
    t0 = t0_of(call_id)

    def ev(n: str, kind: str, seconds: float, **fields: Any) -> dict[str, Any]:
        at = (t0 + timedelta(seconds=seconds)).isoformat()
        return {"event_id": f"{call_id}-{n}", "call_id": call_id, "agency": "A", "kind": kind,
                "at": at, **fields}  # fmt: skip

    events = [
        ev("r", "call.received", 0, data={"psap": "PSAP-1"}),
        ev("a", "call.answered", 5, actor=tc),
        *(ev(str(i), kind, s, data=data) for i, (kind, s, data) in enumerate(extra)),
        ev("e", "call.ended", 600),
    ]
    return events


async def seed(server: Server) -> None:
    await post_calls(
        server,
        # Q1: recognised at 95 s (missed), first compression at 160 s (missed).
        ended_call(
            "Q1",
            "tc-114",
            ("ohca.recognized", 95, {}),
            ("tcpr.started", 110, {}),
            ("tcpr.first_compression", 160, {}),
            ("ems.outcome", 900, POPULATION),
        ),
        # Q2: both benchmarks met.
        ended_call(
            "Q2",
            "tc-207",
            ("ohca.recognized", 40, {}),
            ("tcpr.first_compression", 100, {}),
            ("ems.outcome", 900, POPULATION),
        ),
        # Q3: EMS found an arrest the caller's "awake: yes" hid: never recognised (missed).
        ended_call(
            "Q3",
            "tc-162",
            ("triage.conscious", 20, {"answer": "yes"}),
            ("ems.outcome", 900, POPULATION),
        ),
        # Q4: missed, but already signed off by another reviewer.
        ended_call("Q4", "tc-318", ("ohca.recognized", 100, {})),
    )
    async with await server.client("qi", "A") as qi:
        review = {
            "event_id": "Q4-review",
            "call_id": "Q4",
            "agency": "A",
            "kind": "qi.review",
            "at": (t0_of("Q4") + timedelta(minutes=5)).isoformat(),
            "source": "qi",
            "actor": "qi-bo",
            "data": {
                "recognizable": True,
                "delay_reasons": ["caller_distress"],
                "signed_off": True,
            },
        }
        assert (await qi.post("/api/v1/events", json=review)).status_code == 200


def shown(t: datetime, t0: datetime) -> str:
    """How the audit shows a time: with its date only when that is not T0's own date."""
    return f"{t:%H:%M:%S} +00:00" if t.date() == t0.date() else f"{t:%Y-%m-%d %H:%M:%S} +00:00"


def row(page: Page, call_id: str) -> Any:
    return page.locator(f'#audits tbody tr[data-call-id="{call_id}"]')


async def test_review_from_list_to_signed_off_audit(
    ui_server: Server, new_page: NewPage, console_errors: list[str], screenshot: Screenshot
) -> None:
    await seed(ui_server)
    token = await ui_server.token("qi", "A")
    page = await new_page(viewport=(1600, 1000))
    await page.goto(f"{ui_server.url}/ui/qi.html#token={token}")
    rows = page.locator("#audits tbody tr")
    await expect(rows).to_have_count(4)
    assert await rows.evaluate_all("rs => rs.map(r => r.dataset.callId)") == [
        "Q4",
        "Q3",
        "Q2",
        "Q1",
    ]
    assert "#token" not in page.url  # the token does not stay in the address bar
    await expect(page.locator("header nav a[href='measures.html']")).to_be_visible()

    # Missed and not yet reviewed: Q3 (never recognised) and Q1 (late), not Q4 (signed off).
    await page.check("#f-missed")
    await expect(rows).to_have_count(3)
    await page.select_option("#f-review", "unreviewed")
    await expect(rows).to_have_count(2)
    assert await rows.evaluate_all("rs => rs.map(r => r.dataset.callId)") == ["Q3", "Q1"]
    await expect(page.locator("#counts")).to_contain_text("2 shown of 4 calls")

    # Keyboard: into the list, down to Q1, Enter opens its audit with the focus on its title.
    await row(page, "Q3").focus()
    await page.keyboard.press("ArrowDown")
    await expect(row(page, "Q1")).to_be_focused()
    await page.keyboard.press("Enter")
    await expect(page.locator("#audit-title")).to_have_text("Call Q1")
    await expect(page.locator("#audit-title")).to_be_focused()
    await expect(row(page, "Q1")).to_have_attribute("aria-selected", "true")
    recognition = page.locator('tr[data-interval="to_recognition"]')
    await expect(recognition.locator("td.bench")).to_have_text("missed")
    await expect(recognition.locator("td").first).to_have_text("95 s")
    await expect(page.locator('table.timeline tr[data-kind="ohca.recognized"]')).to_have_class(
        "recognition"
    )
    await expect(page.locator("table.timeline tbody tr")).to_have_count(
        7
    )  # received, answered, 3 console, ended, EMS
    await expect(page.locator('[data-det="reviewed"]')).to_have_text("—")
    await expect(page.locator('[data-fact="Recognition"]')).to_have_text(
        "recognised, declared by the telecommunicator"
    )
    await expect(page.locator('[data-fact="T-CPR"]')).to_have_text("first compression delivered")
    await expect(page.locator('[data-fact="EMS outcome"]')).to_have_text(
        "cardiac arrest, resuscitation attempted"
    )
    await expect(page.locator('[data-fact="AHA population"]')).to_have_text("yes")
    await expect(page.locator("ul.suggested li")).to_have_text(
        ["moving patient to floor — first compression 50 s after T-CPR instructions began"]
    )

    # The review: recognizable, two coded delay reasons plus free text, the recognition time from
    # the recording (80 s instead of 95 s), feedback, then sign off.
    await page.fill("#reviewer", "qi-ana")
    await page.keyboard.press("Tab")
    await page.check('input[name="recognizable"][value="yes"]')
    await page.check('#delay input[value="unnecessary_questions"]')
    await page.check('#delay input[value="address_verification"]')
    await page.fill('input[name="delay_other"]', "caller on speakerphone in another room")
    t0 = t0_of("Q1")
    recorded = t0 + timedelta(seconds=95)
    corrected = t0 + timedelta(seconds=80)
    await expect(page.locator("#c-recognized")).to_have_value(
        recorded.strftime("%Y-%m-%dT%H:%M:%S")
    )
    await expect(page.locator('[data-recorded="ohca.recognized"]')).to_have_text(
        f"recorded {recorded:%Y-%m-%d %H:%M:%S}"
    )
    await page.fill("#c-recognized", corrected.strftime("%Y-%m-%dT%H:%M:%S"))
    await page.fill("#feedback", "Ask the breathing question before the address.")
    await page.click("#sign-off")
    await expect(page.locator("#review-status")).to_contain_text("Signed off at")

    # The audit now shows the determination in force and the corrected time beside the original.
    await expect(page.locator(".determination .badge")).to_have_text("Signed off by qi-ana")
    await expect(page.locator('[data-det="recognizable"]')).to_have_text("yes")
    free_text = "other: caller on speakerphone in another room"
    await expect(page.locator('[data-det="delay"] li')).to_have_text(
        ["unnecessary questions", "address verification", free_text]
    )
    await expect(page.locator('[data-det="feedback"]')).to_have_text(
        "Ask the breathing question before the address."
    )
    stamp = page.locator('table.timestamps tr[data-kind="ohca.recognized"]')
    await expect(stamp).to_have_class("corrected")
    await expect(stamp.locator(".in-force")).to_have_text(shown(corrected, t0))
    await expect(stamp.locator(".original s")).to_have_text(shown(recorded, t0))
    await expect(recognition.locator("td").first).to_have_text("80 s")
    await expect(recognition.locator("td.bench")).to_have_text("met")
    await expect(page.locator('[data-recorded="ohca.recognized"]')).to_have_text(
        f"recorded {recorded:%Y-%m-%d %H:%M:%S}"
    )
    await expect(page.locator("#c-recognized")).to_have_value(
        corrected.strftime("%Y-%m-%dT%H:%M:%S")
    )
    # The unreviewed filter no longer lists it; with any review status it shows as signed off.
    await expect(rows).to_have_count(1)
    await expect(row(page, "Q1")).to_have_count(0)
    await page.select_option("#f-review", "")
    await expect(row(page, "Q1").locator(".badge")).to_have_text("signed off")
    await page.locator("#audit-pane").evaluate("pane => { pane.scrollTop = 0; }")
    await screenshot(page, "qi-review")

    # What was stored: one qi.review by the reviewer, the correction on the source's clock.
    async with await ui_server.client("qi", "A") as qi:
        audit = (await qi.get("/api/v1/calls/A/Q1/audit")).json()
    det = audit["determination"]
    assert (det["reviewer"], det["signed_off"], det["recognizable"]) == ("qi-ana", True, True)
    assert det["delay_reasons"] == [
        "unnecessary_questions",
        "address_verification",
        "other: caller on speakerphone in another room",
    ]
    assert det["nonrecognition_reasons"] == []
    assert audit["corrections"] == {"ohca.recognized": corrected.isoformat()}
    assert audit["intervals"]["to_recognition"] == 80.0
    assert datetime.fromisoformat(det["reviewed_at"]).utcoffset() is not None

    # The list's CSV export downloads with the token (a plain link could not send it).
    async with page.expect_download() as download_info:
        await page.click("#export-list-csv")
    download = await download_info.value
    saved = await download.path()
    exported = list(csv.DictReader(io.StringIO(await asyncio.to_thread(saved.read_text))))
    assert [r["call_id"] for r in exported] == ["Q4", "Q3", "Q1"]  # missed, any review status
    assert exported[2]["signed_off"] == "true"
    assert exported[2]["recognized_original"] == recorded.isoformat()

    # The printable page of the filtered list: one section per call, each ending its page.
    async with page.context.expect_page() as popup_info:
        await page.click("#print-list")
    printable = await popup_info.value
    await expect(printable.locator("section.audit-page")).to_have_count(3)
    await expect(printable.locator("section.audit-page h2")).to_have_text(
        ["Call Q4", "Call Q3", "Call Q1"]
    )
    await printable.set_viewport_size({"width": 1000, "height": 1300})
    await screenshot(printable, "qi-print")
    await printable.emulate_media(media="print")
    breaks = await printable.locator("section.audit-page").evaluate_all(
        "ss => ss.map(s => getComputedStyle(s).breakAfter)"
    )
    assert breaks == ["page", "page", "auto"]
    await expect(printable.locator("header.screen-only")).to_be_hidden()
    # And the one open call alone.
    async with page.context.expect_page() as popup_info:
        await page.click("#print-call")
    single = await popup_info.value
    await expect(single.locator("section.audit-page")).to_have_count(1)
    await expect(single.locator('tr[data-kind="ohca.recognized"] .original s')).to_have_text(
        shown(recorded, t0)
    )
    assert console_errors == []


async def test_a_supervisor_reads_but_cannot_review(
    ui_server: Server, new_page: NewPage, console_errors: list[str]
) -> None:
    await seed(ui_server)
    token = await ui_server.token("supervisor", "A")
    page = await new_page()
    await page.goto(f"{ui_server.url}/ui/qi.html?agency=A&call=Q4#token={token}")
    await expect(page.locator("#audit-title")).to_have_text("Call Q4")
    await expect(page.locator(".determination .badge")).to_have_text("Signed off by qi-bo")
    await expect(page.locator("#review-readonly")).to_be_visible()
    await expect(page.locator("#sign-off")).to_be_disabled()
    assert console_errors == []


async def test_without_a_token_it_asks_to_sign_in(
    ui_server: Server, new_page: NewPage, console_errors: list[str]
) -> None:
    page = await new_page()
    await page.goto(f"{ui_server.url}/ui/qi.html")
    await expect(page.locator("#signin")).to_be_visible()
    await page.fill("#token", await ui_server.token("qi", "A"))
    await page.click("#signin button")
    await expect(page.locator("#layout")).to_be_visible()
    await expect(page.locator("#empty")).to_be_visible()
    assert unexpected(console_errors) == []
