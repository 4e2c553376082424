"""/docs on an isolated network: Swagger UI renders the API in a real Chromium with every request
it makes going to the service itself, under the page's content security policy.

A PSAP network usually has no internet. Any request to another origin is recorded and refused
here (the test would pass on a machine with internet only if the page never asked for one)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from urllib.parse import urlsplit

from playwright.async_api import Page, Route, expect
from support.harness import Server

NewPage = Callable[..., Awaitable[Page]]


async def test_docs_render_with_no_request_leaving_the_machine(
    ui_server: Server, new_page: NewPage, console_errors: list[str]
) -> None:
    page = await new_page(viewport=(1280, 900))
    own = urlsplit(ui_server.url).netloc
    requested: list[str] = []
    foreign: list[str] = []

    async def guard(route: Route) -> None:
        url = route.request.url
        requested.append(url)
        if url.startswith("data:") or urlsplit(url).netloc == own:
            await route.continue_()
        else:
            foreign.append(url)
            await route.abort()

    await page.context.route("**/*", guard)
    response = await page.goto(f"{ui_server.url}/docs")
    assert response is not None and response.ok
    policy = response.headers["content-security-policy"]
    assert "script-src 'self' 'sha256-" in policy
    assert "https:" not in policy and "unsafe" not in policy

    # Swagger UI drew the API from /openapi.json: its title and an operation of ours.
    await expect(page.locator(".swagger-ui .info .title")).to_contain_text("tcpr-assist")
    events = page.locator(".opblock-summary-path", has_text="/api/v1/events").first
    await expect(events).to_be_visible()
    # Its stylesheet applied (an unstyled page would leave the operation blocks borderless).
    border = await page.locator(".opblock").first.evaluate(
        "(e) => getComputedStyle(e).borderTopStyle"
    )
    assert border == "solid"

    assert foreign == [], f"/docs asked for other origins: {foreign}"
    assert any(url.endswith("/docs/assets/swagger-ui-bundle.js") for url in requested)
    assert any(url.endswith("/openapi.json") for url in requested)
    violations = await page.evaluate("() => window.tcprCspViolations")
    assert violations == []
    assert console_errors == []
