"""Live calls: alert lateness, resident memory with panels connected, slow-panel isolation.

    python -m bench.live [--quick] [--database-url URL]

1. Alert lateness. N live calls (10,000; 500 with --quick) are posted in batches of 500 (earliest
   deadline first), T0 = start + LEAD - 60 s + uniform(0, WINDOW): their aha-2020 alert deadlines
   (`recognition_due` at T0 + 60 s, `recognition_overdue` at T0 + 90 s, DESIGN.md §4) fall after
   the posting is done. Full size (LEAD 10 s, WINDOW 30 s) waits for both alerts of every call;
   --quick (LEAD 2 s, WINDOW 3 s) for `recognition_due` only, and checks that no
   `recognition_overdue` (due 30 s later, after the run) arrives early. A supervisor panel of
   every agency (its own process) stamps each `alert` message with `time.time()` on receipt;
   lateness = receipt - (T0 + threshold), wall clock, same machine. Each watched alert must arrive
   exactly once (`live_alerts_missing`, `live_alerts_doubled`). `alert_hub_lag_*` is the part of
   the lateness spent inside the service (the message's `fired_at` minus the deadline).
2. Memory. With those calls live, P panels (2,000; 200) connect from four processes, each a
   supervisor of one agency: the calls are spread over N/100 agencies, 100 live calls each (one
   agency with 10,000 live calls would send every panel a 9 MB snapshot; that snapshot's size and
   time are reported, from one panel of every agency). Once every panel has its snapshot, the
   service's VmRSS (and peak VmHWM) is read from /proc; the baseline is the same process idle.
3. Slow panels. A fresh service; P panels (500; 50) of agency PUSH receive bench.load.paced_poster's
   200 events/s stream (the push-latency load of `python -m bench`), after a one-second warm-up.
   Run 1: every panel reads. Run 2: 10 % of the panels stop reading after their snapshot (TCP
   connection open, 4 KiB receive buffer, nothing read); the readers' p99 is compared with run 1.
   Then a flood of 6,000 events (more than a stalled socket's kernel buffers and its 1,000-message
   queue hold) is posted, and the stalled panels read again: each one the hub cut off gets a
   bounded backlog, then close code 4008. The service's VmRSS is read before and after.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing as mp
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import httpx

from bench.__main__ import TCPR, free_port, percentile, stop, wait_ready
from bench.live_load import alert_watcher, drain_queue, holding_panels, mixed_panels
from bench.load import make_event, paced_poster

THRESHOLDS = {"recognition_due": 60.0, "recognition_overdue": 90.0}  # aha-2020, DESIGN.md §4
BATCH = 500
CALLS_PER_AGENCY = 100
FLOOD_EVENTS = 6_000  # messages of about 1.2 KB: over 4 MiB + 1,000 queued
STALL_S = 10.0  # no alert for this long after the last deadline: the rest are missing


@dataclass(frozen=True)
class Size:
    calls: int
    panels: int
    lead_s: float  # from the start of posting to the first deadline
    window_s: float  # T0 = start + lead - 60 s + uniform(0, window)
    watched: tuple[str, ...]  # the alerts the run waits for
    slow_panels_total: int
    push_events: int
    push_rate: float = 200.0
    groups: int = 4


QUICK = Size(
    calls=500,
    panels=100,
    lead_s=2.0,
    window_s=3.0,
    watched=("recognition_due",),
    slow_panels_total=50,
    push_events=300,
)
FULL = Size(
    calls=10_000,
    panels=2_000,
    lead_s=10.0,
    window_s=30.0,
    watched=("recognition_due", "recognition_overdue"),
    slow_panels_total=500,
    push_events=3_000,
)


_BEGAN = time.monotonic()


def log(message: str) -> None:
    print(f"   [{time.monotonic() - _BEGAN:5.1f} s] {message}", file=sys.stderr, flush=True)


# -- the service under test ----------------------------------------------------------------------
@dataclass
class Service:
    url: str
    pid: int
    tokens: dict[str, str] = field(default_factory=dict)

    @property
    def ws_url(self) -> str:
        return self.url.replace("http://", "ws://") + "/ws"

    def memory_mib(self) -> tuple[float, float]:
        """(VmRSS, VmHWM) of the service process, MiB."""
        status: dict[str, str] = {}
        with open(f"/proc/{self.pid}/status") as f:
            for line in f:
                name, _, value = line.partition(":")
                status[name] = value
        return (int(status["VmRSS"].split()[0]) / 1024, int(status["VmHWM"].split()[0]) / 1024)


def create_tokens(database_url: str, specs: dict[str, tuple[str, list[str]]]) -> dict[str, str]:
    """Tokens straight through the service's token store, many in one go (the CLI would start
    a process per token)."""
    from service.store.db import create_engine, sessionmaker
    from service.store.tokens import TokenStore

    async def make() -> dict[str, str]:
        engine = create_engine(database_url)
        try:
            store = TokenStore(sessionmaker(engine))
            return {
                name: await store.create(role, agencies, f"bench-{name}")
                for name, (role, agencies) in specs.items()
            }
        finally:
            await engine.dispose()

    return asyncio.run(make())


@contextmanager
def served(database_url: str, specs: dict[str, tuple[str, list[str]]]):  # type: ignore[no-untyped-def]
    env = {**os.environ, "TCPR_DATABASE_URL": database_url}
    subprocess.run([*TCPR, "migrate"], env=env, check=True, capture_output=True, timeout=120)
    tokens = create_tokens(database_url, specs)
    port = free_port()
    proc = subprocess.Popen(
        [*TCPR, "serve", "--port", str(port), "--no-migrate", "--log-level", "warning"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_ready(f"http://127.0.0.1:{port}/healthz", timeout=120)
        yield Service(f"http://127.0.0.1:{port}", proc.pid, tokens)
    finally:
        stop(proc)


@contextmanager
def children():  # type: ignore[no-untyped-def]
    """Processes started inside are always ended, however the block is left."""
    started: list[Any] = []
    try:
        yield started
    finally:
        for proc in started:
            proc.join(5 if proc.exitcode is None else 0)
            if proc.is_alive():
                proc.terminate()
                proc.join(5)
            if proc.is_alive():
                proc.kill()
                proc.join()


def wait_ready_panels(ready: Any, count: int, timeout: float, what: str) -> list[Any]:
    reports = drain_queue(ready, count, timeout)
    errors = [detail for status, detail in reports if status != "ok"]
    if errors or len(reports) < count:
        raise RuntimeError(
            f"{what}: {len(reports) - len(errors)} of {count} ready within {timeout:.0f} s"
            + (f"; {len(errors)} failed, e.g. {errors[0]}" if errors else "")
        )
    return [detail for _, detail in reports]


def raise_fd_limit(needed: int) -> None:
    """Panels and the service (a child, which inherits the limit) each need a descriptor per
    socket."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != resource.RLIM_INFINITY and soft < needed:
        target = hard if hard == resource.RLIM_INFINITY else min(hard, max(needed, soft))
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
        if target != resource.RLIM_INFINITY and target < needed:
            print(f"warning: open files limited to {target}, need {needed}", file=sys.stderr)


# -- 1. alert lateness ---------------------------------------------------------------------------
def post_calls(
    service: Service, size: Size, agencies: list[str], run_id: str
) -> tuple[dict[tuple[str, str], float], dict[str, float], float]:
    """Posts the calls; returns each watched alert's deadline (epoch s), each call's
    acknowledgement time, and the time posting took."""
    start = time.time()
    first = THRESHOLDS["recognition_due"]
    t0s = {
        f"{run_id}-{i}": start + size.lead_s - first + random.uniform(0, size.window_s)
        for i in range(size.calls)
    }
    order = sorted(t0s, key=t0s.__getitem__)  # earliest deadlines first
    events = [
        {
            "event_id": f"{call_id}-r",
            "call_id": call_id,
            "agency": agencies[i % len(agencies)],
            "kind": "call.received",
            "at": datetime.fromtimestamp(t0s[call_id], UTC).isoformat(),
            "data": {"psap": "bench"},
        }
        for i, call_id in enumerate(order)
    ]
    acked: dict[str, float] = {}
    headers = {"Authorization": f"Bearer {service.tokens['adapter']}"}
    with httpx.Client(base_url=service.url, headers=headers, timeout=60) as client:
        for b in range(0, len(events), BATCH):
            batch = events[b : b + BATCH]
            response = client.post("/api/v1/events", json=batch)
            if response.status_code != 200:
                raise RuntimeError(f"posting calls: HTTP {response.status_code} {response.text}")
            now = time.time()
            acked.update((e["call_id"], now) for e in batch)
    deadlines = {
        (call_id, name): t0 + threshold
        for call_id, t0 in t0s.items()
        for name, threshold in THRESHOLDS.items()
        if name in size.watched
    }
    return deadlines, acked, time.time() - start


def wait_for_alerts(count: Any, expected: int, last_deadline: float, watcher: Any) -> None:
    """Until every alert has arrived, or none has for STALL_S after the last deadline; then a
    little longer, for a doubled one."""
    seen, progress = -1, time.monotonic()
    while watcher.is_alive():
        time.sleep(0.2)
        if count.value != seen:
            seen, progress = count.value, time.monotonic()
        if seen >= expected:
            break
        if time.time() > last_deadline and time.monotonic() - progress > STALL_S:
            break
    time.sleep(2.0)


def alert_lateness(service: Service, size: Size, agencies: list[str]) -> dict[str, Any]:
    ctx = mp.get_context("spawn")
    ready, out, stop_watch = ctx.Queue(), ctx.Queue(), ctx.Event()
    count = ctx.Value("i", 0, lock=False)
    run_id = uuid.uuid4().hex[:8]
    with children() as procs:
        watcher = ctx.Process(
            target=alert_watcher,
            args=(service.ws_url, service.tokens["all"], ready, stop_watch, count, out),
        )
        procs.append(watcher)
        watcher.start()
        wait_ready_panels(ready, 1, 60, "the alert panel")
        deadlines, acked, post_s = post_calls(service, size, agencies, run_id)
        log(f"{size.calls:,} calls posted in {post_s:.1f} s; waiting for their alerts")
        wait_for_alerts(count, len(deadlines), max(deadlines.values()), watcher)
        stop_watch.set()
        watched = drain_queue(out, 1, 120)
        if not watched:
            raise RuntimeError("the alert panel did not report")
    result = watched[0]
    if result["error"]:
        raise RuntimeError(f"the alert panel failed: {result['error']}")

    seen = Counter((call_id, name) for call_id, name, _, _ in result["alerts"])
    ours = {key: n for key, n in seen.items() if key in deadlines}
    # Alerts of these calls the run did not wait for (--quick: recognition_overdue, which falls
    # due after the run): none may arrive.
    unexpected = sum(
        n for key, n in seen.items() if key[0].startswith(f"{run_id}-") and key not in ours
    )
    lateness: list[float] = []
    by_name: dict[str, list[float]] = {name: [] for name in THRESHOLDS}
    on_arrival = 0
    hub_lag: list[float] = []  # deadline -> the service's hub building the alert message
    firsts: dict[tuple[str, str], tuple[float, str | None]] = {}
    for call_id, name, received, fired_at in result["alerts"]:
        firsts.setdefault((call_id, name), (received, fired_at))
    for (call_id, name), (received, fired_at) in firsts.items():
        deadline = deadlines.get((call_id, name))
        if deadline is None:
            continue
        if deadline < acked[call_id]:
            on_arrival += 1  # already due when the call was stored: fired on arrival, not timed
            continue
        ms = (received - deadline) * 1000
        lateness.append(ms)
        by_name[name].append(ms)
        if fired_at:
            hub_lag.append((datetime.fromisoformat(fired_at).timestamp() - deadline) * 1000)
    return {
        "alert_lateness_p50_ms": percentile(lateness, 50),
        "alert_lateness_p99_ms": percentile(lateness, 99),
        "alert_lateness_max_ms": max(lateness, default=None),
        "alert_lateness_min_ms": min(lateness, default=None),
        "alert_lateness_samples": len(lateness),
        **{f"alert_lateness_p99_{name}_ms": percentile(v, 99) for name, v in by_name.items()},
        "alert_hub_lag_p50_ms": percentile(hub_lag, 50),
        "alert_hub_lag_p99_ms": percentile(hub_lag, 99),
        "live_calls": size.calls,
        "live_agencies": len(agencies),
        "live_calls_post_s": post_s,
        "live_alerts_expected": len(deadlines),
        "live_alerts_fired": sum(ours.values()),
        "live_alerts_on_arrival": on_arrival,
        "live_alerts_unexpected": unexpected,
        "live_alerts_watched": list(size.watched),
        "live_alerts_missing": len(deadlines) - len(ours),
        "live_alerts_doubled": sum(n - 1 for n in ours.values()),
    }


# -- 2. memory -----------------------------------------------------------------------------------
def groups_of(total: int, groups: int) -> list[int]:
    return [total // groups + (1 if i < total % groups else 0) for i in range(groups)]


def snapshot_of_everything(service: Service) -> tuple[int, float]:
    """(bytes, seconds from auth to the whole snapshot) for one panel of every agency."""
    import websockets.sync.client as ws_sync

    with ws_sync.connect(service.ws_url, max_size=None, open_timeout=30) as ws:
        began = time.monotonic()
        ws.send(json.dumps({"type": "auth", "token": service.tokens["all"]}))
        snapshot = ws.recv(timeout=120)
        return len(snapshot), time.monotonic() - began


def memory(service: Service, size: Size, agencies: list[str]) -> dict[str, Any]:
    snapshot_bytes, snapshot_s = snapshot_of_everything(service)
    ctx = mp.get_context("spawn")
    ready, out, release = ctx.Queue(), ctx.Queue(), ctx.Event()
    rss_calls, _ = service.memory_mib()
    tokens = [service.tokens[a] for a in agencies]
    limit = 60 + size.panels * 0.1
    began = time.monotonic()
    with children() as procs:
        first = 0
        for n in groups_of(size.panels, size.groups):
            mine = [tokens[(first + j) % len(tokens)] for j in range(n)]
            first += n
            procs.append(
                ctx.Process(
                    target=holding_panels,
                    args=(service.ws_url, mine, ready, release, out, limit),
                )
            )
            procs[-1].start()
        snapshots = wait_ready_panels(ready, size.panels, limit, "memory panels")
        connect_s = time.monotonic() - began
        log(f"{size.panels:,} panels hold their snapshots ({connect_s:.1f} s)")
        time.sleep(1.0)  # let the sends of the last snapshots finish
        rss, peak = service.memory_mib()
        release.set()
        still_open = drain_queue(out, len(procs), 60)
    return {
        "rss_mib": rss,
        "rss_peak_mib": peak,
        "rss_calls_mib": rss_calls,
        "memory_panels": size.panels,
        "memory_panels_open": sum(still_open),
        "memory_panels_connect_s": connect_s,
        "memory_snapshot_kib": sum(snapshots) / len(snapshots) / 1024,
        "snapshot_all_calls_mib": snapshot_bytes / 2**20,
        "snapshot_all_calls_ms": snapshot_s * 1000,
    }


# -- 3. slow panels ------------------------------------------------------------------------------
def end_live_calls(service: Service) -> int:
    """End every live call of agency PUSH (the previous stream's), so their alerts do not fire
    into the next run."""
    import websockets.sync.client as ws_sync

    with ws_sync.connect(service.ws_url, max_size=None, open_timeout=30) as ws:
        ws.send(json.dumps({"type": "auth", "token": service.tokens["push_watch"]}))
        snapshot = json.loads(ws.recv(timeout=60))
    calls = [c["call_id"] for c in snapshot["calls"]]
    now = datetime.now(UTC).isoformat()
    headers = {"Authorization": f"Bearer {service.tokens['push_post']}"}
    with httpx.Client(base_url=service.url, headers=headers, timeout=60) as client:
        for b in range(0, len(calls), BATCH):
            batch = [
                {
                    "event_id": f"{c}-bench-end",
                    "call_id": c,
                    "agency": "PUSH",
                    "kind": "call.ended",
                    "at": now,
                    "data": {},
                }
                for c in calls[b : b + BATCH]
            ]
            response = client.post("/api/v1/events", json=batch)
            if response.status_code != 200:
                raise RuntimeError(f"ending calls: HTTP {response.status_code} {response.text}")
    return len(calls)


def flood(service: Service) -> None:
    """More than a stalled panel's kernel buffers (up to tcp_wmem's 4 MiB) and its queue
    (TCPR_WS_QUEUE_LIMIT, 1,000 messages) hold, as fast as the service takes it: every stalled
    panel must overflow and be cut off."""
    run_id = uuid.uuid4().hex[:8]
    headers = {"Authorization": f"Bearer {service.tokens['push_post']}"}
    with httpx.Client(base_url=service.url, headers=headers, timeout=60) as client:
        for b in range(0, FLOOD_EVENTS, BATCH):
            batch = [make_event(run_id, i, agency="PUSH") for i in range(b, b + BATCH)]
            response = client.post("/api/v1/events", json=batch)
            if response.status_code != 200:
                raise RuntimeError(f"flood: HTTP {response.status_code} {response.text}")


def stream(service: Service, size: Size, stalled_total: int) -> dict[str, Any]:
    """One run of paced_poster's stream to size.slow_panels_total panels, `stalled_total` of
    which stop reading after their snapshot."""
    end_live_calls(service)
    ctx = mp.get_context("spawn")
    ready, out, drain = ctx.Queue(), ctx.Queue(), ctx.Event()
    groups = min(size.groups, max(1, size.slow_panels_total // 50))
    sizes = groups_of(size.slow_panels_total, groups)
    stalled = groups_of(stalled_total, groups)
    with children() as procs:
        for n, s in zip(sizes, stalled, strict=True):
            procs.append(
                ctx.Process(
                    target=mixed_panels,
                    args=(
                        service.ws_url,
                        service.tokens["push_watch"],
                        n - s,
                        s,
                        size.push_events,
                        ready,
                        drain,
                        out,
                    ),
                )
            )
            procs[-1].start()
        wait_ready_panels(ready, size.slow_panels_total, 120, "stream panels")
        log(f"{size.slow_panels_total} panels ({stalled_total} stalled) ready; streaming")
        rss_before, _ = service.memory_mib()
        poster = ctx.Process(
            target=paced_poster,
            args=(service.url, service.tokens["push_post"], size.push_rate, size.push_events),
        )
        procs.append(poster)
        poster.start()
        poster.join(size.push_events / size.push_rate + 120)
        if poster.exitcode != 0:
            raise RuntimeError(f"the poster failed (exit {poster.exitcode})")
        time.sleep(0.5)
        rss_after, _ = service.memory_mib()
        rss_flood = None
        if stalled_total:
            flood(service)
            time.sleep(1.0)
            rss_flood, _ = service.memory_mib()
        drain.set()
        reports = drain_queue(out, len(procs) - 1, 120)
        log("stream done")
    if len(reports) < len(procs) - 1:
        raise RuntimeError("a panel process did not report")
    errors = [e for r in reports for e in r["errors"]]
    if errors:
        raise RuntimeError(f"{len(errors)} stream panels failed, e.g. {errors[0]}")
    sizes_seen = [r["message_bytes"] for r in reports if r["message_bytes"]]
    return {
        "latencies": [ms for r in reports for ms in r["latencies"]],
        "stalled": [s for r in reports for s in r["stalled"]],
        "rss_before": rss_before,
        "rss_after": rss_after,
        "rss_flood": rss_flood,
        "message_bytes": sum(sizes_seen) / len(sizes_seen) if sizes_seen else None,
    }


def slow_panels(service: Service, size: Size) -> dict[str, Any]:
    stalled_total = size.slow_panels_total // 10
    # A fresh process's first requests are slower (statement caches, first inserts): warm it up
    # so the first run is not at a disadvantage.
    paced_poster(service.url, service.tokens["push_post"], size.push_rate, int(size.push_rate))
    all_reading = stream(service, size, 0)
    with_slow = stream(service, size, stalled_total)
    p99_all = percentile(all_reading["latencies"], 99)
    p99_slow = percentile(with_slow["latencies"], 99)
    stalled = with_slow["stalled"]
    return {
        "push_p50_ms_all_reading": percentile(all_reading["latencies"], 50),
        "push_p99_ms_all_reading": p99_all,
        "push_p50_ms_with_slow": percentile(with_slow["latencies"], 50),
        "push_p99_ms_with_slow": p99_slow,
        "slow_panel_p99_shift_pct": (
            (p99_slow - p99_all) / p99_all * 100 if p99_all and p99_slow is not None else None
        ),
        "slow_panels": stalled_total,
        "slow_panels_cut_off": sum(1 for _, code in stalled if code == 4008),
        "slow_panel_backlog_max_msgs": max((n for n, _ in stalled), default=None),
        "slow_panel_close_codes": dict(Counter(str(code) for _, code in stalled)),
        "slow_stream_panels": size.slow_panels_total,
        "slow_stream_events": size.push_events,
        "slow_stream_message_bytes": with_slow["message_bytes"],
        "slow_rss_all_reading_before_mib": all_reading["rss_before"],
        "slow_rss_all_reading_after_mib": all_reading["rss_after"],
        "slow_rss_before_mib": with_slow["rss_before"],
        "slow_rss_after_mib": with_slow["rss_after"],
        "slow_rss_after_flood_mib": with_slow["rss_flood"],
        "slow_flood_events": FLOOD_EVENTS,
    }


# -- all three -----------------------------------------------------------------------------------
def run(quick: bool, database_url: str | None = None) -> dict[str, Any]:
    size = QUICK if quick else FULL
    raise_fd_limit(2 * max(size.panels, size.slow_panels_total) + 512)
    run_id = uuid.uuid4().hex[:6]
    # Agencies of this run only: a shared database may hold an earlier run's live calls.
    agencies = [f"L{run_id}{i:03d}" for i in range(max(1, size.calls // CALLS_PER_AGENCY))]
    results: dict[str, Any] = {}
    with tempfile.TemporaryDirectory() as tmp:
        specs: dict[str, tuple[str, list[str]]] = {
            "adapter": ("adapter", agencies),
            "all": ("supervisor", agencies),
            **{a: ("supervisor", [a]) for a in agencies},
        }
        with served(database_url or f"sqlite+aiosqlite:///{tmp}/live.db", specs) as service:
            log("service up")
            time.sleep(1.0)
            results["rss_idle_mib"], _ = service.memory_mib()
            results.update(alert_lateness(service, size, agencies))
            results.update(memory(service, size, agencies))
        specs = {"push_post": ("adapter", ["PUSH"]), "push_watch": ("supervisor", ["PUSH"])}
        with served(database_url or f"sqlite+aiosqlite:///{tmp}/slow.db", specs) as service:
            results.update(slow_panels(service, size))
    return results


def fmt(value: Any, unit: str = "") -> str:
    if value is None:
        return "—"
    if isinstance(value, float):
        return f"{value:,.1f}{unit}"
    return f"{value}{unit}"


ROWS = [
    ("alert_lateness_p50_ms", "alert lateness p50", " ms"),
    ("alert_lateness_p99_ms", "alert lateness p99 (target <= 100 ms)", " ms"),
    ("alert_lateness_max_ms", "alert lateness max", " ms"),
    ("alert_hub_lag_p99_ms", "  of which deadline -> service's hub, p99", " ms"),
    ("alert_lateness_samples", "  alerts timed", ""),
    ("live_alerts_expected", "  alerts expected", ""),
    ("live_alerts_fired", "  alerts fired", ""),
    ("live_alerts_on_arrival", "  fired on arrival (already due)", ""),
    ("live_alerts_unexpected", "  not waited for, fired all the same", ""),
    ("live_alerts_missing", "  missing", ""),
    ("live_alerts_doubled", "  doubled", ""),
    ("snapshot_all_calls_mib", "snapshot of every live call", " MiB"),
    ("snapshot_all_calls_ms", "  from auth to received", " ms"),
    ("rss_idle_mib", "RSS, idle service", " MiB"),
    ("rss_calls_mib", "RSS, live calls", " MiB"),
    ("rss_mib", "RSS, live calls + panels (target <= 300 MiB)", " MiB"),
    ("rss_peak_mib", "  peak (VmHWM)", " MiB"),
    ("memory_panels", "  panels connected", ""),
    ("memory_panels_connect_s", "  time to connect them all", " s"),
    ("push_p99_ms_all_reading", "push p99, every panel reading", " ms"),
    ("push_p99_ms_with_slow", "push p99, 10 % of panels stalled", " ms"),
    ("slow_panel_p99_shift_pct", "  shift (target <= 10 %)", " %"),
    ("slow_panels", "  stalled panels", ""),
    ("slow_panels_cut_off", "  cut off with 4008", ""),
    ("slow_panel_backlog_max_msgs", "  most messages a stalled panel got after", ""),
    ("slow_rss_all_reading_after_mib", "  RSS after the stream, all reading", " MiB"),
    ("slow_rss_before_mib", "  RSS before the stream, stalled", " MiB"),
    ("slow_rss_after_mib", "  RSS after the stream, stalled", " MiB"),
    ("slow_rss_after_flood_mib", "  RSS after a flood, stalled", " MiB"),
]


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.live")
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--database-url", help="default: a fresh SQLite file for each service")
    args = parser.parse_args()
    began = time.monotonic()
    results = run(args.quick, args.database_url)
    rows = [(label, fmt(results.get(key), unit)) for key, label, unit in ROWS]
    width = max(len(label) for label, _ in rows)
    for label, value in rows:
        print(f"{label.ljust(width)}  {value}")
    print(f"({time.monotonic() - began:.0f} s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
