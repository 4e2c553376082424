"""`GET /metrics`: a scripted floor moves each counter by exactly what it did, and only the
allowed addresses (or an admin token) may read them."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from ipaddress import ip_network

import httpx
import pytest
from support.harness import FakeClock, Panel, Server, at, event, service_settings, start_server
from support.metrics import Samples, samples_of, value

from contract.wire import CanonicalEvent
from service.api.metrics import allowed
from service.metrics import INGEST_BUCKETS, LATENESS_BUCKETS
from service.settings import Settings
from service.store.db import create_engine, is_sqlite, sessionmaker
from service.store.events import EventStore


async def scrape(server: Server, **headers: str) -> Samples:
    """Every sample of the exposition, by name and labels."""
    async with httpx.AsyncClient(base_url=server.url, timeout=30) as client:
        response = await client.get("/metrics", headers=headers)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain; version=0.0.4")
    return samples_of(response.text)


def moved(before: Samples, after: Samples) -> dict[str, float]:
    """The samples that changed, `name{k=v,...}` -> by how much (the `_created` times aside)."""
    out = {}
    for key in sorted(set(before) | set(after)):
        name, labels = key
        if name.endswith("_created"):
            continue
        delta = after.get(key, 0.0) - before.get(key, 0.0)
        if delta:
            text = ",".join(f"{k}={v}" for k, v in labels)
            out[f"{name}{{{text}}}" if text else name] = delta
    return out


async def until(condition: Callable[[], Awaitable[bool]], what: str) -> None:
    deadline = asyncio.get_running_loop().time() + 10
    while not await condition():
        assert asyncio.get_running_loop().time() < deadline, what
        await asyncio.sleep(0.05)


async def test_a_scripted_floor_moves_each_counter_by_what_it_did(
    timed: Server, clock: FakeClock
) -> None:
    server = timed
    before = await scrape(server)
    adapter = await server.client("adapter", "A")
    console = await server.client("telecommunicator", "A")
    async with adapter, console, httpx.AsyncClient(base_url=server.url) as stranger:
        call = [
            event("m1", "call.received", clock.ago(50)),
            event("m2", "call.answered", clock.ago(45)),
            event("m3", "call.nature", clock.ago(40), data={"code": "26-A-01"}),
        ]
        assert (await adapter.post("/api/v1/events", json=call)).status_code == 200
        again = await adapter.post("/api/v1/events", json=call[0])  # a duplicate: not counted
        assert again.json()["status"] == "duplicate"
        asked = event("m4", "triage.conscious", clock.ago(30), source="console")
        asked["data"] = {"answer": "no"}
        assert (await console.post("/api/v1/events", json=asked)).status_code == 200
        # Three refusals, each kept with its status.
        late = clock.ago(1)
        bad = await adapter.post("/api/v1/events", json=event("m5", "call.bogus", late))
        forbidden = await console.post("/api/v1/events", json=event("m6", "call.ended", late))
        anonymous = await stranger.post("/api/v1/events", json=event("m7", "call.ended", late))
        assert [bad.status_code, forbidden.status_code, anonymous.status_code] == [422, 403, 401]

        # T0 + 60 s, the recognition warning: the clock steps 0.25 s past it.
        clock.advance(10.25)

        async def alerted() -> bool:
            events = await server.services.store.call_events("A", "C1")
            return any(e.kind == "alert.raised" for e in events)

        await until(alerted, "the recognition warning was never recorded")
        clock.advance(30)  # m1..m4 arrived at the first now: the feed's last event is 40.25 s old
        panel = await Panel.open(server, await server.token("telecommunicator", "A"))
        try:
            await panel.next(type="snapshot")
            after = await scrape(server)
        finally:
            await panel.close()

    changes = moved(before, after)
    # The three posts answered 200 were timed; how fast, the machine decides: each bucket
    # (cumulative) holds 0..3 of them, never fewer than a narrower one, and +Inf all 3.
    assert changes.pop("tcpr_ingest_seconds_count") == 3
    assert 0 < changes.pop("tcpr_ingest_seconds_sum") < 15
    filled = [changes.pop(f"tcpr_ingest_seconds_bucket{{le={le}}}", 0) for le in INGEST_BUCKETS]
    assert filled == sorted(filled) and all(0 <= n <= 3 for n in filled), filled
    assert changes.pop("tcpr_ingest_seconds_bucket{le=+Inf}") == 3
    assert changes == {
        "tcpr_events_ingested_total{agency=A,source=cad}": 3,
        "tcpr_events_ingested_total{agency=A,source=console}": 1,
        "tcpr_events_ingested_total{agency=A,source=system}": 1,  # the alert itself
        "tcpr_rejects_total{status=401}": 1,
        "tcpr_rejects_total{status=403}": 1,
        "tcpr_rejects_total{status=422}": 1,
        "tcpr_alerts_fired_total{alert=recognition_due}": 1,
        "tcpr_alert_lateness_seconds_count": 1,
        "tcpr_alert_lateness_seconds_sum": 0.25,  # the test's clock: exactly its step past
        **{
            f"tcpr_alert_lateness_seconds_bucket{{le={le}}}": 1
            for le in [*(b for b in LATENESS_BUCKETS if b >= 0.25), "+Inf"]
        },
        "tcpr_live_calls": 1,
        "tcpr_panels_connected": 1,
        "tcpr_feed_last_event_age_seconds{agency=A}": 40.25,
    }
    assert value(after, "tcpr_feed_silent", agency="A") == 0  # 40 s is well within 300 s


async def test_events_read_from_the_log_are_counted_as_gap_fills(server: Server) -> None:
    """Events another writer committed and no broker announced: the live view's catch-up reads
    them from the log. They are gap fills here, not this replica's ingest."""
    before = await scrape(server)
    url = server.settings.database_url
    engine = create_engine(url)
    other = EventStore(
        sessionmaker(engine), postgres=not is_sqlite(url), config_for=server.settings.agency_config
    )
    posted = [event(f"g{i}", "call.received", at(5), f"G{i}") for i in range(4)]
    try:
        await other.append([CanonicalEvent.model_validate(e).to_event() for e in posted])
    finally:
        await other.close()
        await engine.dispose()

    async def filled() -> bool:
        return value(await scrape(server), "tcpr_broker_gap_fills_total") >= 4

    await until(filled, "the catch-up never counted the 4 events")
    after = await scrape(server)
    changes = moved(before, after)
    # Read from the log, they still show the feed alive: recent CAD events.
    assert 0 <= changes.pop("tcpr_feed_last_event_age_seconds{agency=A}") < 10
    assert changes == {"tcpr_broker_gap_fills_total": 4, "tcpr_live_calls": 4}


# -- who may read them -------------------------------------------------------------------------
@pytest.fixture
async def guarded(migrated_database_url: str) -> AsyncIterator[Server]:
    """A server whose metrics no address may read without a token (loopback not allowed)."""
    settings = service_settings(migrated_database_url, metrics_allow="192.0.2.7, 2001:db8::/32")
    running = await start_server(settings)
    try:
        yield running
    finally:
        await running.stop()


async def test_outside_the_allowed_addresses_only_an_admin_token_reads_them(
    guarded: Server,
) -> None:
    server = guarded
    asked: dict[str, int] = {}
    for who, headers in [
        ("nobody", {}),
        ("bad token", {"Authorization": "Bearer tcpr_" + "x" * 43}),
        ("adapter", {"Authorization": f"Bearer {await server.token('adapter', 'A')}"}),
        ("supervisor", {"Authorization": f"Bearer {await server.token('supervisor', 'A')}"}),
        ("qi", {"Authorization": f"Bearer {await server.token('qi', 'A')}"}),
        ("admin", {"Authorization": f"Bearer {await server.token('admin', 'A')}"}),
        ("admin of B", {"Authorization": f"Bearer {await server.token('admin', 'B')}"}),
    ]:
        async with httpx.AsyncClient(base_url=server.url, headers=headers) as client:
            response = await client.get("/metrics")
        asked[who] = response.status_code
        if response.status_code == 200:
            assert "tcpr_panels_connected 0.0" in response.text
        else:
            assert "tcpr_" not in response.text
    assert asked == {
        "nobody": 401,
        "bad token": 401,
        "adapter": 403,
        "supervisor": 403,
        "qi": 403,
        "admin": 200,
        "admin of B": 200,  # the installation's figures, no call data: any agency's admin
    }


async def test_loopback_reads_them_without_a_token_by_default(server: Server) -> None:
    assert server.settings.metrics_allow == [ip_network("127.0.0.0/8"), ip_network("::1/128")]
    samples = await scrape(server)
    assert ("tcpr_panels_connected", ()) in samples


async def test_behind_a_proxy_the_client_address_decides(migrated_database_url: str) -> None:
    """With the proxy's headers trusted, a request the proxy on loopback forwards for a client
    elsewhere is that client's: refused without a token. A proxy must never make everyone
    loopback."""
    settings = service_settings(migrated_database_url, trust_proxy_headers=True)
    server = await start_server(settings)
    try:
        async with httpx.AsyncClient(base_url=server.url) as client:
            forwarded = await client.get("/metrics", headers={"X-Forwarded-For": "203.0.113.9"})
            direct = await client.get("/metrics")
    finally:
        await server.stop()
    assert (forwarded.status_code, direct.status_code) == (401, 200)


def test_which_addresses_are_allowed() -> None:
    networks = Settings(metrics_allow="10.0.0.0/24,::1, 192.0.2.7").metrics_allow
    assert allowed("10.0.0.200", networks)
    assert allowed("::ffff:10.0.0.9", networks)  # IPv4 on a dual-stack socket
    assert allowed("::1", networks)
    assert allowed("192.0.2.7", networks)
    assert not allowed("192.0.2.8", networks)
    assert not allowed("10.0.1.1", networks)
    assert not allowed("127.0.0.1", networks)  # loopback only when listed
    assert not allowed(None, networks)
    assert not allowed("testclient", networks)
    assert Settings(metrics_allow="").metrics_allow == []
    assert Settings(metrics_allow='["10.1.2.3/16"]').metrics_allow == [ip_network("10.1.0.0/16")]
    with pytest.raises(ValueError, match="metrics_allow: 'prometheus' is not an address"):
        Settings(metrics_allow="prometheus")
