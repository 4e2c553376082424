"""Awkward moments for the adapter runner, each once a way to lose or stall a feed: files replaced
under the same name, rotated or cut mid-line, a wrong service URL, records the service refuses
for the role, values JSON cannot carry, a conflicting event inside a row, TCP resets and stops."""

from __future__ import annotations

import asyncio
import json
import socket
import struct
from pathlib import Path
from typing import Any

from runner_kit import config_file, event_line, free_port, until
from support.harness import Server
from support.paths import REPO

from cad_adapters.config import load
from cad_adapters.runner import Report, run
from cad_adapters.spool import Spool

EXAMPLES = REPO / "docs" / "examples"
GUARD_S = 20.0  # against hanging only; nothing here asserts how long anything takes


async def _ids(server: Server, call: str, agency: str = "A") -> list[str]:
    return [e.event_id for e in await server.services.store.call_events(agency, call)]


async def _rejects(server: Server, agency: str = "A") -> list[dict[str, Any]]:
    async with await server.client("admin", agency) as admin:
        response = await admin.get("/api/v1/rejects", params={"agency": agency})
    return list(response.json()["rejects"])


def _lines(*lines: str) -> bytes:
    return "".join(line + "\n" for line in lines).encode()


async def _run(server: Server, tmp_path: Path, source: dict[str, Any], **kw: Any) -> Report:
    token = await server.token("adapter", kw.get("agency", "A"))
    config = load(config_file(tmp_path, server.url, token, source, **kw))
    return await asyncio.wait_for(run(config), GUARD_S)


async def test_a_file_replaced_under_the_same_name_is_read_from_the_top(
    server: Server, tmp_path: Path
) -> None:
    feed = tmp_path / "export.jsonl"
    feed.write_bytes(_lines(event_line(0, call="K1")))
    assert (await _run(server, tmp_path, {"type": "file", "path": str(feed)})).delivered == 1
    # The CAD writes the next export under the same name: longer, and not a continuation.
    (tmp_path / "next.jsonl").write_bytes(
        _lines(event_line(0, call="K2"), event_line(1, call="K2"), event_line(0, call="K3"))
    )
    (tmp_path / "next.jsonl").replace(feed)
    report = await _run(server, tmp_path, {"type": "file", "path": str(feed)})
    assert (report.read, report.delivered) == (3, 3)
    assert len(await _ids(server, "K2")) == 2 and len(await _ids(server, "K3")) == 1


async def test_an_unfinished_last_line_is_read_again_once_complete(
    server: Server, tmp_path: Path
) -> None:
    feed = tmp_path / "feed.jsonl"
    whole = event_line(1, call="P1")
    feed.write_bytes(_lines(event_line(0, call="P1")) + whole[:40].encode())
    first = await _run(server, tmp_path, {"type": "file", "path": str(feed)})
    assert (first.delivered, first.bad) == (1, 1)  # the cut line is a reject, for now
    with feed.open("ab") as out:
        out.write(whole[40:].encode() + b"\n" + _lines(event_line(2, call="P1")))
    second = await _run(server, tmp_path, {"type": "file", "path": str(feed)})
    assert (second.read, second.delivered, second.bad) == (2, 2, 0)
    assert await _ids(server, "P1") == ["P1-0", "P1-1", "P1-2"]


async def test_a_followed_log_rotated_or_truncated_is_read_on(
    server: Server, tmp_path: Path
) -> None:
    log = tmp_path / "cad.log"
    log.write_bytes(_lines(event_line(0, call="F1")))
    token = await server.token("adapter", "A")
    source = {"type": "file", "path": str(log), "follow": True, "poll_seconds": 0.05}
    config = load(config_file(tmp_path, server.url, token, source))
    stop = asyncio.Event()
    running = asyncio.create_task(run(config, stop))

    async def has(call: str, count: int) -> bool:
        return len(await _ids(server, call)) == count

    await until(lambda: has("F1", 1), GUARD_S, "F1 from the first log")
    with log.open("ab") as out:  # written just before the rotation
        out.write(_lines(event_line(1, call="F1")))
    log.rename(tmp_path / "cad.log.1")
    log.write_bytes(_lines(event_line(0, call="F2")))
    await until(lambda: has("F1", 2), GUARD_S, "the old log's last line")
    await until(lambda: has("F2", 1), GUARD_S, "F2 from the rotated-in log")
    with log.open("wb") as out:  # copytruncate: emptied in place, then written again
        out.write(_lines(event_line(0, call="F3")))
    await until(lambda: has("F3", 1), GUARD_S, "F3 after the truncation")
    stop.set()
    report = await asyncio.wait_for(running, GUARD_S)
    assert (report.bad, report.refused, report.spooled) == (0, 0, 0)


async def test_a_wrong_service_url_keeps_everything_spooled(server: Server, tmp_path: Path) -> None:
    feed = tmp_path / "feed.jsonl"
    feed.write_bytes(_lines(*(event_line(n, call="U1") for n in range(3))))
    token = await server.token("adapter", "A")
    config = load(config_file(tmp_path, server.url + "/not-the-service", token, _file(feed)))
    stop = asyncio.Event()
    running = asyncio.create_task(run(config, stop))
    spool = Spool(config.spool.path, config.spool.dead_letter)  # type: ignore[arg-type]
    try:
        await until(lambda: spool.depth() == 3 and spool.pending(1)[0].attempts >= 2)
        stop.set()
        report = await asyncio.wait_for(running, GUARD_S)
        assert (report.delivered, report.refused, report.spooled) == (0, 0, 3)
        assert spool.dead_letters() == []  # a 404 is not the records' fault
    finally:
        spool.close()
    config.service.url = server.url
    report = await asyncio.wait_for(run(config), GUARD_S)
    assert (report.delivered, report.spooled) == (3, 0)


def _file(path: Path) -> dict[str, Any]:
    return {"type": "file", "path": str(path)}


async def test_records_the_service_refuses_for_the_role_or_as_json_do_not_stall_the_feed(
    server: Server, tmp_path: Path
) -> None:
    review = event_line(1, call="R1", kind="qi.review", data={"recognizable": True})
    feed = tmp_path / "feed.jsonl"
    feed.write_bytes(
        _lines(event_line(0, call="R1"), review, event_line(2, call="R1"))
        + b'{"event_id": "n1", "call_id": "R1", "agency": "A", "kind": "call.nature", '
        b'"at": "2026-03-14T09:30:05Z", "data": {"code": "9E1", "weight": NaN}}\n'
        + b'{"event_id": "s1", "call_id": "R\\ud800", "agency": "A", "kind": "call.ended", '
        b'"at": "2026-03-14T09:30:06Z"}\n' + _lines(event_line(3, call="R1"))
    )
    report = await _run(server, tmp_path, _file(feed))
    assert (report.delivered, report.refused, report.bad, report.spooled) == (3, 1, 2, 0)
    assert await _ids(server, "R1") == ["R1-0", "R1-2", "R1-3"]
    kept = await _rejects(server)
    by_status = sorted((r["status"], r["field"]) for r in kept if r["body"].count("{") < 3)
    assert (403, "kind") in by_status  # the qi.review, refused alone and kept by the service
    filed = [r for r in kept if r["endpoint"] == "/api/v1/rejects"]
    assert sorted("line 4" in r["reason"] or "line 5" in r["reason"] for r in filed) == [
        True,
        True,
    ]
    filed.sort(key=lambda r: r["reason"])
    # NaN is refused by the canonical check, naming the field (JSON text cannot carry it).
    assert "line 4 " in filed[0]["reason"] and "data.weight" in filed[0]["reason"]
    assert "line 5 " in filed[1]["reason"] and filed[1]["field"] == "call_id"  # lone surrogate


async def test_a_conflicting_event_in_a_row_costs_only_itself(
    server: Server, tmp_path: Path
) -> None:
    """The CAD re-exports a row with the answering telecommunicator corrected and a unit added:
    the corrected answer conflicts (409) and is dead-lettered; the new unit is stored."""
    row = (
        "24-009|0042|03/14/2024 09:30:02|03/14/2024 09:30:09|{taker}|N/A|N/A|09-E-01|"
        "CARDIAC ARREST|03/14/2024 09:31:05|{unit}|{dispatched}|N/A|N/A\n"
    )
    feed = tmp_path / "export.txt"
    feed.write_bytes(row.format(taker="T17", unit="M12", dispatched="03/14/2024 09:31:20").encode())
    mapping = {"type": "delimited", "mapping": str(EXAMPLES / "metro911.toml")}
    first = await _run(server, tmp_path, _file(feed), fmt=mapping, agency="METRO")
    assert first.delivered == 1
    before = await _ids(server, "24-009", "METRO")
    feed.write_bytes(row.format(taker="T09", unit="M7", dispatched="03/14/2024 09:33:00").encode())
    second = await _run(server, tmp_path, _file(feed), fmt=mapping, agency="METRO")
    assert (second.delivered, second.refused) == (1, 1)
    after = await server.services.store.call_events("METRO", "24-009")
    assert len(after) == len(before) + 1
    assert {e.data.get("unit") for e in after if e.kind == "unit.dispatched"} == {"M12", "M7"}
    assert next(e.actor for e in after if e.kind == "call.answered") == "T17"  # first kept
    spool = Spool(tmp_path / "feed.spool.sqlite", tmp_path / "feed.dead.jsonl")
    dead = spool.dead_letters()
    spool.close()
    assert len(dead) == 1 and "HTTP 409" in dead[0]["reason"]
    assert [e["kind"] for e in dead[0]["body"]] == ["call.answered"]


async def test_a_tcp_feed_reconnects_after_a_reset(server: Server, tmp_path: Path) -> None:
    """The adapter dials the CAD; the CAD resets the first connection after two lines and
    sends the third on the next one."""
    connections = 0

    async def cad(lines: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        nonlocal connections
        connections += 1
        if connections == 1:
            writer.write(_lines(event_line(0, call="T2"), event_line(1, call="T2")))
            await writer.drain()
            await asyncio.sleep(0.2)
            sock = writer.get_extra_info("socket")
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            writer.transport.abort()  # RST, not FIN
            return
        writer.write(_lines(event_line(2, call="T2")))
        await writer.drain()
        await lines.read()  # stay connected until the adapter stops and hangs up
        writer.close()
        await writer.wait_closed()

    server_cad = await asyncio.start_server(cad, "127.0.0.1", 0)
    port = server_cad.sockets[0].getsockname()[1]
    token = await server.token("adapter", "A")
    config = load(
        config_file(tmp_path, server.url, token, {"type": "tcp", "connect": f"127.0.0.1:{port}"})
    )
    stop = asyncio.Event()
    running = asyncio.create_task(run(config, stop))

    async def three() -> bool:
        return len(await _ids(server, "T2")) == 3

    try:
        await until(three, GUARD_S, "the three lines over two connections")
        assert connections == 2 and not running.done()
    finally:
        stop.set()
        report = await asyncio.wait_for(running, GUARD_S)  # stops with a connection open
        server_cad.close()
        await server_cad.wait_closed()
    assert (report.delivered, report.spooled) == (3, 0)


async def test_a_tcp_listener_stops_with_a_cad_still_connected(
    server: Server, tmp_path: Path
) -> None:
    port = free_port()
    token = await server.token("adapter", "A")
    config = load(
        config_file(tmp_path, server.url, token, {"type": "tcp", "listen": f"127.0.0.1:{port}"})
    )
    stop = asyncio.Event()
    running = asyncio.create_task(run(config, stop))
    for _ in range(100):
        try:
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            break
        except OSError:
            await asyncio.sleep(0.05)
    writer.write(_lines(event_line(0, call="L1")))
    await writer.drain()

    async def stored() -> bool:
        return len(await _ids(server, "L1")) == 1

    await until(stored, GUARD_S, "the line over the open connection")
    stop.set()
    report = await asyncio.wait_for(running, GUARD_S)
    assert await reader.read() == b""  # the adapter hung up on the CAD
    writer.close()
    await writer.wait_closed()
    assert (report.delivered, report.spooled) == (1, 0)
    assert json.loads(report.json())["bad"] == 0
