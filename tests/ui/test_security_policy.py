"""Every page of the UI under the service's real content security policy, in a real Chromium:
signed in, with calls to draw (cards, clocks, the metronome, charts, audits), and not one
`securitypolicyviolation` event. A last, deliberate violation on each page proves the policy is
in force and the listener hears it, and (violations arriving in order) that none came before."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from calls import call, post_calls
from playwright.async_api import Page, expect
from support.harness import Server

NewPage = Callable[..., Awaitable[Page]]
SENTINEL = "https://csp-sentinel.invalid/pixel.png"

# (page, role signed in, what shows once the page has drawn its data)
PAGES = [
    ("panel.html", "telecommunicator", "#steps li.current"),
    ("index.html", "supervisor", "#board tbody tr"),
    ("qi.html?agency=A&call=S1", "qi", "#review"),
    ("qi-print.html?agency=A", "qi", "body[data-ready='true'] .audit-page"),
    ("measures.html", "qi", "#charts svg >> nth=4"),
]


async def seed(server: Server) -> None:
    """A live call being coached (steps, metronome) and an ended one with an EMS outcome."""
    await post_calls(
        server,
        call(
            "S1", 60, "test-telecommunicator", ("ohca.recognized", 20, {}), ("tcpr.started", 30, {})
        ),
        call(
            "S2",
            900,
            "tc-2",
            ("ohca.recognized", 40, {}),
            ("tcpr.first_compression", 100, {}),
            ("call.ended", 300, {}),
            (
                "ems.outcome",
                600,
                {"ohca": True, "resuscitation_attempted": True, "ems_witnessed": False},
            ),
        ),
    )


async def violations_after_sentinel(page: Page) -> list[dict[str, Any]]:
    """The page's violations, once a deliberate one (an image from a foreign origin) has come."""
    await page.evaluate(f"() => {{ new Image().src = {SENTINEL!r}; }}")
    await page.wait_for_function(
        f"() => window.tcprCspViolations.some((v) => v.blocked === {SENTINEL!r})"
    )
    found: list[dict[str, Any]] = await page.evaluate("() => window.tcprCspViolations")
    return found


@pytest.mark.parametrize(("path", "role", "ready"), PAGES)
async def test_pages_draw_everything_without_a_policy_violation(
    ui_server: Server,
    new_page: NewPage,
    console_errors: list[str],
    path: str,
    role: str,
    ready: str,
) -> None:
    await seed(ui_server)
    token = await ui_server.token(role, "A")
    page = await new_page(viewport=(1440, 900))
    response = await page.goto(f"{ui_server.url}/ui/{path}#token={token}")
    assert response is not None
    assert "script-src 'self'" in response.headers["content-security-policy"]
    await expect(page.locator(ready).first).to_be_visible()
    found = await violations_after_sentinel(page)
    assert [v for v in found if v["blocked"] != SENTINEL] == []
    assert [v["directive"] for v in found] == ["img-src"]
    assert [e for e in console_errors if "csp-sentinel" not in e] == []


async def test_inline_styles_and_scripts_are_refused(ui_server: Server, new_page: NewPage) -> None:
    """What the UI must never do is refused: a style attribute, an inline script."""
    page = await new_page()
    await page.goto(f"{ui_server.url}/ui/index.html")
    injected = await page.evaluate(
        """() => {
            document.body.setAttribute("style", "background: red");
            const script = document.createElement("script");
            script.textContent = "window.tcprInjected = true";
            document.head.append(script);
            return window.tcprInjected === true;
        }"""
    )
    assert injected is False
    await page.wait_for_function("() => window.tcprCspViolations.length === 2")
    directives = await page.evaluate("() => window.tcprCspViolations.map((v) => v.directive)")
    assert set(directives) == {"style-src-attr", "script-src-elem"}
