"""Browser sessions: a token exchanged for an HttpOnly cookie, and what that cookie may do."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from support.harness import Server, at, event, service_settings, start_server

COOKIE = "tcpr_session"


def session_cookie(response: httpx.Response) -> tuple[str, set[str]]:
    """The session secret and the cookie's attributes (lower-cased) from Set-Cookie."""
    header = response.headers["set-cookie"]
    first, *attributes = (part.strip() for part in header.split(";"))
    name, _, value = first.partition("=")
    assert name == COOKIE, header
    return value, {a.lower() for a in attributes}


async def login(server: Server, token: str) -> str:
    async with httpx.AsyncClient(base_url=server.url) as client:
        response = await client.post("/api/v1/session", json={"token": token})
    assert response.status_code == 200, response.text
    return session_cookie(response)[0]


def browser(server: Server, secret: str, origin: str | None = None) -> httpx.AsyncClient:
    """A client that sends the cookie as a browser would (httpx keeps Secure cookies off
    plain http, so the header is set by hand)."""
    headers = {"Cookie": f"{COOKIE}={secret}"}
    if origin is not None:
        headers["Origin"] = origin
    return httpx.AsyncClient(base_url=server.url, headers=headers, timeout=30)


async def poll_status(client: httpx.AsyncClient, path: str, want: int, bound: float = 15) -> None:
    deadline = asyncio.get_running_loop().time() + bound
    while True:
        response = await client.get(path)
        if response.status_code == want:
            return
        assert asyncio.get_running_loop().time() < deadline, f"{path}: still {response.text}"
        await asyncio.sleep(0.1)


async def test_login_sets_a_strict_http_only_cookie(server: Server) -> None:
    token = await server.token("supervisor", "A", "B")
    async with httpx.AsyncClient(base_url=server.url) as client:
        response = await client.post("/api/v1/session", json={"token": token})
        assert response.status_code == 200, response.text
        body = response.json()
        assert body["role"] == "supervisor"
        assert body["agencies"] == ["A", "B"]
        assert body["name"] == "test-supervisor"
        expires = datetime.fromisoformat(body["expires_at"])
        assert timedelta(hours=11) < expires - datetime.now(UTC) <= timedelta(hours=12)
        secret, attributes = session_cookie(response)
        assert len(secret) >= 43  # 256 bits, url-safe base64
        assert {"httponly", "secure", "samesite=strict", "path=/"} <= attributes
        assert secret not in str(await _session_rows(server))  # only its hash is stored

        by_header = await client.post(
            "/api/v1/session", headers={"Authorization": f"Bearer {token}"}
        )
        assert by_header.status_code == 200, by_header.text
        assert session_cookie(by_header)[0] != secret

        for bad in ({"token": "tcpr_not-a-token"}, {"token": "x"}):
            refused = await client.post("/api/v1/session", json=bad)
            assert refused.status_code == 401, refused.text
            assert "set-cookie" not in refused.headers
        assert (await client.post("/api/v1/session")).status_code == 401
        misnamed = await client.post("/api/v1/session", json={"tok": token})
        assert misnamed.status_code == 422 and "token" in misnamed.json()["detail"]
        wrong = await client.post("/api/v1/session", json={"token": 5})
        assert wrong.status_code == 422 and "token" in wrong.text


async def _session_rows(server: Server) -> list[Any]:
    from sqlalchemy import select

    from service.store.tables import SessionRow

    async with server.services.sessions() as session:
        rows = await session.scalars(select(SessionRow))
        return [(r.session_hash, r.token_id, r.role) for r in rows]


async def test_whoami_by_cookie_or_bearer(server: Server) -> None:
    secret = await login(server, await server.token("qi", "A"))
    async with browser(server, secret) as client:
        me = await client.get("/api/v1/session")
        assert me.status_code == 200, me.text
        assert me.json()["role"] == "qi" and me.json()["via"] == "session"
        # The cookie works on every route, not only this one.
        measures = await client.get(
            "/api/v1/measures", params={"agency": "A", "from": "2026-01-01", "to": "2026-02-01"}
        )
        assert measures.status_code == 200, measures.text
    async with await server.client("qi", "A") as bearer:
        me = await bearer.get("/api/v1/session")
        assert me.status_code == 200 and me.json()["via"] == "token"
    async with httpx.AsyncClient(base_url=server.url) as anonymous:
        assert (await anonymous.get("/api/v1/session")).status_code == 401
    async with browser(server, "forged-secret") as forged:
        assert (await forged.get("/api/v1/session")).status_code == 401


async def test_cookie_writes_need_an_allowed_origin(server: Server) -> None:
    secret = await login(server, await server.token("admin", "A"))
    own = server.url
    attempts = {
        "no Origin": (None, 403),
        "a foreign Origin": ("https://evil.example", 403),
        "another port": (server.url.rsplit(":", 1)[0] + ":1", 403),
        "the service's own origin": (own, 200),
    }
    for i, (what, (origin, want)) in enumerate(attempts.items()):
        async with browser(server, secret, origin) as client:
            response = await client.post(
                "/api/v1/events", json=event(f"o{i}", "call.received", at(1), call_id=f"O{i}")
            )
            assert response.status_code == want, f"{what}: {response.text}"
            if want == 403:
                assert "cross-site request refused" in response.text
    # Reads need no Origin; a bearer token needs none either (not sent by a browser on its own).
    async with browser(server, secret) as client:
        assert (await client.get("/api/v1/session")).status_code == 200
    async with await server.client("admin", "A") as bearer:
        response = await bearer.post("/api/v1/events", json=event("b", "call.received", at(1)))
        assert response.status_code == 200, response.text


@pytest.fixture
async def configured(sqlite_url: str) -> AsyncIterator[Server]:
    running = await start_server(
        service_settings(
            sqlite_url,
            allowed_origins=["https://console.example"],
            cookie_secure=False,
            session_hours=0.0005,  # under two seconds
        )
    )
    try:
        yield running
    finally:
        await running.stop()


async def test_settings_allowed_origins_insecure_cookie_and_expiry(configured: Server) -> None:
    token = await configured.token("admin", "A")
    async with httpx.AsyncClient(base_url=configured.url) as client:
        response = await client.post("/api/v1/session", json={"token": token})
        secret, attributes = session_cookie(response)
        assert "secure" not in attributes and "httponly" in attributes
        foreign = await client.post(
            "/api/v1/session", json={"token": token}, headers={"Origin": "https://evil.example"}
        )
        assert foreign.status_code == 403, "a foreign page may not sign the browser in"
    async with browser(configured, secret, "https://console.example") as client:
        response = await client.post("/api/v1/events", json=event("c1", "call.received", at(1)))
        assert response.status_code == 200, response.text
        await poll_status(client, "/api/v1/session", 401)  # the session outlived its hours


async def test_logout_ends_the_session_and_clears_the_cookie(server: Server) -> None:
    secret = await login(server, await server.token("telecommunicator", "A"))
    async with browser(server, secret) as client:
        assert (await client.delete("/api/v1/session")).status_code == 403  # no Origin
        assert (await client.get("/api/v1/session")).status_code == 200
    async with browser(server, secret, server.url) as client:
        response = await client.delete("/api/v1/session")
        assert response.status_code == 204, response.text
        value, attributes = session_cookie(response)
        assert value in ("", '""') and "max-age=0" in attributes
        assert (await client.get("/api/v1/session")).status_code == 401
    async with await server.client("telecommunicator", "A") as bearer:
        assert (await bearer.delete("/api/v1/session")).status_code == 204  # nothing to end
    async with httpx.AsyncClient(base_url=server.url) as anonymous:
        assert (await anonymous.delete("/api/v1/session")).status_code == 401


async def test_a_revoked_or_expired_token_ends_its_sessions(server: Server) -> None:
    tokens = server.services.tokens
    info, token = await tokens.issue("supervisor", ["A"], "revoked-later")
    secret = await login(server, token)
    async with browser(server, secret) as client:
        assert (await client.get("/api/v1/session")).status_code == 200
        await tokens.revoke(info.id)
        assert (await client.get("/api/v1/session")).status_code == 401

    soon = datetime.now(UTC) + timedelta(seconds=2)
    _, short = await tokens.issue("supervisor", ["A"], "short-lived", soon)
    async with httpx.AsyncClient(base_url=server.url) as client:
        opened = await client.post("/api/v1/session", json={"token": short})
    assert datetime.fromisoformat(opened.json()["expires_at"]) == soon  # no longer than its token
    async with browser(server, session_cookie(opened)[0]) as client:
        assert (await client.get("/api/v1/session")).status_code == 200
        await poll_status(client, "/api/v1/session", 401)


async def test_behind_a_tls_proxy_the_forwarded_scheme_counts_only_when_trusted(
    sqlite_url: str,
) -> None:
    for trusted in (False, True):
        running = await start_server(service_settings(sqlite_url, trust_proxy_headers=trusted))
        try:
            secret = await login(running, await running.token("admin", "A"))
            https_origin = running.url.replace("http://", "https://")
            async with browser(running, secret, https_origin) as client:
                response = await client.post(
                    "/api/v1/events",
                    json=event(f"p{trusted}", "call.received", at(1), call_id=f"P{trusted}"),
                    headers={"X-Forwarded-Proto": "https"},
                )
            assert response.status_code == (200 if trusted else 403), response.text
        finally:
            await running.stop()
