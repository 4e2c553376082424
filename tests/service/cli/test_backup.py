"""`tcpr backup` and `tcpr restore` (docs/operations.md, Backups): a copy taken while the service
ingests holds every event acknowledged before it began and verifies; it restores into a new
database, never under a running service, over data only with `--force` (keeping what it
replaces), and never when its chains do not verify."""

from __future__ import annotations

import asyncio
import contextlib
import os
import sqlite3
import sys
import time
from pathlib import Path

import pytest
from support.harness import at, event, service_settings, start_server

from service.cli import main
from service.cli.audit import chains_hold

KEY = "backup-test-audit-key"
ROOT = Path(__file__).resolve().parents[3]


def url_of(path: Path) -> str:
    return f"sqlite+aiosqlite:///{path}"


async def tcpr(*args: str, database: Path, key: str = KEY) -> tuple[int, str, str]:
    """`tcpr ARGS` in its own process, this checkout's code, on `database`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("TCPR_")}
    env.update(PYTHONPATH=str(ROOT), TCPR_DATABASE_URL=url_of(database), TCPR_AUDIT_KEY=key)
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "service.cli",
        *args,
        env=env,
        cwd=ROOT,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    async with asyncio.timeout(60):
        out, err = await proc.communicate()
    assert proc.returncode is not None
    return proc.returncode, out.decode(), err.decode()


def files(directory: Path, pattern: str) -> list[Path]:
    return list(directory.glob(pattern))


def event_ids(path: Path) -> set[str]:
    with contextlib.closing(sqlite3.connect(path)) as connection:
        return {row[0] for row in connection.execute("SELECT event_id FROM events")}


async def test_a_backup_under_load_holds_what_was_acknowledged_and_round_trips(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The backup runs as its own process beside the service; the rest as main() runs it."""
    monkeypatch.setenv("TCPR_AUDIT_KEY", KEY)

    async def here(*args: str, database: Path) -> tuple[int, str, str]:
        capsys.readouterr()
        code = await asyncio.to_thread(main, [*args, "--database-url", url_of(database)])
        out, err = capsys.readouterr()
        return code, out, err

    live = tmp_path / "tcpr.db"
    server = await start_server(service_settings(url_of(live), audit_key=KEY))
    acknowledged: list[str] = []
    stop, enough = asyncio.Event(), asyncio.Event()

    async def ingest() -> None:
        async with await server.client("adapter", "A", "B") as adapter:
            i = 0
            while not stop.is_set():
                agency = "AB"[i % 2]
                sent = event(f"e{i}", "call.received", at(), call_id=f"C{i}", agency=agency)
                answer = await adapter.post("/api/v1/events", json=sent)
                assert answer.status_code == 200, answer.text
                acknowledged.append(sent["event_id"])
                if len(acknowledged) == 40:
                    enough.set()
                i += 1

    poster = asyncio.create_task(ingest())
    try:
        await asyncio.wait_for(enough.wait(), 30)
        before = set(acknowledged)
        began = time.monotonic()
        code, out, err = await tcpr("backup", str(tmp_path / "copy.db"), database=live)
        took = time.monotonic() - began
        during = len(acknowledged) - len(before)
        await asyncio.sleep(0.2)
        stop.set()
        await poster
        assert code == 0, (out, err)
        copy = tmp_path / "copy.db"
        in_copy = event_ids(copy)
        assert before <= in_copy, sorted(before - in_copy)
        assert during > 0, f"nothing was written during the {took:.1f} s backup: not under load"
        assert f"backup: {copy}, {len(in_copy)} events" in out and "chains ok" in out, out
        assert "A: " in out and "B: " in out, out
        assert not files(tmp_path, ".copy.db*"), "the partial copy was left behind"
        assert await chains_hold(url_of(copy), KEY.encode())
        assert not await chains_hold(url_of(copy), b"another key"), "the key was not checked"

        # Into a database that does not exist yet.
        fresh = tmp_path / "fresh.db"
        code, out, err = await here("restore", str(copy), database=fresh)
        assert code == 0, (out, err)
        assert event_ids(fresh) == in_copy
        assert "(current)" in out, out

        # Never under a running service, --force or not.
        code, out, err = await here("restore", str(copy), "--force", database=live)
        assert code == 1 and "open in another process" in err, (out, err)
    finally:
        stop.set()
        await server.stop()
    everything = event_ids(live)
    assert everything == set(acknowledged)

    # A stopped service's database holds data: only with --force, keeping it beside.
    code, out, err = await here("restore", str(copy), database=live)
    assert code == 1 and "holds data" in err and f"{len(everything)} events" in err, err
    assert event_ids(live) == everything, "a refused restore changed the database"
    code, out, err = await here("restore", str(copy), "--force", database=live)
    assert code == 0, (out, err)
    (kept,) = files(tmp_path, "tcpr.db.before-restore-*")
    assert f"kept as {kept}" in out
    assert event_ids(kept) == everything
    assert event_ids(live) == in_copy

    # The restored database serves: the chains go on from the backup's heads.
    server = await start_server(service_settings(url_of(live), audit_key=KEY))
    try:
        async with await server.client("adapter", "A") as adapter:
            answer = await adapter.post(
                "/api/v1/events", json=event("after", "call.received", at())
            )
            assert answer.status_code == 200, answer.text
    finally:
        await server.stop()
    code, out, err = await here("verify-audit", database=live)
    assert code == 0, (out, err)


async def test_restore_refuses_a_backup_that_does_not_verify(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("TCPR_AUDIT_KEY", KEY)
    live = tmp_path / "tcpr.db"
    server = await start_server(service_settings(url_of(live), audit_key=KEY))
    try:
        async with await server.client("adapter", "A") as adapter:
            for i in range(3):
                sent = event(f"e{i}", "call.received", at(), call_id=f"C{i}")
                assert (await adapter.post("/api/v1/events", json=sent)).status_code == 200
    finally:
        await server.stop()
    copy = tmp_path / "copy.db"

    def tcpr_here(*args: str) -> tuple[int, str, str]:
        capsys.readouterr()
        code = main([*args, "--database-url", url_of(target)])
        out, err = capsys.readouterr()
        return code, out, err

    target = live
    code, out, _ = await asyncio.to_thread(tcpr_here, "backup", str(copy))
    assert code == 0, out
    with contextlib.closing(sqlite3.connect(copy)) as connection, connection:
        connection.execute("UPDATE events SET call_id = 'C9' WHERE event_id = 'e1'")

    target = tmp_path / "restored.db"
    code, out, err = await asyncio.to_thread(tcpr_here, "restore", str(copy))
    assert code == 1
    assert "A: FAILED at seq" in out and "'e1'" in out, out
    assert "does not verify: nothing was changed" in err
    assert not target.exists()
    assert not files(tmp_path, ".restored.db*"), "the staged copy was left behind"

    # Not a database at all.
    junk = tmp_path / "junk.db"
    junk.write_bytes(b"not a database" * 100)
    code, out, err = await asyncio.to_thread(tcpr_here, "restore", str(junk))
    assert code == 1 and "not a sound SQLite database" in err, err
    assert not target.exists()

    # A backup of a database whose chain is already broken is written, and says so.
    with contextlib.closing(sqlite3.connect(live)) as connection, connection:
        connection.execute("DELETE FROM events WHERE event_id = 'e0'")
    target = live
    code, out, err = await asyncio.to_thread(tcpr_here, "backup", str(tmp_path / "broken.db"))
    assert code == 1 and "chains FAILED" in out, out
    assert (tmp_path / "broken.db").is_file()


def test_postgres_points_to_pg_dump(capsys: pytest.CaptureFixture[str]) -> None:
    url = "postgresql+asyncpg://tcpr@db.example/tcpr"
    for command in ("backup", "restore"):
        assert main([command, "x.db", "--database-url", url]) == 2
        err = capsys.readouterr().err
        assert "pg_dump -Fc" in err and "pg_restore --clean --if-exists" in err, err
        assert "tcpr verify-audit" in err
