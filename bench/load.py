"""Load generators for the benchmarks. They run in their own processes (multiprocessing spawn),
so they live in an importable module, not in `bench.__main__`."""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from datetime import UTC, datetime
from typing import Any

import httpx
import websockets


def make_event(run: str, i: int, sent_ns: int | None = None) -> dict[str, Any]:
    data: dict[str, Any] = {"psap": "BENCH"}
    if sent_ns is not None:
        data["sent_ns"] = sent_ns
    return {
        "event_id": f"{run}-{i}",
        "call_id": f"{run}-C{i // 8}",
        "agency": "BENCH",
        "kind": "call.received" if i % 8 == 0 else "call.answered",
        "at": datetime.now(UTC).isoformat(),
        "data": data,
    }


def post_load(url: str, token: str, total: int, batch: int, concurrency: int, out: Any) -> None:
    async def run() -> None:
        run_id = uuid.uuid4().hex[:8]
        latencies: list[float] = []
        counter = iter(range(0, total, batch))
        headers = {"Authorization": f"Bearer {token}"}
        limits = httpx.Limits(max_connections=concurrency)
        async with httpx.AsyncClient(
            base_url=url, headers=headers, limits=limits, timeout=60
        ) as client:

            async def worker() -> None:
                for start in counter:
                    body: Any = [
                        make_event(run_id, i) for i in range(start, min(start + batch, total))
                    ]
                    if batch == 1:
                        body = body[0]
                    t = time.perf_counter()
                    response = await client.post("/api/v1/events", json=body)
                    latencies.append((time.perf_counter() - t) * 1000)
                    response.raise_for_status()

            began = time.perf_counter()
            await asyncio.gather(*(worker() for _ in range(concurrency)))
            elapsed = time.perf_counter() - began
        out.put({"events_per_s": total / elapsed, "ack_ms": latencies})

    asyncio.run(run())


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
                    message = json.loads(await asyncio.wait_for(ws.recv(), 30))
                    if message.get("type") == "event":
                        sent = message["event"]["data"].get("sent_ns")
                        if sent is not None:
                            latencies.append((time.monotonic_ns() - sent) / 1e6)
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
            pending = set()
            for i in range(total):
                await asyncio.sleep(max(0.0, began + i / rate - time.monotonic()))
                body = make_event(run_id, i, time.monotonic_ns())
                pending.add(asyncio.create_task(client.post("/api/v1/events", json=body)))
                pending = {t for t in pending if not t.done()}
            await asyncio.gather(*pending)

    asyncio.run(run())
