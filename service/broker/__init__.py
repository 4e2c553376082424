"""Fan-out between the store and the live views, chosen by URL scheme (encode/broadcaster's shape).

The database log stays the source of truth: a subscriber that misses a message catches up from
the log, so the broker only carries latency, never the record.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager
from typing import Protocol


class BrokerClosed(Exception):
    """The subscription ended (overflow or shutdown): the subscriber must catch up from the log."""


class Broker(Protocol):
    async def connect(self) -> None: ...
    async def disconnect(self) -> None: ...
    async def publish(self, channel: str, message: str) -> None: ...
    def subscribe(self, channel: str) -> AbstractAsyncContextManager[AsyncIterator[str]]: ...


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
