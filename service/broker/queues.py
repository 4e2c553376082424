"""Bounded subscriber queues shared by the in-process and NATS brokers: an overflowing
subscriber is ended with BrokerClosed (and catches up from the log), never buffered unbounded."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

from service.broker import BrokerClosed

CLOSED = object()


def offer(queue: asyncio.Queue[object], message: str) -> bool:
    """Queue a message; on overflow end the subscription instead. False once it is ended."""
    try:
        queue.put_nowait(message)
        return True
    except asyncio.QueueFull:
        close(queue)
        return False


def close(queue: asyncio.Queue[object]) -> None:
    while True:  # make room for the end marker
        try:
            queue.put_nowait(CLOSED)
            return
        except asyncio.QueueFull:
            queue.get_nowait()


async def drain(queue: asyncio.Queue[object]) -> AsyncIterator[str]:
    while True:
        item = await queue.get()
        if item is CLOSED:
            raise BrokerClosed("subscription closed")
        assert isinstance(item, str)
        yield item
