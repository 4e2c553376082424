"""Fixtures for the adapter tests: a running service and the shared standards folder."""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).parents[1] / "service"))  # the shared service harness

from harness import Server, service_settings, start_server

SHARED = Path(__file__).resolve().parents[3] / "shared"


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
