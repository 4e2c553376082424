"""Each replica exposes its own metrics: what it committed, its own panels; an alert every
replica times is counted once across them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
from support.cluster import Cluster, Panel, Replica
from support.metrics import Samples, samples_of, value


async def scrape(replica: Replica) -> Samples:
    async with httpx.AsyncClient() as client:  # from loopback: allowed without a token
        response = await client.get(f"{replica.url}/metrics")
    assert response.status_code == 200, response.text
    return samples_of(response.text)


async def test_each_replica_counts_what_it_did(cluster: Cluster, panels: list[Panel]) -> None:
    a, b = await cluster.start(2)
    adapter, supervisor = cluster.token("adapter"), cluster.token("supervisor")
    panel = await Panel.open(b, supervisor)
    panels.append(panel)
    t0 = datetime.now(UTC) - timedelta(seconds=59)  # the recognition warning falls due in 1 s
    call = [
        {"event_id": "e1", "call_id": "C1", "agency": "A", "kind": "call.received",
         "at": t0.isoformat()},
        {"event_id": "e2", "call_id": "C1", "agency": "A", "kind": "call.answered",
         "at": (t0 + timedelta(seconds=3)).isoformat()},
    ]  # fmt: skip
    async with httpx.AsyncClient(headers={"Authorization": f"Bearer {adapter}"}) as client:
        posted = await client.post(f"{a.url}/api/v1/events", json=call)
    assert posted.status_code == 200, posted.text
    await panel.until(type="alert", alert="recognition_due")

    on_a, on_b = await scrape(a), await scrape(b)
    # The posts: on A alone.
    assert value(on_a, "tcpr_events_ingested_total", agency="A", source="cad") == 2
    assert value(on_b, "tcpr_events_ingested_total", agency="A", source="cad") == 0
    assert [value(s, "tcpr_ingest_seconds_count") for s in (on_a, on_b)] == [1, 0]
    # Both timed the call; whichever recorded the alert first counted it, the other did not.
    fired = [value(s, "tcpr_alerts_fired_total", alert="recognition_due") for s in (on_a, on_b)]
    system = [
        value(s, "tcpr_events_ingested_total", agency="A", source="system") for s in (on_a, on_b)
    ]
    assert sorted(fired) == [0, 1] and system == fired
    # The panel is B's; the live call is in both views.
    assert (value(on_a, "tcpr_panels_connected"), value(on_b, "tcpr_panels_connected")) == (0, 1)
    assert value(on_a, "tcpr_live_calls") == value(on_b, "tcpr_live_calls") == 1
