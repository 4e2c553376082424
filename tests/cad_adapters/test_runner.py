"""The adapter runner against a real service: every good record stored once, every bad one kept
with its raw text, where it was and why, and nothing lost while the service is away."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest
from runner_kit import config_file, event_line, free_port, until
from support.harness import Server, service_settings, start_server

from cad_adapters.config import ConfigError, load
from cad_adapters.runner import run, status
from cad_adapters.spool import Spool


async def _rejects(server: Server) -> list[dict[str, Any]]:
    async with await server.client("admin", "A") as admin:
        response = await admin.get("/api/v1/rejects", params={"agency": "A"})
    assert response.status_code == 200
    return list(response.json()["rejects"])


async def _kinds(server: Server, call: str = "C1") -> list[str]:
    return [e.kind for e in await server.services.store.call_events("A", call)]


def _feed(path: Path, lines: list[bytes]) -> Path:
    path.write_bytes(b"\n".join(lines) + b"\n")
    return path


BAD = [
    b'{"event_id": "t1", "call_id": "C1", "agency": "A", "kind": "call.nat',  # truncated
    b'{"event_id": "t2", "call_id": "C1", "agency": "A", "kind": "call.ended", '
    b'"at": "2026-03-14T09:40:00"}',  # no offset
    b'{"event_id": "t3", "call_id": "C1", "agency": "A", "kind": "call.ended", '
    b'"at": "2026-02-30T09:40:00Z"}',  # impossible date
    b'{"event_id": "t4", "call_id": "Caf\xe9", "agency": "A"}',  # latin-1, not utf-8
    b'{"event_id": "t5", "call_id": "C1", "agency": "A", "kind": "call.exploded", '
    b'"at": "2026-03-14T09:40:00Z"}',  # unknown kind
]


async def test_a_file_is_stored_once_and_each_bad_line_kept_with_its_reason(
    server: Server, tmp_path: Path
) -> None:
    good = [event_line(n).encode() for n in range(4)]
    feed = _feed(tmp_path / "feed.jsonl", [good[0], good[1], BAD[0], b"", *BAD[1:], *good[2:]])
    config = load(
        config_file(tmp_path, server.url, await server.token("adapter", "A"), _file(feed))
    )

    report = await run(config)

    assert (report.bad, report.delivered, report.rejects, report.spooled) == (5, 4, 5, 0)
    assert await _kinds(server) == [
        "call.received",
        "call.answered",
        "unit.dispatched",
        "unit.on_scene",
    ]
    kept = {r["reason"].split(": ", 1)[0]: r for r in await _rejects(server)}
    assert set(kept) == {f"{feed} line {n} (byte {_byte(feed, n)})" for n in (3, 5, 6, 7, 8)}
    by_line = {key.split(" line ")[1].split(" ")[0]: r for key, r in kept.items()}
    assert "not JSON" in by_line["3"]["reason"] and by_line["3"]["body"] == BAD[0].decode()
    assert by_line["5"]["field"] == "at" and "no UTC offset" in by_line["5"]["reason"]
    assert by_line["6"]["field"] == "at"
    assert by_line["7"]["field"] == "encoding" and "byte" in by_line["7"]["reason"]
    assert by_line["7"]["body"].endswith('"Caf\\xe9", "agency": "A"}')  # the raw bytes shown
    assert by_line["8"]["field"] == "kind"

    # Read again: the spool remembers where it stopped; nothing is sent twice.
    again = await run(config)
    assert (again.read, again.delivered, again.rejects) == (0, 0, 0)
    # The CAD appends: only the new line is read.
    with feed.open("ab") as out:
        out.write(event_line(4).encode() + b"\n")
    more = await run(config)
    assert (more.read, more.delivered) == (1, 1)
    assert len(await _kinds(server)) == 5
    assert len(await _rejects(server)) == 5


def _byte(feed: Path, line: int) -> int:
    lines = feed.read_bytes().split(b"\n")
    return sum(len(x) + 1 for x in lines[: line - 1])


def _file(path: Path, **extra: Any) -> dict[str, Any]:
    return {"type": "file", "path": str(path), **extra}


async def test_nothing_is_lost_while_the_service_is_down(tmp_path: Path) -> None:
    """Read while the service is away: the spool keeps every record, bad ones go to the
    dead-letter file at once, and everything is delivered once the service is back."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    settings = service_settings(f"sqlite+aiosqlite:///{tmp_path / 'tcpr.db'}")
    first = await start_server(settings)
    token = await first.token("adapter", "A")
    await first.stop()

    lines = [event_line(n, call=f"C{n // 5}").encode() for n in range(40)]
    feed = _feed(tmp_path / "feed.jsonl", [*lines[:20], BAD[1], *lines[20:]])
    config = load(config_file(tmp_path, url, token, _file(feed)))
    stop = asyncio.Event()
    running = asyncio.create_task(run(config, stop))
    spool = Spool(config.spool.path, config.spool.dead_letter)  # type: ignore[arg-type]
    await until(lambda: len(spool.dead_letters()) == 1, what="the bad line in the dead letters")
    assert spool.depth() == 41  # 40 events (one entry each) and the reject
    dead = spool.dead_letters()[0]
    assert dead["position"] == f"line 21 (byte {_byte(feed, 21)})"
    assert "service unavailable" in dead["reason"] and "no UTC offset" in dead["reason"]
    stop.set()
    report = await running
    assert report.spooled == 41 and report.delivered == 0
    shown = status(config)  # what `tcpr adapter status` prints
    assert (shown["spooled"], shown["dead_letters"]) == (41, 1)
    assert shown["oldest"]["position"] == "line 1 (byte 0)" and shown["oldest"]["attempts"] >= 1

    # The service is back (with the same database): the next run resends the spool.
    server = await start_server(service_settings(settings.database_url))
    server_url = server.url
    try:
        config.service.url = server_url
        report = await run(config)
        assert report.read == 0  # the file was read before; only the spool is resent
        assert (report.delivered, report.rejects, report.spooled) == (40, 1, 0)
        calls = [f"C{n}" for n in range(8)]
        assert [len(await _kinds(server, c)) for c in calls] == [5] * 8
        assert len(await _rejects(server)) == 1
        assert len(spool.dead_letters()) == 1  # noted once, not again on delivery
    finally:
        spool.close()
        await server.stop()


async def test_a_record_the_service_refuses_does_not_hold_up_the_feed(
    server: Server, tmp_path: Path
) -> None:
    """An event for another agency (403) or reusing an id with other content (409) is refused
    for good: the service keeps it, the dead-letter file notes it, the rest are stored."""
    lines = [
        event_line(0),
        event_line(1, agency="B"),
        event_line(2),
        event_line(2, kind="call.ended"),  # same id, other content
        event_line(3),
    ]
    feed = _feed(tmp_path / "feed.jsonl", [x.encode() for x in lines])
    config = load(
        config_file(tmp_path, server.url, await server.token("adapter", "A"), _file(feed))
    )
    report = await run(config)
    assert (report.delivered, report.refused, report.spooled) == (3, 2, 0)
    assert len(await _kinds(server)) == 3
    spool = Spool(config.spool.path, config.spool.dead_letter)  # type: ignore[arg-type]
    reasons = [d["reason"] for d in spool.dead_letters()]
    spool.close()
    assert "HTTP 403" in reasons[0] and "agency B" in reasons[0]
    assert "HTTP 409" in reasons[1]
    # The service keeps each refused request: the whole batch first, then the record alone.
    kept = [(r["status"], json.loads(r["body"])) for r in await _rejects(server)]
    singles = {status: body for status, body in kept if len(body) == 1}
    assert singles == {403: [json.loads(lines[1])], 409: [json.loads(lines[3])]}


async def test_a_refused_token_keeps_everything_spooled(server: Server, tmp_path: Path) -> None:
    feed = _feed(tmp_path / "feed.jsonl", [event_line(n).encode() for n in range(3)])
    config = load(config_file(tmp_path, server.url, "not-a-token", _file(feed)))
    stop = asyncio.Event()
    running = asyncio.create_task(run(config, stop))
    spool = Spool(config.spool.path, config.spool.dead_letter)  # type: ignore[arg-type]
    await until(lambda: spool.depth() == 3, what="the file spooled")
    await asyncio.sleep(0.5)  # some refused attempts
    stop.set()
    report = await running
    assert (report.delivered, report.refused, report.spooled) == (0, 0, 3)
    assert spool.pending(1)[0].attempts >= 1
    assert spool.dead_letters() == []
    spool.close()
    assert await _kinds(server) == []


async def test_a_directory_the_cad_drops_files_into(server: Server, tmp_path: Path) -> None:
    drop = tmp_path / "drop"
    drop.mkdir()
    source = {"type": "directory", "path": str(drop), "pattern": "*.jsonl"}
    source |= {"poll_seconds": 0.1, "settle_seconds": 0}
    config = load(config_file(tmp_path, server.url, await server.token("adapter", "A"), source))
    stop = asyncio.Event()
    running = asyncio.create_task(run(config, stop))
    _feed(drop / "a.jsonl", [event_line(n, call="D1").encode() for n in range(5)])
    await until(lambda: (drop / "done" / "a.jsonl").exists(), what="a.jsonl moved to done/")
    _feed(drop / "b.jsonl", [event_line(n, call="D2").encode() for n in range(5)])
    (drop / "ignored.txt").write_text("not matched by the pattern")
    await until(lambda: (drop / "done" / "b.jsonl").exists(), what="b.jsonl moved to done/")
    stop.set()
    report = await running
    assert (report.read, report.delivered, report.spooled) == (10, 10, 0)
    assert len(await _kinds(server, "D1")) == len(await _kinds(server, "D2")) == 5
    assert (drop / "ignored.txt").exists()


async def test_a_tcp_line_feed(server: Server, tmp_path: Path) -> None:
    port = free_port()
    source = {"type": "tcp", "listen": f"127.0.0.1:{port}"}
    config = load(config_file(tmp_path, server.url, await server.token("adapter", "A"), source))
    stop = asyncio.Event()
    running = asyncio.create_task(run(config, stop))

    async def connect() -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        for _ in range(100):
            try:
                return await asyncio.open_connection("127.0.0.1", port)
            except OSError:
                await asyncio.sleep(0.05)
        raise AssertionError("the adapter never listened")

    _, writer = await connect()
    for n in range(5):
        writer.write(event_line(n, call="T1").encode() + b"\r\n")
    writer.write(BAD[2] + b"\n")
    writer.write(event_line(5, call="T1").encode())  # the last line, cut off by the close
    await writer.drain()
    writer.close()
    await until(lambda: _has(server, "T1", 6), what="the 6 events of T1")
    # A live feed beats as it starts, so the floor can tell it from a dead one.
    (feed,) = server.services.feeds.status(["A"])
    assert feed["watched"] is True and len(feed["feeds"]) == 1
    stop.set()
    report = await running
    assert (report.delivered, report.rejects, report.spooled) == (6, 1, 0)
    reject = (await _rejects(server))[0]
    assert reject["reason"].startswith("tcp 127.0.0.1:") and " line 6: field " in reject["reason"]


async def _has(server: Server, call: str, count: int) -> bool:
    return len(await _kinds(server, call)) == count


@pytest.mark.parametrize(
    ("toml", "message"),
    [
        ('agency = "A"\n[source]\ntype = "file"\n[format]\ntype = "jsonl"\n', "source.path"),
        (
            'agency = "A"\n[source]\ntype = "tcp"\n[format]\ntype = "jsonl"\n',
            "source.listen",
        ),
        (
            'agency = "A"\n[source]\ntype = "file"\npath = "x"\n[format]\ntype = "delimited"\n',
            "format.preset",
        ),
        ('agency = "A"\n[source]\ntype = "ftp"\n[format]\ntype = "jsonl"\n', "source.type"),
        ('agency = "A"\n[source]\ntype = "file"\npath = "x"\nfolow = true\n', "source.folow"),
        ("agency = \n", "not valid TOML"),
    ],
)
def test_a_bad_configuration_names_the_key(tmp_path: Path, toml: str, message: str) -> None:
    path = tmp_path / "bad.toml"
    path.write_text(toml)
    with pytest.raises(ConfigError, match=message.replace(".", r"\.")):
        load(path)
