"""Fixtures for the service tests; the helpers they use live in tests/support/harness.py."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
from support.databases import drop_postgres_database, fresh_postgres_database, require_postgres
from support.harness import FakeClock, Server, service_settings, start_server


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database(request: pytest.FixtureRequest) -> str:
    """Which database: every test that uses one runs once on SQLite, once on PostgreSQL."""
    return str(request.param)


def _database_url(database: str, tmp_path: Any, *, migrated: bool) -> Iterator[str]:
    if database == "sqlite":
        # A file not made yet: a server starting on it begins from the migrated template.
        yield f"sqlite+aiosqlite:///{tmp_path / 'tcpr.db'}"
        return
    require_postgres()
    url, name = fresh_postgres_database(migrated=migrated)
    try:
        yield url
    finally:
        drop_postgres_database(name)


@pytest.fixture
def database_url(database: str, tmp_path: Any) -> Iterator[str]:
    """A fresh, empty database (migrations tests start from nothing)."""
    yield from _database_url(database, tmp_path, migrated=False)


@pytest.fixture
def migrated_database_url(database: str, tmp_path: Any) -> Iterator[str]:
    """A fresh database already at the newest migration, as a server leaves it on start."""
    yield from _database_url(database, tmp_path, migrated=True)


@pytest.fixture
def sqlite_url(tmp_path: Any) -> str:
    return f"sqlite+aiosqlite:///{tmp_path / 'tcpr.db'}"


@pytest.fixture
async def server(migrated_database_url: str) -> AsyncIterator[Server]:
    running = await start_server(service_settings(migrated_database_url))
    try:
        yield running
    finally:
        await running.stop()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
async def timed(migrated_database_url: str, clock: FakeClock) -> AsyncIterator[Server]:
    """A server whose live view, alert timers, hub and feed watch read `clock`."""
    running = await start_server(service_settings(migrated_database_url), clock=clock)
    try:
        yield running
    finally:
        await running.stop()
