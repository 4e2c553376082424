"""Alert timers against the source clock: fire once, persisted, pushed, rebuilt after a restart.

Most run on a clock the test moves (the deadlines fall due at once); the first and the burst
wait out real deadlines end to end."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from support.harness import FakeClock, Panel, Server, event, service_settings, start_server

from contract.kinds import Kind
from service.store.tables import EventRow


async def alerts_stored(server: Server, call_id: str = "C1") -> list[str]:
    events = await server.services.store.call_events("A", call_id)
    return [e.data["alert"] for e in events if e.kind == Kind.ALERT_RAISED]


async def settled() -> None:
    """Long enough for a woken scheduler to append whatever is due (milliseconds)."""
    await asyncio.sleep(0.3)


async def test_overdue_fires_when_the_source_clock_reaches_90_s(server: Server) -> None:
    panel = await Panel.open(server, await server.token("telecommunicator", "A"))
    try:
        await panel.next(type="snapshot")
        t0 = datetime.now(UTC) - timedelta(seconds=87)
        async with await server.client() as client:
            await client.post("/api/v1/events", json=event("e1", "call.received", t0.isoformat()))
        due = await panel.next(type="alert", alert="recognition_due")
        overdue = await panel.next(type="alert", alert="recognition_overdue", wait=15)
        pushed_at = datetime.now(UTC)
    finally:
        await panel.close()
    # The warning was already past on arrival; the benchmark alert waited for its deadline.
    assert datetime.fromisoformat(due["deadline"]) == t0 + timedelta(seconds=60)
    assert datetime.fromisoformat(overdue["deadline"]) == t0 + timedelta(seconds=90)
    assert pushed_at >= t0 + timedelta(seconds=90)
    assert overdue["call_id"] == "C1"
    assert await alerts_stored(server) == ["recognition_due", "recognition_overdue"]


async def test_recognition_cancels_recognition_alerts_and_arms_compression(
    timed: Server, clock: FakeClock
) -> None:
    server = timed
    async with await server.client() as client:
        recognized = [
            event("e1", "call.received", clock.ago(118)),
            event("e2", "call.nature", clock.ago(100), data={"code": "09-D-01"}),
        ]
        await client.post("/api/v1/events", json=recognized)
    clock.advance(2.5)  # T0 + 120.5 s: the compression warning's deadline passed
    deadline = asyncio.get_running_loop().time() + 15
    while await alerts_stored(server) != ["compression_due"]:
        assert asyncio.get_running_loop().time() < deadline, await alerts_stored(server)
        await asyncio.sleep(0.1)
    async with await server.client("telecommunicator") as console:
        await console.post(
            "/api/v1/events",
            json=event("e3", "tcpr.first_compression", clock.ago(0), source="console"),
        )
    clock.advance(60)  # past the 150 s deadline of the overdue alert, had it stayed armed
    await settled()
    assert await alerts_stored(server) == ["compression_due"]


async def test_no_alerts_for_a_ruled_out_or_ended_call(timed: Server, clock: FakeClock) -> None:
    server = timed
    async with await server.client() as client:
        ruled_out = [
            event("e1", "call.received", clock.ago(89.5), call_id="R"),
            event("e2", "triage.conscious", clock.ago(50), call_id="R", data={"answer": "yes"}),
        ]
        ended = [
            event("e3", "call.received", clock.ago(89.5), call_id="E"),
            event("e4", "call.ended", clock.ago(50), call_id="E"),
        ]
        await client.post("/api/v1/events", json=ruled_out)
        await client.post("/api/v1/events", json=ended)
    clock.advance(1.5)
    await settled()
    clock.advance(120)  # past every recognition and compression deadline
    await settled()
    assert await alerts_stored(server, "R") == []
    assert await alerts_stored(server, "E") == []


async def test_replayed_old_call_fires_nothing(timed: Server, clock: FakeClock) -> None:
    server = timed
    async with await server.client() as client:
        await client.post("/api/v1/events", json=event("e1", "call.received", clock.ago(3 * 3600)))
    clock.advance(1)
    await settled()
    assert await alerts_stored(server) == []


async def test_restart_neither_loses_nor_doubles_alerts(
    database_url: str, clock: FakeClock
) -> None:
    settings = service_settings(database_url)
    first = await start_server(settings, clock=clock)
    t0 = clock.now - timedelta(seconds=88)
    async with await first.client() as client:
        await client.post("/api/v1/events", json=event("e1", "call.received", t0.isoformat()))
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 10
    while await alerts_stored(first) != ["recognition_due"]:
        assert loop.time() < deadline
        await asyncio.sleep(0.05)
    await first.stop()  # down across the 90 s deadline
    clock.advance((t0 + timedelta(seconds=90.3) - clock.now).total_seconds())

    second = await start_server(settings, clock=clock)
    try:
        deadline = loop.time() + 10
        while "recognition_overdue" not in await alerts_stored(second):
            assert loop.time() < deadline, "the alert due while the service was down never fired"
            await asyncio.sleep(0.05)
        await settled()
        assert await alerts_stored(second) == ["recognition_due", "recognition_overdue"]
    finally:
        await second.stop()
    third = await start_server(settings, clock=clock)
    try:
        clock.advance(1)
        await settled()
        assert await alerts_stored(third) == ["recognition_due", "recognition_overdue"]
        audit_client = await third.client("supervisor")
        async with audit_client:
            audit = (await audit_client.get("/api/v1/calls/A/C1/audit")).json()
        assert audit["alerts"] == ["recognition_due", "recognition_overdue"]
    finally:
        await third.stop()


async def test_two_schedulers_on_one_log_fire_once(database_url: str, clock: FakeClock) -> None:
    """Two services sharing a database both time the call; the log's unique key keeps one alert,
    recorded by one scheduler or the other, never by both."""
    settings = service_settings(database_url)
    a = await start_server(settings, clock=clock)
    b = await start_server(settings.model_copy(update={"migrate_on_start": False}), clock=clock)
    try:
        async with await a.client() as client:
            await client.post("/api/v1/events", json=event("e1", "call.received", clock.ago(89)))
        await b.services.live.catch_up()  # b learns of the call from the log
        await a.services.live.catch_up()
        clock.advance(2)  # both schedulers find both deadlines due at once
        await settled()
        await a.services.live.catch_up()
        assert await alerts_stored(a) == ["recognition_due", "recognition_overdue"]
        # Each alert counted by the scheduler that recorded it: one recorded twice counts 3 or 4.
        assert a.services.scheduler.fired + b.services.scheduler.fired == 2
    finally:
        await b.stop()
        await a.stop()


async def test_a_burst_of_deadlines_fires_in_one_commit(server: Server) -> None:
    """Forty calls due at the same instant: their alerts are appended together, in one
    transaction, rather than one commit per call queued one after another."""
    t0 = datetime.now(UTC) - timedelta(seconds=59.5)
    calls = [f"B{n}" for n in range(40)]
    async with await server.client() as client:
        await client.post(
            "/api/v1/events",
            json=[event(f"e-{c}", "call.received", t0.isoformat(), call_id=c) for c in calls],
        )
    deadline = asyncio.get_running_loop().time() + 15
    while server.services.scheduler.fired < len(calls):
        assert asyncio.get_running_loop().time() < deadline, server.services.scheduler.fired
        await asyncio.sleep(0.05)
    async with server.services.sessions() as session:
        committed = (
            await session.execute(
                select(EventRow.received_at).where(EventRow.kind == Kind.ALERT_RAISED)
            )
        ).scalars()
        assert len(set(committed)) == 1  # one transaction's time for every alert of the burst
    assert [await alerts_stored(server, c) for c in calls] == [["recognition_due"]] * len(calls)
