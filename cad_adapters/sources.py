"""Where records come from: a file (read once or followed), a directory the CAD drops files into,
a TCP line feed, or a NENA-STA-024 EIDO subscription. Each turns what it reads into spool entries
and commits them before going on, so what was read is never only in memory.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import logging
import os
import shutil
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO, Final

from cad_adapters.core import Format, ParseError, Record
from cad_adapters.deliver import pause
from cad_adapters.spool import Entry, Spool

log = logging.getLogger("tcpr.adapter")

# Records per spool commit while reading a file (one fsync each).
COMMIT_EVERY: Final = 500
CHUNK: Final = 65_536
# Bytes kept from the end of what was read, to notice a followed file rewritten in place.
TAIL: Final = 256
# Tries at a dropped file that cannot be read or moved before it is filed as a reject.
MAX_FILE_TRIES: Final = 3


def sendable(value: object) -> None:
    """Refuse what JSON cannot carry to the service (NaN, Infinity, a lone surrogate), which a
    lenient decoder lets through: such a record must be a reject here, not jam the delivery."""
    try:
        json.dumps(value, allow_nan=False, ensure_ascii=False).encode("utf-8")
    except (ValueError, UnicodeError) as exc:
        raise ParseError(f"not sendable as JSON: {exc}", "body") from None


@dataclass
class Reader:
    """Turns records into spool entries: a record's events together, a bad record as a reject
    with its raw text, where it was and why."""

    spool: Spool
    wake: asyncio.Event
    max_line_bytes: int = 1_048_576
    read: int = 0  # records read
    bad: int = 0  # records that could not be parsed

    def entry(
        self, parse: Callable[[bytes], list[Record]], raw: bytes, origin: str, where: str
    ) -> Entry | None:
        self.read += 1
        try:
            events = parse(raw)
            sendable(events)
        except ParseError as exc:
            return self.reject(raw, origin, where, exc.reason, exc.field)
        return Entry("events", events, origin, where) if events else None

    def reject(self, raw: bytes, origin: str, where: str, reason: str, field: str | None) -> Entry:
        self.bad += 1
        # The reason may quote the record (a shifted column puts an address in a time field):
        # it goes with the record to the reject store; the log names the field only.
        log.warning("%s %s: unreadable record (field %s) filed as a reject", origin, where, field)
        text = raw.decode("utf-8", errors="backslashreplace")
        return Entry("reject", {"raw": text, "reason": reason, "field": field}, origin, where)

    def commit(self, entries: list[Entry], mark: tuple[str, int, str] | None = None) -> None:
        self.spool.put(entries, mark)
        if entries:
            self.wake.set()


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
                entry = _line(stream.parse, line, origin, f"line {number} (byte {start})", reader)
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
                entry = _line(stream.parse, buffer, origin, f"line {number} (byte {start})", reader)
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


def bare(line: bytes) -> bytes:
    """A line without the CR of a CRLF line break."""
    return line[:-1] if line.endswith(b"\r") else line


def _again(parse: Callable[[bytes], list[Record]], line: bytes) -> None:
    """Parse a line spooled before a restart only for what it tells the stream (a header)."""
    with contextlib.suppress(ParseError):
        parse(bare(line))


def _line(
    parse: Callable[[bytes], list[Record]], line: bytes, origin: str, where: str, reader: Reader
) -> Entry | None:
    return reader.entry(parse, bare(line), origin, where)


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


def eido_entry(raw: bytes, agency: str, origin: str, where: str, reader: Reader) -> Entry:
    """An EIDO document to deliver whole to `POST /api/v1/eido`, checked here first so a bad one
    becomes a reject with its reason and never blocks the ones behind it."""
    from cad_adapters import eido

    reader.read += 1
    try:
        document = eido.load(raw)  # refuses what JSON and UTF-8 cannot carry, too
        eido.events_of(document, agency)
    except ParseError as exc:
        return reader.reject(raw, origin, where, exc.reason, exc.field or "body")
    return Entry("eido", document, origin, where)


def _finish(path: Path, after: str, done_dir: Path) -> None:
    if after == "delete":
        path.unlink(missing_ok=True)
    elif after == "move":
        done_dir.mkdir(parents=True, exist_ok=True)
        target = done_dir / path.name
        if target.exists():
            target = done_dir / f"{path.stem}.{int(time.time() * 1000)}{path.suffix}"
        shutil.move(path, target)


async def tcp_lines(
    fmt: Format,
    reader: Reader,
    stop: asyncio.Event,
    *,
    listen: str | None = None,
    connect: str | None = None,
) -> None:
    """A CAD's line feed over TCP: accept its connections on `listen`, or connect to it (and
    reconnect) at `connect`. Each connection is one stream (its own header, if any)."""

    async def handle(lines: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        peer = writer.get_extra_info("peername")
        origin = f"tcp {peer[0]}:{peer[1]}" if peer else "tcp"
        stream = fmt.stream()
        number = 0
        try:
            while True:
                try:
                    line = await lines.readuntil(b"\n")
                except asyncio.IncompleteReadError as exc:
                    line = exc.partial  # the connection closed: its last line, if any
                    if not line:
                        break
                except asyncio.LimitOverrunError:
                    number += 1
                    where = f"line {number}"
                    reason = f"line longer than {reader.max_line_bytes} bytes"
                    bad = await lines.read(reader.max_line_bytes)
                    reader.commit([reader.reject(bad[:200], origin, where, reason, None)])
                    await _discard_line(lines)
                    continue
                number += 1
                entry = _line(stream.parse, line.rstrip(b"\n"), origin, f"line {number}", reader)
                reader.commit([entry] if entry else [])
                if not line.endswith(b"\n"):
                    break
        except OSError as exc:  # reset by the peer, network down
            log.warning("%s: connection lost after line %d (%s)", origin, number, exc)
        finally:
            writer.close()

    if listen is not None:
        await _listen(listen, handle, reader.max_line_bytes, stop)
        return
    assert connect is not None
    host, port = _address(connect)
    backoff = 0.5
    while not stop.is_set():
        try:
            lines, writer = await asyncio.open_connection(host, port, limit=reader.max_line_bytes)
        except OSError as exc:
            log.warning("cannot reach the CAD feed at %s (%s); retrying", connect, exc)
            await pause(stop, backoff)
            backoff = min(backoff * 2, 10.0)
            continue
        backoff = 0.5
        await _until_stopped(handle(lines, writer), writer, stop)
        await pause(stop, backoff)  # the CAD closed: do not redial in a tight loop


Handler = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]


async def _listen(address: str, handle: Handler, limit: int, stop: asyncio.Event) -> None:
    """Accept the CAD's connections until `stop`; then close them (a connection left open must
    not keep the adapter from stopping)."""
    open_writers: set[asyncio.StreamWriter] = set()

    async def accepted(lines: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        open_writers.add(writer)
        try:
            await handle(lines, writer)
        finally:
            open_writers.discard(writer)

    host, port = _address(address)
    server = await asyncio.start_server(accepted, host, port, limit=limit)
    log.info("listening for the CAD's line feed on %s", address)
    try:
        await stop.wait()
    finally:
        server.close()
        for writer in list(open_writers):
            writer.close()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(server.wait_closed(), 5.0)


async def _until_stopped(
    work: Awaitable[None], writer: asyncio.StreamWriter, stop: asyncio.Event
) -> None:
    """Run a connection's reading until it ends or `stop` is set (then close it and let the
    reading finish what it has)."""
    task = asyncio.ensure_future(work)
    stopping = asyncio.ensure_future(stop.wait())
    try:
        await asyncio.wait({task, stopping}, return_when=asyncio.FIRST_COMPLETED)
        if not task.done():
            writer.close()
        await task
    finally:
        stopping.cancel()


async def _discard_line(lines: asyncio.StreamReader) -> None:
    while True:
        try:
            await lines.readuntil(b"\n")
            return
        except asyncio.LimitOverrunError as exc:
            await lines.read(exc.consumed)
        except asyncio.IncompleteReadError:
            return


def _address(value: str) -> tuple[str, int]:
    host, _, port = value.rpartition(":")
    return host.strip("[]") or "0.0.0.0", int(port)


async def eido_websocket(
    url: str,
    agency: str,
    reader: Reader,
    stop: asyncio.Event,
    headers: dict[str, str],
    max_message_bytes: int,
) -> None:
    """Subscribe to the CAD's NENA-STA-024 notifier; each EIDO is spooled before it is acked,
    and whatever else a notification holds (not an object, not JSON) is spooled as a reject."""
    from cad_adapters.eido_ws import subscribe

    async def on_eido(document: dict[str, Any], transaction: str) -> None:
        raw = json.dumps(document).encode()
        entry = eido_entry(raw, agency, url, f"transaction {transaction}", reader)
        reader.commit([entry])

    async def on_bad(raw: str, reason: str, transaction: str | None) -> None:
        where = f"transaction {transaction}" if transaction else "message"
        reader.read += 1
        bad = reader.reject(raw.encode("utf-8", "backslashreplace"), url, where, reason, "body")
        reader.commit([bad])

    await subscribe(
        url, on_eido, headers=headers, stop=stop, on_bad=on_bad, max_size=max_message_bytes
    )
