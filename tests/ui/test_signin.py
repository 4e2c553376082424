"""Browser sign-in with session cookies in a real Chromium: once signed in, no token is left where
a script could read it (storage, the address, the form, the cookie jar's script view), sign out
ends the session on the service, and a page whose session ended asks to sign in again."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import pytest
from playwright.async_api import Page, expect
from signin import unexpected
from support.harness import Server

NewPage = Callable[..., Awaitable[Page]]

# Everything a page's scripts can read that once could have held the token.
READABLE = """() => ({
    storage: [sessionStorage, localStorage].flatMap((s) =>
        Object.keys(s).flatMap((k) => [k, s.getItem(k)])).join("\\n"),
    cookie: document.cookie,
    address: location.href,
    input: document.querySelector("#token").value,
})"""

SESSION_STATUS = "() => fetch('/api/v1/session').then((r) => r.status)"


async def assert_no_token_readable(page: Page, token: str) -> None:
    readable = await page.evaluate(READABLE)
    assert all(token not in value for value in readable.values()), readable
    assert "tcpr_session" not in readable["cookie"]  # HttpOnly: scripts never see it
    assert readable["storage"] == "" or "token" not in readable["storage"]
    cookies = await page.context.cookies()
    session = [c for c in cookies if c["name"] == "tcpr_session"]
    assert len(session) == 1 and session[0]["httpOnly"] and session[0]["sameSite"] == "Strict"


@pytest.mark.parametrize(
    ("path", "role", "ready"),
    [
        ("index.html", "supervisor", "#status.live"),
        ("panel.html", "telecommunicator", "#status.live"),
        ("qi.html", "qi", "#layout"),
        ("measures.html", "qi", "#report"),
    ],
)
async def test_a_link_token_becomes_a_session_and_is_forgotten(
    ui_server: Server,
    new_page: NewPage,
    console_errors: list[str],
    path: str,
    role: str,
    ready: str,
) -> None:
    token = await ui_server.token(role, "A")
    page = await new_page()
    await page.goto(f"{ui_server.url}/ui/{path}#token={token}")
    await expect(page.locator(ready)).to_be_visible()
    await expect(page.locator("#signout")).to_be_visible()
    await assert_no_token_readable(page, token)
    # A reload (no link token now) goes on with the same session.
    await page.reload()
    await expect(page.locator(ready)).to_be_visible()
    assert console_errors == []


async def test_typed_token_then_sign_out_ends_the_session(
    ui_server: Server, new_page: NewPage, console_errors: list[str]
) -> None:
    token = await ui_server.token("supervisor", "A")
    page = await new_page()
    await page.goto(f"{ui_server.url}/ui/index.html")
    await expect(page.locator("#signin")).to_be_visible()
    await page.fill("#token", token)
    await page.click("#signin button")
    await expect(page.locator("#status")).to_have_class("status live")
    await assert_no_token_readable(page, token)
    assert await page.evaluate(SESSION_STATUS) == 200

    await page.click("#signout")
    await expect(page.locator("#signin")).to_be_visible()
    await expect(page.locator("#signin-reason")).to_have_text("Signed out.")
    await expect(page.locator("#signout")).to_be_hidden()
    assert await page.evaluate(SESSION_STATUS) == 401  # ended on the service, not only here
    assert [c["name"] for c in await page.context.cookies()] == []
    assert unexpected(console_errors) == []


async def test_an_ended_session_returns_to_the_sign_in_form(
    ui_server: Server, new_page: NewPage, console_errors: list[str]
) -> None:
    token = await ui_server.token("qi", "A")
    page = await new_page()
    await page.goto(f"{ui_server.url}/ui/qi.html#token={token}")
    await expect(page.locator("#layout")).to_be_visible()
    # The list and its outstanding debriefs loaded: no request of the page's own is in flight to
    # meet the ended session before the click does.
    await page.wait_for_load_state("networkidle")
    # The session ends behind the page's back (signed out in another tab of this browser).
    ended = await page.evaluate(
        "() => fetch('/api/v1/session', {method: 'DELETE'}).then((r) => r.status)"
    )
    assert ended == 204
    await page.click("#f-apply")
    await expect(page.locator("#signin")).to_be_visible()
    await expect(page.locator("#signin-error")).to_contain_text("session has ended")
    await expect(page.locator("#layout")).to_be_hidden()
    await page.fill("#token", token)
    await page.click("#signin button")
    await expect(page.locator("#layout")).to_be_visible()
    assert [e for e in unexpected(console_errors) if "status of 401" not in e] == []
