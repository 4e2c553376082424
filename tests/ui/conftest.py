"""Fixtures for the real-browser UI tests: Debian's chromium driven by Playwright, and the
service on SQLite on a loopback port.

The browser is never downloaded (`playwright install` is not used): Playwright launches the
system chromium by `executable_path` (`/usr/bin/chromium`, or `TCPR_CHROMIUM`). Without it the
UI tests skip with the reason, except under CI (`CI` set), where they fail instead; `make test`
installs chromium with apt when it runs as root.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import pytest
import pytest_asyncio
from playwright.async_api import Browser, BrowserContext, ConsoleMessage, Page, async_playwright
from support.harness import Server, service_settings, start_server
from support.paths import REPO

SCREENSHOTS = REPO / "docs" / "screenshots"

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    # The metronome and alert sounds start from a key press in real use; tests press keys too,
    # but some start audio from the page before the first one.
    "--autoplay-policy=no-user-gesture-required",
]

NewPage = Callable[..., Awaitable[Page]]

# Run before any page script: every content security policy violation of the page is kept in
# `window.tcprCspViolations` for the tests to read (Chromium also logs each as a console error).
RECORD_CSP_VIOLATIONS = """
window.tcprCspViolations = [];
document.addEventListener("securitypolicyviolation", (e) => {
  window.tcprCspViolations.push({
    directive: e.effectiveDirective, blocked: e.blockedURI, sample: e.sample,
    where: `${e.sourceFile}:${e.lineNumber}`,
  });
});
"""


@pytest.fixture(scope="session")
def chromium_path() -> str:
    """The system chromium to drive; skips (fails under CI) when it is not installed."""
    path = os.environ.get("TCPR_CHROMIUM", "/usr/bin/chromium")
    resolved = path if os.path.isfile(path) and os.access(path, os.X_OK) else shutil.which(path)
    if resolved is None:
        reason = (
            f"chromium not found at {path} (set TCPR_CHROMIUM, or `apt-get install chromium`;"
            " `make test` installs it when run as root)"
        )
        if os.environ.get("CI"):
            pytest.fail(f"{reason}; CI must run the UI tests", pytrace=False)
        pytest.skip(reason)
    return resolved


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite+aiosqlite:///{tmp_path / 'tcpr.db'}"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Every UI test runs on the session's event loop, the one its one browser lives on."""
    here = Path(__file__).parent
    for item in items:
        if here in item.path.parents and isinstance(item, pytest.Function):
            item.add_marker(pytest.mark.asyncio(loop_scope="session"), append=False)


@pytest_asyncio.fixture(loop_scope="session")
async def ui_server(sqlite_url: str) -> AsyncIterator[Server]:
    """The service on a fresh SQLite database, serving the UI under /ui/."""
    running = await start_server(service_settings(sqlite_url))
    try:
        yield running
    finally:
        await running.stop()


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def browser(chromium_path: str) -> AsyncIterator[Browser]:
    """Chromium launched headless with a fresh (temporary) profile, once for the session: each
    test's pages open in browser contexts of their own (no cookie, storage or cache shared)."""
    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(
            executable_path=chromium_path, headless=True, args=CHROMIUM_ARGS
        )
        try:
            yield launched
        finally:
            await launched.close()


@pytest.fixture
def console_errors() -> list[str]:
    """Console errors and uncaught page errors of every page that `new_page` opened."""
    return []


@pytest_asyncio.fixture(loop_scope="session")
async def new_page(browser: Browser, console_errors: list[str]) -> AsyncIterator[NewPage]:
    """A factory: `await new_page(viewport=(1280, 720))` gives a page in a fresh context.

    Every page's console errors and uncaught exceptions are appended to `console_errors`, and
    its content security policy violations are kept in `window.tcprCspViolations`.
    """
    contexts: list[BrowserContext] = []

    def on_console(msg: ConsoleMessage) -> None:
        if msg.type == "error":
            console_errors.append(f"console: {msg.text} ({msg.location})")

    def on_pageerror(exc: Exception) -> None:
        console_errors.append(f"pageerror: {exc}")

    async def factory(viewport: tuple[int, int] = (1280, 720)) -> Page:
        width, height = viewport
        context = await browser.new_context(viewport={"width": width, "height": height})
        contexts.append(context)
        await context.add_init_script(script=RECORD_CSP_VIOLATIONS)
        page = await context.new_page()
        page.on("console", on_console)
        page.on("pageerror", on_pageerror)
        return page

    try:
        yield factory
    finally:
        for context in contexts:
            await context.close()


async def screenshot(page: Page, name: str) -> Path:
    """Save a PNG of the page as docs/screenshots/<name>.png (for the README)."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    await page.screenshot(path=str(path))
    return path


@pytest.fixture(name="screenshot")
def screenshot_fixture() -> Callable[[Page, str], Awaitable[Path]]:
    """`await screenshot(page, name)`: the helper above, as a fixture for the tests."""
    return screenshot
