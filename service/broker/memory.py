"""The in-process broker: the embedded default. Queues are bounded; an overflowing subscriber
is dropped and told so, and catches up from the log."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from service.broker.queues import close, drain, offer


class MemoryBroker:
    # Only this process subscribes: the live view, which applies its own commits directly,
    # publishes none of them here.
    in_process = True

    def __init__(self, queue_limit: int = 10_000) -> None:
        self._subscribers: dict[str, set[asyncio.Queue[object]]] = {}
        self._limit = queue_limit

    async def connect(self) -> None:
        return None

    async def disconnect(self) -> None:
        for queues in self._subscribers.values():
            for queue in queues:
                close(queue)
        self._subscribers.clear()

    async def publish(self, channel: str, message: str) -> None:
        for queue in list(self._subscribers.get(channel, ())):
            if not offer(queue, message):
                self._subscribers[channel].discard(queue)

    @asynccontextmanager
    async def subscribe(self, channel: str) -> AsyncIterator[AsyncIterator[str]]:
        queue: asyncio.Queue[object] = asyncio.Queue(self._limit)
        self._subscribers.setdefault(channel, set()).add(queue)
        try:
            yield drain(queue)
        finally:
            self._subscribers.get(channel, set()).discard(queue)
