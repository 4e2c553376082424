"""Kill -9 drills with real processes: the service killed mid-feed, then the adapter killed
mid-feed. After restarts every record of the feed is stored exactly once."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sqlite3
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from runner_kit import config_file, event_line, free_port, until
from support.cluster import Replica, tcpr

EVENTS = 20_000  # enough that the feed takes seconds, so the kill lands mid-way
PER_CALL = 5


@pytest.fixture
def service(tmp_path: Path) -> Iterator[Replica]:
    """`tcpr serve` over its own SQLite file, migrated by `tcpr token create`, on a fixed port."""
    env = dict(os.environ, TCPR_DATABASE_URL=f"sqlite+aiosqlite:///{tmp_path / 'tcpr.db'}")
    replica = Replica("service", free_port(), env, tmp_path / "service.log")
    yield replica
    replica.stop()


def _token(replica: Replica) -> str:
    out = subprocess.run(
        [*tcpr(), "token", "create", "--role", "adapter", "--agency", "A"],
        env=replica.env,
        check=True,
        capture_output=True,
        text=True,
    )
    return out.stdout.strip()


def _stored(tmp_path: Path) -> list[str]:
    """The event ids in the service's database, read behind its back (WAL allows it)."""
    db = sqlite3.connect(f"file:{tmp_path / 'tcpr.db'}?mode=ro", uri=True, timeout=10)
    try:
        return [r[0] for r in db.execute("SELECT event_id FROM events WHERE agency = 'A'")]
    except sqlite3.OperationalError:
        return []
    finally:
        db.close()


def _feed(tmp_path: Path) -> tuple[Path, set[str]]:
    lines = [event_line(n, call=f"K{n // PER_CALL:05d}") for n in range(EVENTS)]
    path = tmp_path / "feed.jsonl"
    path.write_text("\n".join(lines) + "\n")
    return path, {json.loads(line)["event_id"] for line in lines}


def _adapter(config: Path, log: Path) -> subprocess.Popen[bytes]:
    with log.open("ab") as out:
        return subprocess.Popen(
            [*tcpr(), "adapter", "run", str(config)], stdout=out, stderr=subprocess.STDOUT
        )


async def _exit(process: subprocess.Popen[bytes], log: Path, limit_s: float = 120) -> int:
    await until(lambda: process.poll() is not None, limit_s, f"the adapter to finish: {log}")
    return int(process.returncode)


def _all_stored_once(tmp_path: Path, expected: set[str], log: Path) -> dict[str, int]:
    """Every event of the feed in the store exactly once; the adapter's last report."""
    stored = _stored(tmp_path)
    assert len(stored) == len(set(stored)) == EVENTS
    assert set(stored) == expected
    report: dict[str, int] = json.loads(log.read_text().strip().splitlines()[-1])
    return report


async def _feeding(
    service: Replica, tmp_path: Path
) -> tuple[Path, set[str], Path, subprocess.Popen[bytes]]:
    """The service up, the feed written, the adapter started on it: (config, the feed's event
    ids, the adapter's log, the adapter)."""
    token = _token(service)
    service.start()
    await service.ready()
    feed, expected = _feed(tmp_path)
    config = config_file(tmp_path, service.url, token, {"type": "file", "path": str(feed)})
    log = tmp_path / "adapter.log"
    return config, expected, log, _adapter(config, log)


async def test_the_service_killed_mid_feed_loses_nothing(service: Replica, tmp_path: Path) -> None:
    _, expected, log, adapter = await _feeding(service, tmp_path)
    try:
        await until(lambda: len(_stored(tmp_path)) >= EVENTS // 10, 60, "the first deliveries")
        service.kill()
        stored_at_kill = len(_stored(tmp_path))
        assert stored_at_kill < EVENTS, "the feed finished before the kill: make it longer"
        await asyncio.sleep(1.0)  # the adapter meets a dead service, and keeps its spool
        service.start()
        await service.ready()
        assert await _exit(adapter, log) == 0, log.read_text()
    finally:
        if adapter.poll() is None:
            adapter.kill()
    report = _all_stored_once(tmp_path, expected, log)
    assert report["spooled"] == 0 and report["bad"] == 0
    assert "service unavailable" in log.read_text()  # it did meet the dead service


async def test_the_adapter_killed_mid_feed_resumes_without_loss(
    service: Replica, tmp_path: Path
) -> None:
    config, expected, log, adapter = await _feeding(service, tmp_path)
    await until(lambda: len(_stored(tmp_path)) >= EVENTS // 10, 60, "the first deliveries")
    adapter.send_signal(signal.SIGKILL)
    adapter.wait()
    assert len(_stored(tmp_path)) < EVENTS, "the feed finished before the kill: make it longer"

    again = _adapter(config, log)
    try:
        assert await _exit(again, log) == 0, log.read_text()
    finally:
        if again.poll() is None:
            again.kill()
    report = _all_stored_once(tmp_path, expected, log)
    # The restart resumed from the spool's mark, not from the top of the file.
    assert report["read"] < EVENTS and report["spooled"] == 0
