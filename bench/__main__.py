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
from bench.load import paced_poster, panels_process

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


TCPR = [sys.executable, "-m", "service.cli"]


def create_token(env: dict[str, str], role: str, *agencies: str) -> str:
    """A bearer token from `tcpr token create` (which migrates the database first)."""
    scope = [arg for agency in agencies for arg in ("--agency", agency)]
    out = subprocess.run(
        [*TCPR, "token", "create", "--role", role, *scope],
        env=env,
        check=True,
        capture_output=True,
        text=True,
        timeout=120,
    )
    return out.stdout.strip()


@contextmanager
def service(database_url: str):  # type: ignore[no-untyped-def]
    env = {**os.environ, "TCPR_DATABASE_URL": database_url}
    # Panels watch PUSH only: the ingest load (BENCH) is not theirs to receive.
    adapter = create_token(env, "adapter", "BENCH", "PUSH")
    supervisor = create_token(env, "supervisor", "PUSH")
    port = free_port()
    proc = subprocess.Popen(
        [*TCPR, "serve", "--port", str(port), "--log-level", "warning"],
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
def push(
    url: str, post_token: str, watch_token: str, panels: int, rate: float, total: int
) -> list[float]:
    """CAD POST → websocket latencies: `panels` panels (spread over up to four processes, so one
    reader process is not the bottleneck) receive `total` events posted at `rate` per second."""
    ctx = mp.get_context("spawn")
    out, ready = ctx.Queue(), ctx.Queue()
    ws_url = url.replace("http://", "ws://") + "/ws"
    groups = min(4, max(1, panels // 50))
    sizes = [panels // groups + (1 if i < panels % groups else 0) for i in range(groups)]
    listeners = [
        ctx.Process(target=panels_process, args=(ws_url, watch_token, n, total, ready, out))
        for n in sizes
    ]
    for listener in listeners:
        listener.start()
    for _ in range(panels):
        ready.get(timeout=120)
    poster = ctx.Process(target=paced_poster, args=(url, post_token, rate, total))
    poster.start()
    poster.join()
    if poster.exitcode != 0:
        raise RuntimeError(f"the poster failed (exit {poster.exitcode}); see its output above")
    latencies: list[float] = []
    for _ in listeners:
        latencies.extend(out.get(timeout=300))
    for listener in listeners:
        listener.join(30)
    return latencies


def fmt(value: float | None, unit: str = "") -> str:
    return "—" if value is None else f"{value:,.1f}{unit}"


# (key, label, unit, target test, target text): the targets, checked on every run.
TARGETS: list[tuple[str, str, str, Any, str]] = [
    (
        "ingest_single_eps",
        "durable ingest, single-event POSTs",
        " ev/s",
        lambda v, r: v >= 1500,
        ">= 1,500",
    ),
    ("ack_p99_ms", "  ack p99 at 500 ev/s", " ms", lambda v, r: v <= 20, "<= 20 ms"),
    (
        "ingest_batch_eps",
        "durable ingest, batches of 500",
        " ev/s",
        lambda v, r: v >= 15000,
        ">= 15,000",
    ),
    ("push_p50_ms", "push latency CAD POST -> panels, p50", " ms", None, ""),
    (
        "push_p99_ms",
        "  p99",
        " ms",
        lambda v, r: v <= 25 and v <= 2 * (r.get("baseline_push_p99_ms") or 0),
        "<= 25 ms, <= 2x relay",
    ),
    ("alert_lateness_p99_ms", "alert lateness p99", " ms", lambda v, r: v <= 100, "<= 100 ms"),
    (
        "rss_mib",
        "resident memory, live calls + panels",
        " MiB",
        lambda v, r: v <= 300,
        "<= 300 MiB",
    ),
    (
        "slow_panel_p99_shift_pct",
        "slow panels: others' p99 shift",
        " %",
        lambda v, r: v <= 10,
        "<= 10 %",
    ),
    (
        "recovery_lost_events",
        "kill -9 drill: acknowledged events lost",
        "",
        lambda v, r: v == 0,
        "0",
    ),
    ("recovery_ready_s", "  ready again after kill (max)", " s", lambda v, r: v <= 3, "<= 3 s"),
    (
        "panels_resynced_s",
        "  panels resynced after kill (max)",
        " s",
        lambda v, r: v <= 5,
        "<= 5 s",
    ),
    ("alerts_doubled", "  alerts doubled", "", lambda v, r: v == 0, "0"),
    ("alerts_missed", "  alerts missed", "", lambda v, r: v == 0, "0"),
    ("measures_1m_s", "measures of a year over stored calls", " s", lambda v, r: v <= 3, "<= 3 s"),
]
BASELINES = {
    "ingest_single_eps": ("baseline_single_eps", " req/s (relay)"),
    "ingest_batch_eps": ("baseline_batch_eps", " ev/s (relay)"),
    "push_p50_ms": ("baseline_push_p50_ms", " ms (relay)"),
    "push_p99_ms": ("baseline_push_p99_ms", " ms (relay)"),
    "rss_mib": ("rss_idle_mib", " MiB (idle service)"),
    "measures_1m_s": ("measures_reference_s", " s (fetch all + pure measures)"),
}


def table(results: dict[str, Any]) -> list[tuple[str, str, str, str, str]]:
    rows = []
    for key, label, unit, test, target in TARGETS:
        value = results.get(key)
        base_key, base_unit = BASELINES.get(key, ("", ""))
        baseline = fmt(results.get(base_key), base_unit) if base_key else ""
        met = "" if test is None or value is None else ("yes" if test(value, results) else "NO")
        rows.append((label, fmt(value, unit), baseline, target, met))
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m bench")
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--database-url", help="default: a fresh SQLite file for each part")
    args = parser.parse_args()
    quick = args.quick
    from bench import live, recovery, wrk

    results: dict[str, Any] = {"quick": quick}
    errors: dict[str, str] = {}

    def part(name: str, work: Any) -> None:
        began = time.monotonic()
        print(f"-- {name} ...", flush=True)
        try:
            results.update(work())
        except Exception as exc:  # one part failing must not lose the others' figures
            errors[name] = f"{type(exc).__name__}: {exc}"
            print(f"   {name} failed: {errors[name]}", file=sys.stderr, flush=True)
        print(f"   {time.monotonic() - began:.0f} s", flush=True)

    part("ingest (wrk)", lambda: wrk.run(quick, args.database_url))
    part("push latency", lambda: push_figures(quick, args.database_url))
    part("live calls: alerts, memory, slow panels", lambda: live.run(quick, args.database_url))
    part("kill -9 drill", lambda: recovery.run(quick, args.database_url))
    part("measures", lambda: measures_figures(quick))
    results.update(
        database=(args.database_url or "sqlite").split(":", 1)[0],
        measured_at=datetime.now(UTC).isoformat(timespec="seconds"),
        machine=f"{os.cpu_count()} cores, {sys.platform}, Python {sys.version.split()[0]}",
        errors=errors,
    )
    rows = table(results)
    header = ("figure", "tcpr-assist", "baseline", "target", "met")
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(5)]
    for row in [header, *rows]:
        print("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip())
    (HERE / "results.json").write_text(json.dumps(results, indent=2) + "\n")
    print(f"\nwritten {HERE / 'results.json'}")
    return 1 if errors else 0


def push_figures(quick: bool, database_url: str | None) -> dict[str, Any]:
    """Push latency through the service and through the bare relay, same load, same run."""
    panels, rate, total = (50, 200.0, 300) if quick else (500, 200.0, 2000)
    with tempfile.TemporaryDirectory() as tmp:
        db = database_url or f"sqlite+aiosqlite:///{tmp}/push.db"
        with service(db) as (url, adapter, supervisor):
            through_service = push(url, adapter, supervisor, panels, rate, total)
    with relay() as (relay_url, _, _):
        through_relay = push(relay_url, "none", "none", panels, rate, total)
    return {
        "push_p50_ms": percentile(through_service, 50),
        "push_p99_ms": percentile(through_service, 99),
        "push_samples": len(through_service),
        "baseline_push_p50_ms": percentile(through_relay, 50),
        "baseline_push_p99_ms": percentile(through_relay, 99),
        "panels": panels,
        "push_rate_eps": rate,
    }


def measures_figures(quick: bool) -> dict[str, Any]:
    """Measures over 1,000,000 stored calls (100,000 with --quick), in a database of their own."""
    measured = measures_1m.run(100_000 if quick else 1_000_000)
    return {
        "measures_1m_s": measured["sql_s"],
        "measures_trend_s": measured["trend_s"],
        "measures_reference_s": measured["reference_s"],
        "measures_calls": measured["calls"],
    }


if __name__ == "__main__":
    raise SystemExit(main())
