"""The kill -9 drill: the service is killed under full load, restarted at once, and checked.

    python -m bench.recovery [--quick] [--database-url URL] [--keep DIR]

20 kills (1 with --quick), one every PERIOD_S seconds (a kill waits for the panel to have
resynced after the one before, so on a slow machine they drift later), while
- poster processes send whole calls as fast as the service takes them (single events, batches of
  4 and of 8; connection errors and 5xx while it is down are retried with the same body) and
  write down every event id answered 200;
- a scripted process creates calls whose alert deadlines fall just before, at and just after each
  kill (while the service is up, down or starting), and changes some of them (recognition, first
  compression, end) a little before or after the deadline;
- a supervisor panel (its own process) stays connected, reconnecting like ui/live.js (250 ms
  doubling to 5 s) with `since` = the last sequence it saw.

Figures (times from CLOCK_MONOTONIC, shared by every process on the machine; kill -9 is sent
and the new service process started immediately after it has died):
- `recovery_ready_s`: from the kill to the restarted service's first `/healthz` 200 (process
  start, migration check, rebuilding the live calls, binding), polled every 20 ms. Max over the
  kills; `recovery_ready_median_s` the median.
- `panels_resynced_s`: from the kill to the panel holding the restarted service's snapshot and
  its `missed` message (every event after the last sequence it had seen). Max over the kills.
- After the last kill, the load stops, the drill waits a quiet period and stops the service
  cleanly; then the database is read directly (read-only) and:
  - `recovery_lost_events`: acknowledged event ids that are not stored (must be 0);
  - `alerts_doubled`: `alert.raised` events beyond the first per call and alert name;
  - `alerts_missed`: alerts the service's own pure core (`service.triage.alerts.applicable` over
    the call folded from the events stored by then) says were due while the call was live, but
    that are not stored. An alert is judged at the moment its deadline passed (or the call
    arrived, if later), widened by JUDGE_SLACK_S and, if the service was down then, up to its
    restart; it is left unjudged when one of the call's own changes was in flight in that
    window (the order is then a race), or the window reaches past the end of the drill.
    `alerts_missed_superseded` counts those whose call changed (recognition, end) after the
    deadline: raised so late that the change came first, rather than lost outright.
  - `alerts_spurious`: stored alerts that were judged not due (after the call ended, was
    recognised or was already compressing, or on the ordinary load's calls);
  - `drill_alert_lateness_*_s`: when alerts were stored, after their deadline or, if later, the
    arrival of their call or the restart of the service (the earliest they could be raised);
  - `panel_unseen_events`: stored events of the panel's agencies it was never shown, live or in
    a `missed` message (events stored in the last second before the panel stopped, or after,
    are not counted: `panel_not_shown_after_stop`).
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import random
import sqlite3
import statistics
import subprocess
import tempfile
import time
import uuid
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from queue import Empty
from typing import Any, NamedTuple

import httpx

from bench.__main__ import TCPR, create_token, free_port, percentile, stop
from bench.recovery_load import panel, poster, scripted_calls
from contract.event import from_dict
from contract.kinds import ALERTS
from service.settings import Settings
from service.triage import alerts
from service.triage.state import fold

PERIOD_S = 5.0  # between kills
FIRST_KILL_S = 6.0  # after the load starts
KILL_JITTER_S = 0.5
POSTERS, LANES = 2, 6
# Each kill gets a scripted call of every template with a deadline at each of these offsets
# from the kill (s): before it, while the service is down, while it starts, after.
TARGETS_S = (-1.5, -0.3, -0.05, 0.1, 0.4, 1.0, 2.0)
LEAD_S = 4.0  # a scripted call is created this long before its target deadline
CHANGE_S = 2.0  # its change (recognition, compression, end) this far from the deadline
JUDGE_SLACK_S = 1.0
QUIET_S = 2.0
READY_POLL_S = 0.02
READY_TIMEOUT_S = 30.0
RESYNC_TIMEOUT_S = 20.0


# -- the service process, on a fixed port ------------------------------------------------------
def start(env: dict[str, str], port: int, log: Any) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [
            *TCPR,
            "serve",
            "--port",
            str(port),
            "--log-level",
            "warning",
        ],
        env=env,
        stdout=log,
        stderr=log,
    )


def wait_healthy(url: str, proc: subprocess.Popen[bytes], timeout: float) -> float:
    """Poll /healthz until 200; the monotonic time it answered."""
    deadline = time.monotonic() + timeout
    with httpx.Client(timeout=1.0) as client:
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                raise RuntimeError(f"the service exited with {proc.returncode} while starting")
            try:
                if client.get(f"{url}/healthz", headers={"Connection": "close"}).status_code == 200:
                    return time.monotonic()
            except httpx.HTTPError:
                pass
            time.sleep(READY_POLL_S)
    raise RuntimeError(f"the service was not ready within {timeout:.0f} s")


def collect(queue: Any, senders: Any, timeout: float) -> Any:
    """The next item from `queue`, failing early if its sender process(es) died without one."""
    senders = senders if isinstance(senders, list) else [senders]
    deadline = time.monotonic() + timeout
    while True:
        try:
            return queue.get(timeout=0.2)
        except Empty:
            if time.monotonic() > deadline:
                raise RuntimeError(f"no report within {timeout:.0f} s") from None
            dead = [p.exitcode for p in senders if p.exitcode not in (None, 0)]
            if dead:
                raise RuntimeError(f"a load process died (exit {dead[0]})") from None


# -- the scripted calls ------------------------------------------------------------------------
def event(
    call_id: str, n: int, agency: str, kind: str, at: datetime, **data: Any
) -> dict[str, Any]:
    return {
        "event_id": f"{call_id}-{n}",
        "call_id": call_id,
        "agency": agency,
        "kind": kind,
        "at": at.isoformat(),
        "data": data,
    }


TEMPLATES = (
    "unrecognised",  # recognition alerts due from the target on
    "late",  # arrives after recognition_due passed (fired on arrival); overdue at the target
    "recognised",  # arrives recognised: compression alerts due from the target on
    "ended",  # ended CHANGE_S before the target: nothing due
    "recognised_before",  # recognised CHANGE_S before the target: no recognition alert
    "compressing",  # first compression CHANGE_S before compression_due: nothing due
    "recognised_after",  # recognised CHANGE_S after recognition_due: that one due, not overdue
)


def plan(
    agency: str, prefix: str, kills: list[float], offsets: dict[str, float]
) -> tuple[list[dict[str, Any]], dict[str, datetime]]:
    """Steps {"send_at", "call", "events"} (the first step of a call creates it) and each call's
    T0. Wall-clock times: deadlines are T0 + the profile's offsets, on the service's clock."""
    steps: list[dict[str, Any]] = []
    t0s: dict[str, datetime] = {}
    for k, kill in enumerate(kills):
        for i, offset in enumerate(TARGETS_S):
            for name in TEMPLATES:
                target = kill + offset
                call = f"{prefix}-k{k}-{i}-{name}"
                anchor = {
                    "late": "recognition_overdue",
                    "recognised": "compression_due",
                    "compressing": "compression_due",
                }.get(name, "recognition_due")
                t0 = datetime.fromtimestamp(target - offsets[anchor], UTC)
                t0s[call] = t0
                create = [
                    event(call, 0, agency, "call.received", t0, psap=agency),
                    event(call, 1, agency, "call.answered", t0 + timedelta(seconds=5)),
                ]
                if name in ("recognised", "compressing"):
                    recognised = t0 + timedelta(seconds=offsets["recognition_due"] + 10)
                    create.append(event(call, 2, agency, "ohca.recognized", recognised))
                steps.append({"send_at": target - LEAD_S, "call": call, "events": create})
                change = {
                    "ended": (-CHANGE_S, "call.ended"),
                    "recognised_before": (-CHANGE_S, "ohca.recognized"),
                    "compressing": (-CHANGE_S, "tcpr.first_compression"),
                    "recognised_after": (CHANGE_S, "ohca.recognized"),
                }.get(name)
                if change is not None:
                    when = target + change[0]
                    at = datetime.fromtimestamp(when, UTC)
                    steps.append(
                        {
                            "send_at": when,
                            "call": call,
                            "events": [event(call, 3, agency, change[1], at)],
                            "change": True,
                        }
                    )
    steps.sort(key=lambda s: s["send_at"])
    return steps, t0s


def judge(
    steps: list[dict[str, Any]],
    sent: dict[int, tuple[float, float | None]],
    t0s: dict[str, datetime],
    downtimes: list[tuple[float, float]],
    end: float,
    settings: Settings,
    agency: str,
) -> dict[tuple[str, str], bool | str]:
    """For each scripted call and alert name: True if it was due, False if not, or why the
    drill cannot tell (see the module docstring)."""
    profile = settings.agency_config(agency).profile
    offsets = profile.alert_offsets()
    grace = settings.alert_grace_seconds
    by_call: dict[str, list[int]] = {}
    for index, step in enumerate(steps):
        by_call.setdefault(step["call"], []).append(index)
    verdicts: dict[tuple[str, str], bool | str] = {}
    for call, indexes in by_call.items():
        created, changes = indexes[0], indexes[1:]
        first_c, ack_c = sent.get(created, (0.0, None))
        for name in ALERTS:
            if ack_c is None:  # the call itself may or may not be stored
                verdicts[(call, name)] = "call not acknowledged"
                continue
            deadline = (t0s[call] + timedelta(seconds=offsets[name])).timestamp()
            w_start = max(deadline, first_c)
            w_end = max(deadline, ack_c) + JUDGE_SLACK_S
            for down, up in downtimes:  # down then: decided on restart
                if down <= w_end and up >= w_start:
                    w_end = max(w_end, up + JUDGE_SLACK_S)
            if w_end > end or w_end - deadline > grace:
                verdicts[(call, name)] = "after the drill"
                continue
            events = list(steps[created]["events"])
            in_flight = False
            for index in changes:
                first, ack = sent.get(index, (steps[index]["send_at"], None))
                if first <= w_end and (ack is None or ack >= w_start - JUDGE_SLACK_S):
                    in_flight = True
                elif ack is not None and ack < w_start - JUDGE_SLACK_S:
                    events.extend(steps[index]["events"])
            if in_flight:
                verdicts[(call, name)] = "a change in flight"
                continue
            state = fold(
                agency, call, [from_dict(e) for e in events], settings.agency_config(agency)
            )
            verdicts[(call, name)] = name in {a.alert for a in alerts.applicable(state, profile)}
    return verdicts


def describe(
    call: str,
    name: str,
    steps: list[dict[str, Any]],
    sent: dict[int, tuple[float, float | None]],
    t0s: dict[str, datetime],
    downtimes: list[tuple[float, float]],
    offsets: dict[str, float],
) -> str:
    """A missed alert's story, times in seconds from its deadline."""
    deadline = (t0s[call] + timedelta(seconds=offsets[name])).timestamp()
    parts = [f"{call}/{name}:"]
    for index, step in enumerate(steps):
        if step["call"] == call:
            first, ack = sent.get(index, (step["send_at"], None))
            kinds = "+".join(e["kind"] for e in step["events"])
            acked = "never" if ack is None else f"{ack - deadline:+.2f}"
            parts.append(f"{kinds} sent {first - deadline:+.2f} acked {acked};")
    for down, up in downtimes:
        if abs(down - deadline) < 10:
            parts.append(f"down {down - deadline:+.2f} .. ready {up - deadline:+.2f};")
    return " ".join(parts)


# -- reading the database after the drill ------------------------------------------------------
class Row(NamedTuple):
    agency: str
    event_id: str
    call_id: str
    kind: str
    data: dict[str, Any]
    seq: int
    received: float  # wall time the service stored it


def _row(values: Any) -> Row:
    agency, event_id, call_id, kind, data, seq, received = values
    if isinstance(received, str):  # SQLite keeps an ISO string, UTC
        received = datetime.fromisoformat(received)
    if received.tzinfo is None:
        received = received.replace(tzinfo=UTC)
    data = json.loads(data) if isinstance(data, str) else data
    return Row(agency, event_id, call_id, kind, data, int(seq), received.timestamp())


def stored_events(database_url: str, agencies: list[str]) -> list[Row]:
    """The agencies' stored events, read straight from the database (SQLite read-only)."""
    query = (
        "SELECT agency, event_id, call_id, kind, data, seq, received_at FROM events"
        " WHERE agency IN ({})"
    )
    if database_url.startswith("sqlite"):
        path = database_url.split(":///", 1)[1]
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            rows = conn.execute(query.format(",".join("?" * len(agencies))), agencies).fetchall()
        finally:
            conn.close()
        return [_row(r) for r in rows]
    import asyncio

    import asyncpg

    async def fetch() -> list[Any]:
        conn = await asyncpg.connect(database_url.replace("postgresql+asyncpg://", "postgresql://"))
        try:
            sql = query.format(", ".join(f"${i + 1}" for i in range(len(agencies))))
            return [tuple(r) for r in await conn.fetch(sql, *agencies)]
        finally:
            await conn.close()

    return [_row(r) for r in asyncio.run(fetch())]


# -- the drill ---------------------------------------------------------------------------------
def run(quick: bool, database_url: str | None = None, keep: Path | None = None) -> dict[str, Any]:
    """The drill; `keep`: a folder to leave the database, the service log and the drill's own
    record (drill.json) in, for a look afterwards."""
    kills = 1 if quick else 20
    if keep is not None:
        keep.mkdir(parents=True, exist_ok=True)
        return drill(kills, database_url or f"sqlite+aiosqlite:///{keep}/recovery.db", keep)
    with tempfile.TemporaryDirectory(prefix="tcpr-recovery-") as tmp:
        return drill(kills, database_url or f"sqlite+aiosqlite:///{tmp}/recovery.db", Path(tmp))


def drill(kills: int, database_url: str, tmp: Path) -> dict[str, Any]:
    run_id = uuid.uuid4().hex[:8]
    load_agency, alert_agency = f"RL{run_id}", f"RA{run_id}"
    env = {**os.environ, "TCPR_DATABASE_URL": database_url}
    env.pop("TCPR_BROKER_URL", None)
    settings = Settings(database_url=database_url)
    adapter = create_token(env, "adapter", load_agency, alert_agency)
    supervisor = create_token(env, "supervisor", load_agency, alert_agency)
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    log_path = tmp / "service.log"
    ctx = mp.get_context("spawn")
    load_stop, panel_stop = ctx.Event(), ctx.Event()
    resyncs, final, reports = ctx.Queue(), ctx.Queue(), ctx.Queue()
    children: list[Any] = []
    offsets = settings.agency_config(alert_agency).profile.alert_offsets()
    ready_s: list[float] = []
    resynced_s: list[float] = []
    downtimes: list[tuple[float, float]] = []
    reconnects: list[dict[str, Any]] = []
    with open(log_path, "ab") as log:
        proc = start(env, port, log)
        try:
            wait_healthy(url, proc, 60)
            watcher = ctx.Process(
                target=panel,
                args=(
                    url.replace("http://", "ws://") + "/ws",
                    supervisor,
                    panel_stop,
                    resyncs,
                    final,
                ),
            )
            watcher.start()
            children.append(watcher)
            reconnects.append(collect(resyncs, watcher, 60))  # connected, first snapshot
            acked_paths = [tmp / f"acked-{i}.txt" for i in range(POSTERS)]
            posters = [
                ctx.Process(
                    target=poster,
                    args=(
                        url,
                        adapter,
                        load_agency,
                        f"{run_id}-p{i}",
                        LANES,
                        str(path),
                        load_stop,
                        reports,
                    ),
                )
                for i, path in enumerate(acked_paths)
            ]
            began_wall, began_mono = time.time(), time.monotonic()
            kill_at = [
                FIRST_KILL_S + k * PERIOD_S + random.uniform(-KILL_JITTER_S, KILL_JITTER_S)
                for k in range(kills)
            ]
            steps, t0s = plan(
                alert_agency, f"{run_id}-a", [began_wall + s for s in kill_at], offsets
            )
            steps_log = tmp / "steps.jsonl"
            caller = ctx.Process(
                target=scripted_calls,
                args=(
                    url,
                    adapter,
                    [{"send_at": s["send_at"], "events": s["events"]} for s in steps],
                    str(steps_log),
                ),
            )
            for child in [*posters, caller]:
                child.start()
                children.append(child)

            for k, at in enumerate(kill_at):
                time.sleep(max(0.0, began_mono + at - time.monotonic()))
                killed_mono, killed_wall = time.monotonic(), time.time()
                proc.kill()
                proc.wait()
                proc = start(env, port, log)
                ready_mono = wait_healthy(url, proc, READY_TIMEOUT_S)
                ready_s.append(ready_mono - killed_mono)
                downtimes.append((killed_wall, killed_wall + ready_s[-1]))
                resynced = None
                give_up = time.monotonic() + RESYNC_TIMEOUT_S
                while resynced is None and time.monotonic() < give_up:
                    report = collect(resyncs, watcher, give_up - time.monotonic())
                    reconnects.append(report)
                    if report["dropped"] is not None and report["resynced"] > killed_mono:
                        resynced = report["resynced"] - killed_mono
                if resynced is None:
                    raise RuntimeError(
                        f"kill {k + 1}: the panel did not resync within {RESYNC_TIMEOUT_S:.0f} s"
                    )
                resynced_s.append(resynced)
                print(
                    f"   kill {k + 1}/{kills}: ready {ready_s[-1]:.2f} s, "
                    f"panel resynced {resynced:.2f} s",
                    flush=True,
                )

            # Let the last kill's alerts and changes play out, then stop the load.
            tail = max(steps[-1]["send_at"] + JUDGE_SLACK_S + 1, time.time() + PERIOD_S)
            time.sleep(max(0.0, tail - time.time()))
            load_stop.set()
            counts: Counter[str] = Counter()
            for _ in posters:
                counts.update(collect(reports, posters, 90))
            for p in posters:
                p.join(30)
            caller.join(60)
            load_wall = time.time() - began_wall
            time.sleep(QUIET_S)
            panel_stop.set()
            panel_stopped = time.time()
            shown = collect(final, watcher, 60)
            while not resyncs.empty():
                reconnects.append(resyncs.get(timeout=1))
            watcher.join(30)
            end_wall = time.time()
        finally:
            load_stop.set()
            panel_stop.set()
            stop(proc)
            for child in children:
                child.join(5)
                if child.is_alive():
                    child.kill()
                    child.join(5)

    # -- verification, with the service stopped --------------------------------------------
    sent: dict[int, tuple[float, float | None]] = {}
    for line in steps_log.read_text().splitlines():
        entry = json.loads(line)
        sent[entry["step"]] = (entry["first_send"], entry["ack"])
    acked = {(load_agency, i) for path in acked_paths for i in path.read_text().split()}
    acked |= {
        (alert_agency, e["event_id"])
        for index, step in enumerate(steps)
        if sent.get(index, (0, None))[1] is not None
        for e in step["events"]
    }
    rows = stored_events(database_url, [load_agency, alert_agency])
    stored = {(r.agency, r.event_id) for r in rows}
    lost = sorted(acked - stored)
    raised: Counter[tuple[str, str]] = Counter()
    load_alerts = 0
    for r in rows:
        if r.kind == "alert.raised":
            if r.agency == alert_agency:
                raised[(r.call_id, r.data.get("alert"))] += 1
            else:
                load_alerts += 1
    verdicts = judge(steps, sent, t0s, downtimes, end_wall, settings, alert_agency)
    due = {key for key, v in verdicts.items() if v is True}
    not_due = {key for key, v in verdicts.items() if v is False}
    unjudged = Counter(v for v in verdicts.values() if isinstance(v, str))
    # How late alerts were stored: after the deadline, or after the call arrived or the service
    # came back if that was later (the alert could not be raised before).
    created = {}
    for index, step in enumerate(steps):
        created.setdefault(step["call"], (sent.get(index) or (0.0, None))[1])
    lateness = []
    for r in rows:
        if r.kind == "alert.raised" and r.agency == alert_agency and r.call_id in t0s:
            due_at = (t0s[r.call_id] + timedelta(seconds=offsets[r.data["alert"]])).timestamp()
            due_at = max(due_at, created.get(r.call_id) or 0.0)
            for down, up in downtimes:
                if down <= due_at <= up:
                    due_at = up
            lateness.append(r.received - due_at)
    # Events stored after the panel stopped (alerts of calls still live) are not its to see.
    seen = set(shown["seen"])
    unseen = {r.seq for r in rows if r.seq not in seen and r.received < panel_stopped - 1.0}
    later = sum(1 for r in rows if r.seq not in seen and r.received >= panel_stopped - 1.0)
    record = {
        "downtimes": downtimes,
        "began_wall": began_wall,
        "end_wall": end_wall,
        "reconnects": reconnects,
        "steps": [{**s, "sent": sent.get(i)} for i, s in enumerate(steps)],
        "verdicts": {f"{c}/{n}": v for (c, n), v in verdicts.items()},
        "unseen": sorted(unseen),
    }
    (tmp / "drill.json").write_text(json.dumps(record, default=str))
    # A missed alert whose call later changed (recognised, compressing, ended) was, at the least,
    # raised too late to matter; one whose call never changed after its deadline was lost.
    changed_after: dict[str, float] = {}
    for index, step in enumerate(steps):
        if step.get("change"):
            changed_after[step["call"]] = (sent.get(index) or (step["send_at"], None))[0]
    superseded = {
        (c, n)
        for c, n in due - set(raised)
        if changed_after.get(c, 0.0) > (t0s[c] + timedelta(seconds=offsets[n])).timestamp()
    }
    missed_detail = [
        describe(c, n, steps, sent, t0s, downtimes, offsets) for c, n in sorted(due - set(raised))
    ]
    log_text = log_path.read_text(errors="replace")
    return {
        "kills": kills,
        "acked_events": len(acked),
        "recovery_lost_events": len(lost),
        "recovery_lost_sample": [f"{a}/{e}" for a, e in lost[:10]],
        "recovery_ready_s": max(ready_s),
        "recovery_ready_median_s": statistics.median(ready_s),
        "recovery_ready_each_s": [round(s, 3) for s in ready_s],
        "panels_resynced_s": max(resynced_s),
        "panels_resynced_median_s": statistics.median(resynced_s),
        "panels_resynced_each_s": [round(s, 3) for s in resynced_s],
        "alerts_doubled": sum(n - 1 for n in raised.values() if n > 1),
        "alerts_missed": len(due - set(raised)),
        "alerts_missed_superseded": len(superseded),
        "alerts_missed_sample": sorted(f"{c}/{n}" for c, n in due - set(raised))[:10],
        "alerts_spurious": len(not_due & set(raised)) + load_alerts,
        "alerts_spurious_sample": sorted(f"{c}/{n}" for c, n in not_due & set(raised))[:10],
        "alerts_due": len(due),
        "alerts_judged": len(due) + len(not_due),
        "alerts_unjudged": sum(unjudged.values()),
        "alerts_unjudged_why": dict(unjudged),
        "alerts_raised": sum(raised.values()),
        "drill_alert_lateness_p50_s": percentile(lateness, 50),
        "drill_alert_lateness_p99_s": percentile(lateness, 99),
        "drill_alert_lateness_max_s": max(lateness, default=None),
        "panel_unseen_events": len(unseen),
        "panel_not_shown_after_stop": later,
        "panel_unseen_sample": [
            f"seq {r.seq} {r.agency}/{r.event_id} {r.kind}" for r in rows if r.seq in unseen
        ][:10],
        "alerts_missed_detail": missed_detail[:10],
        "panel_closes": shown["closes"],
        "panel_reconnects": len(reconnects) - 1,
        "panel_incomplete_resyncs": sum(1 for r in reconnects if not r["complete"]),
        "load_eps": counts["acked"] / load_wall if load_wall else None,
        "poster_counts": dict(counts),
        "service_log_errors": log_text.count("Traceback") + log_text.count("ERROR"),
    }


def fmt(value: float | None, unit: str = "", digits: int = 1) -> str:
    return "—" if value is None else f"{value:,.{digits}f}{unit}"


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.recovery")
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--database-url", help="default: a fresh SQLite file")
    parser.add_argument("--keep", type=Path, help="leave the database and records in this folder")
    args = parser.parse_args()
    result = run(args.quick, args.database_url, args.keep)
    rows = [
        ("kills under load", str(result["kills"]), ""),
        ("events acknowledged", f"{result['acked_events']:,}", ""),
        ("  load rate", fmt(result["load_eps"], " ev/s"), ""),
        ("acknowledged events lost", str(result["recovery_lost_events"]), "0"),
        ("ready again after kill, max", fmt(result["recovery_ready_s"], " s", 2), "<= 3 s"),
        ("  median", fmt(result["recovery_ready_median_s"], " s", 2), ""),
        ("panel resynced after kill, max", fmt(result["panels_resynced_s"], " s", 2), "<= 5 s"),
        ("  median", fmt(result["panels_resynced_median_s"], " s", 2), ""),
        ("alerts doubled", str(result["alerts_doubled"]), "0"),
        (f"alerts missed (of {result['alerts_due']} due)", str(result["alerts_missed"]), "0"),
        ("  of which the call changed before it came", str(result["alerts_missed_superseded"]), ""),
        ("alerts raised when not due", str(result["alerts_spurious"]), "0"),
        (
            "  alert verdicts judged / unjudged",
            f"{result['alerts_judged']} / {result['alerts_unjudged']}",
            "",
        ),
        (
            "alert stored after due, p50 / p99 / max",
            " / ".join(
                fmt(result[f"drill_alert_lateness_{q}_s"], " s", 2) for q in ("p50", "p99", "max")
            ),
            "",
        ),
        ("stored events the panel never saw", str(result["panel_unseen_events"]), "0"),
    ]
    widths = [max(len(r[i]) for r in rows) for i in range(3)]
    for row in rows:
        print("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip())
    extra: dict[str, Any] = {
        k: result[k]
        for k in (
            "recovery_lost_sample",
            "alerts_missed_sample",
            "alerts_spurious_sample",
            "alerts_missed_detail",
            "panel_unseen_sample",
        )
        if result[k]
    }
    if extra:
        print(json.dumps(extra, indent=2))
    print(f"unjudged alert verdicts: {result['alerts_unjudged_why']}")
    print(f"poster counts: {result['poster_counts']}; panel closes: {result['panel_closes']}")
    print(f"service log errors: {result['service_log_errors']}")
    bad = (
        result["recovery_lost_events"]
        or result["alerts_doubled"]
        or result["alerts_missed"]
        or result["alerts_spurious"]
        or result["panel_unseen_events"]
    )
    return 1 if bad else 0


if __name__ == "__main__":
    raise SystemExit(main())
