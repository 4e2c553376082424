"""The live floor's alert rules (DESIGN.md §3, §4 of 2026-12-06) through a running service, on
SQLite and PostgreSQL: breathing to verify keeps the recognition alerts, a `medical` alert scope
silences a police call, dispatch in parallel raises `dispatch_overdue`."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from support.harness import Server, at, event, service_settings, start_server

from contract.kinds import Kind

FLOOR = '{"A": {"alert_scope": "medical", "dispatch_alerts": true}}'


@pytest.fixture
async def floor(migrated_database_url: str) -> AsyncIterator[Server]:
    running = await start_server(service_settings(migrated_database_url, agencies=FLOOR))
    try:
        yield running
    finally:
        await running.stop()


async def alerts(server: Server, call_id: str) -> list[str]:
    events = await server.services.store.call_events("A", call_id)
    return sorted(e.data["alert"] for e in events if e.kind == Kind.ALERT_RAISED)


async def settle(server: Server, call_id: str, want: list[str]) -> list[str]:
    """The call's stored alerts once they are `want` (or what they are after 15 s)."""
    deadline = asyncio.get_running_loop().time() + 15
    found = await alerts(server, call_id)
    while found != want and asyncio.get_running_loop().time() < deadline:
        await asyncio.sleep(0.1)
        found = await alerts(server, call_id)
    return found


async def post(server: Server, *events: dict[str, object], role: str = "admin") -> None:
    async with await server.client(role, "A") as client:
        response = await client.post("/api/v1/events", json=list(events))
        assert response.status_code == 200, response.text


async def test_breathing_to_verify_keeps_the_recognition_alerts(floor: Server) -> None:
    await post(
        floor,
        event("v1", "call.received", at(95), "V"),
        event("v2", "call.nature", at(94), "V", data={"code": "26-A-01"}),
        event("v2b", "unit.dispatched", at(90), "V", data={"unit": "M4"}),
        event("v3", "triage.conscious", at(80), "V", source="console", data={"answer": "no"}),
        event("v4", "triage.breathing", at(70), "V", source="console", data={"answer": "yes"}),
    )
    assert await settle(floor, "V", ["recognition_due", "recognition_overdue"]) == [
        "recognition_due",
        "recognition_overdue",
    ]
    # Described as normal: ruled out, nothing more (compression alerts never arm).
    await post(
        floor,
        event(
            "v5",
            "triage.breathing",
            at(0),
            "V",
            source="console",
            data={"answer": "yes", "confirmed": True},
        ),
    )
    async with await floor.client("qi", "A") as qi:
        audit = (await qi.get("/api/v1/calls/A/V/audit")).json()
    assert audit["answers"]["breathing_confirmed"] is True
    assert audit["verify_breathing"] is False


async def test_a_police_call_in_a_medical_agency_raises_nothing(floor: Server) -> None:
    await post(
        floor,
        event("p1", "call.received", at(95), "POLICE"),
        event("p2", "call.nature", at(94), "POLICE", data={"code": "131-D-1"}),
        event("p3", "unit.dispatched", at(93), "POLICE", data={"unit": "P7"}),
        event("m1", "call.received", at(95), "MEDICAL"),
        event("m2", "call.nature", at(94), "MEDICAL", data={"code": "10-D-1"}),
        event("m3", "unit.dispatched", at(93), "MEDICAL", data={"unit": "M1"}),
    )
    assert await settle(floor, "MEDICAL", ["recognition_due", "recognition_overdue"]) == [
        "recognition_due",
        "recognition_overdue",
    ]
    assert await alerts(floor, "POLICE") == []
    async with await floor.client("qi", "A") as qi:
        police = (await qi.get("/api/v1/calls/A/POLICE/audit")).json()
    assert police["in_scope"] is False


async def test_dispatch_overdue_for_a_no_without_a_unit(floor: Server) -> None:
    await post(
        floor,
        event("d1", "call.received", at(95), "D"),
        event("d2", "call.nature", at(94), "D", data={"code": "17-D-3"}),
        event("d3", "triage.conscious", at(80), "D", source="console", data={"answer": "unsure"}),
        # Dispatched in time: no dispatch alert.
        event("u1", "call.received", at(95), "U"),
        event("u2", "call.nature", at(94), "U", data={"code": "17-D-3"}),
        event("u3", "triage.conscious", at(80), "U", source="console", data={"answer": "no"}),
        event("u4", "unit.dispatched", at(30), "U", data={"unit": "M2"}),
    )
    want = ["dispatch_overdue", "recognition_due", "recognition_overdue"]
    assert await settle(floor, "D", want) == want
    assert await settle(floor, "U", want[1:]) == want[1:]
    async with await floor.client("qi", "A") as qi:
        late = (await qi.get("/api/v1/calls/A/D/audit")).json()
        in_time = (await qi.get("/api/v1/calls/A/U/audit")).json()
    assert late["dispatch_met"] is False
    assert in_time["dispatch_met"] is True
