"""The runner's local durable spool: what was read from the CAD stays here until the service has
acknowledged it, so a crash of the adapter, the service or the network between them loses nothing.

One SQLite file (WAL, `synchronous=FULL`: a `put` has reached the disk when it returns) holds:
- `entries`: what waits for delivery, oldest first. An entry is the events of one source record,
  one EIDO document, or one bad record for the service's reject store.
- `marks`: how far each source file has been read (and a hash of the bytes read, to tell the same
  file grown from another one under the same name), committed in the same transaction as the
  entries read up to there, so a restart resumes exactly after the last spooled record.

Beside it, the dead-letter file (JSON lines, appended and fsynced) keeps what could not go to the
service's reject store: records the service refused for good, and bad records noted while the
service was unreachable (they stay spooled too, and still reach the reject store later).
"""

from __future__ import annotations

import json
import os
import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final, Literal

EntryKind = Literal["events", "eido", "reject"]

SCHEMA: Final = """
CREATE TABLE IF NOT EXISTS entries (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    kind TEXT NOT NULL,
    body TEXT NOT NULL,
    origin TEXT NOT NULL,
    position TEXT NOT NULL,
    added REAL NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    noted INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS marks (
    source TEXT PRIMARY KEY,
    position INTEGER NOT NULL,
    digest TEXT NOT NULL
);
"""


@dataclass(frozen=True)
class Entry:
    """Something read from a source, waiting for the service. `body` is JSON: a list of canonical
    events, an EIDO document, or a reject (`raw`, `reason`, `field`)."""

    kind: EntryKind
    body: Any
    origin: str  # the source: a file path, a connection, a websocket URL
    position: str  # where in it: "line 12 (byte 3480)", "transaction 8f3c..."


@dataclass(frozen=True)
class Spooled:
    seq: int
    entry: Entry
    attempts: int
    noted: bool


class Spool:
    def __init__(self, path: Path, dead_letter: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        dead_letter.parent.mkdir(parents=True, exist_ok=True)
        self.path, self.dead_letter = path, dead_letter
        self._db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=FULL")
        self._db.executescript(SCHEMA)

    def close(self) -> None:
        self._db.close()

    def put(self, entries: list[Entry], mark: tuple[str, int, str] | None = None) -> None:
        """Store the entries (and how far their source has been read) in one durable commit."""
        now = time.time()
        with self._transaction():
            self._db.executemany(
                "INSERT INTO entries (kind, body, origin, position, added) VALUES (?, ?, ?, ?, ?)",
                [
                    (e.kind, json.dumps(e.body, separators=(",", ":")), e.origin, e.position, now)
                    for e in entries
                ],
            )
            if mark is not None:
                self._db.execute(
                    "INSERT INTO marks (source, position, digest) VALUES (?, ?, ?) "
                    "ON CONFLICT (source) DO UPDATE SET "
                    "position = excluded.position, digest = excluded.digest",
                    mark,
                )

    def mark(self, source: str) -> tuple[int, str]:
        """How many bytes of `source` are already spooled (0 for a source never read), and the
        hash of those bytes."""
        row = self._db.execute(
            "SELECT position, digest FROM marks WHERE source = ?", (source,)
        ).fetchone()
        return (int(row[0]), str(row[1])) if row else (0, "")

    def forget(self, source: str) -> None:
        """Drop a finished source's mark (a directory's file once moved away)."""
        with self._transaction():
            self._db.execute("DELETE FROM marks WHERE source = ?", (source,))

    def pending(self, limit: int) -> list[Spooled]:
        rows = self._db.execute(
            "SELECT seq, kind, body, origin, position, attempts, noted FROM entries "
            "ORDER BY seq LIMIT ?",
            (limit,),
        ).fetchall()
        return [
            Spooled(seq, Entry(kind, json.loads(body), origin, position), attempts, bool(noted))
            for seq, kind, body, origin, position, attempts, noted in rows
        ]

    def depth(self) -> int:
        return int(self._db.execute("SELECT count(*) FROM entries").fetchone()[0])

    def ack(self, seqs: list[int]) -> None:
        """The service has these: they leave the spool."""
        if seqs:
            with self._transaction():
                self._db.executemany("DELETE FROM entries WHERE seq = ?", [(s,) for s in seqs])

    def attempted(self, seqs: list[int]) -> None:
        if seqs:
            with self._transaction():
                self._db.executemany(
                    "UPDATE entries SET attempts = attempts + 1 WHERE seq = ?", [(s,) for s in seqs]
                )

    def note_dead(self, spooled: Spooled, reason: str, *, keep: bool) -> None:
        """Write the entry to the dead-letter file with the reason. `keep` leaves it spooled (for
        a bad record to reach the service's reject store later) but never notes it twice."""
        if spooled.noted and keep:
            return
        self.dead_letter_line(spooled.entry, reason, spooled.entry.body)
        with self._transaction():
            if keep:
                self._db.execute("UPDATE entries SET noted = 1 WHERE seq = ?", (spooled.seq,))
            else:
                self._db.execute("DELETE FROM entries WHERE seq = ?", (spooled.seq,))

    def dead_letter_line(self, entry: Entry, reason: str, body: Any) -> None:
        """Append one line to the dead-letter file (fsynced): where, what and why."""
        line = {
            "noted_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "origin": entry.origin,
            "position": entry.position,
            "kind": entry.kind,
            "reason": reason,
            "body": body,
        }
        text = json.dumps(line, ensure_ascii=True, default=repr)  # whatever the body holds
        with self.dead_letter.open("a", encoding="utf-8") as out:
            out.write(text + "\n")
            out.flush()
            os.fsync(out.fileno())

    def dead_letters(self) -> list[dict[str, Any]]:
        if not self.dead_letter.exists():
            return []
        lines = self.dead_letter.read_text(encoding="utf-8").splitlines()
        return [json.loads(line) for line in lines if line.strip()]

    def _transaction(self) -> _Transaction:
        return _Transaction(self._db)


class _Transaction:
    def __init__(self, db: sqlite3.Connection) -> None:
        self._db = db

    def __enter__(self) -> None:
        self._db.execute("BEGIN IMMEDIATE")

    def __exit__(self, kind: object, value: object, traceback: object) -> None:
        self._db.execute("COMMIT" if kind is None else "ROLLBACK")
