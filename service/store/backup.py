"""Copies of a SQLite database file that stay consistent while the service writes to it.

A file copy of a WAL database taken under load can tear: the main file and its `-wal` are read
at different moments. SQLite's online backup API copies every page inside one read transaction,
so the copy is the database as of one commit; in WAL mode that transaction blocks no writer.
Restoring goes through the same API into the target, never a file copied over one whose `-wal`
may still hold pages. PostgreSQL has its own tools (`pg_dump`, `pg_restore`: docs/operations.md).
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
from pathlib import Path

from sqlalchemy import make_url

from service.store.db import is_sqlite


def sqlite_file(url: str) -> Path | None:
    """The database file a SQLite URL names; None for PostgreSQL or an in-memory database."""
    if not is_sqlite(url):
        return None
    database = make_url(url).database
    if database in (None, "", ":memory:") or database.startswith("file:"):
        return None
    return Path(database)


def copy(source: Path, target: Path) -> None:
    """Copy `source` into `target` page by page in one read transaction of the source (a
    writer on it is not blocked, and what it commits meanwhile is not in the copy). `target` is
    replaced whole, inside a transaction of its own: a failure leaves it as it was."""
    with contextlib.closing(_connect(source)) as src, contextlib.closing(_connect(target)) as dst:
        # pages=-1: every page in one step. Steps of a few pages would let a write to the
        # source in between restart the copy, and a busy service might never let it finish.
        src.backup(dst, pages=-1)


def stage(source: Path, target: Path) -> Path:
    """A consistent copy of `source` written beside `target` under a temporary name (same
    directory, so `settle` is a rename): check it, then `settle` it or `discard` it."""
    partial = target.with_name(f".{target.name}.partial-{os.getpid()}")
    discard(partial)
    try:
        copy(source, partial)
    except BaseException:
        discard(partial)
        raise
    return partial


def settle(partial: Path, target: Path) -> None:
    """Put a staged copy in place: one file on disk, then renamed over `target`, so `target`
    is the old file or the whole new one, never half of it, even if the power fails."""
    # A backup is one file: no `-wal` to carry beside it.
    with contextlib.closing(_connect(partial)) as connection:
        connection.execute("PRAGMA journal_mode=DELETE")
    _fsync(partial)
    # Nothing may apply a `-wal` left beside `target` by a crash to the file that replaces it.
    for leftover in (Path(f"{target}-wal"), Path(f"{target}-shm"), Path(f"{target}-journal")):
        leftover.unlink(missing_ok=True)
    os.replace(partial, target)
    _fsync(target.parent)


def discard(partial: Path) -> None:
    for leftover in (partial, *(Path(f"{partial}{end}") for end in ("-journal", "-wal", "-shm"))):
        leftover.unlink(missing_ok=True)


def in_use(path: Path) -> bool:
    """Whether another connection (a running service, a `tcpr` command) has the database open.

    Asks SQLite for an exclusive lock without waiting: in WAL mode every open connection holds a
    shared lock for as long as it is open, idle or not, so a service that is up always holds it.
    """
    probe = sqlite3.connect(path, timeout=0, isolation_level=None)
    try:
        probe.execute("PRAGMA locking_mode=EXCLUSIVE")
        probe.execute("BEGIN EXCLUSIVE")
        probe.execute("SELECT count(*) FROM sqlite_master").fetchone()
        probe.execute("ROLLBACK")
        return False
    except sqlite3.OperationalError:
        return True
    finally:
        probe.close()


def integrity(path: Path) -> str | None:
    """What SQLite's own page and index check finds wrong with the file, or None."""
    try:
        with contextlib.closing(_connect(path)) as connection:
            rows = [row[0] for row in connection.execute("PRAGMA quick_check")]
    except sqlite3.DatabaseError as exc:
        return str(exc)
    return None if rows == ["ok"] else "; ".join(rows[:5])


def revision(path: Path) -> str | None:
    """The schema revision (Alembic's) the database is at; None if it has none."""
    with contextlib.closing(_connect(path)) as connection:
        try:
            row = connection.execute("SELECT version_num FROM alembic_version").fetchone()
        except sqlite3.OperationalError:
            return None
    return str(row[0]) if row else None


def rows(path: Path) -> dict[str, int]:
    """How many rows each table holds (schema bookkeeping aside): what overwriting it loses."""
    with contextlib.closing(_connect(path)) as connection:
        names = [
            name
            for (name,) in connection.execute("SELECT name FROM sqlite_master WHERE type='table'")
            if not name.startswith("sqlite_") and name != "alembic_version"
        ]
        counts = {n: connection.execute(f'SELECT count(*) FROM "{n}"').fetchone()[0] for n in names}
    return {name: int(count) for name, count in counts.items() if count}


def _connect(path: Path) -> sqlite3.Connection:
    return sqlite3.connect(path, timeout=30)


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
