"""The processes of the kill -9 drill (bench/recovery.py): posters, the scripted alert calls and
a supervisor panel. They run in their own processes (multiprocessing spawn), so they live in an
importable module.

Every sender retries a request until it is answered 200: a connection refused or reset while the
service is down, or a 5xx, is retried with the same body (so an event stored just before the kill
comes back `duplicate`, never twice). Only a 200 counts as acknowledged, and only then is the
event id written down.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import websockets

RETRY_S = 0.05
# Once told to stop, a sender gives up on a request it cannot deliver after this long.
GIVE_UP_S = 30.0
# The browser panels' reconnect policy (ui/live.js): 250 ms, doubling to 5 s, reset on a snapshot.
BACKOFF_FIRST_S, BACKOFF_MAX_S = 0.25, 1.0  # as ui/live.js


async def deliver(
    client: httpx.AsyncClient, body: Any, counts: Counter[str], give_up: Any
) -> tuple[float, float | None]:
    """POST until answered 200. Returns (first send, ack) wall times; ack None if given up."""
    first = time.time()
    while True:
        try:
            response = await client.post("/api/v1/events", json=body)
        except httpx.TransportError:
            counts["retries"] += 1
        else:
            if response.status_code == 200:
                for result in response.json().get("results", []):
                    counts[f"result_{result.get('status')}"] += 1
                return first, time.time()
            if response.status_code < 500:
                counts[f"refused_{response.status_code}"] += 1
                print(f"refused {response.status_code}: {response.text[:300]}", flush=True)
                return first, None
            counts["retries"] += 1
        if give_up() and time.time() - first > GIVE_UP_S:
            counts["given_up"] += 1
            return first, None
        await asyncio.sleep(RETRY_S)


# -- posters: the full load -------------------------------------------------------------------
def load_call(agency: str, call_id: str, number: int) -> list[dict[str, Any]]:
    """A whole ordinary call, eight events, ended and ruled out. Timed an hour back: stored and
    folded like any call, but past its alert deadlines (beyond the grace), so the load itself
    raises no alerts and leaves no live calls behind."""
    t0 = datetime.now(UTC) - timedelta(hours=1)
    steps: list[tuple[str, dict[str, Any], str | None]] = [
        ("call.received", {"psap": agency}, None),
        ("call.answered", {}, "tc-1"),
        ("call.nature", {"code": "26-A-01", "text": "SICK PERSON"}, None),
        ("triage.conscious", {"answer": "yes"}, "tc-1"),
        ("triage.breathing", {"answer": "yes"}, "tc-1"),
        ("unit.dispatched", {"unit": f"M{number % 40}"}, None),
        ("unit.on_scene", {"unit": f"M{number % 40}"}, None),
        ("call.ended", {}, None),
    ]
    return [
        {
            "event_id": f"{call_id}-{i}",
            "call_id": call_id,
            "agency": agency,
            "kind": kind,
            "at": (t0 + timedelta(seconds=5 * i)).isoformat(),
            "actor": actor,
            "data": data,
        }
        for i, (kind, data, actor) in enumerate(steps)
    ]


def poster(
    url: str,
    token: str,
    agency: str,
    prefix: str,
    lanes: int,
    acked_path: str,
    stop: Any,
    report: Any,
) -> None:
    """`lanes` concurrent senders, unpaced, each posting whole calls: lane j sends them as single
    events, batches of 4 or one batch of 8 (j % 3). Each acknowledged event id goes to
    `acked_path`, one a line, flushed at once."""

    async def run(acked: Any) -> Counter[str]:
        counts: Counter[str] = Counter()
        headers = {"Authorization": f"Bearer {token}"}
        limits = httpx.Limits(max_connections=lanes, max_keepalive_connections=lanes)
        async with httpx.AsyncClient(
            base_url=url, headers=headers, timeout=10, limits=limits
        ) as client:

            async def lane(j: int) -> None:
                size = (1, 4, 8)[j % 3]
                number = 0
                while not stop.is_set():  # a call once begun is sent whole
                    events = load_call(agency, f"{prefix}-{j}-{number}", number)
                    number += 1
                    for i in range(0, len(events), size):
                        batch = events[i : i + size]
                        body = batch[0] if size == 1 else batch
                        counts["requests"] += 1
                        _, ack = await deliver(client, body, counts, stop.is_set)
                        if ack is not None:
                            acked.write("".join(f"{e['event_id']}\n" for e in batch))
                            acked.flush()
                            counts["acked"] += len(batch)

            await asyncio.gather(*(lane(j) for j in range(lanes)))
        return counts

    with open(acked_path, "a", encoding="utf-8") as acked:
        report.put(dict(asyncio.run(run(acked))))


# -- scripted calls whose alert deadlines fall around the kills --------------------------------
def scripted_calls(url: str, token: str, plan: list[dict[str, Any]], log_path: str) -> None:
    """Send each step of `plan` ({"send_at": wall time, "events": [...]}) at its time, retrying
    until acknowledged; log {"step", "first_send", "ack"} per step to `log_path`."""

    async def run(log: Any) -> None:
        headers = {"Authorization": f"Bearer {token}"}
        limits = httpx.Limits(max_connections=20)
        counts: Counter[str] = Counter()
        async with httpx.AsyncClient(
            base_url=url, headers=headers, timeout=10, limits=limits
        ) as client:

            async def step(index: int, send_at: float, events: list[dict[str, Any]]) -> None:
                await asyncio.sleep(max(0.0, send_at - time.time()))
                first, ack = await deliver(client, events, counts, lambda: True)
                line = {"step": index, "first_send": first, "ack": ack}
                log.write(json.dumps(line) + "\n")
                log.flush()

            await asyncio.gather(*(step(i, s["send_at"], s["events"]) for i, s in enumerate(plan)))

    with open(log_path, "a", encoding="utf-8") as log:
        asyncio.run(run(log))


# -- a supervisor panel, connected throughout ---------------------------------------------------
def panel(ws_url: str, token: str, stop: Any, resyncs: Any, final: Any) -> None:
    """One supervisor panel that behaves like ui/live.js: on a dropped connection it reconnects
    with the browser's backoff and `since` = the last sequence it saw. Each (re)connection is
    reported on `resyncs` as {"dropped": monotonic s or None, "snapshot": s, "resynced": s,
    "complete": bool, "missed": n}; `resynced` is when the panel holds the snapshot and, after a
    drop, the `missed` message too. At `stop` it puts every event sequence it was shown (live or
    in a `missed` message) and the close codes it saw on `final`."""

    async def run() -> None:
        seq = 0
        seen: set[int] = set()
        closes: Counter[str] = Counter()
        dropped: float | None = None
        backoff = BACKOFF_FIRST_S
        while not stop.is_set():
            try:
                async with websockets.connect(
                    ws_url, max_queue=None, max_size=None, open_timeout=5
                ) as ws:
                    auth: dict[str, Any] = {"type": "auth", "token": token}
                    if seq:
                        auth["since"] = seq
                    await ws.send(json.dumps(auth))
                    snapshot = json.loads(await asyncio.wait_for(ws.recv(), 10))
                    snapshot_at = time.monotonic()
                    if snapshot.get("type") != "snapshot":
                        raise RuntimeError(f"expected a snapshot, got {snapshot.get('type')}")
                    complete, missed_n = True, 0
                    if "since" in auth:
                        missed = json.loads(await asyncio.wait_for(ws.recv(), 10))
                        if missed.get("type") != "missed":
                            raise RuntimeError(f"expected missed, got {missed.get('type')}")
                        complete = bool(missed.get("complete"))
                        missed_n = len(missed["events"])
                        seen.update(int(e["seq"]) for e in missed["events"])
                    seq = max(seq, int(snapshot["seq"]))
                    resyncs.put(
                        {
                            "dropped": dropped,
                            "snapshot": snapshot_at,
                            "resynced": time.monotonic(),
                            "complete": complete,
                            "missed": missed_n,
                        }
                    )
                    dropped, backoff = None, BACKOFF_FIRST_S
                    while not stop.is_set():
                        try:
                            raw = await asyncio.wait_for(ws.recv(), 0.5)
                        except TimeoutError:
                            continue
                        message = json.loads(raw)
                        if message.get("type") == "call":
                            seen.add(int(message["seq"]))
                            seq = max(seq, int(message["seq"]))
                    break
            except websockets.ConnectionClosed as exc:
                code = exc.rcvd.code if exc.rcvd is not None else "none"
                closes[f"closed_{code}"] += 1
            except (OSError, TimeoutError, websockets.InvalidHandshake) as exc:
                closes[type(exc).__name__] += 1
            if dropped is None:
                dropped = time.monotonic()
            await asyncio.sleep(backoff)
            backoff = min(backoff * 2, BACKOFF_MAX_S)
        final.put({"seen": sorted(seen), "closes": dict(closes)})

    asyncio.run(run())
