"""Test databases: SQLite files and PostgreSQL databases, each test its own.

Migrating is most of what a fresh database costs, so each test process migrates a template once
(the real Alembic migrations, as `migrate_on_start` runs them): a server starting on a SQLite
file that does not exist yet gets a copy of the SQLite one, and a test asking for a migrated
PostgreSQL database gets `CREATE DATABASE ... TEMPLATE` of the PostgreSQL one. Dropping a PostgreSQL
database waits on a checkpoint; the drops run on a thread beside the tests, all done before the
session ends.

PostgreSQL tests run wherever `TCPR_TEST_POSTGRES_URL` (default: this machine's 127.0.0.1:5432,
database `test`) answers. When it does not, they skip with the reason, except under CI (`CI` set),
where a missing PostgreSQL fails the run instead of passing it silently.
"""

from __future__ import annotations

import asyncio
import atexit
import os
import queue
import shutil
import tempfile
import threading
import uuid
from collections.abc import Coroutine
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

import asyncpg
import pytest

from service.store.db import is_sqlite, migrate
from service.triage.profiles import AgencyConfig

T = TypeVar("T")
POSTGRES_URL = os.environ.get(
    "TCPR_TEST_POSTGRES_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
)


def _dsn(url: str) -> str:
    return url.replace("postgresql+asyncpg://", "postgresql://")


def _postgres_reason() -> str | None:
    async def probe() -> None:
        conn = await asyncpg.connect(_dsn(POSTGRES_URL), timeout=3)
        await conn.close()

    try:
        asyncio.run(probe())
    except Exception as exc:
        return f"PostgreSQL at {POSTGRES_URL} unreachable ({exc.__class__.__name__}: {exc})"
    return None


_PG_REASON: list[str | None] = []


def require_postgres() -> None:
    if not _PG_REASON:
        _PG_REASON.append(_postgres_reason())
    reason = _PG_REASON[0]
    if reason is not None:
        if os.environ.get("CI"):
            pytest.fail(f"{reason}; CI must run the PostgreSQL tests", pytrace=False)
        pytest.skip(f"{reason}; set TCPR_TEST_POSTGRES_URL to run these")


async def _admin(sql: str) -> None:
    conn = await asyncpg.connect(_dsn(POSTGRES_URL))
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


def fresh_postgres_database(*, migrated: bool = False) -> tuple[str, str]:
    """A new PostgreSQL database, empty or `migrated` (a copy of this process's migrated
    template): its URL and its name."""
    name = f"tcpr_test_{uuid.uuid4().hex[:12]}"
    template = f' TEMPLATE "{_postgres_template()}"' if migrated else ""
    _in_thread(_admin(f'CREATE DATABASE "{name}"{template}'))
    return _postgres_url(name), name


def _postgres_url(name: str) -> str:
    base, _, _ = POSTGRES_URL.rpartition("/")
    return f"{base}/{name}"


def _in_thread(work: Coroutine[Any, Any, T]) -> T:
    """Run a coroutine to its end on a thread of its own (a test's event loop may be running)."""
    with ThreadPoolExecutor(1) as thread:
        return thread.submit(asyncio.run, work).result()


_PG_TEMPLATE: list[str] = []


def _postgres_template() -> str:
    """This process's migrated PostgreSQL database, made on first use, dropped at the end."""
    if not _PG_TEMPLATE:
        name = f"tcpr_template_{uuid.uuid4().hex[:12]}"
        _in_thread(_admin(f'CREATE DATABASE "{name}"'))
        with ThreadPoolExecutor(1) as thread:
            url = _postgres_url(name)
            thread.submit(migrate, url, "head", None, lambda _: AgencyConfig()).result()
        _PG_TEMPLATE.append(name)
    return _PG_TEMPLATE[0]


class _Dropper:
    """Drops databases on a thread of its own, so no test waits for a drop's checkpoint."""

    def __init__(self) -> None:
        self._names: queue.Queue[str | None] = queue.Queue()
        self._thread: threading.Thread | None = None

    def drop(self, name: str) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="drop-databases", daemon=True)
            self._thread.start()
            atexit.register(self.finish)
        self._names.put(name)

    def finish(self) -> None:
        """Wait for every drop asked for so far."""
        if self._thread is not None:
            self._names.put(None)
            self._thread.join()
            self._thread = None

    def _run(self) -> None:
        while (name := self._names.get()) is not None:
            asyncio.run(_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


_DROPPER = _Dropper()


def drop_postgres_database(name: str) -> None:
    """Drop the database soon (its connections closed by force); `finish_drops` waits."""
    _DROPPER.drop(name)


def finish_drops() -> None:
    if _PG_TEMPLATE:
        _DROPPER.drop(_PG_TEMPLATE.pop())
    _DROPPER.finish()


_TEMPLATE: list[Path] = []


def _sqlite_template() -> Path:
    """This process's migrated SQLite database, made on first use."""
    if not _TEMPLATE:
        folder = Path(tempfile.mkdtemp(prefix="tcpr-template-"))
        atexit.register(shutil.rmtree, folder, True)
        path = folder / "template.db"
        url = f"sqlite+aiosqlite:///{path}"
        with ThreadPoolExecutor(1) as thread:  # Alembic runs an event loop of its own
            thread.submit(migrate, url, "head", None, lambda _: AgencyConfig()).result()
        _TEMPLATE.append(path)
    return _TEMPLATE[0]


def sqlite_path(url: str) -> Path | None:
    """The file of a SQLite URL (None for PostgreSQL or an in-memory SQLite)."""
    if not is_sqlite(url):
        return None
    _, _, path = url.partition(":///")
    return Path(path) if path and not path.startswith(":memory:") else None


def migrated_if_new(url: str) -> None:
    """A SQLite database that does not exist yet becomes a copy of the migrated template: what
    the server's own migration on start would make of it, without running it again."""
    path = sqlite_path(url)
    if path is not None and not path.exists() and path.parent.is_dir():
        template = _sqlite_template()
        for suffix in ("", "-wal"):  # a WAL not yet folded back into the file goes along
            if Path(f"{template}{suffix}").exists():
                shutil.copyfile(f"{template}{suffix}", f"{path}{suffix}")
