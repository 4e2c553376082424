"""The in-process broker: the embedded default. Queues are bounded; an overflowing subscriber
is dropped and told so, and catches up from the log."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from service.broker import BrokerClosed

_CLOSED = object()


class MemoryBroker:
    def __init__(self, queue_limit: int = 10_000) -> None:
        self._subscribers: dict[str, set[asyncio.Queue[object]]] = {}
        self._limit = queue_limit

    async def connect(self) -> None:
        return None

    async def disconnect(self) -> None:
        for queues in self._subscribers.values():
            for queue in queues:
                _close(queue)
        self._subscribers.clear()

    async def publish(self, channel: str, message: str) -> None:
        for queue in list(self._subscribers.get(channel, ())):
            try:
                queue.put_nowait(message)
            except asyncio.QueueFull:
                self._subscribers[channel].discard(queue)
                _close(queue)

    @asynccontextmanager
    async def subscribe(self, channel: str) -> AsyncIterator[AsyncIterator[str]]:
        queue: asyncio.Queue[object] = asyncio.Queue(self._limit)
        self._subscribers.setdefault(channel, set()).add(queue)
        try:
            yield _drain(queue)
        finally:
            self._subscribers.get(channel, set()).discard(queue)


def _close(queue: asyncio.Queue[object]) -> None:
    while True:  # make room for the end marker
        try:
            queue.put_nowait(_CLOSED)
            return
        except asyncio.QueueFull:
            queue.get_nowait()


async def _drain(queue: asyncio.Queue[object]) -> AsyncIterator[str]:
    while True:
        item = await queue.get()
        if item is _CLOSED:
            raise BrokerClosed("subscription closed")
        assert isinstance(item, str)
        yield item
