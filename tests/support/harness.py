"""Shared test harness: a real uvicorn server on a free loopback port over a test's own database
(see databases.py), tokens, clients, websocket panels, and a clock the test moves."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import httpx
import uvicorn
import websockets

from service.api.deps import Services
from service.app import create_app
from service.clock import Clock, system_clock
from service.settings import Settings
from support.databases import migrated_if_new


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
        self._server.exit_now.set()
        await self._task


class _Uvicorn(uvicorn.Server):
    """uvicorn's server, told to stop at once instead of at its next 0.1 s tick."""

    def __init__(self, config: uvicorn.Config) -> None:
        super().__init__(config)
        self.exit_now = asyncio.Event()

    async def main_loop(self) -> None:
        counter = 0
        while not await self.on_tick(counter):
            counter = (counter + 1) % 864000
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.exit_now.wait(), 0.1)


class FakeClock:
    """A clock the test moves. A server started with it reads it as now (its live view, alert
    timers, hub and feed watch), and its alert timers look again whenever it moves."""

    def __init__(self, now: datetime | None = None) -> None:
        self.now = now or datetime.now(UTC)
        self.moved: list[Callable[[], None]] = []

    def __call__(self) -> datetime:
        return self.now

    def ago(self, seconds: float) -> str:
        """The RFC 3339 time `seconds` before this clock's now."""
        return (self.now - timedelta(seconds=seconds)).isoformat()

    def advance(self, seconds: float) -> datetime:
        self.now += timedelta(seconds=seconds)
        for told in self.moved:
            told()
        return self.now


async def start_server(
    settings: Settings, *, demo: bool = False, clock: Clock = system_clock
) -> Server:
    """The service on loopback. A SQLite file not made yet starts as the migrated template."""
    if settings.migrate_on_start:
        migrated_if_new(settings.database_url)
    app = create_app(settings, demo=demo, clock=clock)
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
    server = _Uvicorn(config)
    task = asyncio.create_task(server.serve())
    for _ in range(600):
        if server.started or task.done():
            break
        await asyncio.sleep(0.01)
    if task.done():
        task.result()  # raise the startup failure
    assert server.started, "server did not start"
    port = server.servers[0].sockets[0].getsockname()[1]
    running = Server(f"http://127.0.0.1:{port}", settings, app, server, task)
    if isinstance(clock, FakeClock):
        clock.moved.append(running.services.scheduler.wake)
    return running


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
