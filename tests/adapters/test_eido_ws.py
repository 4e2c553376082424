"""The STA-024 subscriber (cad_adapters/eido_ws.py) against a fake CAD notifier on loopback:
subscribe, every notified EIDO handed over before its acknowledgement, a failed hand-over answered
500 and re-sent, refused and terminated subscriptions renewed, and a dropped connection redialled.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from fake_cad import WAIT, Notifier
from websockets.asyncio.server import serve
from websockets.exceptions import InvalidURI

from cad_adapters.eido_ws import EIDO_MEDIA, subscribe


@pytest.fixture
async def notifier() -> AsyncIterator[Notifier]:
    fake = Notifier()
    async with serve(fake.handler, "127.0.0.1", 0) as server:
        port = next(iter(server.sockets)).getsockname()[1]
        fake.url = f"ws://127.0.0.1:{port}/eido"
        yield fake


@dataclass
class Subscriber:
    """`subscribe` running as the runner will run it, keeping what it was handed."""

    task: asyncio.Task[None]
    stop: asyncio.Event
    handed: list[tuple[dict[str, Any], str]]

    async def finish(self) -> None:
        self.stop.set()
        await asyncio.wait_for(self.task, WAIT)


def start(url: str, *, fail_first: int = 0, **options: Any) -> Subscriber:
    stop = asyncio.Event()
    handed: list[tuple[dict[str, Any], str]] = []
    failures = [fail_first]

    async def on_eido(document: dict[str, Any], transaction: str) -> None:
        if failures[0] > 0:
            failures[0] -= 1
            raise OSError("spool disk full")
        handed.append((document, transaction))

    task = asyncio.create_task(subscribe(url, on_eido, stop=stop, reconnect_delay=0.01, **options))
    return Subscriber(task, stop, handed)


def snapshot(status: str) -> dict[str, Any]:
    return {
        "$id": "urn:emergency:uid:incidentid:1:cad.example",
        "lastUpdateTimeStamp": "2026-03-02T09:05:00-06:00",
        "emergencyResourceComponent": [
            {"$id": "m12", "primaryUnitStatusRegistryText": status},
        ],
    }


OK = {"statusCode": 200, "statusText": "OK"}


async def test_notifications_are_handed_over_then_acknowledged_and_redialled(
    notifier: Notifier, shared: Path
) -> None:
    sample = json.loads(
        (shared / "standards" / "eido" / "samples" / "sample_call_transfer_EIDO.json").read_bytes()
    )
    second = snapshot("On Scene")
    client = start(notifier.url, headers={"Authorization": "Bearer cad-secret"})
    connection, number, request = await notifier.subscribed()
    assert number == 1
    assert {k: v for k, v in request.items() if k != "requestId"} == {
        "requestType": "EIDO",
        "requestSubType": "new",
        "requestAccepts": EIDO_MEDIA,
    }
    assert await notifier.notify(connection, "tx-1", sample) == {"transactionId": "tx-1", **OK}
    assert client.handed == [(sample, "tx-1")]
    # The CAD sends the same snapshot again, then an updated one.
    assert await notifier.notify(connection, "tx-2", sample) == {"transactionId": "tx-2", **OK}
    assert await notifier.notify(connection, "tx-3", second) == {"transactionId": "tx-3", **OK}
    # Several EIDOs in one notification: each handed over, one acknowledgement.
    assert await notifier.notify(connection, "tx-4", second, sample) == {
        "transactionId": "tx-4",
        **OK,
    }
    assert client.handed == [
        (sample, "tx-1"),
        (sample, "tx-2"),
        (second, "tx-3"),
        (second, "tx-4"),
        (sample, "tx-4"),
    ]
    # The connection drops: the subscriber dials again and subscribes afresh.
    assert connection.transport is not None
    connection.transport.abort()
    again, number, renewed = await notifier.subscribed()
    assert number == 2
    assert renewed["requestId"] != request["requestId"]
    assert renewed["requestType"] == "EIDO"
    assert notifier.headers == ["Bearer cad-secret", "Bearer cad-secret"]
    assert await notifier.notify(again, "tx-5", second) == {"transactionId": "tx-5", **OK}
    await client.finish()
    assert client.handed[-1] == (second, "tx-5")


async def test_a_notification_not_kept_is_answered_500_and_comes_again(
    notifier: Notifier,
) -> None:
    client = start(notifier.url, fail_first=1, request_sub_type="single")
    connection, _, request = await notifier.subscribed()
    assert request["requestSubType"] == "single"
    document = snapshot("Dispatched")
    refused = await notifier.notify(connection, "tx-1", document)
    assert refused["transactionId"] == "tx-1" and refused["statusCode"] == 500
    assert "spool disk full" in refused["statusText"]
    assert client.handed == []
    resent = await notifier.notify(connection, "tx-1", document)
    assert resent == {"transactionId": "tx-1", **OK}
    assert client.handed == [(document, "tx-1")]
    # A notification that carries no EIDO objects is the notifier's error: 400, nothing handed.
    await connection.send(
        json.dumps({"event": {"subscriptionId": "s", "transactionId": "tx-2", "notification": 7}})
    )
    _, _, answer = await notifier.next()
    assert answer["eventResponse"]["statusCode"] == 400
    assert client.handed == [(document, "tx-1")]
    await client.finish()


async def test_refused_and_terminated_subscriptions_are_renewed(notifier: Notifier) -> None:
    client = start(notifier.url)
    _, _, first = await notifier.subscribed(status=403)
    # Refused: the subscriber tries again (after its backoff), with a new request.
    connection, _, second = await notifier.subscribed()
    assert second["requestId"] != first["requestId"]
    terminate = {"requestId": "notifier-9", "subscriptionId": "sub-2"}
    await connection.send(json.dumps({"terminate": terminate}))
    _, _, answer = await notifier.next()
    assert answer == {"terminateResponse": {**terminate, **OK}}
    connection, _, third = await notifier.subscribed()
    assert third["requestId"] not in (first["requestId"], second["requestId"])
    document = snapshot("Arrived")
    assert await notifier.notify(connection, "tx-1", document) == {"transactionId": "tx-1", **OK}
    assert client.handed == [(document, "tx-1")]
    await client.finish()


async def test_stop_ends_it_while_the_notifier_is_unreachable() -> None:
    client = start("ws://127.0.0.1:9/eido")  # the discard port: nothing listens
    await asyncio.sleep(0)
    await client.finish()
    assert client.task.done() and client.task.exception() is None


async def test_a_url_that_is_no_websocket_url_is_a_configuration_error() -> None:
    async def on_eido(document: dict[str, Any], transaction: str) -> None:
        raise AssertionError("never called")

    with pytest.raises(InvalidURI):
        await subscribe("cad.example/eido", on_eido, stop=asyncio.Event())
