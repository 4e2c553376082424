"""Run the benchmarks and print a table; write bench/results.json.

    python -m bench            full size
    python -m bench --quick    a small version, under a minute

The service runs as its own process (one uvicorn worker, SQLite by default, PostgreSQL with
--database-url), the bare relay of bench/relay.py as another; load generators and websocket
panels are further processes on loopback. Latency is measured with CLOCK_MONOTONIC, which every
process on the machine shares: the sender writes its send time into the event, the panel
subtracts it from its receive time.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import socket
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

from bench import measures_1m
from bench.load import paced_poster, panels_process, post_load

HERE = Path(__file__).parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def percentile(values: list[float], p: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def wait_ready(url: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if httpx.get(url, timeout=1).status_code < 500:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"{url} did not come up")


def stop(proc: subprocess.Popen[bytes]) -> None:
    proc.terminate()
    try:
        proc.wait(10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


@contextmanager
def service(database_url: str):  # type: ignore[no-untyped-def]
    env = {**os.environ, "TCPR_DATABASE_URL": database_url}
    tcpr = [sys.executable, "-m", "service.cli"]

    def token(role: str, *agencies: str) -> str:
        scope = [arg for agency in agencies for arg in ("--agency", agency)]
        out = subprocess.run(
            [*tcpr, "token", "create", "--role", role, *scope],
            env=env,
            check=True,
            capture_output=True,
            text=True,
        )
        return out.stdout.strip()

    # Panels watch PUSH only: the ingest load (BENCH) is not theirs to receive.
    adapter, supervisor = token("adapter", "BENCH", "PUSH"), token("supervisor", "PUSH")
    port = free_port()
    proc = subprocess.Popen(
        [*tcpr, "serve", "--port", str(port), "--log-level", "warning"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_ready(f"http://127.0.0.1:{port}/healthz")
        yield f"http://127.0.0.1:{port}", adapter, supervisor
    finally:
        stop(proc)


@contextmanager
def relay():  # type: ignore[no-untyped-def]
    port = free_port()
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "bench.relay:app",
            "--port",
            str(port),
            "--log-level",
            "warning",
            "--ws",
            "websockets-sansio",
        ],
        cwd=HERE.parent,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_ready(f"http://127.0.0.1:{port}/docs")
        yield f"http://127.0.0.1:{port}", "none", "none"
    finally:
        stop(proc)


# -- measurements ----------------------------------------------------------------------------
def ingest(url: str, token: str, total: int, batch: int, concurrency: int) -> dict[str, Any]:
    ctx = mp.get_context("spawn")
    out = ctx.Queue()
    proc = ctx.Process(target=post_load, args=(url, token, total, batch, concurrency, out))
    proc.start()
    result = out.get(timeout=600)
    proc.join()
    return result  # type: ignore[no-any-return]


def push(
    url: str, post_token: str, watch_token: str, panels: int, rate: float, total: int
) -> list[float]:
    ctx = mp.get_context("spawn")
    out, ready = ctx.Queue(), ctx.Queue()
    ws_url = url.replace("http://", "ws://") + "/ws"
    listener = ctx.Process(
        target=panels_process, args=(ws_url, watch_token, panels, total, ready, out)
    )
    listener.start()
    for _ in range(panels):
        ready.get(timeout=60)
    poster = ctx.Process(target=paced_poster, args=(url, post_token, rate, total))
    poster.start()
    poster.join()
    if poster.exitcode != 0:
        raise RuntimeError(f"the poster failed (exit {poster.exitcode}); see its output above")
    latencies = out.get(timeout=120)
    listener.join()
    return latencies  # type: ignore[no-any-return]


def fmt(value: float | None, unit: str = "") -> str:
    return "—" if value is None else f"{value:,.1f}{unit}"


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m bench")
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--database-url", help="default: a fresh SQLite file")
    args = parser.parse_args()
    size = {
        "single": 1500 if args.quick else 6000,
        "batch_total": 20000 if args.quick else 100000,
        "panels": 50 if args.quick else 500,
        "push_events": 400 if args.quick else 2000,
        "rate": 200.0,
    }
    with tempfile.TemporaryDirectory() as tmp:
        db = args.database_url or f"sqlite+aiosqlite:///{tmp}/bench.db"
        results: dict[str, Any] = {"quick": args.quick, "database": db.split(":", 1)[0]}
        with service(db) as (url, adapter, supervisor):
            single = ingest(url, adapter, size["single"], 1, 16)
            batched = ingest(url, adapter, size["batch_total"], 500, 4)
            service_push = push(
                url, adapter, supervisor, size["panels"], size["rate"], size["push_events"]
            )
        with relay() as (relay_url, _, _):
            relay_single = ingest(relay_url, "none", size["single"], 1, 16)
            relay_push = push(
                relay_url, "none", "none", size["panels"], size["rate"], size["push_events"]
            )

    # Measures over stored calls: 1,000,000 (100,000 with --quick) in a database of their own.
    measured = measures_1m.run(100_000 if args.quick else 1_000_000)
    results.update(
        measures_1m_s=measured["sql_s"],
        measures_trend_s=measured["trend_s"],
        measures_reference_s=measured["reference_s"],
        measures_calls=measured["calls"],
        ingest_single_eps=single["events_per_s"],
        ack_p50_ms=percentile(single["ack_ms"], 50),
        ack_p99_ms=percentile(single["ack_ms"], 99),
        ingest_batch_eps=batched["events_per_s"],
        baseline_single_eps=relay_single["events_per_s"],
        push_p50_ms=percentile(service_push, 50),
        push_p99_ms=percentile(service_push, 99),
        push_samples=len(service_push),
        baseline_push_p50_ms=percentile(relay_push, 50),
        baseline_push_p99_ms=percentile(relay_push, 99),
        panels=size["panels"],
        push_rate_eps=size["rate"],
        measured_at=datetime.now(UTC).isoformat(timespec="seconds"),
        machine=f"{os.cpu_count()} cores, {sys.platform}, Python {sys.version.split()[0]}",
    )
    rows = [
        (
            "durable ingest, single-event POSTs",
            fmt(results["ingest_single_eps"], " ev/s"),
            fmt(results["baseline_single_eps"], " req/s (relay, same client)"),
        ),
        (
            "  ack latency p50 / p99",
            f"{fmt(results['ack_p50_ms'])} / {fmt(results['ack_p99_ms'], ' ms')}",
            "",
        ),
        ("durable ingest, batches of 500", fmt(results["ingest_batch_eps"], " ev/s"), ""),
        (
            f"push latency, {size['panels']} panels, {size['rate']:.0f} ev/s, p50",
            fmt(results["push_p50_ms"], " ms"),
            fmt(results["baseline_push_p50_ms"], " ms (relay)"),
        ),
        (
            "  p99",
            fmt(results["push_p99_ms"], " ms"),
            fmt(results["baseline_push_p99_ms"], " ms (relay)"),
        ),
        (
            f"measures of a year, {measured['calls']:,} stored calls",
            f"{measured['sql_s']:.3f} s",
            f"{measured['reference_s']:.3f} s (fetch all + pure measures)",
        ),
        ("  monthly trend, 12 months", f"{measured['trend_s']:.3f} s", ""),
    ]
    width = max(len(r[0]) for r in rows)
    print(f"{'figure':<{width}}  {'tcpr-assist':>18}  baseline")
    for name, value, baseline in rows:
        print(f"{name:<{width}}  {value:>18}  {baseline}")
    (HERE / "results.json").write_text(json.dumps(results, indent=2) + "\n")
    print(f"\nwritten {HERE / 'results.json'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
