"""My reviews in the telecommunicator panel (issue 19, DESIGN.md §2 `feedback.acknowledged`, §8
`GET /api/v1/feedback`): a telecommunicator reads the reviews of their own calls between calls,
acknowledges one by keyboard, sees nobody else's, and the view never stands over a call."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from calls import call, open_panel, post_calls
from playwright.async_api import Page, expect
from signin import unexpected
from support.harness import Server

from contract.kinds import Kind

NewPage = Callable[..., Awaitable[Page]]
Screenshot = Callable[[Page, str], Awaitable[Path]]
ME = "test-telecommunicator"  # the name the harness gives this role's token
T0 = datetime.now(UTC).replace(microsecond=0) - timedelta(days=2)
FEEDBACK = "Good recognition at 50 s. Get the caller's hands on the chest sooner."


def at(seconds: float, t0: datetime = T0) -> str:
    return (t0 + timedelta(seconds=seconds)).isoformat()


def handled(
    call_id: str, actor: str, t0: datetime = T0, compression_s: float = 170, ended: bool = True
) -> list[dict[str, Any]]:
    """A call `actor` answered and recognised at 50 s; first compression at `compression_s`."""

    def ev(suffix: str, kind: str, seconds: float, **extra: Any) -> dict[str, Any]:
        return {"event_id": f"{call_id}-{suffix}", "call_id": call_id, "agency": "A",
                "kind": kind, "at": at(seconds, t0), **extra}  # fmt: skip

    console = {"source": "console", "actor": actor}
    return [
        ev("r", "call.received", 0, data={"psap": "P1"}),
        ev("a", "call.answered", 4, actor=actor),
        ev("c", "triage.conscious", 30, data={"answer": "no"}, **console),
        ev("o", "ohca.recognized", 50, **console),
        ev("s", "tcpr.started", 60, data={"variant": "adult"}, **console),
        ev("f", "tcpr.first_compression", compression_s, **console),
        *([ev("e", "call.ended", 600)] if ended else []),
    ]


def reviewed(call_id: str, hours: float, feedback: str, t0: datetime = T0) -> dict[str, Any]:
    return {
        "event_id": f"{call_id}-rev", "call_id": call_id, "agency": "A", "kind": "qi.review",
        "at": at(hours * 3600, t0), "source": "qi", "actor": "rev-1",
        "data": {"recognizable": True, "feedback": feedback, "signed_off": True},
    }  # fmt: skip


def outcome(call_id: str, rosc: bool, survived: bool) -> dict[str, Any]:
    return {
        "event_id": f"{call_id}-ems", "call_id": call_id, "agency": "A", "kind": "ems.outcome",
        "at": at(7200), "source": "ems",
        "data": {"ohca": True, "resuscitation_attempted": True, "ems_witnessed": False,
                 "rosc": rosc, "survived": survived},
    }  # fmt: skip


async def seed_reviews(server: Server) -> None:
    """R1: reviewed, with ROSC, not yet read; the CAD never ended it (past the live-call limit,
    an event for it must not bring it back as live). R2: reviewed later, already acknowledged."""
    earlier = T0 - timedelta(hours=3)
    r1, r2 = handled("R1", ME, ended=False), handled("R2", ME, earlier, compression_s=115)
    await post_calls(server, r1, r2)
    async with await server.client("qi", "A") as qi:
        posted = [outcome("R1", rosc=True, survived=False), reviewed("R1", 20, FEEDBACK)]
        posted.append(reviewed("R2", 30, "Textbook call.", earlier))
        assert (await qi.post("/api/v1/events", json=posted)).status_code == 200
    async with await server.client("telecommunicator", "A") as me:
        read = {
            "event_id": "R2-ack", "call_id": "R2", "agency": "A", "at": at(40 * 3600),
            "kind": "feedback.acknowledged", "source": "console", "actor": ME,
            "data": {"review": "R2-rev"},
        }  # fmt: skip
        assert (await me.post("/api/v1/events", json=read)).status_code == 200


async def panel_as(server: Server, new_page: NewPage, name: str) -> Page:
    token = await server.services.tokens.create("telecommunicator", ["A"], name)
    page = await new_page()
    await page.goto(f"{server.url}/ui/panel.html#token={token}")
    await expect(page.locator("#status")).to_have_class("status live")
    return page


async def test_a_telecommunicator_reads_and_acknowledges_a_review_by_keyboard(
    ui_server: Server, new_page: NewPage, console_errors: list[str], screenshot: Screenshot
) -> None:
    await seed_reviews(ui_server)
    page = await open_panel(ui_server, new_page)
    button = page.locator("#reviews-button")
    await expect(button.locator(".badge")).to_have_text("1")  # one review not yet read
    await expect(page.locator("#keys [data-key='reviews']")).to_contain_text("F my reviews")
    await page.keyboard.press("f")
    view = page.locator("#reviews")
    await expect(view).to_be_visible()
    await expect(page.locator("#card")).to_be_hidden()
    items = view.locator("li.review")
    # Unread first, though R2's review is the newer one.
    await expect(items).to_have_count(2)
    await expect(items.nth(0)).to_have_attribute("data-call-id", "R1")
    await expect(items.nth(1)).to_have_attribute("data-call-id", "R2")
    first = items.nth(0)
    await expect(first).to_have_class("review selected unread")
    await expect(first.locator(".review-state")).to_have_text("New")
    await expect(first.locator(".review-feedback")).to_have_text(FEEDBACK)
    when = await page.evaluate("(iso) => MyReviews.localDateTime(iso)", T0.isoformat())
    await expect(first.locator(".review-when")).to_have_text(when)
    assert when.startswith(T0.astimezone().strftime("%Y-%m-%d"))  # the browser's zone is ours
    recognition = first.locator("[data-bench='recognition']")
    await expect(recognition).to_have_attribute("data-state", "met")
    await expect(recognition.locator(".bench-value")).to_have_text("0:50")
    await expect(recognition.locator(".bench-limit")).to_have_text("under 1:30")
    compression = first.locator("[data-bench='compression']")
    await expect(compression).to_have_attribute("data-state", "missed")
    await expect(compression.locator(".bench-value")).to_have_text("2:50")
    await expect(compression.locator(".bench-mark")).to_have_text("✗")
    await expect(compression.locator(".bench-limit")).to_have_text("under 2:30")
    await expect(first.locator("[data-outcome='rosc']")).to_have_text(
        "Return of circulation (ROSC): yes"
    )
    await expect(first.locator("[data-outcome='survived']")).to_have_text("Survived: no")
    await expect(first.locator(".review-sign")).to_have_text("Signed off")
    await expect(items.nth(1).locator(".review-state")).to_have_text("Acknowledged")
    await expect(items.nth(1).locator("[data-bench='compression']")).to_have_attribute(
        "data-state", "met"
    )
    await screenshot(page, "panel-reviews-1280x720")

    await page.keyboard.press("j")  # down to R2 (read: no acknowledge button) and back
    await expect(items.nth(1)).to_have_attribute("aria-current", "true")
    await expect(items.nth(1).locator(".review-ack")).to_have_count(0)
    await page.keyboard.press("ArrowUp")
    await expect(items.nth(0)).to_have_attribute("aria-current", "true")
    await expect(first.locator(".review-ack")).to_be_visible()
    await page.keyboard.press("Enter")
    # Shown as read only once the store has the acknowledgement (the list read again says so).
    await expect(view.locator("li[data-call-id='R1']")).to_have_attribute(
        "data-state", "acknowledged"
    )
    await expect(button.locator(".badge")).to_have_count(0)
    stored = [
        e
        for e in await ui_server.services.store.call_events("A", "R1")
        if e.kind == Kind.FEEDBACK_ACKNOWLEDGED
    ]
    assert [(e.source, e.actor, dict(e.data)) for e in stored] == [
        ("console", ME, {"review": "R1-rev"})
    ]
    async with await ui_server.client("telecommunicator", "A") as me:
        answer = (await me.get("/api/v1/feedback")).json()
    assert [(i["call_id"], i["acknowledged"]) for i in answer] == [("R2", True), ("R1", True)]

    await page.keyboard.press("Escape")
    await expect(view).to_be_hidden()
    await expect(page.locator("#card")).to_be_visible()
    await expect(page.locator("#card-title")).to_have_text("No live call. Waiting for the CAD…")

    # Signing out with the view open leaves nobody's reviews on a shared console.
    await page.keyboard.press("f")
    await expect(items).to_have_count(2)
    await page.locator("#signout").click()
    await expect(page.locator("#signin")).to_be_visible()
    await expect(view).to_be_hidden()
    await expect(view.locator("li.review")).to_have_count(0)
    assert unexpected(console_errors) == []


async def test_another_telecommunicator_does_not_see_my_reviews(
    ui_server: Server, new_page: NewPage, console_errors: list[str]
) -> None:
    await seed_reviews(ui_server)
    page = await panel_as(ui_server, new_page, "tc-2")
    await expect(page.locator("#reviews-button")).to_have_text("My reviews")  # no badge
    await page.keyboard.press("f")
    view = page.locator("#reviews")
    await expect(view).to_be_visible()
    await expect(view.locator("#reviews-status")).to_have_text("No reviewed calls of yours yet.")
    await expect(view.locator("li.review")).to_have_count(0)
    await page.keyboard.press("l")  # the panel's language switch works in the view too
    await expect(view.locator("#reviews-status")).to_have_text(
        "Todavía no hay llamadas suyas revisadas."
    )
    await expect(page.locator("#reviews-button")).to_have_text("Mis revisiones")
    await page.keyboard.press("Enter")  # nothing to acknowledge: nothing is posted
    acks = [
        e
        for call_id in ("R1", "R2")
        for e in await ui_server.services.store.call_events("A", call_id)
        if e.kind == Kind.FEEDBACK_ACKNOWLEDGED and e.actor == "tc-2"
    ]
    assert acks == []
    assert console_errors == []


async def test_the_view_never_stands_over_a_call_that_needs_me(
    ui_server: Server, new_page: NewPage, console_errors: list[str]
) -> None:
    await seed_reviews(ui_server)
    await post_calls(ui_server, call("L1", 10, ME))  # my live call
    page = await open_panel(ui_server, new_page)
    view = page.locator("#reviews")
    await expect(page.locator("#card")).to_have_attribute("data-phase", "ask_conscious")
    await page.keyboard.press("f")  # refused, saying why
    await expect(page.locator("#card-hint")).to_have_text(
        "My reviews open between calls: L1 needs you now."
    )
    await expect(view).to_be_hidden()
    await page.locator("#reviews-button").click()  # the button is refused alike
    await expect(view).to_be_hidden()
    await expect(page.locator("#card")).to_be_visible()

    # Once my call has ended, a colleague's call going well does not keep me from my reviews.
    async with await ui_server.client("adapter", "A") as adapter:
        ended = {"event_id": "L1-e", "call_id": "L1", "agency": "A", "kind": "call.ended",
                 "at": datetime.now(UTC).isoformat()}  # fmt: skip
        assert (await adapter.post("/api/v1/events", json=ended)).status_code == 200
    await post_calls(ui_server, call("O1", 5, "tc-colleague"))
    await expect(page.locator("#calls li[data-call-id='O1']")).to_be_visible()
    await page.keyboard.press("f")
    await expect(view).to_be_visible()
    await expect(page.locator("#card")).to_be_hidden()
    await page.keyboard.press("n")  # a call key does nothing to the call out of sight
    await page.keyboard.press("a")
    await expect(view.locator("li.review")).to_have_count(2)
    stored = await ui_server.services.store.call_events("A", "O1")
    assert [e.kind for e in stored if e.source == "console"] == []

    # A call of mine comes in: the view yields at once and the card is that call.
    await post_calls(ui_server, call("L2", 2, ME))
    await expect(view).to_be_hidden()
    await expect(page.locator("#card")).to_be_visible()
    await expect(page.locator("#call-id")).to_have_text("L2")
    await expect(page.locator("#card-hint")).to_have_text("My reviews closed: L2 needs you.")
    await page.keyboard.press("f")
    await expect(view).to_be_hidden()
    assert console_errors == []
