"""Calls for the browser tests: received, answered by a telecommunicator, then whatever else;
and the panel they are taken on."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from playwright.async_api import Page, expect
from support.harness import Server


def call(
    call_id: str,
    age_s: float,
    actor: str,
    *extra: tuple[str, float, dict[str, Any]],
    t0: datetime | None = None,
) -> list[dict[str, Any]]:
    """`extra` events are (kind, seconds after T0, data); T0 is `age_s` ago unless `t0` is given
    (a fixed past instant, for the QI pages' months)."""
    t0 = t0 if t0 is not None else datetime.now(UTC) - timedelta(seconds=age_s)
    events = [
        {
            "event_id": f"{call_id}-r",
            "call_id": call_id,
            "agency": "A",
            "kind": "call.received",
            "at": t0.isoformat(),
        },
        {
            "event_id": f"{call_id}-a",
            "call_id": call_id,
            "agency": "A",
            "kind": "call.answered",
            "at": (t0 + timedelta(seconds=4)).isoformat(),
            "actor": actor,
        },
    ]
    for i, (kind, at_s, data) in enumerate(extra):
        events.append(
            {
                "event_id": f"{call_id}-{i}",
                "call_id": call_id,
                "agency": "A",
                "kind": kind,
                "at": (t0 + timedelta(seconds=at_s)).isoformat(),
                "data": data,
            }
        )
    return events


async def post_calls(server: Server, *calls: list[dict[str, Any]]) -> None:
    async with await server.client("adapter", "A") as client:
        for events in calls:
            assert (await client.post("/api/v1/events", json=events)).status_code == 200


async def open_panel(
    server: Server,
    new_page: Callable[..., Awaitable[Page]],
    viewport: tuple[int, int] = (1280, 720),
) -> Page:
    """The telecommunicator panel signed in as this role's token, once it is live."""
    token = await server.token("telecommunicator", "A")
    page = await new_page(viewport=viewport)
    await page.goto(f"{server.url}/ui/panel.html#token={token}")
    await expect(page.locator("#status")).to_have_class("status live")
    return page
