"""Where records come from: a file (read once or followed), a directory the CAD drops files into,
a TCP line feed, or a NENA-STA-024 EIDO subscription. Each turns what it reads into spool entries
and commits them before going on, so what was read is never only in memory.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from cad_adapters.core import Format, ParseError, Record
from cad_adapters.deliver import pause
from cad_adapters.spool import Entry, Spool

log = logging.getLogger("tcpr.adapter")

# Records per spool commit while reading a file (one fsync each).
COMMIT_EVERY: Final = 500
CHUNK: Final = 65_536


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
        except ParseError as exc:
            return self.reject(raw, origin, where, exc.reason, exc.field)
        return Entry("events", events, origin, where) if events else None

    def reject(self, raw: bytes, origin: str, where: str, reason: str, field: str | None) -> Entry:
        self.bad += 1
        log.warning("%s %s: %s", origin, where, reason)
        text = raw.decode("utf-8", errors="backslashreplace")
        return Entry("reject", {"raw": text, "reason": reason, "field": field}, origin, where)

    def commit(self, entries: list[Entry], mark: tuple[str, int] | None = None) -> None:
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
    last spooled line). Every line is parsed, so a header line read before still sets the columns;
    lines already spooled are not spooled again. `follow` keeps reading as the file grows."""
    # Local file reads are short and the reader owns its thread of work: blocking is fine here.
    key = str(path.resolve())  # noqa: ASYNC240
    done = reader.spool.mark(key)
    if path.stat().st_size < done:  # noqa: ASYNC240  # replaced or truncated since: read it again, from the top
        done = 0
    stream = fmt.stream()
    origin = str(path)
    batch: list[Entry] = []
    offset = 0
    marked = done  # the mark only moves forward
    number = 0
    buffer = b""
    skipping = False  # inside a line longer than the limit
    with path.open("rb") as f:
        while True:
            chunk = f.read(CHUNK)
            if not chunk:
                if batch or offset > marked:
                    marked = max(offset, marked)
                    reader.commit(batch, (key, marked))
                    batch = []
                if not follow or stop.is_set():
                    break
                await pause(stop, poll_seconds)
                continue
            buffer += chunk
            while True:
                cut = buffer.find(b"\n")
                if cut < 0:
                    if len(buffer) > reader.max_line_bytes and not skipping:
                        number += 1
                        where = f"line {number} (byte {offset})"
                        if offset >= done:
                            batch.append(
                                reader.reject(
                                    buffer[:200],
                                    origin,
                                    where,
                                    f"line longer than {reader.max_line_bytes} bytes",
                                    None,
                                )
                            )
                        skipping = True
                    if skipping:
                        offset += len(buffer)
                        buffer = b""
                    break
                line, buffer = buffer[:cut], buffer[cut + 1 :]
                start, offset = offset, offset + cut + 1
                if skipping:
                    skipping = False
                    continue
                number += 1
                if start < done:
                    _again(stream.parse, line)
                    continue
                entry = _line(stream.parse, line, origin, f"line {number} (byte {start})", reader)
                if entry is not None:
                    batch.append(entry)
                if len(batch) >= COMMIT_EVERY:
                    marked = max(offset, marked)
                    reader.commit(batch, (key, marked))
                    batch = []
            await asyncio.sleep(0)  # let delivery run between chunks
    if buffer and not skipping and not follow:
        # The last line has no line break: a file cut short, or one without a final newline.
        # (A followed file's unfinished last line is read on the next start, once complete.)
        number += 1
        start, offset = offset, offset + len(buffer)
        entry = (
            _line(stream.parse, buffer, origin, f"line {number} (byte {start})", reader)
            if start >= done
            else None
        )
        reader.commit([entry] if entry is not None else [], (key, max(offset, marked)))


def _again(parse: Callable[[bytes], list[Record]], line: bytes) -> None:
    """Parse a line spooled before a restart only for what it tells the stream (a header)."""
    with contextlib.suppress(ParseError):
        parse(line[:-1] if line.endswith(b"\r") else line)


def _line(
    parse: Callable[[bytes], list[Record]], line: bytes, origin: str, where: str, reader: Reader
) -> Entry | None:
    raw = line[:-1] if line.endswith(b"\r") else line
    return reader.entry(parse, raw, origin, where)


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
    while not stop.is_set():
        for path, identity in _settled(folder, pattern, settle_seconds, kept):
            if stop.is_set():
                return
            if fmt is None:
                _read_eido_file(path, reader, eido_agency or "")
            else:
                await read_file(path, fmt, reader, stop)
            _finish(path, after, done_dir)
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
        if not path.is_file():
            continue
        stat = path.stat()
        identity = (str(path), stat.st_size, stat.st_mtime)
        if identity not in kept and now - stat.st_mtime >= settle_seconds:
            out.append((path, identity))
    return sorted(out, key=lambda pair: (pair[1][2], pair[0].name))


def _read_eido_file(path: Path, reader: Reader, agency: str) -> None:
    key = str(path.resolve())
    raw = path.read_bytes()
    if reader.spool.mark(key) == len(raw):
        return  # spooled before a restart, not yet moved away
    entry = eido_entry(raw, agency, str(path), "file", reader)
    reader.commit([entry], (key, len(raw)))


def eido_entry(raw: bytes, agency: str, origin: str, where: str, reader: Reader) -> Entry:
    """An EIDO document to deliver whole to `POST /api/v1/eido`, checked here first so a bad one
    becomes a reject with its reason and never blocks the ones behind it."""
    from cad_adapters import eido

    reader.read += 1
    try:
        document = eido.load(raw)
        eido.parse(document, agency)
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
            while not stop.is_set():
                try:
                    line = await lines.readuntil(b"\n")
                except asyncio.IncompleteReadError as exc:
                    line = exc.partial  # the peer closed: its last line, if any
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
        finally:
            writer.close()

    if listen is not None:
        host, port = _address(listen)
        server = await asyncio.start_server(handle, host, port, limit=reader.max_line_bytes)
        log.info("listening for the CAD's line feed on %s", listen)
        async with server:
            await stop.wait()
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
        await handle(lines, writer)


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
    url: str, agency: str, reader: Reader, stop: asyncio.Event, headers: dict[str, str]
) -> None:
    """Subscribe to the CAD's NENA-STA-024 notifier; each EIDO is spooled before it is acked."""
    from cad_adapters.eido_ws import subscribe

    async def on_eido(document: dict[str, Any], transaction: str) -> None:
        raw = json.dumps(document).encode()
        entry = eido_entry(raw, agency, url, f"transaction {transaction}", reader)
        reader.commit([entry])

    await subscribe(url, on_eido, headers=headers, stop=stop)
