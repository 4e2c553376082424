"""Session-wide fixtures for every test folder (the shared helpers are in tests/support)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from support.databases import finish_drops

# The golden timeline builders (tl, timeline, pop_call) for every folder that tests the core.
pytest_plugins = ["support.timelines"]


@pytest.fixture(scope="session", autouse=True)
def _databases_dropped() -> Iterator[None]:
    """The PostgreSQL databases the tests made are all dropped before the session ends."""
    yield
    finish_drops()
