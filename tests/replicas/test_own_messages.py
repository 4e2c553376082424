"""A replica applies its own commits directly and publishes them for the others, tagged with its
id: its own messages coming back from the broker are passed over unread, the others' applied."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

import service.live as live_module
from contract.event import Event
from service.broker.memory import MemoryBroker
from service.live import LiveView, Update, encode_batch
from service.settings import Settings
from service.store.db import create_engine, migrate, sessionmaker
from service.store.events import EventStore

NOW = datetime.now(UTC)


class Loopback(MemoryBroker):
    """A shared broker as Redis or NATS are: every message, the publisher's own included, goes
    to every subscriber, and it is not the string published."""

    in_process = False

    def __init__(self) -> None:
        super().__init__()
        self.published: list[str] = []

    async def publish(self, channel: str, message: str) -> None:
        self.published.append(message)
        await super().publish(channel, "".join(message))


def ev(event_id: str, call_id: str, kind: str, seconds: int) -> Event:
    return Event(event_id, call_id, "A", kind, NOW - timedelta(seconds=60 - seconds))


async def settled() -> None:
    for _ in range(50):  # the subscriber drains its queue on the loop
        await asyncio.sleep(0)


async def test_own_messages_are_ignored_and_others_applied(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'log.db'}"
    await asyncio.to_thread(migrate, url)
    settings = Settings(database_url=url, catch_up_interval_seconds=3600)
    engine = create_engine(url)
    store = EventStore(sessionmaker(engine), postgres=False, config_for=settings.agency_config)
    other = EventStore(sessionmaker(engine), postgres=False, config_for=settings.agency_config)
    broker = Loopback()
    live = LiveView(store, broker, settings)
    updates: list[Update] = []
    live.listen(updates.append)
    store.on_commit = live.committed
    decoded: list[Any] = []
    real_from_dict = live_module.from_dict

    def counting(d: Any) -> Event:
        decoded.append(d["event_id"])
        return real_from_dict(d)

    monkeypatch.setattr(live_module, "from_dict", counting)
    await live.start()
    try:
        await store.append([ev("e1", "C1", "call.received", 0), ev("e2", "C1", "call.answered", 5)])
        await settled()
        assert [u.event.event_id for u in updates] == ["e1", "e2"]  # applied once, directly
        assert decoded == []  # its own message came back and was not even decoded
        (message,) = broker.published
        assert message.startswith(f'{{"origin":"{live.origin}",')

        # Another replica's commit arrives through the broker and is applied from it.
        (stored,) = [e for e in (await other.append([ev("o1", "C2", "call.received", 1)])).outcomes]
        (o1,) = await store.events_since(stored.seq - 1)
        await broker.publish(settings.broker_channel, encode_batch([o1], {("A", "C2")}, origin="x"))
        await settled()
        assert [u.event.event_id for u in updates] == ["e1", "e2", "o1"]
        assert decoded == ["o1"]
        assert [u.seq for u in updates] == [1, 2, 3]
        assert set(live.calls) == {("A", "C1"), ("A", "C2")}
    finally:
        await live.stop()
        await engine.dispose()
