"""Durable-ingest throughput with a native load generator, and the ack latency at 500 events/s.

    python -m bench.wrk [--quick] [--database-url URL]

A Python HTTP client saturates near 1,000 requests/s on this machine, so throughput is driven by
Debian's `wrk` with the Lua scripts of bench/wrk/ (single.lua: one event a POST, batch.lua: 500
events a POST as one JSON array; every event id unique). The same scripts against the bare relay
of bench/relay.py (same stack, no validation or storage) give the ceiling of generator + stack
on this machine in the same run.

After each run against the service the stored events of that run are counted in the database:
every 200 must be stored. wrk stops with up to one request per connection in flight, which the
service may commit without wrk reading the 200, so up to `connections` requests' events more than
acknowledged may be stored; anything outside [acknowledged, acknowledged + in flight] is a
failure (`ingest_verified: false`).

The ack latency is measured by a paced poster in its own process: one event every 2 ms (500/s)
over a few keep-alive connections, each POST's round trip timed with CLOCK_MONOTONIC from the
write of the request to the end of the response. It speaks HTTP/1.1 over asyncio streams, not
httpx, so the client adds little of its own time to each sample.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing as mp
import queue
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from bench.__main__ import fmt, percentile, relay, service
from bench.load import make_event

SCRIPTS = Path(__file__).parent / "wrk"
THREADS = 2
# Batches take long and queue behind one another at the store's one committer: a few
# connections keep it busy (requests arriving while one commits go together in the next) while
# the requests cut off in flight at the end of a run, which are not counted, stay few.
CONNECTIONS = {"single": 32, "batch": 4}
PER_REQUEST = {"single": 1, "batch": 500}
ACK_RATE = 500.0


# -- wrk -----------------------------------------------------------------------------------
def wrk_path() -> str:
    found = shutil.which("wrk")
    if found is None:
        raise RuntimeError("wrk not found: `make wrk` (as root) or `sudo apt-get install wrk`")
    return found


def run_wrk(url: str, token: str, kind: str, seconds: float, run_id: str) -> dict[str, Any]:
    """One wrk run of bench/wrk/{kind}.lua against url; the figures its done() hook prints."""
    command = [
        wrk_path(),
        f"--threads={THREADS}",
        f"--connections={CONNECTIONS[kind]}",
        f"--duration={max(1, round(seconds))}s",
        "--timeout=10s",
        f"--script={SCRIPTS / f'{kind}.lua'}",
        f"{url}/api/v1/events",
        "--",
        token,
        run_id,
    ]
    out = subprocess.run(command, capture_output=True, text=True, timeout=seconds + 60, check=False)
    line = next((x for x in out.stdout.splitlines() if x.startswith("WRK_JSON ")), None)
    if out.returncode != 0 or line is None:
        raise RuntimeError(f"wrk failed (exit {out.returncode}): {out.stderr or out.stdout}")
    figures: dict[str, Any] = json.loads(line.removeprefix("WRK_JSON "))
    seconds_run = figures["duration_us"] / 1e6
    figures.update(
        kind=kind,
        connections=CONNECTIONS[kind],
        run_id=run_id,
        events_per_s=figures["ok"] * figures["per_request"] / seconds_run,
        requests_per_s=figures["ok"] / seconds_run,
    )
    return figures


# -- counting what was stored ----------------------------------------------------------------
def stored_events(database_url: str, run_id: str) -> int:
    """Events of one run (ids RUN-...) in the service's database, read directly, read-only."""
    low, high = f"{run_id}-", f"{run_id}."  # '.' sorts right after '-': a prefix range
    sql = "SELECT count(*) FROM events WHERE agency = 'BENCH' AND event_id >= {} AND event_id < {}"
    scheme = database_url.split(":", 1)[0]
    if scheme.startswith("sqlite"):
        path = urlsplit(database_url).path.removeprefix("/")
        with sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=30) as db:
            return int(db.execute(sql.format("?", "?"), (low, high)).fetchone()[0])
    if scheme.startswith("postgresql"):
        import asyncpg

        async def count() -> int:
            dsn = "postgresql:" + database_url.split(":", 1)[1]
            conn = await asyncpg.connect(dsn, timeout=30)
            try:
                return int(await conn.fetchval(sql.format("$1", "$2"), low, high))
            finally:
                await conn.close()

        return asyncio.run(count())
    raise RuntimeError(f"cannot count events in {scheme} databases")


def verify(figures: dict[str, Any], stored: int) -> bool:
    per = figures["per_request"]
    acknowledged = figures["ok"] * per
    in_flight = figures["connections"] * per
    figures.update(stored=stored, acknowledged_events=acknowledged)
    good = acknowledged <= stored <= acknowledged + in_flight and stored % per == 0
    if not good:
        print(
            f"WARNING: {figures['kind']} ingest: {acknowledged} events acknowledged (200), "
            f"{stored} stored (expected {acknowledged} to {acknowledged + in_flight})",
            file=sys.stderr,
            flush=True,
        )
    return good


# -- the paced poster --------------------------------------------------------------------------
async def _read_response(reader: asyncio.StreamReader) -> tuple[int, bytes]:
    status_line = await reader.readline()
    if not status_line:
        raise ConnectionError("connection closed before a response")
    status = int(status_line.split()[1])
    length = None
    while (line := await reader.readline()) not in (b"\r\n", b""):
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value)
    if length is None:
        raise ConnectionError("response without Content-Length")
    return status, await reader.readexactly(length)


def paced_acks(url: str, token: str, rate: float, seconds: float, run_id: str, out: Any) -> None:
    """Post single events at `rate`/s for `seconds`; put (latencies_ms, statuses, lag_ms)."""
    try:
        import uvloop

        uvloop.install()
    except ImportError:
        pass
    split = urlsplit(url)
    host, port = split.hostname or "127.0.0.1", split.port or 80
    head = (
        f"POST /api/v1/events HTTP/1.1\r\nHost: {host}:{port}\r\n"
        f"Authorization: Bearer {token}\r\nContent-Type: application/json\r\n"
    )

    async def main() -> tuple[list[float], dict[int, int], float]:
        idle: list[tuple[asyncio.StreamReader, asyncio.StreamWriter]] = []
        opened: list[asyncio.StreamWriter] = []
        latencies: list[float] = []
        statuses: dict[int, int] = {}
        reconnects: list[int] = []

        async def connection() -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
            if idle:
                return idle.pop()
            reader, writer = await asyncio.open_connection(host, port)
            opened.append(writer)
            return reader, writer

        async def post(i: int) -> None:
            body = json.dumps(make_event(run_id, i)).encode()
            request = f"{head}Content-Length: {len(body)}\r\n\r\n".encode() + body
            reader, writer = await connection()
            for attempt in range(3):
                began = time.monotonic_ns()
                writer.write(request)
                try:
                    status, _ = await asyncio.wait_for(_read_response(reader), 10)
                    break
                except (ConnectionError, asyncio.IncompleteReadError):
                    # The server closed a pooled connection left idle past its keep-alive
                    # (uvicorn: 5 s): a client artefact. Resend on a new one (same id: a
                    # duplicate at worst) and time that request.
                    writer.close()
                    if attempt == 2:
                        raise
                    reconnects.append(i)
                    reader, writer = await asyncio.open_connection(host, port)
                    opened.append(writer)
            latencies.append((time.monotonic_ns() - began) / 1e6)
            statuses[status] = statuses.get(status, 0) + 1
            idle.append((reader, writer))

        for _ in range(4):  # warm connections: the samples time requests, not TCP handshakes
            idle.append(await connection())
        total = round(rate * seconds)
        lag = 0.0
        tasks = []
        began = time.monotonic()
        for i in range(total):
            due = began + i / rate
            await asyncio.sleep(max(0.0, due - time.monotonic()))
            lag = max(lag, time.monotonic() - due)
            tasks.append(asyncio.create_task(post(i)))
        await asyncio.gather(*tasks)
        for writer in opened:
            writer.close()
        return latencies, statuses, lag * 1000

    out.put(asyncio.run(asyncio.wait_for(main(), seconds + 60)))


def ack_latency(url: str, token: str, seconds: float, run_id: str) -> dict[str, Any]:
    ctx = mp.get_context("spawn")
    out = ctx.Queue()
    poster = ctx.Process(target=paced_acks, args=(url, token, ACK_RATE, seconds, run_id, out))
    poster.start()
    deadline = time.monotonic() + seconds + 90
    try:
        while True:
            try:
                latencies, statuses, lag_ms = out.get(timeout=1)
                break
            except queue.Empty:
                if not poster.is_alive() or time.monotonic() > deadline:
                    raise RuntimeError(
                        f"the ack poster failed (exit {poster.exitcode}); see its output above"
                    ) from None
    finally:
        poster.join(10)
        if poster.is_alive():
            poster.kill()
            poster.join()
    refused = sum(n for status, n in statuses.items() if status != 200)
    if refused:
        raise RuntimeError(f"ack poster: {refused} posts refused ({statuses})")
    return {
        "ack_p50_ms": percentile(latencies, 50),
        "ack_p99_ms": percentile(latencies, 99),
        "ack_max_ms": max(latencies),
        "ack_samples": len(latencies),
        "ack_rate_eps": ACK_RATE,
        "ack_poster_max_lag_ms": lag_ms,
    }


# -- the figures -----------------------------------------------------------------------------
def run(quick: bool, database_url: str | None = None) -> dict[str, Any]:
    seconds = 2.0 if quick else 10.0
    # Throughput counts acknowledged requests only; batches are long, so run them longer.
    durations = {"single": seconds, "batch": 3.0 if quick else 15.0}
    results: dict[str, Any] = {f"wrk_{kind}_s": s for kind, s in durations.items()}
    runs: dict[str, Any] = {}
    verified = True
    tag = uuid.uuid4().hex[:8]
    with tempfile.TemporaryDirectory() as tmp:
        db = database_url or f"sqlite+aiosqlite:///{tmp}/ingest.db"
        with service(db) as (url, adapter, _):
            ack_run = f"{tag}a"
            results.update(ack_latency(url, adapter, seconds, ack_run))
            if stored_events(db, ack_run) != results["ack_samples"]:
                verified = False
                print("WARNING: ack poster's events not all stored", file=sys.stderr, flush=True)
            for kind in ("single", "batch"):
                figures = run_wrk(url, adapter, kind, durations[kind], f"{tag}{kind[0]}")
                verified = verify(figures, stored_events(db, figures["run_id"])) and verified
                runs[kind] = figures
    with relay() as (relay_url, _, _):
        for kind in ("single", "batch"):
            runs[f"relay_{kind}"] = run_wrk(
                relay_url, "none", kind, durations[kind], f"{tag}r{kind[0]}"
            )
    for name, figures in runs.items():
        if figures["refused"] or figures["other"]:
            verified = False
            print(
                f"WARNING: {name}: {figures['refused']} refused, {figures['other']} other",
                file=sys.stderr,
                flush=True,
            )
    results.update(
        ingest_single_eps=runs["single"]["events_per_s"],
        ingest_batch_eps=runs["batch"]["events_per_s"],
        baseline_single_eps=runs["relay_single"]["events_per_s"],
        baseline_batch_eps=runs["relay_batch"]["events_per_s"],
        ingest_verified=verified,
    )
    for name, figures in runs.items():
        latency = figures["latency_us"]
        results[f"wrk_{name}_p50_ms"] = latency["p50"] / 1000
        results[f"wrk_{name}_p99_ms"] = latency["p99"] / 1000
        results[f"wrk_{name}_connections"] = figures["connections"]
        if "stored" in figures:
            results[f"wrk_{name}_acknowledged_events"] = figures["acknowledged_events"]
            results[f"wrk_{name}_stored_events"] = figures["stored"]
    results["wrk_batch_events"] = PER_REQUEST["batch"]
    return results


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.wrk")
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--database-url", help="default: a fresh SQLite file")
    args = parser.parse_args()
    r = run(args.quick, args.database_url)
    rows = [
        ("figure", "service", "bare relay", "target"),
        (
            "ingest, single-event POSTs",
            fmt(r["ingest_single_eps"], " ev/s"),
            fmt(r["baseline_single_eps"], " ev/s"),
            ">= 1,500 ev/s",
        ),
        (
            "  wrk latency p50 / p99",
            f"{fmt(r['wrk_single_p50_ms'])} / {fmt(r['wrk_single_p99_ms'], ' ms')}",
            f"{fmt(r['wrk_relay_single_p50_ms'])} / {fmt(r['wrk_relay_single_p99_ms'], ' ms')}",
            f"{r['wrk_single_connections']} connections",
        ),
        (
            f"ingest, batches of {r['wrk_batch_events']}",
            fmt(r["ingest_batch_eps"], " ev/s"),
            fmt(r["baseline_batch_eps"], " ev/s"),
            ">= 15,000 ev/s",
        ),
        (
            "  wrk latency p50 / p99",
            f"{fmt(r['wrk_batch_p50_ms'])} / {fmt(r['wrk_batch_p99_ms'], ' ms')}",
            f"{fmt(r['wrk_relay_batch_p50_ms'])} / {fmt(r['wrk_relay_batch_p99_ms'], ' ms')}",
            f"{r['wrk_batch_connections']} connections",
        ),
        (
            f"ack latency at {r['ack_rate_eps']:.0f} ev/s, p50 / p99",
            f"{fmt(r['ack_p50_ms'])} / {fmt(r['ack_p99_ms'], ' ms')}",
            "",
            "p99 <= 20 ms",
        ),
        ("every 200 stored", "yes" if r["ingest_verified"] else "NO", "", "yes"),
    ]
    widths = [max(len(row[i]) for row in rows) for i in range(4)]
    for row in rows:
        print("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip())
    single, batch = r["wrk_single_s"], r["wrk_batch_s"]
    print(f"(wrk: {THREADS} threads, {single:.0f} s single-event run, {batch:.0f} s batch run)")
    return 0 if r["ingest_verified"] else 1


if __name__ == "__main__":
    raise SystemExit(main())
