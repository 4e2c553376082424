"""Shutting the engine down while a statement is still running on SQLite's connection thread:
`dispose` returns only once that thread has finished, so it never answers a closed event loop."""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path

from sqlalchemy import text

from service.store.db import create_engine, dispose

# About a second of work inside SQLite itself, where cancelling the awaiting task cannot stop it.
SLOW = text(
    "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 3000000) "
    "SELECT count(*) FROM n"
)


def connection_threads() -> set[threading.Thread]:
    return {t for t in threading.enumerate() if "_connection_worker_thread" in t.name}


async def test_dispose_waits_for_a_cancelled_statement(tmp_path: Path) -> None:
    before = connection_threads()
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'shutdown.db'}")

    async def slow() -> None:
        async with engine.connect() as conn:
            await conn.execute(SLOW)

    task = asyncio.create_task(slow())
    for _ in range(500):  # until the statement is running on its thread
        if connection_threads() - before:
            break
        await asyncio.sleep(0.01)
    await asyncio.sleep(0.1)
    started = connection_threads() - before
    assert started, "the statement never reached a connection thread"
    # Cancelled twice, as a shutdown that gives up on a graceful close does: the pool then only
    # tells the connection to stop, and its thread goes on with the statement.
    task.cancel()
    await asyncio.sleep(0.05)
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    assert [t for t in started if t.is_alive()], "the statement ended before the test could look"

    await dispose(engine)

    outlived = [t for t in started if t.is_alive()]
    for thread in outlived:  # so that a failure here is reported, not left to the next test
        await asyncio.to_thread(thread.join, 30)
    assert not outlived, "a connection thread outlived dispose"


async def test_dispose_of_an_idle_engine_closes_its_threads(tmp_path: Path) -> None:
    before = connection_threads()
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'idle.db'}")
    async with engine.connect() as conn:
        assert (await conn.execute(text("SELECT 1"))).scalar() == 1
    started = connection_threads() - before
    assert started

    await asyncio.wait_for(dispose(engine), 5)

    assert not [t for t in started if t.is_alive()]
