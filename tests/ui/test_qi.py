"""QI audit review in a real Chromium: from the filtered list to a signed-off audit, the corrected
time beside the original, the exports and the printable pages; a supervisor judging T-CPR
exclusions (and the AHA's reviewed T-CPR rate that follows), the marks for T0 from the answer and
recognition after EMS arrival, and a reproducible random review sample."""

from __future__ import annotations

import asyncio
import csv
import io
import re
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from calls import post_calls
from playwright.async_api import Page, expect
from signin import unexpected
from support.harness import Server

from service.qi.sampling import Sample

NewPage = Callable[..., Awaitable[Page]]
Screenshot = Callable[[Page, str], Awaitable[Path]]
POPULATION = {"ohca": True, "resuscitation_attempted": True, "ems_witnessed": False}
NOT_ARREST = {"ohca": False, "resuscitation_attempted": False, "ems_witnessed": False}
# Whole seconds, an hour and more ago: no alert can fire, and a time typed into a datetime input
# (to the second) is exactly the time meant.
BASE = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=2)


def t0_of(call_id: str) -> datetime:
    return BASE + timedelta(minutes=int(call_id[-1]) * 10)


def ended_call(
    call_id: str,
    tc: str,
    *extra: tuple[str, float, dict[str, Any]],
    t0: datetime | None = None,
    received: bool = True,
) -> list[Any]:
    """Received at T0 (unless `received` is False: then T0 falls back to the answer at 5 s),
    answered at 5 s, `extra` events, ended at 600 s."""
    t0 = t0 if t0 is not None else t0_of(call_id)

    def ev(n: str, kind: str, seconds: float, **fields: Any) -> dict[str, Any]:
        at = (t0 + timedelta(seconds=seconds)).isoformat()
        return {"event_id": f"{call_id}-{n}", "call_id": call_id, "agency": "A", "kind": kind,
                "at": at, **fields}  # fmt: skip

    events = [
        *([ev("r", "call.received", 0, data={"psap": "PSAP-1"})] if received else []),
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


def in_input(t: datetime) -> str:
    """A time as a datetime-local input's value reads: the browser leaves out zero seconds."""
    value = t.strftime("%Y-%m-%dT%H:%M:%S")
    return value.removesuffix(":00") if t.second == 0 else value


def row(page: Page, call_id: str) -> Any:
    return page.locator(f'#audits tbody tr[data-call-id="{call_id}"]')


async def test_review_from_list_to_signed_off_audit(
    ui_server: Server, new_page: NewPage, console_errors: list[str], screenshot: Screenshot
) -> None:
    await seed(ui_server)
    token = await ui_server.services.tokens.create("qi", ["A"], "qi-ana")
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
    # Q1's instructions were begun without a pack stamp; recognised, and no unit ever dispatched.
    await expect(page.locator('[data-fact="Protocol"]')).to_have_text("protocol not recorded")
    await expect(page.locator('[data-fact="Dispatch"]')).to_have_text(
        "no unit dispatched, though the answers or the recognition called for one"
    )
    await expect(page.locator('[data-fact="EMS outcome"]')).to_have_text(
        "cardiac arrest, resuscitation attempted"
    )
    await expect(page.locator('[data-fact="AHA population"]')).to_have_text("yes")
    await expect(page.locator("ul.suggested li")).to_have_text(
        ["moving patient to floor — first compression 50 s after T-CPR instructions began"]
    )

    # The review: recognizable, two coded delay reasons plus free text, the recognition time from
    # the recording (80 s instead of 95 s), feedback, then sign off.
    await expect(page.locator("#reviewer")).to_have_value("qi-ana")  # the sign-in's name
    assert await page.locator("#reviewer").evaluate("(input) => input.readOnly") is True
    await page.keyboard.press("Tab")
    await page.check('input[name="recognizable"][value="yes"]')
    await page.check('#delay input[value="unnecessary_questions"]')
    await page.check('#delay input[value="address_verification"]')
    await page.fill('input[name="delay_other"]', "caller on speakerphone in another room")
    t0 = t0_of("Q1")
    recorded = t0 + timedelta(seconds=95)
    corrected = t0 + timedelta(seconds=80)
    await expect(page.locator("#c-recognized")).to_have_value(in_input(recorded))
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
    await expect(page.locator("#c-recognized")).to_have_value(in_input(corrected))
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


async def test_a_supervisor_may_review(
    ui_server: Server, new_page: NewPage, console_errors: list[str]
) -> None:
    """The AHA names "the supervisor (or designated QI person)": a supervisor's form is open."""
    await seed(ui_server)
    token = await ui_server.token("supervisor", "A")
    page = await new_page()
    await page.goto(f"{ui_server.url}/ui/qi.html?agency=A&call=Q4#token={token}")
    await expect(page.locator("#audit-title")).to_have_text("Call Q4")
    await expect(page.locator(".determination .badge")).to_have_text("Signed off by qi-bo")
    await expect(page.locator("#me")).to_contain_text("supervisor")
    await expect(page.locator("#review-readonly")).to_be_hidden()
    await expect(page.locator("#sign-off")).to_be_enabled()
    await expect(page.locator("#save-draft")).to_be_enabled()
    await expect(page.locator('input[name="recognizable"][value="yes"]')).to_be_enabled()
    # Q4 has no exclusion to judge.
    await expect(page.locator("#exclusion")).to_be_hidden()
    assert "QI only" not in await page.locator("body").inner_text()
    # The measures are QI staff's: the supervisor is not offered a page it could not read.
    await expect(page.locator('nav a[href="measures.html"]')).to_be_hidden()
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


# -- exclusions judged by a supervisor, the marks, the review sample ------------------------------
OTHER = {"reason": "other", "note": "caller was doing CPR on a second patient"}
REFUSED = {"reason": "caller_refused", "note": "would not leave the car"}


async def seed_rules(server: Server) -> None:
    """Six population calls, each ended at 600 s with EMS confirming the arrest at 900 s."""
    await post_calls(
        server,
        # E1: not given for `other` reasons and no compression: the AHA counts this exclusion only
        # if the reviewer accepts it. The supervisor accepts it.
        ended_call(
            "E1",
            "tc-301",
            ("ohca.recognized", 40, {}),
            ("tcpr.not_given", 70, OTHER),
            ("ems.outcome", 900, POPULATION),
        ),
        # E2: the caller refused, no compression: counted unless rejected. The supervisor rejects.
        ended_call(
            "E2",
            "tc-302",
            ("ohca.recognized", 45, {}),
            ("tcpr.started", 60, {}),
            ("tcpr.not_given", 90, REFUSED),
            ("ems.outcome", 900, POPULATION),
        ),
        # E3: compressions at 120 s, signed off by QI below (no exclusion).
        ended_call(
            "E3",
            "tc-303",
            ("ohca.recognized", 50, {}),
            ("tcpr.started", 80, {}),
            ("tcpr.first_compression", 120, {}),
            ("ems.outcome", 900, POPULATION),
        ),
        # E4: no call.received: T0 is the answer (5 s), recognised 60 s and first compression
        # 130 s after it. The supervisor signs it off (nothing to judge).
        ended_call(
            "E4",
            "tc-304",
            ("ohca.recognized", 65, {}),
            ("tcpr.first_compression", 135, {}),
            ("ems.outcome", 900, POPULATION),
            received=False,
        ),
        # E5: recognised at 320 s, after the first unit on scene at 300 s: the crew's.
        ended_call(
            "E5",
            "tc-305",
            ("unit.dispatched", 60, {"unit": "M12"}),
            ("unit.on_scene", 300, {"unit": "M12"}),
            ("ohca.recognized", 320, {}),
            ("ems.outcome", 900, POPULATION),
        ),
        # E6: the caller hung up, no compression; a draft leaves the exclusion open.
        ended_call(
            "E6",
            "tc-306",
            ("ohca.recognized", 55, {}),
            ("tcpr.not_given", 100, {"reason": "hung_up"}),
            ("ems.outcome", 900, POPULATION),
        ),
    )
    async with await server.client("qi", "A") as qi:
        review = {
            "event_id": "E3-review",
            "call_id": "E3",
            "agency": "A",
            "kind": "qi.review",
            "at": (t0_of("E3") + timedelta(minutes=20)).isoformat(),
            "source": "qi",
            "actor": "qi-bo",
            "data": {"recognizable": True, "signed_off": True},
        }
        assert (await qi.post("/api/v1/events", json=review)).status_code == 200


def fraction(rate: dict[str, Any]) -> tuple[int, int]:
    return rate["numerator"], rate["denominator"]


async def marks(page: Page) -> dict[str, list[str]]:
    """Each listed call's marks, in the order of its cells."""
    found: dict[str, list[str]] = await page.locator("#audits tbody tr").evaluate_all(
        "rs => Object.fromEntries(rs.map(r => "
        "[r.dataset.callId, [...r.querySelectorAll('.mark')].map(m => m.dataset.mark)]))"
    )
    return found


async def test_a_supervisor_judges_exclusions(
    ui_server: Server, new_page: NewPage, console_errors: list[str], screenshot: Screenshot
) -> None:
    await seed_rules(ui_server)
    token = await ui_server.services.tokens.create("supervisor", ["A"], "sup-kim")
    page = await new_page(viewport=(1600, 1000))
    await page.goto(f"{ui_server.url}/ui/qi.html#token={token}")
    rows = page.locator("#audits tbody tr")
    await expect(rows).to_have_count(6)

    # The list marks T0 from the answer (E4), the crew's recognition (E5) and every exclusion
    # still to judge (E1, E2, E6); E3 carries none.
    assert await marks(page) == {
        "E6": ["exclusion-open"],
        "E5": ["after-arrival"],
        "E4": ["t0-answer"],
        "E3": [],
        "E2": ["exclusion-open"],
        "E1": ["exclusion-open"],
    }
    t0_mark = row(page, "E4").locator('[data-mark="t0-answer"]')
    await expect(t0_mark).to_contain_text("T0 from answer")
    await expect(t0_mark).to_have_attribute("title", re.compile(r"has no call\.received"))
    await expect(t0_mark.locator(".visually-hidden")).to_contain_text(
        "ring and transfer time are lost"
    )
    after = row(page, "E5").locator('[data-mark="after-arrival"]')
    await expect(after).to_contain_text("recognised after EMS arrival")
    await expect(after).to_have_attribute(
        "title", re.compile("the measures do not count as the telecommunicator")
    )
    await expect(row(page, "E6").locator('[data-mark="exclusion-open"]')).to_contain_text(
        "exclusion to judge"
    )

    # E4's audit says where T0 comes from, and the answer is its T0.
    await row(page, "E4").click()
    await expect(page.locator("#audit-title")).to_have_text("Call E4")
    await expect(page.locator(".t0-source")).to_contain_text(
        "T0 from the answer: this call has no call.received"
    )
    answered = page.locator('table.timestamps tr[data-kind="call.answered"]')
    await expect(answered.locator("td").last).to_have_text("T0")
    await expect(answered.locator("th .mark")).to_contain_text("T0 from answer")
    received = page.locator('table.timestamps tr[data-kind="call.received"]')
    await expect(received.locator("th")).to_have_text("Call connected")  # not "(T0)"
    await expect(received.locator("td.in-force")).to_have_text("—")
    await expect(received.locator("td").last).to_have_text("—")
    recognition = page.locator('tr[data-interval="to_recognition"]')
    await expect(recognition.locator("td").first).to_have_text("60 s")
    await expect(page.locator("#exclusion")).to_be_hidden()
    # E3 (compressions) is measured from call.received: said so, without a mark.
    await row(page, "E3").click()
    await expect(page.locator("#audit-title")).to_have_text("Call E3")
    await expect(page.locator(".t0-source")).to_have_text(
        "T0 is the call's connection (call.received)."
    )

    # E5's audit shows the recognition, and that it came after EMS arrived.
    await row(page, "E5").click()
    await expect(page.locator("#audit-title")).to_have_text("Call E5")
    fact = page.locator('[data-fact="Recognition"]')
    await expect(fact).to_contain_text("recognised, declared by the telecommunicator")
    await expect(fact).to_contain_text(
        "At or after the first unit on scene: the measures do not count it"
    )
    stamp = page.locator('table.timestamps tr[data-kind="ohca.recognized"]')
    await expect(stamp.locator("th .mark")).to_contain_text("recognised after EMS arrival")

    # E2 by keyboard: the form shows the exclusion and asks for a judgement.
    await expect(page.locator("#reviewer")).to_have_value("sup-kim")
    await page.locator("#reviewer").focus()
    await page.keyboard.press("Tab")
    await row(page, "E2").focus()
    await page.keyboard.press("Enter")
    await expect(page.locator("#audit-title")).to_have_text("Call E2")
    await expect(page.locator("#exclusion")).to_be_visible()
    await expect(page.locator("#exclusion-what")).to_have_text(
        "T-CPR not given: caller refused — note “would not leave the car”. No directed first"
        " compression: the call is excluded from the T-CPR rate if the exclusion is valid."
    )
    await expect(page.locator("#exclusion-rule")).to_contain_text(
        "The AHA counts this exclusion unless the reviewer rejects it"
    )
    accept = page.get_by_role("radio", name="Accept exclusion")
    reject = page.get_by_role("radio", name="Reject exclusion")
    await expect(page.get_by_role("radio", name="Not judged yet")).to_be_checked()
    tcpr = page.locator('[data-fact="T-CPR"]')
    await expect(tcpr.locator("[data-exclusion]")).to_have_attribute("data-exclusion", "open")
    await expect(tcpr).to_contain_text("not given: caller refused — note “would not leave the car”")
    await expect(page.locator('[data-det="exclusion"]')).to_have_text("not judged")

    # Signing off without a judgement is refused in the form: nothing is posted.
    await page.click("#sign-off")
    await expect(page.locator("#exclusion-error")).to_have_text(
        "Accept or reject the T-CPR exclusion before signing off (Save draft may leave it open)."
    )
    await expect(page.locator("#review-status")).to_have_text("Not signed off.")
    await expect(accept).to_be_focused()
    await expect(accept).to_have_attribute("aria-invalid", "true")
    await page.locator("#exclusion").scroll_into_view_if_needed()
    await screenshot(page, "qi-exclusion")
    async with await ui_server.client("qi", "A") as qi:
        untouched = (await qi.get("/api/v1/calls/A/E2/audit")).json()
    assert untouched["reviewed"] is False

    # The arrow key moves to "Reject exclusion" and chooses it; then sign off.
    await page.keyboard.press("ArrowDown")
    await expect(reject).to_be_checked()
    await expect(reject).to_be_focused()
    await expect(page.locator("#exclusion-error")).to_have_text("")
    await page.click("#sign-off")
    await expect(page.locator("#review-status")).to_contain_text("Signed off at")
    await expect(page.locator(".determination .badge")).to_have_text("Signed off by sup-kim")
    await expect(page.locator('[data-det="exclusion"]')).to_have_text("rejected")
    await expect(tcpr.locator("[data-exclusion]")).to_have_attribute("data-exclusion", "rejected")
    await expect(tcpr).to_contain_text("Rejected by the reviewer: the call counts in the AHA")
    await expect(reject).to_be_checked()  # the form shows the judgement in force
    await expect(row(page, "E2").locator(".mark")).to_have_attribute(
        "data-mark", "exclusion-rejected"
    )

    # E1, reason `other`: the form says plainly the AHA counts it only if accepted; accept it.
    await row(page, "E1").click()
    await expect(page.locator("#audit-title")).to_have_text("Call E1")
    await expect(page.locator("#exclusion-what")).to_contain_text(
        "T-CPR not given: other — note “caller was doing CPR on a second patient”."
    )
    await expect(page.locator("#exclusion-rule")).to_contain_text(
        "The reason is other: the AHA counts this exclusion only if the reviewer accepts it"
    )
    await expect(tcpr).to_contain_text("only if the reviewer accepts it")
    await page.get_by_label("Accept exclusion").check()
    await page.click("#sign-off")
    await expect(page.locator("#review-status")).to_contain_text("Signed off at")
    await expect(page.locator('[data-det="exclusion"]')).to_have_text("accepted")
    await expect(tcpr.locator("[data-exclusion]")).to_have_attribute("data-exclusion", "accepted")
    await expect(row(page, "E1").locator(".mark")).to_have_attribute(
        "data-mark", "exclusion-accepted"
    )

    # E6: a draft may leave the exclusion open.
    await row(page, "E6").click()
    await expect(page.locator("#audit-title")).to_have_text("Call E6")
    await page.click("#save-draft")
    await expect(page.locator("#review-status")).to_contain_text("Draft saved at")
    await expect(page.locator(".determination .badge")).to_have_text("Draft by sup-kim")
    await expect(page.locator('[data-det="exclusion"]')).to_have_text("not judged")
    await expect(row(page, "E6").locator(".mark")).to_have_attribute("data-mark", "exclusion-open")

    # E4 has nothing to judge: signed off without the question.
    await row(page, "E4").click()
    await expect(page.locator("#audit-title")).to_have_text("Call E4")
    await page.check('input[name="recognizable"][value="yes"]')
    await page.click("#sign-off")
    await expect(page.locator("#review-status")).to_contain_text("Signed off at")
    await expect(page.locator('[data-det="exclusion"]')).to_have_text("no exclusion")
    assert await marks(page) == {
        "E6": ["exclusion-open"],
        "E5": ["after-arrival"],
        "E4": ["t0-answer"],
        "E3": [],
        "E2": ["exclusion-rejected"],
        "E1": ["exclusion-accepted"],
    }

    # What was stored, and what the measures make of it.
    async with await ui_server.client("qi", "A") as qi:
        audits = {
            c: (await qi.get(f"/api/v1/calls/A/{c}/audit")).json() for c in ("E1", "E2", "E4", "E6")
        }
        measures = (await qi.get("/api/v1/measures", params={"agency": "A"})).json()
    e1, e2, e4, e6 = (audits[c] for c in ("E1", "E2", "E4", "E6"))
    assert (e1["determination"]["reviewer"], e1["determination"]["signed_off"]) == ("sup-kim", True)
    assert e1["determination"]["exclusion_valid"] is True
    assert e1["tcpr"]["excluded_when_reviewed"] is True
    assert (e2["determination"]["reviewer"], e2["determination"]["signed_off"]) == ("sup-kim", True)
    assert e2["determination"]["exclusion_valid"] is False
    assert e2["tcpr"]["excluded_when_reviewed"] is False
    assert e6["determination"]["exclusion_valid"] is None
    assert e6["determination"]["signed_off"] is False
    assert "exclusion_valid" not in e6["review"]  # left open: not posted
    assert e4["determination"]["signed_off"] is True
    assert "exclusion_valid" not in e4["review"]  # no exclusion: not posted
    assert e4["t0_source"] == "call.answered"

    # By hand. Population: E1–E6. Telecommunicator recognition (before EMS arrived): all but E5.
    # Provisional T-CPR rate: recognised E1, E2, E3, E4, E6 less the exclusions E1, E2, E6:
    # E3 and E4 both compressed, 2 / 2.
    assert measures["population"] == 6
    assert fraction(measures["recognition_rate"]) == (5, 6)
    assert fraction(measures["tcpr_rate"]) == (2, 2)
    assert measures["tcpr_exclusions"] == {"caller_refused": 1, "hung_up": 1, "other": 1}
    assert measures["t0_fallback_calls"] == 1
    assert measures["recognitions_after_arrival"] == 1
    # Reviewed (AHA): signed off are E1, E2 (sup-kim), E3 (qi-bo), E4 (sup-kim). E1's `other`
    # exclusion is accepted, so out; E2's is rejected, so in without compressions; E3 and E4
    # compressed: 2 / 3. Had the judgements been swapped, the exclusion counted would be E2's.
    reviewed = measures["reviewed"]
    assert reviewed["qi_reviewed"] == 4
    assert fraction(reviewed["tcpr_rate"]) == (2, 3)
    assert reviewed["tcpr_rate"]["percent"] == 66.7
    assert reviewed["tcpr_exclusions"] == {"other": 1}

    # The printable page of the list shows the same facts.
    async with page.context.expect_page() as popup_info:
        await page.click("#print-list")
    printable = await popup_info.value
    await expect(printable.locator("section.audit-page")).to_have_count(6)
    e2_page = printable.locator('section.audit-page[aria-label="Call E2"]')
    await expect(e2_page.locator('[data-fact="T-CPR"] [data-exclusion]')).to_have_attribute(
        "data-exclusion", "rejected"
    )
    await expect(e2_page.locator('[data-det="exclusion"]')).to_have_text("rejected")
    e4_page = printable.locator('section.audit-page[aria-label="Call E4"]')
    await expect(e4_page.locator(".t0-source")).to_contain_text("T0 from the answer")
    e5_page = printable.locator('section.audit-page[aria-label="Call E5"]')
    await expect(e5_page.locator('[data-fact="Recognition"] .mark')).to_contain_text(
        "recognised after EMS arrival"
    )
    await printable.set_viewport_size({"width": 1000, "height": 1300})
    await e2_page.scroll_into_view_if_needed()
    await screenshot(printable, "qi-print-exclusion")
    assert console_errors == []


async def seed_sample(server: Server) -> list[str]:
    """Twelve population calls S01–S12 a minute apart, and two EMS found no arrest in."""
    start = BASE - timedelta(hours=1)
    population = [f"S{i:02d}" for i in range(1, 13)]
    await post_calls(
        server,
        *(
            ended_call(
                c,
                f"tc-{i % 3}",
                ("ohca.recognized", 40 + i, {}),
                ("ems.outcome", 900, POPULATION),
                t0=start + timedelta(minutes=i),
            )
            for i, c in enumerate(population, start=1)
        ),
        *(
            ended_call(
                c,
                "tc-9",
                ("ems.outcome", 900, NOT_ARREST),
                t0=start + timedelta(minutes=30 + i),
            )
            for i, c in enumerate(["N1", "N2"])
        ),
    )
    return population


async def test_a_reproducible_review_sample(
    ui_server: Server, new_page: NewPage, console_errors: list[str], screenshot: Screenshot
) -> None:
    population = await seed_sample(ui_server)
    # Hand-checked once: a quarter with seed 2026-q2 draws S01 and S07; half adds four more.
    quarter = Sample(0.25, "2026-q2").drawn("A", population)
    half = Sample(0.5, "2026-q2").drawn("A", population)
    assert quarter == ["S01", "S07"]
    assert half == ["S01", "S02", "S03", "S05", "S07", "S10"]
    token = await ui_server.token("qi", "A")
    page = await new_page(viewport=(1600, 1000))
    await page.goto(f"{ui_server.url}/ui/qi.html#token={token}")
    rows = page.locator("#audits tbody tr")
    await expect(rows).to_have_count(14)
    await expect(page.locator("#sampled")).to_be_hidden()
    await expect(page.locator("#s-clear")).to_be_hidden()
    await expect(page.locator("#s-percent")).to_have_value("25")
    await expect(page.locator("#s-seed")).to_have_value(re.compile(r"^[0-9a-f]{8}$"))

    # A share that is no share is refused in the form.
    await page.fill("#s-percent", "0")
    await page.click("#s-draw")
    await expect(page.locator("#sample-error")).to_have_text(
        "Enter a share above 0 and at most 100 %."
    )
    await expect(page.locator("#s-percent")).to_be_focused()
    await expect(rows).to_have_count(14)

    # 25 % with the seed typed in; Enter in the seed draws.
    await page.fill("#s-percent", "25")
    await page.fill("#s-seed", "2026-q2")
    await page.keyboard.press("Enter")
    header = "Random sample: 25 % of 12 population calls, seed 2026-q2 — 2 drawn."
    await expect(page.locator("#sampled")).to_have_text(header)
    await expect(page.locator("#sample-error")).to_have_text("")
    await expect(rows).to_have_count(len(quarter))
    listed = await rows.evaluate_all("rs => rs.map(r => r.dataset.callId)")
    assert listed == sorted(quarter, reverse=True)  # newest first
    await expect(page.locator("#counts")).to_contain_text("2 shown of 2 calls")
    assert "sample=0.25" in page.url and "seed=2026-q2" in page.url

    # The link reproduces it: the same page address in a fresh load draws the same calls.
    await page.goto(page.url)
    await expect(page.locator("#sampled")).to_have_text(header)
    await expect(page.locator("#s-seed")).to_have_value("2026-q2")
    await expect(page.locator("#s-percent")).to_have_value("25")
    assert await rows.evaluate_all("rs => rs.map(r => r.dataset.callId)") == listed

    # The printable list is the sample too.
    async with page.context.expect_page() as popup_info:
        await page.click("#print-list")
    printable = await popup_info.value
    await expect(printable.locator("section.audit-page h2")).to_have_text(
        [f"Call {c}" for c in listed]
    )
    await expect(printable.locator("#status")).to_contain_text(header)
    await printable.close()

    # Half with the same seed keeps the quarter's calls and adds more.
    await page.fill("#s-percent", "50")
    await page.click("#s-draw")
    await expect(page.locator("#sampled")).to_have_text(
        "Random sample: 50 % of 12 population calls, seed 2026-q2 — 6 drawn."
    )
    await expect(rows).to_have_count(len(half))
    assert await rows.evaluate_all("rs => rs.map(r => r.dataset.callId)") == sorted(
        half, reverse=True
    )
    await screenshot(page, "qi-sample")

    # The whole list again.
    await page.click("#s-clear")
    await expect(rows).to_have_count(14)
    await expect(page.locator("#sampled")).to_be_hidden()
    await expect(page.locator("#s-draw")).to_be_focused()
    assert "sample=" not in page.url and "seed=" not in page.url
    assert console_errors == []


async def test_the_list_shows_outstanding_and_held_debriefs(
    ui_server: Server, new_page: NewPage, console_errors: list[str]
) -> None:
    await seed(ui_server)  # Q1 (late) and Q3 (never recognised) need a debrief; Q2 does not
    supervisor = await ui_server.services.tokens.create("supervisor", ["A"], "Sgt. Ruiz")
    async with await ui_server.client("supervisor", "A") as sup:
        sup.headers["Authorization"] = f"Bearer {supervisor}"
        marked = await sup.post("/api/v1/debriefs/A/Q1", json={"note": "went over the timing"})
        assert marked.status_code == 201, marked.text
    token = await ui_server.token("qi", "A")
    page = await new_page(viewport=(1600, 1000))
    await page.goto(f"{ui_server.url}/ui/qi.html#token={token}")
    await expect(page.locator("#audits tbody tr")).to_have_count(4)
    await expect(row(page, "Q3").locator(".debrief-mark.due")).to_have_text("debrief due")
    held = row(page, "Q1").locator(".debrief-mark.held")
    await expect(held).to_have_text("debriefed · Sgt. Ruiz")
    title = re.compile(r"Debriefed by Sgt\. Ruiz, .* went over the timing")
    await expect(held).to_have_attribute("title", title)
    await expect(row(page, "Q2").locator(".debrief-mark.due, .debrief-mark.held")).to_have_count(0)
    await expect(page.locator("#debriefs-summary")).to_have_text(
        "Outstanding debriefs: 1 · held: 1"
    )
    await page.click("#debriefs-summary")
    await page.click('#debriefs-list button[data-call-id="Q3"]')
    await expect(row(page, "Q3")).to_have_attribute("aria-selected", "true")
    assert console_errors == []
