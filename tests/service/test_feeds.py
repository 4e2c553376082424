"""Feed health (service/feeds.py): a dead CAD feed must not look like a quiet night. The rules on a
controlled clock, then over real HTTP and websockets on SQLite and PostgreSQL."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from support.harness import Panel, Server, event, service_settings, start_server

from contract.event import Event
from service.broker.memory import MemoryBroker
from service.feeds import FeedWatch
from service.live import Update
from service.settings import Settings
from service.triage.call_state import CallState

T = datetime(2026, 12, 6, 9, 0, tzinfo=UTC)


class Clock:
    def __init__(self) -> None:
        self.now = T

    def __call__(self) -> datetime:
        return self.now


def cad(agency: str, at: datetime, source: str = "cad") -> Update:
    e = Event("e", "C1", agency, "call.received", at, source)
    return Update(1, e, CallState(agency, "C1"))


@pytest.fixture
def watch() -> tuple[FeedWatch, Clock, list[tuple[str, dict[str, Any]]]]:
    clock = Clock()
    sent: list[tuple[str, dict[str, Any]]] = []
    settings = Settings(
        agencies='{"A": {"feed_silence_seconds": 300}, "Q": {"feed_silence_seconds": 0}}'
    )
    feeds = FeedWatch(
        settings, MemoryBroker(), lambda a, m: sent.append((a, json.loads(m))), clock=clock
    )
    return feeds, clock, sent


def test_silence_after_the_limit_then_data_flows_again(watch) -> None:
    feeds, clock, sent = watch
    assert feeds.status(["A"])[0]["watched"] is False  # never fed: not "silent"
    feeds.on_update(cad("A", T))
    clock.now = T + timedelta(seconds=300)
    feeds.check()
    assert sent == []  # exactly the limit: not yet
    clock.now = T + timedelta(seconds=301)
    feeds.check()
    feeds.check()
    assert sent == [
        (
            "A",
            {
                "type": "feed",
                "agency": "A",
                "status": "silent",
                "last_activity": T.isoformat(),
                "silence_seconds": 300,
            },
        )
    ]
    assert feeds.messages(["A", "B"]) == [sent[0][1]]
    feeds.apply_beat("A", "cad-1", clock.now)
    assert [m["status"] for _, m in sent] == ["silent", "ok"]
    status = feeds.status(["A"])[0]
    assert status["status"] == "ok"
    assert status["feeds"] == [{"feed": "cad-1", "last_beat_at": clock.now.isoformat()}]
    assert feeds.messages(["A"]) == []


def test_what_does_not_count_as_the_feed(watch) -> None:
    feeds, clock, sent = watch
    feeds.on_update(cad("A", T, source="console"))  # the telecommunicator, not the CAD
    feeds.on_update(cad("A", T - timedelta(hours=1)))  # an old event: a replay or a catch-up
    assert feeds.status(["A"])[0]["watched"] is False
    # An agency whose limit is 0 is watched but never silent.
    feeds.on_update(cad("Q", T))
    clock.now = T + timedelta(days=1)
    feeds.check()
    assert sent == []


async def test_heartbeat_feeds_and_the_banner_over_http(database_url: str) -> None:
    settings = service_settings(database_url, agencies='{"A": {"feed_silence_seconds": 1}}')
    server = await start_server(settings)
    try:
        panel = await Panel.open(server, await server.token("supervisor", "A"))
        await panel.next(type="snapshot")
        async with await server.client("adapter", "A") as adapter:
            when = datetime.now(UTC).isoformat()
            posted = await adapter.post(
                "/api/v1/events", json=event("F1", "call.received", when, "F1")
            )
            assert posted.status_code == 200
            silent = await panel.next(wait=10, type="feed", status="silent")
            assert silent["agency"] == "A" and silent["silence_seconds"] == 1
            # A panel opening now sees the banner at once.
            late = await Panel.open(server, await server.token("telecommunicator", "A"))
            await late.next(type="snapshot")
            assert (await late.next(type="feed"))["status"] == "silent"
            beat = await adapter.post("/api/v1/feeds/heartbeat", params={"feed": "cad-1"})
            assert beat.status_code == 200
            assert beat.json()["agency"] == "A" and beat.json()["feed"] == "cad-1"
            assert (await panel.next(wait=10, type="feed", status="ok"))["agency"] == "A"
            bad = await adapter.post("/api/v1/feeds/heartbeat", params={"feed": "a b"})
            assert bad.status_code == 422 and "feed" in bad.text
            foreign = await adapter.post("/api/v1/feeds/heartbeat", params={"agency": "B"})
            assert foreign.status_code == 403
        # A refused beat is kept in the reject store, naming its field, like any bad input.
        async with await server.client("admin", "A") as admin:
            kept = (await admin.get("/api/v1/rejects", params={"agency": "A"})).json()["rejects"]
        assert {(r["status"], r["field"]) for r in kept} >= {(422, "feed"), (403, "agency")}
        async with await server.client("supervisor", "A") as supervisor:
            listed = (await supervisor.get("/api/v1/feeds", params={"agency": "A"})).json()
        (a,) = listed["feeds"]
        assert a["agency"] == "A" and a["watched"] is True and a["silence_seconds"] == 1
        assert [f["feed"] for f in a["feeds"]] == ["cad-1"]
        await panel.close()
        await late.close()
    finally:
        await server.stop()


async def test_a_feed_dead_across_a_restart_is_told(watch) -> None:
    """The log's latest CAD event per agency, and the agencies TCPR_AGENCIES names, are watched
    from the start: a feed that died while the service was down raises the banner too."""
    feeds, clock, sent = watch
    await feeds.start({"A": T - timedelta(seconds=200), "OLD": T - timedelta(days=2)})
    try:
        status = {s["agency"]: s for s in feeds.status(["A", "Q", "OLD"])}
        assert status["A"]["last_event_at"] == (T - timedelta(seconds=200)).isoformat()
        assert status["Q"]["watched"] is True  # configured: watched from the start
        assert status["OLD"]["watched"] is False  # two days ago proves nothing about now
        clock.now = T + timedelta(seconds=101)
        feeds.check()
        assert [(a, m["status"]) for a, m in sent] == [("A", "silent")]  # Q's limit is 0
    finally:
        await feeds.stop()


async def test_last_feed_events_come_from_the_log(server: Server) -> None:
    async with await server.client("adapter", "A") as adapter:
        await adapter.post("/api/v1/events", json=event("L1", "call.received", T.isoformat(), "L"))
    async with await server.client("telecommunicator", "A") as console:
        await console.post(
            "/api/v1/events",
            json=event(
                "L2",
                "triage.conscious",
                T.isoformat(),
                "L",
                source="console",
                data={"answer": "no"},
            ),
        )
    found = await server.services.store.last_feed_events()
    assert set(found) == {"A"}
    assert datetime.now(UTC) - found["A"] < timedelta(minutes=1)  # its arrival, not its `at`
