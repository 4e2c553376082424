"""Load generators for the benchmarks. They run in their own processes (multiprocessing spawn),
so they live in an importable module, not in `bench.__main__`."""

from __future__ import annotations

import asyncio
import json
import re
import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import websockets

SENT_NS = re.compile(r'"sent_ns":\s*(\d+)')


def make_event(
    run: str, i: int, sent_ns: int | None = None, agency: str = "BENCH"
) -> dict[str, Any]:
    """Eight events a call. Ingest load is timed an hour back: stored and folded like any call,
    but past its alert deadlines, so it does not turn into an alert storm mid-measurement."""
    data: dict[str, Any] = {"psap": agency}
    if sent_ns is not None:
        data["sent_ns"] = sent_ns
    when = datetime.now(UTC) - (timedelta(hours=1) if sent_ns is None else timedelta(0))
    return {
        "event_id": f"{run}-{i}",
        "call_id": f"{run}-C{i // 8}",
        "agency": agency,
        "kind": "call.received" if i % 8 == 0 else "call.answered",
        "at": when.isoformat(),
        "data": data,
    }


def panels_process(
    ws_url: str, token: str, count: int, expected: int, ready: Any, out: Any
) -> None:
    async def run() -> None:
        latencies: list[float] = []

        async def panel() -> None:
            async with websockets.connect(ws_url, max_queue=None, max_size=None) as ws:
                await ws.send(json.dumps({"type": "auth", "token": token}))
                await ws.recv()  # snapshot
                ready.put(1)
                got = 0
                while got < expected:
                    raw = await asyncio.wait_for(ws.recv(), 30)
                    received = time.monotonic_ns()
                    # A full JSON parse of every message would make this process, not the
                    # server, the bottleneck; the stamp is all a latency sample needs.
                    stamp = SENT_NS.search(raw)
                    if stamp:
                        latencies.append((received - int(stamp.group(1))) / 1e6)
                        got += 1

        await asyncio.gather(*(panel() for _ in range(count)), return_exceptions=True)
        out.put(latencies)

    asyncio.run(run())


def paced_poster(url: str, token: str, rate: float, total: int) -> None:
    async def run() -> None:
        run_id = uuid.uuid4().hex[:8]
        headers = {"Authorization": f"Bearer {token}"}
        async with httpx.AsyncClient(base_url=url, headers=headers, timeout=30) as client:
            began = time.monotonic()
            pending: list[asyncio.Task[httpx.Response]] = []
            for i in range(total):
                await asyncio.sleep(max(0.0, began + i / rate - time.monotonic()))
                body = make_event(run_id, i, time.monotonic_ns(), agency="PUSH")
                pending.append(asyncio.create_task(client.post("/api/v1/events", json=body)))
            responses = await asyncio.gather(*pending)
        refused = [r.status_code for r in responses if r.status_code != 200]
        if refused:
            raise SystemExit(f"poster: {len(refused)} posts refused, e.g. HTTP {refused[0]}")

    asyncio.run(run())
