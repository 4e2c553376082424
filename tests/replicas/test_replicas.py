"""Two replicas behind one PostgreSQL and one broker behave like the single process."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta

import asyncpg
import httpx
from support.cluster import Cluster, Panel


def event(
    event_id: str, kind: str, at: datetime, call_id: str = "C1", **extra: object
) -> dict[str, object]:
    return {
        "event_id": event_id,
        "call_id": call_id,
        "agency": "A",
        "kind": kind,
        "at": at.isoformat(),
        **extra,
    }


async def post(url: str, token: str, body: object) -> httpx.Response:
    async with httpx.AsyncClient() as client:
        response = await client.post(
            f"{url}/api/v1/events", json=body, headers={"Authorization": f"Bearer {token}"}
        )
    assert response.status_code == 200, response.text
    return response


async def alerts_in_log(cluster: Cluster, call_id: str = "C1") -> list[str]:
    conn = await asyncpg.connect(
        cluster.database_url.replace("postgresql+asyncpg://", "postgresql://")
    )
    try:
        rows = await conn.fetch(
            "SELECT data FROM events WHERE kind = 'alert.raised' AND call_id = $1 ORDER BY seq",
            call_id,
        )
    finally:
        await conn.close()
    return [json.loads(r["data"])["alert"] for r in rows]


async def test_an_event_posted_to_one_replica_reaches_a_panel_on_the_other(
    cluster: Cluster, panels: list[Panel]
) -> None:
    a, b = await cluster.start(2)
    adapter, supervisor = cluster.token("adapter"), cluster.token("supervisor")
    panel = await Panel.open(b, supervisor)
    panels.append(panel)
    await post(a.url, adapter, event("e1", "call.received", datetime.now(UTC)))
    update = await panel.until(type="call", call_id="C1")
    assert update["event"]["event_id"] == "e1"
    assert update["call"]["phase"] == "ask_conscious"
    # And back the other way, in order.
    await post(
        b.url, adapter, event("e2", "triage.conscious", datetime.now(UTC), data={"answer": "no"})
    )
    later = await panel.until(type="call", call_id="C1")
    assert later["event"]["event_id"] == "e2" and later["seq"] > update["seq"]


async def test_killing_a_replica_still_fires_each_alert_exactly_once(
    cluster: Cluster, panels: list[Panel]
) -> None:
    a, b = await cluster.start(2)
    adapter, supervisor = cluster.token("adapter"), cluster.token("supervisor")
    panel = await Panel.open(b, supervisor)
    panels.append(panel)
    t0 = datetime.now(UTC) - timedelta(seconds=86)
    await post(a.url, adapter, event("e1", "call.received", t0))
    await panel.until(type="alert", alert="recognition_due")
    a.kill()  # the replica that took the call dies before the 90 s deadline
    overdue = await panel.until(type="alert", alert="recognition_overdue", limit_s=20)
    assert datetime.fromisoformat(overdue["deadline"]) == t0 + timedelta(seconds=90)
    # A third replica joining later rebuilds the call from the log and fires nothing again.
    (c,) = await cluster.start(1)
    await asyncio.sleep(2)
    assert await alerts_in_log(cluster) == ["recognition_due", "recognition_overdue"]
    assert c.process is not None and c.process.poll() is None


async def test_a_panel_that_moves_to_the_other_replica_misses_nothing(
    cluster: Cluster, panels: list[Panel]
) -> None:
    a, b = await cluster.start(2)
    adapter, supervisor = cluster.token("adapter"), cluster.token("supervisor")
    panel = await Panel.open(a, supervisor)
    await post(a.url, adapter, event("e1", "call.received", datetime.now(UTC)))
    seen = (await panel.until(type="call", call_id="C1"))["seq"]
    a.kill()  # its replica dies under it
    await panel.connection.close()
    # While the panel is away, the CAD keeps posting to the replica that is left.
    now = datetime.now(UTC)
    await post(b.url, adapter, event("e2", "call.answered", now, actor="tc-1"))
    await post(
        b.url,
        adapter,
        [
            event("e3", "triage.conscious", now, data={"answer": "no"}),
            event("e4", "triage.breathing", now, data={"answer": "no"}),
        ],
    )
    moved = await Panel.open(b, supervisor, since=seen)
    panels.append(moved)
    (call,) = moved.snapshot["calls"]
    assert call["recognized"] is True and call["recognition_path"] == "question"
    missed = await moved.until(type="missed")
    assert [e["event_id"] for e in missed["events"]] == ["e2", "e3", "e4"]
    assert missed["complete"] is True
