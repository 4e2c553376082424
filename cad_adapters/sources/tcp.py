"""A CAD's line feed over TCP: the adapter listens for the CAD's connections, or dials the CAD
(and redials it). Each connection is one stream, with its own header line if the format has one.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable

from cad_adapters.core import Format
from cad_adapters.sources.reader import Reader, line_entry
from cad_adapters.waiting import Backoff, pause

log = logging.getLogger("tcpr.adapter")

# Waits between dials of a CAD feed that cannot be reached: from half a second up to ten.
FIRST_REDIAL_S = 0.5
MAX_REDIAL_S = 10.0


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
                where = f"line {number}"
                entry = line_entry(stream.parse, line.rstrip(b"\n"), origin, where, reader)
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
    backoff = Backoff(MAX_REDIAL_S, first=FIRST_REDIAL_S)
    while not stop.is_set():
        try:
            lines, writer = await asyncio.open_connection(host, port, limit=reader.max_line_bytes)
        except OSError as exc:
            log.warning("cannot reach the CAD feed at %s (%s); retrying", connect, exc)
            await pause(stop, backoff.next())
            continue
        backoff.reset()
        await _until_stopped(handle(lines, writer), writer, stop)
        # The CAD closed: do not redial in a tight loop.
        await pause(stop, FIRST_REDIAL_S)


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
