"""A directory the CAD drops export files (or EIDO documents) into: each file is read once it
has stopped changing, then moved to `done/`, deleted or kept."""

from __future__ import annotations

import asyncio
import hashlib
import logging
import shutil
import time
from pathlib import Path
from typing import Final

from cad_adapters.core import Format
from cad_adapters.sources.file import read_file
from cad_adapters.sources.reader import Reader, eido_entry
from cad_adapters.waiting import pause

log = logging.getLogger("tcpr.adapter")

# Tries at a dropped file that cannot be read or moved before it is filed as a reject.
MAX_FILE_TRIES: Final = 3


async def watch_directory(
    folder: Path,
    fmt: Format | None,
    reader: Reader,
    stop: asyncio.Event,
    *,
    pattern: str = "*",
    after: str = "move",
    done_dir: Path | None = None,
    poll_seconds: float = 1.0,
    settle_seconds: float = 2.0,
    eido_agency: str | None = None,
) -> None:
    """Read each file the CAD drops into `folder` (once it has stopped changing for
    `settle_seconds`), then move it to `done/` (or delete or keep it). With `fmt` None, each file
    is one EIDO document for `eido_agency`."""
    done_dir = done_dir or folder / "done"
    kept: set[tuple[str, int, float]] = set()  # files kept in place, so they are not read again
    failures: dict[tuple[str, int, float], int] = {}
    while not stop.is_set():
        for path, identity in _settled(folder, pattern, settle_seconds, kept):
            if stop.is_set():
                return
            try:
                if fmt is None:
                    _read_eido_file(path, reader, eido_agency or "")
                else:
                    await read_file(path, fmt, reader, stop)
                _finish(path, after, done_dir)
            except OSError as exc:
                # Gone meanwhile, unreadable, not movable: try again next time; after a few
                # tries, file it as a reject so someone sees it, and leave it alone.
                failures[identity] = failures.get(identity, 0) + 1
                log.error("%s: %s (try %d)", path, exc, failures[identity])
                if failures[identity] >= MAX_FILE_TRIES and path.exists():
                    reason = f"cannot read or move the file: {exc}"
                    reader.commit([reader.reject(b"", str(path), "file", reason, None)])
                    kept.add(identity)
                continue
            failures.pop(identity, None)
            if after == "keep":
                kept.add(identity)
            else:
                reader.spool.forget(str(path.resolve()))
        await pause(stop, poll_seconds)


def _settled(
    folder: Path, pattern: str, settle_seconds: float, kept: set[tuple[str, int, float]]
) -> list[tuple[Path, tuple[str, int, float]]]:
    """The folder's files the CAD has finished writing (unchanged for `settle_seconds`), oldest
    first, with what identifies each version of a file."""
    now = time.time()
    out = []
    for path in folder.glob(pattern):
        try:
            if not path.is_file():
                continue
            stat = path.stat()
        except OSError:  # renamed or removed while we looked (a CAD's temporary file)
            continue
        identity = (str(path), stat.st_size, stat.st_mtime)
        if identity not in kept and now - stat.st_mtime >= settle_seconds:
            out.append((path, identity))
    return sorted(out, key=lambda pair: (pair[1][2], pair[0].name))


def _read_eido_file(path: Path, reader: Reader, agency: str) -> None:
    key = str(path.resolve())
    raw = path.read_bytes()
    digest = hashlib.sha256(raw).hexdigest()
    if reader.spool.mark(key) == (len(raw), digest):
        return  # this very file was spooled before a restart, and not yet moved away
    entry = eido_entry(raw, agency, str(path), "file", reader)
    reader.commit([entry], (key, len(raw), digest))


def _finish(path: Path, after: str, done_dir: Path) -> None:
    if after == "delete":
        path.unlink(missing_ok=True)
    elif after == "move":
        done_dir.mkdir(parents=True, exist_ok=True)
        target = done_dir / path.name
        if target.exists():
            target = done_dir / f"{path.stem}.{int(time.time() * 1000)}{path.suffix}"
        shutil.move(path, target)
