"""The websocket's own defences: the Origin allow-list before accept, session-cookie
authentication, and closing the sockets of a credential once it is revoked or expires."""

from __future__ import annotations

import asyncio
import json
import os
import socket
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
import websockets
from support.harness import Server, service_settings, start_server

ALLOWED = "https://console.example"


@pytest.fixture
async def server(migrated_database_url: str) -> AsyncIterator[Server]:
    # A long re-check period: a socket closed promptly was closed by the revocation itself.
    running = await start_server(
        service_settings(migrated_database_url, allowed_origins=[ALLOWED], ws_reauth_seconds=3600)
    )
    try:
        yield running
    finally:
        await running.stop()


async def open_panel(
    server: Server, auth: dict[str, Any], origin: str | None = None, cookie: str | None = None
) -> Any:
    """A connected, authenticated socket that has received its snapshot."""
    headers = {"Cookie": cookie} if cookie else None
    ws = await websockets.connect(server.ws_url, origin=origin, additional_headers=headers)
    await ws.send(json.dumps({"type": "auth", **auth}))
    first = json.loads(await asyncio.wait_for(ws.recv(), 10))
    assert first["type"] == "snapshot", first
    return ws


async def closed_with(ws: Any, bound: float = 15) -> tuple[int | None, str]:
    """Read until the server closes the socket (within `bound` seconds): its code and reason."""
    try:
        async with asyncio.timeout(bound):
            while True:
                await ws.recv()
    except websockets.ConnectionClosed as closed:
        return (closed.rcvd.code, closed.rcvd.reason) if closed.rcvd else (None, "")
    raise AssertionError("unreachable")


async def login(server: Server, token: str) -> str:
    async with httpx.AsyncClient(base_url=server.url) as client:
        response = await client.post("/api/v1/session", json={"token": token})
    assert response.status_code == 200, response.text
    return response.headers["set-cookie"].split(";")[0]


async def test_a_foreign_origin_is_refused_before_accept(server: Server) -> None:
    for origin in ("https://evil.example", "http://127.0.0.1:1", "null"):
        with pytest.raises(websockets.InvalidStatus) as refused:
            await websockets.connect(server.ws_url, origin=origin)
        assert refused.value.response.status_code == 403, origin


async def test_allowed_own_or_no_origin_is_accepted(server: Server) -> None:
    token = await server.token("supervisor", "A")
    for origin in (None, server.url, ALLOWED):
        ws = await open_panel(server, {"token": token}, origin)
        await ws.close()


async def test_the_session_cookie_authenticates_a_tokenless_auth(server: Server) -> None:
    cookie = await login(server, await server.token("telecommunicator", "A"))
    ws = await open_panel(server, {}, server.url, cookie)
    await ws.close()
    for headers in (None, {"Cookie": "tcpr_session=forged"}):
        ws = await websockets.connect(server.ws_url, additional_headers=headers)
        await ws.send(json.dumps({"type": "auth"}))
        code, reason = await closed_with(ws)
        assert code == 4401 and "sign in" in reason


async def test_revoking_a_token_closes_its_sockets(server: Server) -> None:
    info, token = await server.services.tokens.issue("supervisor", ["A"], "leaving")
    other = await open_panel(server, {"token": await server.token("supervisor", "A")})
    by_token = await open_panel(server, {"token": token})
    by_cookie = await open_panel(server, {}, server.url, await login(server, token))
    async with await server.client("admin", "A") as admin:
        assert (await admin.delete(f"/api/v1/tokens/{info.id}")).status_code == 204
    for ws in (by_token, by_cookie):
        assert await closed_with(ws) == (4401, "token revoked")
    await other.send(json.dumps({"type": "ping", "t": 1}))
    pong = json.loads(await asyncio.wait_for(other.recv(), 10))
    assert pong["type"] == "pong"  # another token's socket stays open
    await other.close()


async def test_logout_closes_the_sessions_socket(server: Server) -> None:
    cookie = await login(server, await server.token("supervisor", "A"))
    ws = await open_panel(server, {}, server.url, cookie)
    async with httpx.AsyncClient(base_url=server.url) as client:
        response = await client.delete(
            "/api/v1/session", headers={"Cookie": cookie, "Origin": server.url}
        )
        assert response.status_code == 204
    assert await closed_with(ws) == (4401, "session ended")


async def test_the_periodic_check_closes_what_nobody_announced(sqlite_url: str) -> None:
    running = await start_server(service_settings(sqlite_url, ws_reauth_seconds=0.2))
    try:
        tokens = running.services.tokens
        info, revoked = await tokens.issue("supervisor", ["A"], "revoked-elsewhere")
        soon = datetime.now(UTC) + timedelta(seconds=2)
        _, expiring = await tokens.issue("supervisor", ["A"], "expiring", soon)
        ws_revoked = await open_panel(running, {"token": revoked})
        ws_expiring = await open_panel(running, {"token": expiring})
        await tokens.revoke(info.id)  # as `tcpr token revoke` does: no announcement here
        assert await closed_with(ws_revoked) == (4401, "token revoked or expired")
        assert await closed_with(ws_expiring) == (4401, "token revoked or expired")
    finally:
        await running.stop()


REDIS_URL = os.environ.get("TCPR_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


def redis_or_skip() -> None:
    host, _, port = REDIS_URL.split("://", 1)[1].split("/", 1)[0].rpartition(":")
    try:
        socket.create_connection((host, int(port)), timeout=1).close()
    except OSError:
        if os.environ.get("CI"):
            pytest.fail(f"Redis at {REDIS_URL} unreachable; CI must run this", pytrace=False)
        pytest.skip(f"Redis at {REDIS_URL} unreachable")


async def test_a_revocation_on_one_replica_closes_sockets_on_another(sqlite_url: str) -> None:
    redis_or_skip()
    settings = service_settings(
        sqlite_url,
        broker_url=REDIS_URL,
        broker_channel=f"tcpr.test.{uuid.uuid4().hex}",
        ws_reauth_seconds=3600,  # so only the broadcast can close it in time
    )
    first = await start_server(settings)
    second = await start_server(settings)
    try:
        info, token = await first.services.tokens.issue("supervisor", ["A"], "on-both")
        ws = await open_panel(second, {"token": token})
        async with await first.client("admin", "A") as admin:
            assert (await admin.delete(f"/api/v1/tokens/{info.id}")).status_code == 204
        assert await closed_with(ws) == (4401, "token revoked")
    finally:
        await second.stop()
        await first.stop()
