"""Shared test harness: databases (SQLite and PostgreSQL, a fresh database per test, with the
real Alembic migrations), a real uvicorn server on a free loopback port, tokens, clients.

PostgreSQL tests run wherever `TCPR_TEST_POSTGRES_URL` (default: this machine's 127.0.0.1:5432,
database `test`) answers. When it does not, they skip with the reason, except under CI (`CI` set),
where a missing PostgreSQL fails the run instead of passing it silently.
"""

from __future__ import annotations

import asyncio
import json
import os
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import asyncpg
import httpx
import pytest
import uvicorn
import websockets

from service.api.deps import Services
from service.app import create_app
from service.settings import Settings

POSTGRES_URL = os.environ.get(
    "TCPR_TEST_POSTGRES_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
)


def _dsn(url: str) -> str:
    return url.replace("postgresql+asyncpg://", "postgresql://")


def _postgres_reason() -> str | None:
    async def probe() -> None:
        conn = await asyncpg.connect(_dsn(POSTGRES_URL), timeout=3)
        await conn.close()

    try:
        asyncio.run(probe())
    except Exception as exc:
        return f"PostgreSQL at {POSTGRES_URL} unreachable ({exc.__class__.__name__}: {exc})"
    return None


_PG_REASON: list[str | None] = []


def require_postgres() -> None:
    if not _PG_REASON:
        _PG_REASON.append(_postgres_reason())
    reason = _PG_REASON[0]
    if reason is not None:
        if os.environ.get("CI"):
            pytest.fail(f"{reason}; CI must run the PostgreSQL tests", pytrace=False)
        pytest.skip(f"{reason}; set TCPR_TEST_POSTGRES_URL to run these")


def _fresh_postgres_database() -> tuple[str, str]:
    name = f"tcpr_test_{uuid.uuid4().hex[:12]}"

    async def create() -> None:
        conn = await asyncpg.connect(_dsn(POSTGRES_URL))
        try:
            await conn.execute(f'CREATE DATABASE "{name}"')
        finally:
            await conn.close()

    asyncio.run(create())
    base, _, _ = POSTGRES_URL.rpartition("/")
    return f"{base}/{name}", name


def _drop_postgres_database(name: str) -> None:
    async def drop() -> None:
        conn = await asyncpg.connect(_dsn(POSTGRES_URL))
        try:
            await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await conn.close()

    asyncio.run(drop())


def service_settings(database_url: str, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "database_url": database_url,
        "catch_up_interval_seconds": 0.5,
        "ws_auth_timeout_seconds": 2.0,
    }
    values.update(overrides)
    return Settings(**values)


@dataclass
class Server:
    """A running service on loopback: real HTTP, real websockets, real database."""

    url: str
    settings: Settings
    app: Any
    _server: uvicorn.Server
    _task: asyncio.Task[None]
    tokens: dict[tuple[str, tuple[str, ...]], str] = field(default_factory=dict)

    @property
    def services(self) -> Services:
        services: Services = self.app.state.services
        return services

    @property
    def ws_url(self) -> str:
        return self.url.replace("http://", "ws://") + "/ws"

    async def token(self, role: str, *agencies: str) -> str:
        key = (role, agencies or ("A",))
        if key not in self.tokens:
            self.tokens[key] = await self.services.tokens.create(role, list(key[1]), f"test-{role}")
        return self.tokens[key]

    async def client(self, role: str = "adapter", *agencies: str) -> httpx.AsyncClient:
        token = await self.token(role, *agencies)
        return httpx.AsyncClient(
            base_url=self.url, headers={"Authorization": f"Bearer {token}"}, timeout=30
        )

    async def stop(self) -> None:
        self._server.should_exit = True
        await self._task


async def start_server(settings: Settings, *, demo: bool = False) -> Server:
    app = create_app(settings, demo=demo)
    config = uvicorn.Config(
        app,
        host="127.0.0.1",
        port=0,
        log_level="warning",
        ws="websockets-sansio",
        ws_per_message_deflate=False,
        proxy_headers=settings.trust_proxy_headers,  # as `tcpr serve` runs it
        lifespan="on",
    )
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    for _ in range(600):
        if server.started or task.done():
            break
        await asyncio.sleep(0.01)
    if task.done():
        task.result()  # raise the startup failure
    assert server.started, "server did not start"
    port = server.servers[0].sockets[0].getsockname()[1]
    return Server(f"http://127.0.0.1:{port}", settings, app, server, task)


def at(seconds_ago: float = 0.0, offset_hours: int = 0) -> str:
    """An RFC 3339 time `seconds_ago` before now, written with the given UTC offset."""
    tz = timezone(timedelta(hours=offset_hours))
    return (datetime.now(UTC) - timedelta(seconds=seconds_ago)).astimezone(tz).isoformat()


def event(
    event_id: str, kind: str, when: str, call_id: str = "C1", agency: str = "A", **extra: Any
) -> dict[str, Any]:
    return {
        "event_id": event_id,
        "call_id": call_id,
        "agency": agency,
        "kind": kind,
        "at": when,
        **extra,
    }


class Panel:
    """A websocket client that authenticates, keeps every message, and waits for matches."""

    def __init__(self, connection: Any) -> None:
        self.connection = connection
        self.messages: list[dict[str, Any]] = []

    @classmethod
    async def open(cls, server: Server, token: str, since: int | None = None) -> Panel:
        connection = await websockets.connect(server.ws_url)
        auth: dict[str, Any] = {"type": "auth", "token": token}
        if since is not None:
            auth["since"] = since
        await connection.send(json.dumps(auth))
        return cls(connection)

    async def next(self, wait: float = 10.0, **match: Any) -> dict[str, Any]:
        """The next message (kept or new) whose fields equal `match`."""
        for message in self.messages:
            if all(message.get(k) == v for k, v in match.items()) and not message.get("_seen"):
                message["_seen"] = True
                return message
        async with asyncio.timeout(wait):
            while True:
                message = json.loads(await self.connection.recv())
                self.messages.append(message)
                if all(message.get(k) == v for k, v in match.items()):
                    message["_seen"] = True
                    return message

    async def close(self) -> None:
        await self.connection.close()
