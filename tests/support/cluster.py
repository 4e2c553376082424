"""Helpers for several real service processes sharing this machine's PostgreSQL and a real broker.

Each test gets a fresh PostgreSQL database, migrated once with `tcpr migrate`, and its own broker
channel; replicas start with `--no-migrate`, as in a deployment. PostgreSQL, Redis and NATS are
required under CI and skip elsewhere when absent.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import websockets

from service.store.db import create_engine, dispose, sessionmaker
from service.store.tokens import TokenStore

BROKERS = {
    "redis": os.environ.get("TCPR_TEST_REDIS_URL", "redis://127.0.0.1:6379/0"),
    "nats": os.environ.get("TCPR_TEST_NATS_URL", "nats://127.0.0.1:4222"),
}


def tcpr() -> list[str]:
    script = Path(sys.executable).with_name("tcpr")
    return [str(script)] if script.exists() else [sys.executable, "-m", "service.cli"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def reachable(url: str) -> bool:
    host, _, port = url.split("://", 1)[1].split("/", 1)[0].rpartition(":")
    try:
        with socket.create_connection((host, int(port)), timeout=1):
            return True
    except OSError:
        return False


@dataclass
class Replica:
    name: str
    port: int
    env: dict[str, str]
    log: Path
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/ws"

    def start(self) -> None:
        with self.log.open("ab") as out:
            self.process = subprocess.Popen(
                [
                    *tcpr(),
                    "serve",
                    "--port",
                    str(self.port),
                    "--no-migrate",
                    "--log-level",
                    "warning",
                ],
                env=self.env,
                stdout=out,
                stderr=subprocess.STDOUT,
            )

    async def ready(self, limit_s: float = 20) -> None:
        deadline = time.monotonic() + limit_s
        async with httpx.AsyncClient() as client:
            while time.monotonic() < deadline:
                assert self.process is not None and self.process.poll() is None, (
                    self.log.read_text()
                )
                try:
                    if (await client.get(f"{self.url}/healthz", timeout=1)).status_code == 200:
                        return
                except httpx.HTTPError:
                    pass
                await asyncio.sleep(0.1)
        raise AssertionError(f"replica {self.name} not ready:\n{self.log.read_text()}")

    def kill(self) -> None:
        """kill -9: no shutdown, no goodbye."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait()

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.kill()


@dataclass
class Cluster:
    database_url: str
    env: dict[str, str]
    tmp: Path
    replicas: list[Replica] = field(default_factory=list)

    def token(self, role: str, agency: str = "A") -> str:
        """A token minted straight into the shared database (what `tcpr token create` does,
        without starting a process for it)."""

        async def create() -> str:
            engine = create_engine(self.database_url)
            try:
                return await TokenStore(sessionmaker(engine)).create(role, [agency], f"t-{role}")
            finally:
                await dispose(engine)

        # On a thread of its own: the test's event loop is running.
        with ThreadPoolExecutor(1) as thread:
            return thread.submit(asyncio.run, create()).result()

    async def start(self, count: int) -> list[Replica]:
        for _ in range(count):
            replica = Replica(
                f"r{len(self.replicas)}",
                free_port(),
                self.env,
                self.tmp / f"r{len(self.replicas)}.log",
            )
            replica.start()
            self.replicas.append(replica)
        await asyncio.gather(*(r.ready() for r in self.replicas[-count:]))
        return self.replicas[-count:]


class Panel:
    def __init__(self, connection: Any) -> None:
        self.connection = connection
        self.snapshot: dict[str, Any] = {}

    @classmethod
    async def open(cls, replica: Replica, token: str, since: int | None = None) -> Panel:
        connection = await websockets.connect(replica.ws_url, max_size=None)
        auth: dict[str, Any] = {"type": "auth", "token": token}
        if since is not None:
            auth["since"] = since
        await connection.send(json.dumps(auth))
        panel = cls(connection)
        panel.snapshot = json.loads(await connection.recv())
        assert panel.snapshot["type"] == "snapshot"
        return panel

    async def until(self, limit_s: float = 15, **match: Any) -> dict[str, Any]:
        async with asyncio.timeout(limit_s):
            while True:
                message = json.loads(await self.connection.recv())
                if all(message.get(k) == v for k, v in match.items()):
                    return message

    async def close(self) -> None:
        await self.connection.close()
