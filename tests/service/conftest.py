"""Fixtures for the service tests; the helpers they use live in tests/support/harness.py."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
from support.databases import drop_postgres_database, fresh_postgres_database, require_postgres
from support.harness import Server, service_settings, start_server


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Any) -> Iterator[str]:
    """A fresh, empty database: every test that uses it runs once on SQLite, once on PostgreSQL."""
    if request.param == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'tcpr.db'}"
        return
    require_postgres()
    url, name = fresh_postgres_database()
    try:
        yield url
    finally:
        drop_postgres_database(name)


@pytest.fixture
def sqlite_url(tmp_path: Any) -> str:
    return f"sqlite+aiosqlite:///{tmp_path / 'tcpr.db'}"


@pytest.fixture
async def server(database_url: str) -> AsyncIterator[Server]:
    running = await start_server(service_settings(database_url))
    try:
        yield running
    finally:
        await running.stop()
