"""WS /ws: first-message auth, snapshot, per-call updates, alerts, resume from a sequence."""

from __future__ import annotations

import asyncio
import json
import logging
from datetime import UTC, datetime
from typing import Any

import pytest
import websockets
from support.harness import Panel, Server, at, event, service_settings, start_server


async def test_snapshot_then_live_updates(server: Server) -> None:
    async with await server.client() as client:
        await client.post("/api/v1/events", json=event("e1", "call.received", at(20), call_id="C1"))
    panel = await Panel.open(server, await server.token("telecommunicator", "A"))
    try:
        snapshot = await panel.next(type="snapshot")
        assert [c["call_id"] for c in snapshot["calls"]] == ["C1"]
        assert snapshot["calls"][0]["phase"] == "ask_conscious"
        assert snapshot["seq"] >= 1
        assert datetime.fromisoformat(snapshot["server_time"]).tzinfo is not None

        async with await server.client("telecommunicator") as console:
            await console.post(
                "/api/v1/events",
                json=event(
                    "e2", "triage.conscious", at(10), source="console", data={"answer": "no"}
                ),
            )
        update = await panel.next(type="call", call_id="C1")
        assert update["seq"] > snapshot["seq"]
        assert update["call"]["phase"] == "ask_breathing"
        assert update["event"]["event_id"] == "e2"
        assert update["event"]["seq"] == update["seq"]
    finally:
        await panel.close()


async def test_agency_boundary_on_the_socket(server: Server) -> None:
    panel = await Panel.open(server, await server.token("supervisor", "A"))
    try:
        await panel.next(type="snapshot")
        async with await server.client("adapter", "A", "B") as client:
            await client.post(
                "/api/v1/events", json=event("b1", "call.received", at(5), call_id="B1", agency="B")
            )
            await client.post(
                "/api/v1/events", json=event("a1", "call.received", at(5), call_id="A1", agency="A")
            )
        update = await panel.next(type="call")
        assert update["call_id"] == "A1"  # B1 was never sent to this panel
        assert all(m.get("call_id") != "B1" for m in panel.messages)
    finally:
        await panel.close()


async def test_ping_pong_gives_server_time(server: Server) -> None:
    panel = await Panel.open(server, await server.token("supervisor", "A"))
    try:
        await panel.next(type="snapshot")
        await panel.connection.send(json.dumps({"type": "ping", "t": 12345}))
        pong = await panel.next(type="pong")
        assert pong["t"] == 12345
        server_time = datetime.fromisoformat(pong["server_time"])
        assert abs((server_time - datetime.now(UTC)).total_seconds()) < 5
    finally:
        await panel.close()


@pytest.mark.parametrize(
    ("first", "code"),
    [
        ({"type": "auth", "token": "tcpr_wrong"}, 4401),
        ({"type": "hello"}, 4401),
        ("not json", 4400),
    ],
)
async def test_socket_refuses_bad_first_message(server: Server, first: object, code: int) -> None:
    async with websockets.connect(server.ws_url) as ws:
        await ws.send(first if isinstance(first, str) else json.dumps(first))
        with pytest.raises(websockets.ConnectionClosed) as closed:
            await ws.recv()
    assert closed.value.rcvd is not None
    assert closed.value.rcvd.code == code


async def test_socket_refuses_roles_that_may_not_watch(server: Server) -> None:
    async with websockets.connect(server.ws_url) as ws:
        await ws.send(json.dumps({"type": "auth", "token": await server.token("adapter", "A")}))
        with pytest.raises(websockets.ConnectionClosed) as closed:
            await ws.recv()
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 4403


async def test_socket_closes_when_no_auth_arrives_in_time(server: Server) -> None:
    async with websockets.connect(server.ws_url) as ws:
        with pytest.raises(websockets.ConnectionClosed) as closed:
            await asyncio.wait_for(ws.recv(), timeout=10)
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 4401


async def test_reconnect_with_last_sequence_receives_what_was_missed(server: Server) -> None:
    token = await server.token("supervisor", "A")
    panel = await Panel.open(server, token)
    async with await server.client() as client:
        await client.post("/api/v1/events", json=event("e1", "call.received", at(30)))
        seen = (await panel.next(type="call"))["seq"]
        await panel.close()
        # While the panel is away:
        await client.post("/api/v1/events", json=event("e2", "call.answered", at(25), actor="tc-1"))
        await client.post(
            "/api/v1/events", json=event("e3", "call.nature", at(20), data={"code": "09-E-01"})
        )
    panel = await Panel.open(server, token, since=seen)
    try:
        snapshot = await panel.next(type="snapshot")
        assert snapshot["calls"][0]["recognized"] is True
        assert snapshot["calls"][0]["recognition_path"] == "nature_code"
        missed = await panel.next(type="missed")
        assert missed["since"] == seen
        assert missed["complete"] is True
        assert [e["event_id"] for e in missed["events"]] == ["e2", "e3"]
        assert [e["seq"] for e in missed["events"]] == sorted(e["seq"] for e in missed["events"])
    finally:
        await panel.close()


async def test_ended_call_leaves_the_snapshot(server: Server) -> None:
    async with await server.client() as client:
        await client.post("/api/v1/events", json=event("e1", "call.received", at(30)))
        await client.post("/api/v1/events", json=event("e2", "call.ended", at(1)))
    panel = await Panel.open(server, await server.token("supervisor", "A"))
    try:
        assert (await panel.next(type="snapshot"))["calls"] == []
    finally:
        await panel.close()


async def test_a_panel_that_stops_reading_is_cut_off_not_buffered(database_url: str) -> None:
    from support.harness import service_settings, start_server

    running = await start_server(service_settings(database_url, ws_queue_limit=5))
    try:
        slow = await Panel.open(running, await running.token("supervisor", "A"))
        await slow.next(type="snapshot")
        hub = running.services.hub
        (panel,) = [p for panels in hub._panels.values() for p in panels]
        for i in range(10):  # more than the queue holds, offered faster than anyone sends
            panel.offer(json.dumps({"type": "event", "seq": i}))
        assert panel.overflowed
        with pytest.raises(websockets.ConnectionClosed) as closed:
            while True:
                await asyncio.wait_for(slow.connection.recv(), timeout=10)
        assert closed.value.rcvd is not None and closed.value.rcvd.code == 4008
    finally:
        await running.stop()


async def test_a_lost_broker_message_is_filled_from_the_log_in_order(server: Server) -> None:
    """The first announcement is lost; the next one shows a gap in the sequence, and the live
    view reads the missing event from the log before applying the later one."""
    panel = await Panel.open(server, await server.token("supervisor", "A"))
    store = server.services.store
    announce = store.on_commit
    lost = True

    async def lossy(events: list[Any], created: set[tuple[str, str]], states: list[Any]) -> None:
        nonlocal lost
        if lost:
            lost = False
            return
        assert announce is not None
        await announce(events, created, states)

    store.on_commit = lossy
    try:
        await panel.next(type="snapshot")
        async with await server.client() as client:
            await client.post("/api/v1/events", json=event("e1", "call.received", at(30)))
            await client.post("/api/v1/events", json=event("e2", "call.answered", at(25)))
        first = await panel.next(type="call", wait=5)
        second = await panel.next(type="call", wait=5)
    finally:
        store.on_commit = announce
        await panel.close()
    assert [first["event"]["event_id"], second["event"]["event_id"]] == ["e1", "e2"]
    assert second["seq"] == first["seq"] + 1


async def test_a_lost_last_message_arrives_through_the_log_poll(server: Server) -> None:
    panel = await Panel.open(server, await server.token("supervisor", "A"))
    store = server.services.store
    announce = store.on_commit

    async def silent(*_: object) -> None:
        return None

    store.on_commit = silent
    try:
        await panel.next(type="snapshot")
        async with await server.client() as client:
            await client.post("/api/v1/events", json=event("e1", "call.received", at(30)))
        # Nothing follows it on the broker; the periodic read of the log delivers it.
        update = await panel.next(type="call", wait=5)
    finally:
        store.on_commit = announce
        await panel.close()
    assert update["event"]["event_id"] == "e1"


async def test_a_client_gone_before_authenticating_is_no_error(
    server: Server, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.ERROR):
        async with websockets.connect(server.ws_url):
            pass  # connects and leaves without a word
        panel = await Panel.open(server, await server.token("supervisor", "A"))
        try:
            assert (await panel.next(type="snapshot"))["type"] == "snapshot"
        finally:
            await panel.close()
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR] == []


async def test_a_call_the_cad_never_ends_leaves_the_panels_by_the_stated_rule(
    database_url: str,
) -> None:
    """Past `live_call_max_age_seconds` after T0 an open call leaves the live views (a `gone`
    message to its panels; the snapshot states the rule) and stays in the audits."""
    settings = service_settings(database_url, live_call_max_age_seconds=2.0)
    server = await start_server(settings)
    try:
        panel = await Panel.open(server, await server.token("supervisor", "A"))
        snapshot = await panel.next(type="snapshot")
        assert snapshot["live_call_max_age_seconds"] == 2.0
        async with await server.client("adapter", "A") as adapter:
            posted = await adapter.post(
                "/api/v1/events", json=event("S1", "call.received", at(), "STALE")
            )
            assert posted.status_code == 200
        await panel.next(type="call", call_id="STALE")
        gone = await panel.next(wait=10, type="gone", call_id="STALE")
        assert gone["agency"] == "A"
        assert ("A", "STALE") not in server.services.live.calls
        async with await server.client("qi", "A") as qi:
            audit = await qi.get("/api/v1/calls/A/STALE/audit")
        assert audit.status_code == 200 and audit.json()["t0"] is not None
        await panel.close()
    finally:
        await server.stop()
