"""The kept call states of the projection: a call stepped from its kept state gets the same
projection row as one folded from the log; a state another writer has moved past is not used;
a rolled-back transaction keeps nothing."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

import service.store.events as events_module
import service.store.projection as projection
from contract.event import Event
from service.qi.summary import summarize
from service.store.chain_store import verify
from service.store.db import create_engine, is_sqlite, migrate, sessionmaker
from service.store.events import EventStore
from service.triage.call_state import CallState
from service.triage.profiles import AgencyConfig
from service.triage.state import fold

T0 = datetime(2026, 1, 15, 14, 0, tzinfo=UTC)
CONFIG = AgencyConfig()


def store_for(url: str, *, writer_thread: bool = False) -> tuple[EventStore, Any]:
    engine = create_engine(url)
    store = EventStore(
        sessionmaker(engine),
        postgres=not is_sqlite(url),
        config_for=lambda _: CONFIG,
        writer_thread=writer_thread,
    )
    return store, engine


def ev(event_id: str, kind: str, seconds: int, **data: Any) -> Event:
    return Event(event_id, "C1", "A", kind, T0 + timedelta(seconds=seconds), data=data)


async def folded_summary(store: EventStore) -> Any:
    return summarize(fold("A", "C1", await store.call_events("A", "C1"), CONFIG), CONFIG)


async def test_a_kept_state_gives_the_row_a_fold_of_the_log_gives(
    database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    await asyncio.to_thread(migrate, database_url)
    store, engine = store_for(database_url)
    try:
        await store.append([ev("e1", "call.received", 0)])

        def no_history(*_: object) -> dict[str, list[Event]]:
            raise AssertionError("a kept call was read back from the log")

        monkeypatch.setattr(projection, "histories", no_history)
        await store.append([ev("e2", "triage.breathing", 30, answer="no")])
        # Out of order: earlier than the latest event, so its state is folded again in place.
        await store.append(
            [ev("e3", "triage.conscious", 40, answer="no"), ev("e4", "call.answered", 5)]
        )
        (summary,) = await store.summaries("A", None, None)
        assert summary == await folded_summary(store)
        assert summary.recognized and summary.to_recognition == 40.0
    finally:
        await store.close()
        await engine.dispose()


async def test_a_call_another_writer_moved_on_is_read_from_the_log(database_url: str) -> None:
    """Two replicas on one database: the first one's kept state of the call is behind the row
    the second wrote, so the first reads the call's history instead of stepping it."""
    await asyncio.to_thread(migrate, database_url)
    mine, e1 = store_for(database_url)
    other, e2 = store_for(database_url)
    handed: list[list[CallState]] = []

    async def on_commit(_new: list[Event], _created: object, states: list[CallState]) -> None:
        handed.append(states)

    mine.on_commit = on_commit
    try:
        await mine.append([ev("e1", "call.received", 0)])
        await other.append([ev("e2", "triage.breathing", 30, answer="no")])
        await mine.append([ev("e3", "triage.conscious", 40, answer="no")])
        (after,) = handed[-1]
        assert [e.event_id for e in after.events] == ["e1", "e2", "e3"]
        (summary,) = await mine.summaries("A", None, None)
        assert summary == await folded_summary(mine)
        assert summary.recognized and summary.to_recognition == 40.0
    finally:
        await e1.dispose()
        await e2.dispose()


@pytest.mark.parametrize("writer_thread", [False, True], ids=["loop", "writer-thread"])
async def test_a_rolled_back_transaction_keeps_no_state_and_no_row(
    database_url: str, monkeypatch: pytest.MonkeyPatch, writer_thread: bool
) -> None:
    """The group's transaction fails after its rows, links, heads and projection were written
    (through the async session, or on SQLite in the writer thread's own connection): none of it
    stays, nor any kept state."""
    await asyncio.to_thread(migrate, database_url)
    store, engine = store_for(database_url, writer_thread=writer_thread)
    real = events_module.project
    try:
        await store.append([ev("e1", "call.received", 0)])
        kept = store._states.get(("A", "C1"), 1)
        assert kept is not None

        def failing(*args: Any, **kwargs: Any) -> Any:
            raise RuntimeError("the transaction fails after the projection")

        def project_then_fail(*args: Any, **kwargs: Any) -> Any:
            real(*args, **kwargs)
            failing()

        monkeypatch.setattr(events_module, "project", project_then_fail)
        with pytest.raises(RuntimeError):
            await store.append([ev("e2", "triage.breathing", 30, answer="no")])
        assert store._states.get(("A", "C1"), 1) is kept  # nothing claims the rolled-back seq
        assert [e.event_id for e in await store.events_since(0)] == ["e1"]
        assert [v.ok for v in await verify(engine, None)] == [True]
        monkeypatch.setattr(events_module, "project", real)
        await store.append([ev("e2", "triage.breathing", 30, answer="no")])
        (summary,) = await store.summaries("A", None, None)
        assert summary == await folded_summary(store)
        assert [e.event_id for e in await store.call_events("A", "C1")] == ["e1", "e2"]
        assert [(v.ok, v.count) for v in await verify(engine, None)] == [(True, 2)]
        if is_sqlite(database_url) and writer_thread:
            assert isinstance(store._writer, tuple)  # it went through the writer thread
        else:
            assert not isinstance(store._writer, tuple)  # every statement through the session
    finally:
        await store.close()
        await engine.dispose()
