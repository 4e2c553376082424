"""The event log itself: migrations both ways, and a global sequence allocated in commit order."""

from __future__ import annotations

import asyncio
import random
from datetime import UTC, datetime, timedelta

from sqlalchemy import inspect

from contract.event import Event
from service.store.db import create_engine, downgrade, is_sqlite, migrate, sessionmaker
from service.store.event_reads import CALLS_PER_READ
from service.store.events import EventStore
from service.triage.call_state import CallState
from service.triage.profiles import AgencyConfig

T0 = datetime(2026, 1, 15, 14, 0, tzinfo=UTC)


def store_for(url: str) -> tuple[EventStore, object]:
    engine = create_engine(url)
    store = EventStore(
        sessionmaker(engine), postgres=not is_sqlite(url), config_for=lambda _: AgencyConfig()
    )
    return store, engine


async def table_names(url: str) -> set[str]:
    engine = create_engine(url)
    try:
        async with engine.connect() as conn:
            return set(await conn.run_sync(lambda c: inspect(c).get_table_names()))
    finally:
        await engine.dispose()


async def test_migrations_upgrade_and_downgrade(database_url: str) -> None:
    await asyncio.to_thread(migrate, database_url)
    assert {"events", "calls", "rejects", "tokens"} <= await table_names(database_url)
    await asyncio.to_thread(downgrade, database_url, "base")
    assert {"events", "calls", "rejects", "tokens"}.isdisjoint(await table_names(database_url))
    await asyncio.to_thread(migrate, database_url)
    assert "events" in await table_names(database_url)


async def test_no_event_becomes_visible_behind_a_passed_sequence(database_url: str) -> None:
    """Two writers (two engines, as two replicas would be) append concurrently while a reader
    follows the log by sequence. The reader must end up with every event: none may commit
    with a sequence below one the reader has already passed."""
    await asyncio.to_thread(migrate, database_url)
    (w1, e1), (w2, e2), (reader, e3) = (store_for(database_url) for _ in range(3))
    rng = random.Random(7)
    written = 0

    async def writer(store: EventStore, name: str) -> None:
        nonlocal written
        for i in range(40):
            batch = [
                Event(
                    f"{name}-{i}-{j}",
                    f"C{rng.randrange(10)}",
                    "A",
                    "call.received",
                    T0 + timedelta(seconds=i),
                )
                for j in range(rng.randint(1, 3))
            ]
            await store.append(batch)
            written += len(batch)
            await asyncio.sleep(0)

    seen: list[int] = []
    done = asyncio.Event()

    async def follow() -> None:
        last = 0
        while True:
            finished = done.is_set()
            for e in await reader.events_since(last):
                assert e.arrival > last
                seen.append(e.arrival)
                last = e.arrival
            if finished:
                return
            await asyncio.sleep(0)

    follower = asyncio.create_task(follow())
    try:
        await asyncio.gather(writer(w1, "a"), writer(w2, "b"))
        done.set()
        await follower
        assert len(seen) == written
        assert seen == sorted(set(seen))
        assert len(await reader.events_since(0, limit=100_000)) == written
    finally:
        for engine in (e1, e2, e3):
            await engine.dispose()  # type: ignore[attr-defined]


async def test_projection_follows_the_events(database_url: str) -> None:
    await asyncio.to_thread(migrate, database_url)
    store, engine = store_for(database_url)
    try:
        await store.append([Event("e1", "C1", "A", "call.answered", T0 + timedelta(seconds=5))])
        await store.append([Event("e2", "C1", "A", "call.received", T0)])
        (summary,) = await store.summaries("A", T0, T0 + timedelta(seconds=1))
        assert summary.t0 == T0  # the late call.received moved T0 back
        assert await store.summaries("A", T0 + timedelta(seconds=1), None) == []
    finally:
        await engine.dispose()  # type: ignore[attr-defined]


async def test_projection_of_a_batch_over_more_calls_than_one_read_takes(
    database_url: str,
) -> None:
    """The projection reads the batch's calls' events `CALLS_PER_READ` calls at a time: every
    call of a larger batch still gets its own events, and only its own."""
    await asyncio.to_thread(migrate, database_url)
    store, engine = store_for(database_url)
    calls = CALLS_PER_READ + 7
    batch = [
        e
        for n in range(calls)
        for e in (
            Event(f"r{n}", f"C{n}", "A", "call.received", T0 + timedelta(seconds=n)),
            Event(
                f"b{n}",
                f"C{n}",
                "A",
                "triage.breathing",
                T0 + timedelta(seconds=n + 30),
                data={"answer": "no"},
            ),
            Event(
                f"c{n}",
                f"C{n}",
                "A",
                "triage.conscious",
                T0 + timedelta(seconds=n + 40),
                data={"answer": "no"},
            ),
        )
    ]
    try:
        await store.append(batch)
        summaries = await store.summaries("A", None, None)
        assert len(summaries) == calls
        assert {s.call_id: s.t0 for s in summaries} == {
            f"C{n}": T0 + timedelta(seconds=n) for n in range(calls)
        }
        assert all(s.recognized and s.to_recognition == 40.0 for s in summaries)
    finally:
        await engine.dispose()  # type: ignore[attr-defined]


async def test_a_batch_over_stored_and_new_calls(database_url: str) -> None:
    """Calls that already have events are folded again from their whole history; calls new to
    the log from the batch alone, and only they are announced as created. Sequences run on
    without a gap, and a re-sent event gets the sequence it was stored with."""
    await asyncio.to_thread(migrate, database_url)
    store, engine = store_for(database_url)
    announced: list[tuple[list[Event], set[tuple[str, str]]]] = []

    async def on_commit(
        new: list[Event], created: set[tuple[str, str]], states: list[CallState]
    ) -> None:
        # Each event comes with its call's state right after it.
        assert [(s.agency, s.call_id, max(x.arrival for x in s.events)) for s in states] == [
            (e.agency, e.call_id, e.arrival) for e in new
        ]
        announced.append((new, created))

    store.on_commit = on_commit
    stored = CALLS_PER_READ + 3
    received = [
        Event(f"r{n}", f"C{n}", "A", "call.received", T0 + timedelta(seconds=n))
        for n in range(stored)
    ]

    def triage(call: str, n: int) -> list[Event]:
        return [
            Event(
                f"{call}-{kind}",
                call,
                "A",
                kind,
                T0 + timedelta(seconds=n + offset),
                data={"answer": "no"},
            )
            for kind, offset in (("triage.breathing", 30), ("triage.conscious", 40))
        ]

    fresh = [
        e
        for n in range(5)
        for e in [
            Event(f"n{n}", f"N{n}", "A", "call.received", T0 + timedelta(seconds=n)),
            *triage(f"N{n}", n),
        ]
    ]
    second = [e for n in range(stored) for e in triage(f"C{n}", n)] + fresh
    try:
        first = await store.append(received)
        appended = await store.append(second)
        assert [o.seq for o in first.outcomes + appended.outcomes] == list(
            range(1, len(received) + len(second) + 1)
        )
        assert [e.arrival for e in await store.events_since(0, limit=100_000)] == list(
            range(1, len(received) + len(second) + 1)
        )
        summaries = {s.call_id: s for s in await store.summaries("A", None, None)}
        assert len(summaries) == stored + 5
        assert all(s.recognized and s.to_recognition == 40.0 for s in summaries.values())
        assert summaries["C7"].t0 == T0 + timedelta(seconds=7)
        assert announced[0][1] == {("A", f"C{n}") for n in range(stored)}
        assert announced[1][1] == {("A", f"N{n}") for n in range(5)}
        again = await store.append([received[3], fresh[0]])
        assert [(o.status, o.seq) for o in again.outcomes] == [
            ("duplicate", 4),
            ("duplicate", first.outcomes[-1].seq + len(second) - len(fresh) + 1),
        ]
        assert len(announced) == 2
    finally:
        await engine.dispose()  # type: ignore[attr-defined]
