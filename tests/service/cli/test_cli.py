"""The `tcpr` command line as a user runs it (DESIGN.md §8): real subprocesses, real databases."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import re
import signal
import socket
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import websockets
from support.harness import Server, event, service_settings, start_server

TOKEN_RE = re.compile(r"^tcpr_\S+$")
DEMO_TOKEN_RE = re.compile(r"demo: agency DEMO, supervisor token (tcpr_\S+)")
DEMO_TRAINER_RE = re.compile(r"/ui/trainer\.html#token=(tcpr_\S+) \(trainer")


def tcpr_command() -> list[str]:
    """The installed `tcpr` console script beside this interpreter, else the module."""
    script = Path(sys.executable).with_name("tcpr")
    if script.exists():
        return [str(script)]
    return [sys.executable, "-m", "service.cli"]


def cli_env(**values: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TCPR_")}
    env["PYTHONUNBUFFERED"] = "1"
    env.update(values)
    return env


async def run_tcpr(
    *args: str, env: dict[str, str], cwd: Path, limit_s: float = 60.0
) -> tuple[int, str, str, float]:
    """Run `tcpr ARGS` to completion without blocking the loop (an in-process server may be on
    it). Returns (exit code, stdout, stderr, wall seconds)."""
    began = time.monotonic()
    proc = await asyncio.create_subprocess_exec(
        *tcpr_command(),
        *args,
        env=env,
        cwd=cwd,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        async with asyncio.timeout(limit_s):
            out, err = await proc.communicate()
    except TimeoutError:
        proc.kill()
        await proc.communicate()
        raise
    elapsed = time.monotonic() - began
    assert proc.returncode is not None
    return proc.returncode, out.decode(), err.decode(), elapsed


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def write_jsonl(path: Path, records: list[dict[str, Any]]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    return path


def summary_line(stdout: str, stderr: str = "") -> dict[str, Any]:
    """The replay's closing JSON summary: the last line on stdout."""
    lines = [line for line in stdout.splitlines() if line.strip()]
    assert lines, f"replay printed no summary on stdout; stderr:\n{stderr}"
    result: dict[str, Any] = json.loads(lines[-1])
    return result


# -- tcpr token create ------------------------------------------------------------------------


async def test_token_create_prints_only_a_token_that_authenticates(
    database_url: str, tmp_path: Path
) -> None:
    code, out, err, _ = await run_tcpr(
        "token",
        "create",
        "--role",
        "adapter",
        "--agency",
        "A",
        "--name",
        "x",
        env=cli_env(TCPR_DATABASE_URL=database_url),
        cwd=tmp_path,
    )
    assert code == 0, err
    assert out.endswith("\n")
    lines = out.splitlines()
    assert len(lines) == 1, f"stdout must hold only the token, got {out!r}"
    token = lines[0]
    assert TOKEN_RE.match(token), token

    running = await start_server(service_settings(database_url))
    try:
        headers = {"Authorization": f"Bearer {token}"}
        async with httpx.AsyncClient(base_url=running.url, headers=headers, timeout=30) as client:
            ok = await client.post(
                "/api/v1/events", json=event("t1", "call.received", "2026-01-15T14:00:00-05:00")
            )
            other = await client.post(
                "/api/v1/events",
                json=event("t2", "call.received", "2026-01-15T14:00:00-05:00", agency="B"),
            )
        assert ok.status_code == 200, ok.text
        assert ok.json()["status"] == "accepted"
        assert other.status_code == 403  # the token is for agency A only
        assert len(await running.services.store.call_events("A", "C1")) == 1
    finally:
        await running.stop()


async def test_token_list_and_revoke(sqlite_url: str, tmp_path: Path) -> None:
    env = cli_env(TCPR_DATABASE_URL=sqlite_url)
    tokens = []
    for agency, extra in (
        ("A", ["--expires-in-days", "2"]),
        ("B", ["--expires-at", "2999-01-01T00:00:00Z"]),
    ):
        code, out, err, _ = await run_tcpr(
            "token",
            "create",
            "--role",
            "qi",
            "--agency",
            agency,
            "--name",
            f"qi-{agency}",
            *extra,
            env=env,
            cwd=tmp_path,
        )
        assert code == 0, err
        assert TOKEN_RE.match(out.strip()), out
        tokens.append(out.strip())
    code, out, err, _ = await run_tcpr("token", "list", "--agency", "B", env=env, cwd=tmp_path)
    assert code == 0, err
    listed = [json.loads(line) for line in out.splitlines()]
    assert [(t["name"], t["agencies"]) for t in listed] == [("qi-B", ["B"])]
    assert listed[0]["expires_at"].startswith("2999-01-01") and listed[0]["revoked_at"] is None
    assert listed[0]["created_by"].startswith("cli")
    assert tokens[1] not in out and "hash" not in out
    code, out, err, _ = await run_tcpr(
        "token", "revoke", str(listed[0]["id"]), env=env, cwd=tmp_path
    )
    assert code == 0, err
    code, out, err, _ = await run_tcpr("token", "list", env=env, cwd=tmp_path)
    by_name = {t["name"]: t for t in map(json.loads, out.splitlines())}
    assert by_name["qi-B"]["revoked_at"] is not None and by_name["qi-A"]["revoked_at"] is None
    code, _, err, _ = await run_tcpr("token", "revoke", "999", env=env, cwd=tmp_path)
    assert code == 1 and "no token 999" in err
    code, _, err, _ = await run_tcpr(
        "token",
        "create",
        "--role",
        "qi",
        "--agency",
        "A",
        "--expires-at",
        "2001-01-01T00:00:00Z",
        env=env,
        cwd=tmp_path,
    )
    assert code == 2 and "expires-at" in err


async def test_token_create_refuses_an_unknown_role(sqlite_url: str, tmp_path: Path) -> None:
    code, out, err, _ = await run_tcpr(
        "token",
        "create",
        "--role",
        "pilot",
        "--agency",
        "A",
        env=cli_env(TCPR_DATABASE_URL=sqlite_url),
        cwd=tmp_path,
    )
    assert code != 0
    assert out == ""
    assert "role" in err


# -- tcpr serve --demo ------------------------------------------------------------------------


def _demo_1001(call_id: object) -> bool:
    return isinstance(call_id, str) and call_id.startswith("DEMO-1001")


async def test_serve_demo_shows_live_demo_calls(tmp_path: Path) -> None:
    port = free_port()
    url = f"sqlite+aiosqlite:///{tmp_path / 'serve.db'}"
    proc = await asyncio.create_subprocess_exec(
        *tcpr_command(),
        "serve",
        "--port",
        str(port),
        "--demo",
        env=cli_env(TCPR_DATABASE_URL=url),
        cwd=tmp_path,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
    )
    stderr_lines: list[str] = []

    async def drain() -> None:
        assert proc.stderr is not None
        async for raw in proc.stderr:
            stderr_lines.append(raw.decode(errors="replace"))

    reader = asyncio.create_task(drain())
    base = f"http://127.0.0.1:{port}"
    try:
        # Ready: /healthz answers 200.
        async with httpx.AsyncClient(timeout=2) as client:
            deadline = time.monotonic() + 20
            while True:
                assert proc.returncode is None, "tcpr serve exited:\n" + "".join(stderr_lines)
                with contextlib.suppress(httpx.TransportError):
                    if (await client.get(f"{base}/healthz")).status_code == 200:
                        break
                assert time.monotonic() < deadline, "no healthz 200 in 20 s:\n" + "".join(
                    stderr_lines
                )
                await asyncio.sleep(0.2)

        found = [m for line in stderr_lines if (m := DEMO_TOKEN_RE.search(line))]
        assert found, "no demo supervisor token on stderr:\n" + "".join(stderr_lines)
        token = found[0].group(1)

        async with websockets.connect(base.replace("http://", "ws://") + "/ws") as ws:
            await ws.send(json.dumps({"type": "auth", "token": token}))
            snapshot = json.loads(await asyncio.wait_for(ws.recv(), 5))
            assert snapshot["type"] == "snapshot"
            assert snapshot["agencies"] == ["DEMO"]
            seen = [c["call_id"] for c in snapshot["calls"] if _demo_1001(c["call_id"])]
            async with asyncio.timeout(5):
                while not seen:
                    message = json.loads(await ws.recv())
                    if message.get("type") == "call" and _demo_1001(message.get("call_id")):
                        seen.append(message["call_id"])
        # The demo's calls are suffixed per loop, so each loop makes new calls.
        assert re.fullmatch(r"DEMO-1001-\S+", seen[0]), seen
        # A trainer of the demo's training agency, for the training session of the README's tour.
        trainer = [m.group(1) for line in stderr_lines if (m := DEMO_TRAINER_RE.search(line))]
        assert trainer, "no demo trainer link on stderr:\n" + "".join(stderr_lines)
        async with httpx.AsyncClient(timeout=5) as client:
            scenarios = await client.get(
                f"{base}/api/v1/training/scenarios",
                headers={"Authorization": f"Bearer {trainer[0]}"},
            )
        assert scenarios.status_code == 200, scenarios.text
        assert scenarios.json()["training_agencies"] == ["DEMO-TRAIN"]
        assert scenarios.json()["home_agencies"] == ["DEMO"]
    finally:
        if proc.returncode is None:
            proc.send_signal(signal.SIGINT)
            try:
                async with asyncio.timeout(10):
                    await proc.wait()
            except TimeoutError:
                proc.kill()
                await proc.wait()
        with contextlib.suppress(Exception):
            async with asyncio.timeout(5):
                await reader
        reader.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await reader


# -- tcpr replay ------------------------------------------------------------------------------

T_START = datetime.fromisoformat("2026-01-15T14:00:00-05:00")


def at_offset(seconds: float) -> str:
    return (T_START + timedelta(seconds=seconds)).isoformat()


def recording(call_id: str) -> list[dict[str, Any]]:
    """Five events of agency A over 35 recorded seconds, two of them at the same moment."""
    return [
        event(f"{call_id}-1", "call.received", at_offset(0), call_id, data={"psap": "P"}),
        event(f"{call_id}-2", "call.answered", at_offset(8), call_id, actor="tc-1"),
        event(f"{call_id}-3", "triage.conscious", at_offset(8), call_id, data={"answer": "no"}),
        event(f"{call_id}-4", "triage.breathing", at_offset(20), call_id, data={"answer": "no"}),
        event(f"{call_id}-5", "call.ended", at_offset(35), call_id),
    ]


async def test_replay_plays_a_recording_keeping_its_gaps(server: Server, tmp_path: Path) -> None:
    token = await server.token("adapter", "A")
    records = recording("R1")
    path = write_jsonl(tmp_path / "rec.jsonl", records)
    speed = 50.0
    expected = 35.0 / speed

    code, out, err, elapsed = await run_tcpr(
        "replay",
        str(path),
        "--url",
        server.url,
        "--token",
        token,
        "--speed",
        str(speed),
        env=cli_env(),
        cwd=tmp_path,
    )
    assert code == 0, err
    assert len(out.splitlines()) == 1, out
    assert json.loads(out) == {"sent": 5, "refused": 0}

    stored = await server.services.store.call_events("A", "R1")
    assert sorted(e.event_id for e in stored) == [f"R1-{i}" for i in range(1, 6)]
    by_id = {e.event_id: e for e in stored}
    for r in records:
        assert by_id[r["event_id"]].at == datetime.fromisoformat(r["at"])
    # The run waited the recorded gaps (divided by the speed). Exact pacing is tested on
    # `play()` itself in test_demo.py; arrival times at the server also carry connection setup.
    assert elapsed >= 0.8 * expected


INVALID = {
    # A timestamp without a UTC offset: the server refuses it (422); replay must still forward it.
    "naive-timestamp": event(
        "R2-bad", "call.nature", "2026-01-15T14:00:12", "R2", data={"code": "09-E-01"}
    ),
    "bad-answer": event(
        "R2-bad", "triage.breathing", at_offset(12), "R2", data={"answer": "maybe"}
    ),
}


@pytest.mark.parametrize("bad", list(INVALID))
async def test_replay_counts_a_refused_event_and_the_server_keeps_it(
    server: Server, tmp_path: Path, bad: str
) -> None:
    token = await server.token("adapter", "A")
    records = recording("R2")[:3]
    records.insert(2, INVALID[bad])
    path = write_jsonl(tmp_path / "bad.jsonl", records)

    code, out, err, _ = await run_tcpr(
        "replay",
        str(path),
        "--url",
        server.url,
        "--token",
        token,
        "--speed",
        "50",
        env=cli_env(),
        cwd=tmp_path,
    )
    assert code == 1, (out, err)
    summary = summary_line(out, err)
    assert summary["refused"] == 1, (out, err)
    stored = await server.services.store.call_events("A", "R2")
    assert sorted(e.event_id for e in stored) == ["R2-1", "R2-2", "R2-3"]
    async with await server.client("admin", "A") as admin:
        response = await admin.get("/api/v1/rejects", params={"agency": "A"})
    assert response.status_code == 200
    rejects = response.json()["rejects"]
    assert any("R2-bad" in r["body"] and r["status"] == 422 for r in rejects), rejects


async def test_replay_over_the_rate_limit_waits_and_loses_nothing(
    sqlite_url: str, tmp_path: Path
) -> None:
    """A 429 is "not yet", never "refused": replay waits the Retry-After and sends again."""
    limited = await start_server(
        service_settings(sqlite_url, rate_limit_adapter_per_second=20.0, rate_limit_adapter_burst=1)
    )
    try:
        token = await limited.token("adapter", "A")
        path = write_jsonl(tmp_path / "rec.jsonl", recording("R3"))
        code, out, err, _ = await run_tcpr(
            "replay", str(path), "--url", limited.url, "--token", token, "--speed", "1000",
            env=cli_env(), cwd=tmp_path,
        )  # fmt: skip
        assert code == 0, err
        assert json.loads(out) == {"sent": 5, "refused": 0}
        stored = await limited.services.store.call_events("A", "R3")
        assert sorted(e.event_id for e in stored) == [f"R3-{i}" for i in range(1, 6)]
    finally:
        await limited.stop()


async def test_replay_without_a_token_exits_2(tmp_path: Path) -> None:
    path = write_jsonl(tmp_path / "rec.jsonl", recording("R3"))
    code, out, err, _ = await run_tcpr(
        "replay",
        str(path),
        "--url",
        "http://127.0.0.1:9",
        env=cli_env(),
        cwd=tmp_path,
    )
    assert code == 2
    assert "token" in err.lower()
    assert out == ""


async def test_replay_of_a_bad_file_exits_2_naming_the_line(tmp_path: Path) -> None:
    path = tmp_path / "broken.jsonl"
    path.write_text(json.dumps(recording("R4")[0]) + "\n{not json\n", encoding="utf-8")
    code, _, err, _ = await run_tcpr(
        "replay",
        str(path),
        "--url",
        "http://127.0.0.1:9",
        "--token",
        "tcpr_x",
        env=cli_env(),
        cwd=tmp_path,
    )
    assert code == 2
    assert f"{path}:2" in err


# -- tcpr watch -------------------------------------------------------------------------------


async def test_watch_prints_the_snapshot_then_each_update(server: Server, tmp_path: Path) -> None:
    token = await server.token("supervisor", "A")
    proc = await asyncio.create_subprocess_exec(
        *tcpr_command(),
        "watch",
        "--url",
        server.url,
        "--token",
        token,
        env=cli_env(),
        cwd=tmp_path,
        stdout=asyncio.subprocess.PIPE,
    )
    assert proc.stdout is not None
    try:
        async with asyncio.timeout(20):
            snapshot = json.loads(await proc.stdout.readline())
            assert snapshot["type"] == "snapshot"
            async with await server.client() as client:
                when = datetime.now().astimezone().isoformat()
                await client.post("/api/v1/events", json=event("w1", "call.received", when))
            update = json.loads(await proc.stdout.readline())
        assert update["type"] == "call"
        assert update["event"]["event_id"] == "w1"
        assert update["seq"] > snapshot["seq"]
    finally:
        proc.terminate()
        await proc.wait()


async def test_watch_with_a_bad_token_exits_1(server: Server, tmp_path: Path) -> None:
    code, _, err, _ = await run_tcpr(
        "watch", "--url", server.url, "--token", "tcpr_nope", env=cli_env(), cwd=tmp_path
    )
    assert code == 1
    assert "invalid token" in err
