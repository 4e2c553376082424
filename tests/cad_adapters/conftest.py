"""Fixtures for the adapter tests: a running service and the shared standards folder."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from fake_cad import Notifier
from support.harness import Server, service_settings, start_server
from support.paths import SHARED
from websockets.asyncio.server import serve


@pytest.fixture
def shared() -> Path:
    """../shared beside the checkout (CI has it); elsewhere the test skips and says why."""
    if not SHARED.is_dir():
        pytest.skip(f"the shared standards and samples are not at {SHARED}")
    return SHARED


@pytest.fixture
async def server(tmp_path: Any) -> AsyncIterator[Server]:
    """A real service on loopback over a fresh SQLite database."""
    running = await start_server(service_settings(f"sqlite+aiosqlite:///{tmp_path / 'tcpr.db'}"))
    try:
        yield running
    finally:
        await running.stop()


@pytest.fixture
async def notifier() -> AsyncIterator[Notifier]:
    """A fake CAD offering a NENA-STA-024 subscribe/notify websocket on loopback."""
    fake = Notifier()
    async with serve(fake.handler, "127.0.0.1", 0) as server:
        port = next(iter(server.sockets)).getsockname()[1]
        fake.url = f"ws://127.0.0.1:{port}/eido"
        yield fake
