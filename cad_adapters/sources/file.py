"""A file of CAD records, read once or followed as the CAD appends to it (and read again from
the top when it is rotated or rewritten). A restart resumes after the last spooled line."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import os
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO, Final

from cad_adapters.core import Format, ParseError, Record
from cad_adapters.sources.reader import Reader, bare, line_entry
from cad_adapters.spool import Entry
from cad_adapters.waiting import pause

log = logging.getLogger("tcpr.adapter")

# Records per spool commit while reading a file (one fsync each).
COMMIT_EVERY: Final = 500
CHUNK: Final = 65_536
# Bytes kept from the end of what was read, to notice a followed file rewritten in place.
TAIL: Final = 256


async def read_file(
    path: Path,
    fmt: Format,
    reader: Reader,
    stop: asyncio.Event,
    *,
    follow: bool = False,
    poll_seconds: float = 1.0,
) -> None:
    """Read `path` line by line from where the spool says it stopped (a restart resumes after the
    last spooled line). `follow` keeps reading as the file grows, and starts again from the top
    when the file is rotated (renamed away and recreated) or truncated."""
    while await _read_open_file(path, fmt, reader, stop, follow, poll_seconds):
        log.info("%s was rotated or truncated: reading the new file from the top", path)


async def _read_open_file(
    path: Path,
    fmt: Format,
    reader: Reader,
    stop: asyncio.Event,
    follow: bool,
    poll_seconds: float,
) -> bool:
    """One pass over the file `path` names now; True when, followed, it was replaced.

    The spool's mark for a path is the byte position read up to and a hash of the bytes before
    it: the file is resumed there only if it still starts with those bytes (the CAD appended to
    it); a file replaced under the same name, rewritten or truncated is read from the top (ids
    derived from content make the repeats harmless). Every line is parsed, so a header line read
    before still sets the columns; a line that ends at or before the mark is not spooled again,
    and one the mark cuts (an unfinished last line read before) is read again whole."""
    # Local file reads are short and the reader owns its thread of work: blocking is fine here.
    key = str(path.resolve())  # noqa: ASYNC240
    stream = fmt.stream()
    origin = str(path)
    with path.open("rb") as f:
        opened = os.fstat(f.fileno())
        done = _resume_at(f, *reader.spool.mark(key))
        read = hashlib.sha256()  # of every byte consumed, for the mark
        batch: list[Entry] = []
        offset = marked = 0
        number = 0
        buffer = b""
        skipping = False  # inside a line longer than the limit
        replaced = False
        tail = b""  # the last bytes read, to notice the file rewritten in place

        def commit() -> None:
            nonlocal batch, marked
            if batch or offset > marked:
                marked = offset
                if marked >= done:
                    reader.commit(batch, (key, marked, read.hexdigest()))
                batch = []

        while True:
            chunk = f.read(CHUNK)
            if not chunk:
                commit()
                if replaced or not follow or stop.is_set():
                    break
                await pause(stop, poll_seconds)
                replaced = _replaced(path, f, opened, tail)
                continue
            tail = (tail + chunk)[-TAIL:]
            buffer += chunk
            while True:
                cut = buffer.find(b"\n")
                if cut < 0:
                    if len(buffer) > reader.max_line_bytes and not skipping:
                        number += 1
                        if offset + len(buffer) > done:
                            reason = f"line longer than {reader.max_line_bytes} bytes"
                            where = f"line {number} (byte {offset})"
                            batch.append(reader.reject(buffer[:200], origin, where, reason, None))
                        skipping = True
                    if skipping:
                        read.update(buffer)
                        offset += len(buffer)
                        buffer = b""
                    break
                line, buffer = buffer[:cut], buffer[cut + 1 :]
                read.update(line + b"\n")
                start, offset = offset, offset + cut + 1
                if skipping:
                    skipping = False
                    continue
                number += 1
                if offset <= done:
                    _again(stream.parse, line)
                    continue
                entry = line_entry(
                    stream.parse, line, origin, f"line {number} (byte {start})", reader
                )
                if entry is not None:
                    batch.append(entry)
                if len(batch) >= COMMIT_EVERY:
                    commit()
            await asyncio.sleep(0)  # let delivery run between chunks
        if buffer and not skipping and not follow:
            # The last line has no line break: a file cut short, or one without a final
            # newline. (A followed file's unfinished last line waits for its line break.)
            number += 1
            start = offset
            read.update(buffer)
            offset += len(buffer)
            if offset > done:
                entry = line_entry(
                    stream.parse, buffer, origin, f"line {number} (byte {start})", reader
                )
                batch.extend([entry] if entry is not None else [])
            commit()
    return replaced


def _resume_at(f: BinaryIO, position: int, digest: str) -> int:
    """Where to resume `f`: the mark, if the file still starts with the bytes read before."""
    if position <= 0 or os.fstat(f.fileno()).st_size < position:
        return 0
    prefix = hashlib.sha256()
    left = position
    while left > 0:
        chunk = f.read(min(CHUNK, left))
        if not chunk:
            break
        prefix.update(chunk)
        left -= len(chunk)
    f.seek(0)
    return position if prefix.hexdigest() == digest else 0


def _replaced(path: Path, f: BinaryIO, opened: os.stat_result, tail: bytes) -> bool:
    """Whether the path now names another file than the one open, or the open one was
    rewritten (rotated away and recreated, truncated in place and written again): read that
    one from the top."""
    try:
        now = path.stat()
    except FileNotFoundError:
        return False  # rotated away, not yet recreated: keep the old one open
    if (now.st_dev, now.st_ino) != (opened.st_dev, opened.st_ino):
        return True
    read_to = f.tell()
    if now.st_size < read_to:
        return True
    # Same file, as long or longer: is what we read still there? (copytruncate then new writes)
    return bool(tail) and os.pread(f.fileno(), len(tail), read_to - len(tail)) != tail


def _again(parse: Callable[[bytes], list[Record]], line: bytes) -> None:
    """Parse a line spooled before a restart only for what it tells the stream (a header)."""
    with contextlib.suppress(ParseError):
        parse(bare(line))
