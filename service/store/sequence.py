"""The log's sequence numbers, handed out in commit order: appends take one lock (in-process,
plus a transaction-scoped advisory lock on PostgreSQL), so no event becomes visible behind a
sequence a reader has already passed."""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.orm import Session

# Any constant works; it only has to be the same for every replica.
_APPEND_LOCK_KEY = 0x7C9A_0911
# The next sequences of the events' serial column (PostgreSQL).
NEXT_PG_SEQS = text(
    "SELECT nextval(pg_get_serial_sequence('events', 'seq')) FROM generate_series(1, :n)"
)
# The highest sequence SQLite's AUTOINCREMENT has handed out (`sqlite_sequence`), or stored.
LAST_SQLITE_SEQ = text(
    "SELECT max(coalesce((SELECT seq FROM sqlite_sequence WHERE name = 'events'), 0),"
    " coalesce((SELECT max(seq) FROM events), 0))"
)


def lock_appends(session: Session, *, postgres: bool) -> None:
    """Take the append lock for this transaction, before its first read."""
    if postgres:
        # Commit order = sequence order across every replica sharing the database.
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _APPEND_LOCK_KEY})
    else:
        # Take SQLite's write lock before the first read: a WAL reader whose snapshot
        # another process has moved past cannot upgrade to a writer (it fails at once,
        # whatever the busy timeout), and this transaction reads before it writes.
        session.execute(text("BEGIN IMMEDIATE"))


def allocate(session: Session, n: int, *, postgres: bool) -> list[int]:
    """The next `n` sequence numbers, before the insert, so each row's chain link (which
    covers its seq) goes in with it: no second write of the rows. The transaction holds
    the append lock, so the numbers are in commit order."""
    if postgres:
        return sorted(session.scalars(NEXT_PG_SEQS, {"n": n}))
    # SQLAlchemy cannot pair RETURNING rows with parameters in one multi-row INSERT on
    # SQLite, so the rows are numbered here as AUTOINCREMENT would (one past the highest
    # sequence ever used) and inserted with a single executemany.
    last = int(session.scalar(LAST_SQLITE_SEQ) or 0)
    return list(range(last + 1, last + 1 + n))
