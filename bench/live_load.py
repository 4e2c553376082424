"""Websocket clients for bench/live.py. They run in their own processes (multiprocessing spawn),
so they live in an importable module of their own.

Every client reports through a queue and never waits without a time limit: a panel that cannot
connect, authenticate or get its snapshot reports an error instead of hanging the benchmark.
"""

from __future__ import annotations

import asyncio
import json
import queue
import socket
import time
from typing import Any

import websockets

from bench.load import SENT_NS

ALERT_PREFIX = '{"type":"alert"'


def _auth(token: str) -> str:
    return json.dumps({"type": "auth", "token": token})


def _connect(ws_url: str, **kwargs: Any) -> Any:
    # No client keepalive: a stalled panel must not close itself for a missing pong.
    return websockets.connect(
        ws_url, max_size=None, ping_interval=None, open_timeout=60, close_timeout=2, **kwargs
    )


async def _until(event: Any, limit: float) -> None:
    """Wait for a multiprocessing Event without blocking the loop; `limit` seconds at most."""
    await asyncio.to_thread(event.wait, limit)


def alert_watcher(ws_url: str, token: str, ready: Any, stop: Any, count: Any, out: Any) -> None:
    """A supervisor panel that stamps every `alert` message with `time.time()` on receipt and
    counts them in `count` (a shared integer) as they come.

    Puts `{"snapshot_bytes", "snapshot_s", "alerts": [(call_id, alert, received, fired_at)],
    "messages", "error"}` on `out` once `stop` is set (or after an hour); `fired_at` is the
    service's own clock when its hub built the message."""

    async def run() -> dict[str, Any]:
        result: dict[str, Any] = {"alerts": [], "messages": 0, "error": None}
        try:
            async with _connect(ws_url, max_queue=None) as ws:
                began = time.monotonic()
                await ws.send(_auth(token))
                snapshot = await asyncio.wait_for(ws.recv(), 60)
                result["snapshot_s"] = time.monotonic() - began
                result["snapshot_bytes"] = len(snapshot)
                ready.put(("ok", len(snapshot)))
                alerts = result["alerts"]
                stop_at = time.monotonic() + 3600
                while not stop.is_set() and time.monotonic() < stop_at:
                    try:
                        raw = await asyncio.wait_for(ws.recv(), 0.2)
                    except TimeoutError:
                        continue
                    received = time.time()
                    result["messages"] += 1
                    if raw.startswith(ALERT_PREFIX):
                        m = json.loads(raw)
                        alerts.append((m["call_id"], m["alert"], received, m.get("fired_at")))
                        count.value = len(alerts)
        except Exception as exc:
            result["error"] = f"{type(exc).__name__}: {exc}"
            ready.put(("error", result["error"]))
        return result

    out.put(asyncio.run(run()))


def holding_panels(
    ws_url: str, tokens: list[str], ready: Any, release: Any, out: Any, limit: float
) -> None:
    """One panel per token: connect, authenticate, take the snapshot, report ready, then keep
    reading (and discarding) until `release` is set or `limit` seconds pass. Puts the number of
    panels that were still open at release on `out`."""

    async def run() -> int:
        gate = asyncio.Semaphore(64)  # handshakes in flight from this process
        released = asyncio.Event()
        open_at_release = 0

        async def read_all(ws: Any) -> None:
            async for _ in ws:
                pass

        async def panel(token: str) -> None:
            nonlocal open_at_release
            try:
                async with gate:
                    ws = await _connect(ws_url, max_queue=None)
                try:
                    await ws.send(_auth(token))
                    snapshot = await asyncio.wait_for(ws.recv(), limit)
                    if not snapshot.startswith('{"type":"snapshot"'):
                        raise RuntimeError(f"expected a snapshot, got {snapshot[:80]!r}")
                    ready.put(("ok", len(snapshot)))
                    reading = asyncio.create_task(read_all(ws))
                    await released.wait()
                    if not reading.done():
                        open_at_release += 1
                    reading.cancel()
                finally:
                    await ws.close()
            except Exception as exc:
                ready.put(("error", f"{type(exc).__name__}: {exc}"))

        panels = asyncio.gather(*(panel(t) for t in tokens))
        await _until(release, limit + 600)
        released.set()
        await asyncio.wait_for(panels, 60)
        return open_at_release

    try:
        out.put(asyncio.run(run()))
    except Exception:
        out.put(-1)


def _stalled_socket(ws_url: str) -> socket.socket:
    """A TCP socket with a small receive buffer (set before connecting, so the advertised window
    stays small): a stalled reader then holds little in its own kernel buffer."""
    host, _, rest = ws_url.removeprefix("ws://").partition(":")
    port = int(rest.split("/", 1)[0])
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.settimeout(30)
    sock.connect((host, port))
    sock.setblocking(False)
    return sock


def mixed_panels(
    ws_url: str,
    token: str,
    readers: int,
    stalled: int,
    expected: int,
    ready: Any,
    drain: Any,
    out: Any,
) -> None:
    """`readers` panels that read every message and time the stamped ones (as
    bench.load.panels_process), and `stalled` panels that stop reading once they have their
    snapshot: they keep the TCP connection open and read nothing until `drain` is set, then read
    whatever the server still sends until it closes them (or 20 s pass).

    Puts `{"latencies": [ms], "stalled": [(messages after the stall, close code)],
    "message_bytes": mean size of a stamped message, "errors": [...]}` on `out`."""

    async def run() -> dict[str, Any]:
        latencies: list[float] = []
        sizes: list[int] = []
        stalled_results: list[tuple[int, int | None]] = []
        errors: list[str] = []
        drained = asyncio.Event()

        async def follow_drain() -> None:
            await _until(drain, 900)
            drained.set()

        async def reader() -> None:
            try:
                async with _connect(ws_url, max_queue=None) as ws:
                    await ws.send(_auth(token))
                    await asyncio.wait_for(ws.recv(), 60)  # snapshot
                    ready.put(("ok", 0))
                    got = 0
                    while got < expected:
                        raw = await asyncio.wait_for(ws.recv(), 60)
                        received = time.monotonic_ns()
                        stamp = SENT_NS.search(raw)
                        if stamp:
                            latencies.append((received - int(stamp.group(1))) / 1e6)
                            if len(sizes) < 1000:
                                sizes.append(len(raw))
                            got += 1
            except Exception as exc:
                errors.append(f"reader: {type(exc).__name__}: {exc}")
                ready.put(("error", errors[-1]))

        async def stalled_panel() -> None:
            try:
                sock = await asyncio.to_thread(_stalled_socket, ws_url)
                # max_queue=1: the client stops reading from the socket as soon as one frame
                # is waiting, so the server's sends back up into its own buffers.
                async with _connect(ws_url, sock=sock, max_queue=1) as ws:
                    await ws.send(_auth(token))
                    await asyncio.wait_for(ws.recv(), 60)  # snapshot
                    ready.put(("ok", 0))
                    await drained.wait()
                    got, code = 0, None
                    try:
                        while True:  # until closed, or 3 s of silence
                            await asyncio.wait_for(ws.recv(), 3)
                            got += 1
                    except websockets.ConnectionClosed as closed:
                        code = closed.rcvd.code if closed.rcvd is not None else None
                    except TimeoutError:
                        pass
                    stalled_results.append((got, code))
            except Exception as exc:
                errors.append(f"stalled: {type(exc).__name__}: {exc}")
                ready.put(("error", errors[-1]))

        follower = asyncio.create_task(follow_drain())
        await asyncio.gather(
            *(reader() for _ in range(readers)), *(stalled_panel() for _ in range(stalled))
        )
        follower.cancel()
        return {
            "latencies": latencies,
            "stalled": stalled_results,
            "message_bytes": sum(sizes) / len(sizes) if sizes else None,
            "errors": errors,
        }

    try:
        out.put(asyncio.run(run()))
    except Exception as exc:
        out.put({"latencies": [], "stalled": [], "message_bytes": None, "errors": [repr(exc)]})


def drain_queue(q: Any, count: int, timeout: float) -> list[Any]:
    """Up to `count` items from a multiprocessing queue within `timeout` seconds in all."""
    items: list[Any] = []
    deadline = time.monotonic() + timeout
    while len(items) < count:
        left = deadline - time.monotonic()
        if left <= 0:
            break
        try:
            items.append(q.get(timeout=left))
        except queue.Empty:
            break
    return items
