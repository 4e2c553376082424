"""Engine creation and migrations. SQLite runs in WAL mode with full sync: an acknowledged
event has reached the disk."""

from __future__ import annotations

import asyncio
import logging
import os
import threading
import time
import weakref
from collections.abc import Callable
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, event, make_url
from sqlalchemy import create_engine as create_sync_engine
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine

import migrations
from service.triage.profiles import AgencyConfig


def is_sqlite(url: str) -> bool:
    return url.startswith("sqlite")


_log = logging.getLogger(__name__)

# Each aiosqlite connection runs on a thread of its own. One the pool terminated (its task was
# cancelled mid-statement, as the background loops are at shutdown) is only told to stop: its
# thread finishes the statement first and then answers the event loop, which must still be open.
_workers: weakref.WeakKeyDictionary[Engine, weakref.WeakSet[threading.Thread]] = (
    weakref.WeakKeyDictionary()
)


def create_engine(url: str) -> AsyncEngine:
    # A database error's message would otherwise quote the statement's parameters (event data,
    # bodies) into the traceback that gets logged.
    if is_sqlite(url):
        engine = create_async_engine(url, connect_args={"timeout": 30}, hide_parameters=True)
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
        workers: weakref.WeakSet[threading.Thread] = weakref.WeakSet()
        _workers[engine.sync_engine] = workers
        event.listen(engine.sync_engine, "connect", lambda conn, _record: _track(conn, workers))
        return engine
    return create_async_engine(
        url, pool_size=10, max_overflow=20, pool_pre_ping=True, hide_parameters=True
    )


def _track(dbapi_connection: Any, workers: weakref.WeakSet[threading.Thread]) -> None:
    thread = getattr(getattr(dbapi_connection, "_connection", None), "_thread", None)
    if isinstance(thread, threading.Thread):
        workers.add(thread)


async def dispose(engine: AsyncEngine, wait: float = 30.0) -> None:
    """Close the engine's connections and, for SQLite, wait until every connection thread it
    started has finished, so none answers an event loop that has closed since."""
    await engine.dispose()
    deadline = time.monotonic() + wait
    for thread in list(_workers.get(engine.sync_engine, ())):
        left = deadline - time.monotonic()
        if left > 0:
            await asyncio.to_thread(thread.join, left)
        if thread.is_alive():
            _log.warning("a database connection thread was still running at shutdown")
            return


def sqlite_writer_engine(url: str) -> Engine | None:
    """A blocking engine on the same SQLite file, with the same pragmas, for the event log's
    writer thread (each group commit is one hand-off to it, not one per statement); None for an
    in-memory database, which another engine would not share."""
    parsed = make_url(url)
    if parsed.database in (None, "", ":memory:") or parsed.database.startswith("file:"):
        return None
    # The writer thread is the only one to use its connections; disposing of them happens there
    # too, but a pool closed from elsewhere at shutdown must not be refused.
    engine = create_sync_engine(
        parsed.set(drivername="sqlite"),
        connect_args={"timeout": 30, "check_same_thread": False},
        hide_parameters=True,
        pool_size=1,
    )
    event.listen(engine, "connect", _sqlite_pragmas)
    return engine


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=FULL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def sessionmaker(engine: AsyncEngine) -> async_sessionmaker[Any]:
    return async_sessionmaker(engine, expire_on_commit=False)


def alembic_config(
    url: str,
    chain_key: bytes | None = None,
    config_for: Callable[[str], AgencyConfig] | None = None,
) -> Config:
    config = Config()
    config.set_main_option("script_location", str(Path(migrations.__file__).parent))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    if chain_key is not None:
        config.attributes["chain_key"] = chain_key
    if config_for is not None:  # each agency's configuration, for calls judged again (0004)
        config.attributes["config_for"] = config_for
    return config


def audit_key(config: Config) -> bytes | None:
    """The key a migration chains stored events with (0003): the caller's, else
    `TCPR_AUDIT_KEY` from the environment, as the service reads it."""
    if "chain_key" in config.attributes:
        return bytes(config.attributes["chain_key"])
    value = os.environ.get("TCPR_AUDIT_KEY")
    return value.encode() if value else None


def migrate(
    url: str,
    revision: str = "head",
    chain_key: bytes | None = None,
    config_for: Callable[[str], AgencyConfig] | None = None,
) -> None:
    """Bring the database to `revision`. Blocking: call it from a thread inside an event loop.
    `chain_key` is the audit key (default: `TCPR_AUDIT_KEY`), for events chained on the way;
    `config_for` each agency's configuration (default: `TCPR_AGENCIES`), for calls judged again."""
    command.upgrade(alembic_config(url, chain_key, config_for), revision)


def downgrade(url: str, revision: str = "base") -> None:
    command.downgrade(alembic_config(url), revision)
