"""`tcpr backup OUT` and `tcpr restore IN`: a SQLite database copied while the service runs,
checked the way `tcpr verify-audit` checks (every agency's hash chain, with `TCPR_AUDIT_KEY`),
and put back only over a database nobody is using (docs/operations.md, Backups).

PostgreSQL has its own tools, which these commands do not wrap: `pg_dump -Fc`, `pg_restore`,
then `tcpr verify-audit`. Both commands say so and stop for a PostgreSQL URL.
"""

from __future__ import annotations

import argparse
import asyncio
import sqlite3
import sys
from datetime import UTC, datetime
from pathlib import Path

from service.cli.arguments import Commands
from service.settings import Settings

POSTGRES = (
    "tcpr {command} copies SQLite databases; PostgreSQL is backed up with its own tools:\n"
    "  pg_dump -Fc -f tcpr.dump <database>\n"
    "  pg_restore --clean --if-exists -d <database> tcpr.dump\n"
    "then `tcpr verify-audit` with the same TCPR_AUDIT_KEY (docs/operations.md, Backups)."
)


def _database(args: argparse.Namespace, settings: Settings) -> Path | None:
    """The SQLite file the command works on; None (after saying why) for anything else."""
    from service.store.backup import sqlite_file

    url = args.database_url or settings.database_url
    path = sqlite_file(url)
    if path is None:
        if url.startswith("sqlite"):
            _say(f"tcpr {args.command}: {url!r} is not a database file")
        else:
            _say(POSTGRES.format(command=args.command))
    return path


def _sound(path: Path, key: bytes | None, shown: Path) -> bool:
    """Whether the copy at `path` is a sound SQLite file of ours whose chains all verify;
    prints the verdict of each agency's chain, as `tcpr verify-audit` does."""
    from service.cli.audit import chains_hold
    from service.store.backup import integrity, revision

    problem = integrity(path)
    if problem is not None:
        _say(f"{shown}: not a sound SQLite database: {problem}")
        return False
    if revision(path) is None:
        _say(f"{shown}: not a tcpr database (no schema revision)")
        return False
    return asyncio.run(chains_hold(f"sqlite+aiosqlite:///{path}", key))


def _backup(args: argparse.Namespace) -> int:
    """Copy the database while the service runs; check the copy's chains."""
    from service.store.backup import discard, revision, rows, settle, stage

    settings = Settings()
    source = _database(args, settings)
    if source is None:
        return 2
    out = Path(args.out).resolve()
    if not source.is_file():
        _say(f"tcpr backup: no database at {source}")
        return 2
    if out == source.resolve():
        _say("tcpr backup: OUT is the database itself")
        return 2
    if not out.parent.is_dir():
        _say(f"tcpr backup: no directory {out.parent}")
        return 2
    try:
        partial = stage(source, out)
    except sqlite3.Error as exc:
        _say(f"tcpr backup: cannot copy {source}: {exc}")
        return 1
    try:
        ok = _sound(partial, settings.chain_key, out)
        # Kept even when a chain fails: it is the database as it is, and the failure is the
        # live database's (or a wrong TCPR_AUDIT_KEY), which `tcpr verify-audit` shows too.
        settle(partial, out)
    finally:
        discard(partial)
    held = rows(out)
    print(
        f"backup: {out}, {held.get('events', 0)} events, schema revision {revision(out)}, "
        f"chains {'ok' if ok else 'FAILED'}"
    )
    return 0 if ok else 1


def _restore(args: argparse.Namespace) -> int:
    """Put a backup in place of the database: checked first, never under a running service,
    never over data without `--force` (and then with a copy of what it replaces kept)."""
    from service.store.backup import copy, discard, in_use, integrity, rows, settle, stage

    settings = Settings()
    target = _database(args, settings)
    if target is None:
        return 2
    source = Path(args.backup).resolve()
    if not source.is_file():
        _say(f"tcpr restore: no backup at {source}")
        return 2
    if not target.parent.is_dir():
        _say(f"tcpr restore: no directory {target.parent}")
        return 2
    exists = target.is_file()
    if exists and in_use(target):
        _say(
            f"tcpr restore: {target} is open in another process (a running service?): stop "
            "every replica using it first; --force does not override this"
        )
        return 1
    if exists and (held := rows(target)) and not args.force:
        _say(
            f"tcpr restore: {target} holds data ({_counted(held)}); --force replaces it, "
            "keeping a copy of it beside it"
        )
        return 1
    problem = integrity(source)
    if problem is not None:
        _say(f"tcpr restore: {source}: not a sound SQLite database: {problem}")
        return 1
    staged = stage(source, target)
    try:
        if not _sound(staged, settings.chain_key, source):
            _say(f"tcpr restore: {source} does not verify: nothing was changed")
            return 1
        if exists:
            stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
            safety = target.with_name(f"{target.name}.before-restore-{stamp}")
            kept = stage(target, safety)
            settle(kept, safety)
            print(f"restore: the database it replaces is kept as {safety}")
            copy(staged, target)  # through SQLite, into the file and whatever `-wal` it has
        else:
            settle(staged, target)
    finally:
        discard(staged)
    print(_restored(source, target))
    return 0


def _restored(source: Path, target: Path) -> str:
    from alembic.script import ScriptDirectory

    from service.store.backup import revision, rows
    from service.store.db import alembic_config

    at = revision(target)
    head = ScriptDirectory.from_config(alembic_config(f"sqlite:///{target}")).get_current_head()
    line = f"restore: {source} into {target}, {rows(target).get('events', 0)} events"
    if at == head:
        return f"{line}, schema revision {at} (current)"
    return (
        f"{line}, schema revision {at}: the service migrates it to {head} when it starts "
        "(or run `tcpr migrate` first)"
    )


def _counted(held: dict[str, int]) -> str:
    return ", ".join(f"{count} {table}" for table, count in sorted(held.items()))


def _say(message: str) -> None:
    print(message, file=sys.stderr)


def add_commands(commands: Commands) -> None:
    backup = commands.add_parser(
        "backup", help="copy the SQLite database while the service runs; verify the copy"
    )
    backup.add_argument("out", metavar="OUT", help="the backup file (replaced if it exists)")
    backup.add_argument("--database-url", help="default: $TCPR_DATABASE_URL")
    backup.set_defaults(run=_backup)
    restore = commands.add_parser(
        "restore", help="put a verified backup in place of a stopped service's SQLite database"
    )
    restore.add_argument("backup", metavar="IN", help="a file `tcpr backup` wrote")
    restore.add_argument("--database-url", help="default: $TCPR_DATABASE_URL")
    restore.add_argument(
        "--force", action="store_true", help="replace a database that holds data (kept beside)"
    )
    restore.set_defaults(run=_restore)
