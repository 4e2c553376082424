"""Fan-out between the store and the live views, chosen by URL scheme (encode/broadcaster's shape).

The database log stays the source of truth: a subscriber that misses a message catches up from
the log, so the broker only carries latency, never the record.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager
from typing import Protocol

from service.tasks import supervise

log = logging.getLogger(__name__)


class BrokerClosed(Exception):
    """The subscription ended (overflow or shutdown): the subscriber must catch up from the log."""


class Broker(Protocol):
    async def connect(self) -> None: ...
    async def disconnect(self) -> None: ...
    async def publish(self, channel: str, message: str) -> None: ...
    def subscribe(self, channel: str) -> AbstractAsyncContextManager[AsyncIterator[str]]: ...


async def follow(
    broker: Broker,
    channel: str,
    handle: Callable[[str], None],
    subscribed: asyncio.Event,
    what: str,
) -> None:
    """Hand every message of `channel` to `handle`, for good: a closed subscription is opened
    again, a failing one retried after a second. `subscribed` is set once the first subscription
    is open (or has failed), so a caller can wait for it before relying on the messages. For
    side channels whose messages a missed one does not break (revocations, feed beats); the live
    view's own loop also catches up from the log."""

    async def once() -> None:
        try:
            async with broker.subscribe(channel) as messages:
                subscribed.set()
                async for message in messages:
                    handle(message)
        except BrokerClosed:
            subscribed.set()
            log.warning("%s subscription closed; resubscribing", what)

    await supervise(once, f"{what} listener", on_failure=subscribed.set)


def broker_for(url: str) -> Broker:
    scheme = url.split("://", 1)[0]
    if scheme == "memory":
        from service.broker.memory import MemoryBroker

        return MemoryBroker()
    if scheme in ("redis", "rediss", "unix"):
        from service.broker.redis import RedisBroker

        return RedisBroker(url)
    if scheme in ("nats", "tls"):
        from service.broker.nats import NatsBroker

        return NatsBroker(url)
    raise ValueError(
        f"TCPR_BROKER_URL {url!r}: unsupported scheme {scheme!r}"
        " (supported: memory://, redis://, rediss://, nats://)"
    )
