"""Rate limits per principal and failed authentications per address (service/api/ratelimit.py),
against a real server whose limiter reads a clock the test steps."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
import websockets
from support.harness import Server, at, event, service_settings, start_server

from service.api.ratelimit import Buckets, Limits, Throttled
from service.settings import Settings
from service.store.tokens import Principal


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


async def limited_server(url: str, clock: Clock, **overrides: Any) -> Server:
    # As behind a proxy: the client address comes from X-Forwarded-For (see AWAY below).
    overrides.setdefault("trust_proxy_headers", True)
    server = await start_server(service_settings(url, **overrides))
    server.services.limits.clock = clock
    return server


@pytest.fixture
async def server(sqlite_url: str, clock: Clock) -> AsyncIterator[Server]:
    running = await limited_server(
        sqlite_url,
        clock,
        rate_limit_per_second=1.0,
        rate_limit_burst=3,
        rate_limit_adapter_per_second=2.0,
        rate_limit_adapter_burst=5,
        auth_failure_limit=4,
        auth_failure_window_seconds=60.0,
    )
    try:
        yield running
    finally:
        await running.stop()


# Loopback is exempt from the failure limit; with TCPR_TRUST_PROXY_HEADERS uvicorn trusts
# X-Forwarded-For from loopback (a proxy on the same host), so the tests come from another
# address through it.
AWAY = {"X-Forwarded-For": "203.0.113.7"}


def bad(server: Server, headers: dict[str, str] = AWAY) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        base_url=server.url, headers={"Authorization": "Bearer tcpr_not-a-real-token", **headers}
    )


async def test_a_burst_then_429_with_retry_after_until_the_bucket_refills(
    server: Server, clock: Clock
) -> None:
    async with await server.client("qi", "A") as qi, await server.client("supervisor") as other:
        for _ in range(3):
            assert (await qi.get("/api/v1/qi/me")).status_code == 200
        refused = await qi.get("/api/v1/qi/me")
        assert refused.status_code == 429
        assert refused.headers["Retry-After"] == "1"
        assert "rate limit of 1 requests/s" in refused.json()["detail"]
        # Another token has its own bucket.
        assert (await other.get("/api/v1/qi/me")).status_code == 200
        clock.now += 1.0
        assert (await qi.get("/api/v1/qi/me")).status_code == 200
        assert (await qi.get("/api/v1/qi/me")).status_code == 429
        clock.now += 10.0  # refills to the burst, no further
        codes = [(await qi.get("/api/v1/qi/me")).status_code for _ in range(4)]
    assert codes == [200, 200, 200, 429]


async def test_adapters_have_their_own_larger_limit_and_429_is_not_kept(
    server: Server, clock: Clock
) -> None:
    async with await server.client("adapter", "A") as adapter:
        codes = [
            (
                await adapter.post("/api/v1/events", json=event(f"e{i}", "call.received", at(5)))
            ).status_code
            for i in range(6)
        ]
        assert codes == [200] * 5 + [429]
        clock.now += 0.5
        assert (
            await adapter.post("/api/v1/events", json=event("e9", "call.received", at(5)))
        ).status_code == 200
    assert await server.services.rejects.newest("A") == []


async def test_a_bad_token_storm_from_one_address_is_429(server: Server, clock: Clock) -> None:
    async with bad(server) as guesser, await server.client("supervisor") as user:
        user.headers.update(AWAY)
        codes = [(await guesser.get("/api/v1/qi/me")).status_code for _ in range(5)]
        assert codes == [401] * 4 + [429]
        refused = await guesser.post("/api/v1/events", json=event("e1", "call.received", at(5)))
        assert refused.status_code == 429
        assert int(refused.headers["Retry-After"]) == 15  # one attempt back per 60 s / 4
        assert "failed authentications" in refused.json()["detail"]
        # The storm wrote no reject-store row per attempt once it was throttled.
        assert await server.services.rejects.newest("A") == []
        # No credential at all is not an attempt: still a plain 401.
        async with httpx.AsyncClient(base_url=server.url, headers=AWAY) as anonymous:
            assert (await anonymous.get("/api/v1/qi/me")).status_code == 401
        # While it lasts, every credential from the address waits (one loopback address here).
        assert (await user.get("/api/v1/qi/me")).status_code == 429
        clock.now += 15.0
        assert (await user.get("/api/v1/qi/me")).status_code == 200
        assert (await guesser.get("/api/v1/qi/me")).status_code == 401
        assert (await guesser.get("/api/v1/qi/me")).status_code == 429


async def ws_auth(server: Server, token: str) -> int | None:
    async with websockets.connect(server.ws_url, additional_headers=AWAY) as ws:
        await ws.send(json.dumps({"type": "auth", "token": token}))
        try:
            await ws.recv()
        except websockets.ConnectionClosed as closed:
            return closed.rcvd.code if closed.rcvd else None
    return None


async def test_websocket_auth_failures_count_against_the_address(server: Server) -> None:
    codes = [await ws_auth(server, "tcpr_guess") for _ in range(5)]
    assert codes == [4401] * 4 + [4429]
    async with bad(server) as guesser:
        assert (await guesser.get("/api/v1/qi/me")).status_code == 429


async def test_loopback_is_exempt_from_the_failure_limit(server: Server) -> None:
    """Processes on the service's own host: a misconfigured local adapter locks no one out."""
    async with bad(server, {}) as local:
        codes = {(await local.get("/api/v1/qi/me")).status_code for _ in range(10)}
    assert codes == {401}


def test_the_defaults_do_not_throttle_the_ingest_benchmark() -> None:
    """bench/wrk.py posts single events from one adapter token for 10 s as fast as the service
    takes them (~1,500/s here); 2,500/s must still pass. People get far less."""
    clock = Clock()
    limits = Limits(Settings(), clock)
    adapter = Principal(1, "adapter", frozenset({"BENCH"}), "bench")
    for _ in range(25_000):
        clock.now += 1 / 2500
        limits.admit(adapter)
    person = Principal(2, "qi", frozenset({"A"}), "qi")
    with pytest.raises(Throttled):
        for _ in range(1000):
            limits.admit(person)


def test_idle_buckets_are_dropped_and_memory_is_bounded() -> None:
    clock = Clock()
    buckets: Buckets[str] = Buckets(clock, max_keys=100)
    for i in range(50):
        buckets.take(f"k{i}", 1.0, 2.0)
    clock.now += 2.0  # all refilled: idle, the same as no bucket
    for i in range(50, 60):
        buckets.take(f"k{i}", 1.0, 2.0)
    assert len(buckets) < 50
    for i in range(1000):  # none idle: the least recently used go
        buckets.take(f"n{i}", 1.0, 2.0)
    assert len(buckets) <= 100
