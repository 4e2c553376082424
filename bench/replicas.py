"""Cross-replica push latency next to same-replica latency.

    python -m bench.replicas [--quick] [--broker redis://127.0.0.1:6379/0]

Two service processes share a fresh PostgreSQL database and a broker (Redis by default, NATS with
--broker nats://...). Events are posted to replica A; one group of websocket panels is connected
to A (same replica), another to B (across the broker). Needs PostgreSQL at
TCPR_TEST_POSTGRES_URL (default 127.0.0.1:5432, database test).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing as mp
import os
import subprocess
import uuid
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import asyncpg

from bench.__main__ import TCPR, create_token, fmt, free_port, percentile, stop, wait_ready
from bench.load import paced_poster, panels_process

HERE = Path(__file__).parent
POSTGRES = os.environ.get(
    "TCPR_TEST_POSTGRES_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
)


def _admin(sql: str) -> None:
    async def run() -> None:
        conn = await asyncpg.connect(POSTGRES.replace("postgresql+asyncpg://", "postgresql://"))
        try:
            await conn.execute(sql)
        finally:
            await conn.close()

    asyncio.run(run())


@contextmanager
def cluster(broker: str):  # type: ignore[no-untyped-def]
    name = f"tcpr_bench_{uuid.uuid4().hex[:10]}"
    _admin(f'CREATE DATABASE "{name}"')
    env = {
        **os.environ,
        "TCPR_DATABASE_URL": f"{POSTGRES.rpartition('/')[0]}/{name}",
        "TCPR_BROKER_URL": broker,
        "TCPR_BROKER_CHANNEL": f"tcpr.bench.{name}",
    }
    procs: list[subprocess.Popen[bytes]] = []
    try:
        subprocess.run([*TCPR, "migrate"], env=env, check=True, capture_output=True)
        adapter = create_token(env, "adapter", "PUSH")
        supervisor = create_token(env, "supervisor", "PUSH")
        urls = []
        for _ in range(2):
            port = free_port()
            procs.append(
                subprocess.Popen(
                    [*TCPR, "serve", "--port", str(port), "--no-migrate", "--log-level", "warning"],
                    env=env,
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                )
            )
            urls.append(f"http://127.0.0.1:{port}")
        for url in urls:
            wait_ready(f"{url}/healthz")
        yield urls, adapter, supervisor
    finally:
        for proc in procs:
            stop(proc)
        _admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def measure(
    urls: list[str], adapter: str, supervisor: str, panels: int, rate: float, total: int
) -> dict[str, list[float]]:
    ctx = mp.get_context("spawn")
    ready = ctx.Queue()
    outs = {"same": ctx.Queue(), "cross": ctx.Queue()}
    listeners = [
        ctx.Process(
            target=panels_process,
            args=(
                urls[i].replace("http://", "ws://") + "/ws",
                supervisor,
                panels,
                total,
                ready,
                outs[group],
            ),
        )
        for i, group in ((0, "same"), (1, "cross"))
    ]
    for listener in listeners:
        listener.start()
    for _ in range(2 * panels):
        ready.get(timeout=60)
    poster = ctx.Process(target=paced_poster, args=(urls[0], adapter, rate, total))
    poster.start()
    poster.join()
    if poster.exitcode != 0:
        raise RuntimeError("the poster failed")
    results = {group: out.get(timeout=120) for group, out in outs.items()}
    for listener in listeners:
        listener.join()
    return results


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.replicas")
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--broker", default="redis://127.0.0.1:6379/0")
    args = parser.parse_args()
    panels, rate, total = (10, 50.0, 300) if args.quick else (50, 100.0, 1500)
    with cluster(args.broker) as (urls, adapter, supervisor):
        latencies = measure(urls, adapter, supervisor, panels, rate, total)
    result: dict[str, Any] = {
        "broker": args.broker.split("://")[0],
        "panels_per_replica": panels,
        "rate_eps": rate,
        "same_replica_p50_ms": percentile(latencies["same"], 50),
        "same_replica_p99_ms": percentile(latencies["same"], 99),
        "cross_replica_p50_ms": percentile(latencies["cross"], 50),
        "cross_replica_p99_ms": percentile(latencies["cross"], 99),
        "samples": {k: len(v) for k, v in latencies.items()},
        "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    print(
        f"push latency, 2 replicas on PostgreSQL + {result['broker']}, "
        f"{panels} panels each, {rate:.0f} ev/s posted to A"
    )
    for label, key in (
        ("same replica (panels on A)", "same"),
        ("cross replica (panels on B)", "cross"),
    ):
        p50, p99 = result[f"{key}_replica_p50_ms"], result[f"{key}_replica_p99_ms"]
        print(f"  {label}: p50 {fmt(p50, ' ms')}, p99 {fmt(p99, ' ms')}")
    (HERE / "results-replicas.json").write_text(json.dumps(result, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
