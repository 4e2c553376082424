"""NATS core pub/sub, for sites that run NATS rather than Redis. Like Redis pub/sub it keeps
nothing: the database log is the record and the live views catch up from it."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import nats
from nats.aio.client import Client

from service.broker.queues import drain, offer


class NatsBroker:
    def __init__(self, url: str, queue_limit: int = 10_000) -> None:
        self._url = url
        self._nc: Client | None = None
        self._limit = queue_limit

    async def connect(self) -> None:
        self._nc = await nats.connect(self._url, max_reconnect_attempts=-1)

    async def disconnect(self) -> None:
        if self._nc is not None:
            await self._nc.drain()
            self._nc = None

    async def publish(self, channel: str, message: str) -> None:
        assert self._nc is not None, "connect() first"
        await self._nc.publish(channel, message.encode())

    @asynccontextmanager
    async def subscribe(self, channel: str) -> AsyncIterator[AsyncIterator[str]]:
        assert self._nc is not None, "connect() first"
        queue: asyncio.Queue[object] = asyncio.Queue(self._limit)

        async def deliver(msg: object) -> None:
            if not offer(queue, msg.data.decode()):  # type: ignore[attr-defined]
                await subscription.unsubscribe()

        subscription = await self._nc.subscribe(channel, cb=deliver)
        try:
            yield drain(queue)
        finally:
            if self._nc is not None and not self._nc.is_closed:
                await subscription.unsubscribe()
