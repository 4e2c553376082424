"""Redis pub/sub: the broker for several replicas.

Pub/sub (not Streams) is enough because the database log is the record: a replica that was not
subscribed when a message went out reads it from the log, so the broker never needs to keep
anything. A lost connection ends the subscription with BrokerClosed; the live view catches up
from the log and subscribes again.
"""

from __future__ import annotations

import inspect
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from redis.asyncio import Redis
from redis.asyncio.client import PubSub
from redis.exceptions import ConnectionError as RedisConnectionError

from service.broker import BrokerClosed


class RedisBroker:
    def __init__(self, url: str) -> None:
        self._url = url
        self._redis: Redis | None = None

    async def connect(self) -> None:
        self._redis = Redis.from_url(self._url, health_check_interval=10)
        pong = self._redis.ping()  # typed for the sync and async clients alike
        if inspect.isawaitable(pong):
            await pong

    async def disconnect(self) -> None:
        if self._redis is not None:
            await self._redis.aclose()
            self._redis = None

    async def publish(self, channel: str, message: str) -> None:
        assert self._redis is not None, "connect() first"
        await self._redis.publish(channel, message)

    @asynccontextmanager
    async def subscribe(self, channel: str) -> AsyncIterator[AsyncIterator[str]]:
        assert self._redis is not None, "connect() first"
        pubsub = self._redis.pubsub(ignore_subscribe_messages=True)
        await pubsub.subscribe(channel)
        try:
            yield _messages(pubsub)
        finally:
            await pubsub.aclose()


async def _messages(pubsub: PubSub) -> AsyncIterator[str]:
    try:
        async for message in pubsub.listen():
            data = message["data"]
            yield data.decode() if isinstance(data, bytes) else str(data)
    except (RedisConnectionError, OSError) as exc:
        raise BrokerClosed(f"redis subscription lost: {exc}") from exc
    raise BrokerClosed("redis subscription ended")
