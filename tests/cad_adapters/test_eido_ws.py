"""The STA-024 subscriber (cad_adapters/eido_ws.py) against a fake CAD notifier on loopback:
subscribe, every notified EIDO handed over before its acknowledgement, a failed hand-over answered
500 and re-sent, refused and terminated subscriptions renewed, and a dropped connection redialled.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from fake_cad import WAIT, Notifier
from websockets.exceptions import InvalidURI

from cad_adapters.eido_ws import EIDO_MEDIA, fingerprint, subscribe


@dataclass
class Subscriber:
    """`subscribe` running as the runner will run it, keeping what it was handed."""

    task: asyncio.Task[None]
    stop: asyncio.Event
    handed: list[tuple[dict[str, Any], str]]
    bad: list[tuple[str, str, str | None]]

    async def finish(self) -> None:
        self.stop.set()
        await asyncio.wait_for(self.task, WAIT)


def start(
    url: str, *, fail_first: int = 0, fail_bad: int = 0, keep_bad: bool = True, **options: Any
) -> Subscriber:
    stop = asyncio.Event()
    handed: list[tuple[dict[str, Any], str]] = []
    bad: list[tuple[str, str, str | None]] = []
    failures = [fail_first, fail_bad]

    async def on_eido(document: dict[str, Any], transaction: str) -> None:
        if failures[0] > 0:
            failures[0] -= 1
            raise OSError("spool disk full")
        handed.append((document, transaction))

    async def on_bad(raw: str, reason: str, transaction: str | None) -> None:
        if failures[1] > 0:
            failures[1] -= 1
            raise OSError("reject spool full")
        bad.append((raw, reason, transaction))

    if keep_bad:
        options["on_bad"] = on_bad
    task = asyncio.create_task(subscribe(url, on_eido, stop=stop, reconnect_delay=0.01, **options))
    return Subscriber(task, stop, handed, bad)


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


async def test_what_is_no_eido_in_a_notification_is_handed_to_on_bad_beside_the_eidos(
    notifier: Notifier,
) -> None:
    client = start(notifier.url, fail_bad=1)
    connection, _, _ = await notifier.subscribed()
    first, second = snapshot("Dispatched"), snapshot("On Scene")
    mixed = {"subscriptionId": "s", "transactionId": "tx-1", "notification": [first, 5, second]}
    # Keeping the element that is no EIDO failed: 500, and the notifier sends it all again.
    await connection.send(json.dumps({"event": mixed}))
    _, _, answer = await notifier.next()
    assert answer["eventResponse"]["statusCode"] == 500
    assert "reject spool full" in answer["eventResponse"]["statusText"]
    await connection.send(json.dumps({"event": mixed}))
    _, _, answer = await notifier.next()
    assert answer["eventResponse"]["transactionId"] == "tx-1"
    assert answer["eventResponse"]["statusCode"] == 200
    # Every EIDO is handed over (the first twice: it was kept before the failure), never dropped.
    assert client.handed == [(first, "tx-1"), (first, "tx-1"), (second, "tx-1")]
    assert len(client.bad) == 1
    raw, reason, transaction = client.bad[0]
    assert (raw, transaction) == ("5", "tx-1")
    assert "notification[1]" in reason and "not an EIDO" in reason
    # A notification that is no array at all: kept whole as a bad one, answered once kept.
    await connection.send(
        json.dumps({"event": {"subscriptionId": "s", "transactionId": "tx-2", "notification": 7}})
    )
    _, _, answer = await notifier.next()
    assert answer["eventResponse"]["statusCode"] == 200
    assert client.bad[1][0] == "7" and client.bad[1][2] == "tx-2"
    assert "array" in client.bad[1][1]
    await client.finish()


async def test_messages_that_cannot_be_answered_are_still_kept(notifier: Notifier) -> None:
    client = start(notifier.url)
    connection, _, _ = await notifier.subscribed()
    document = snapshot("Arrived")
    unanswerable = {"event": {"subscriptionId": "s", "notification": [document, [1]]}}
    messages: list[str | bytes] = [
        "{not json",
        b"\xff\xfe binary garbage",
        "[" * 100_000,  # deeper than Python's json will go
        '["an array, not a message"]',
        json.dumps(unanswerable),
    ]
    for message in messages:
        await connection.send(message)
    # Nothing answers those (there is no transactionId); the next notification's answer is the
    # first thing the notifier hears back, and by then all the above were handled in order.
    assert await notifier.notify(connection, "tx-9", document) == {"transactionId": "tx-9", **OK}
    assert client.handed == [(document, "(none)"), (document, "tx-9")]
    raws = [raw for raw, _, _ in client.bad]
    assert raws == [
        "{not json",
        "\\xff\\xfe binary garbage",
        "[" * 100_000,
        '["an array, not a message"]',
        json.dumps(unanswerable),
        "[1]",
    ]
    reasons = [reason for _, reason, _ in client.bad]
    assert "not JSON" in reasons[0] and "not JSON" in reasons[1] and "not JSON" in reasons[2]
    assert "must be a JSON object, not an array" in reasons[3]
    assert "transactionId" in reasons[4]
    assert "not an EIDO" in reasons[5]
    assert {transaction for _, _, transaction in client.bad} == {None}
    assert not client.task.done()
    await client.finish()


async def test_without_on_bad_what_is_no_eido_is_logged_as_an_error(
    notifier: Notifier, caplog: pytest.LogCaptureFixture
) -> None:
    client = start(notifier.url, keep_bad=False)
    connection, _, _ = await notifier.subscribed()
    document = snapshot("Dispatched")
    answer = await notifier.notify(connection, "tx-1", document, "oops")  # type: ignore[arg-type]
    assert answer["statusCode"] == 200
    assert client.handed == [(document, "tx-1")]
    errors = [r.getMessage() for r in caplog.records if r.levelname == "ERROR"]
    # Named by size and digest, never by content (it may carry caller details).
    assert any(
        "tx-1" in e and fingerprint('"oops"') in e and "notification[1]" in e for e in errors
    )
    assert not any("oops" in e for e in errors)
    await client.finish()


async def test_a_message_over_max_size_is_an_error_and_the_subscriber_dials_again(
    notifier: Notifier, caplog: pytest.LogCaptureFixture
) -> None:
    client = start(notifier.url)  # the default limit: the service's default body limit
    connection, _, _ = await notifier.subscribed()
    big = snapshot("Dispatched") | {"padding": "x" * 1_048_576}
    await connection.send(json.dumps({"event": {"transactionId": "tx-1", "notification": [big]}}))
    await asyncio.wait_for(connection.wait_closed(), WAIT)
    assert connection.close_code == 1009
    again, number, _ = await notifier.subscribed()
    assert number == 2
    errors = [r.getMessage() for r in caplog.records if r.levelname == "ERROR"]
    assert any("1048576" in e and "1009" in e for e in errors), errors
    # A smaller limit is the caller's to set; below it, notifications flow as before.
    document = snapshot("On Scene")
    assert await notifier.notify(again, "tx-2", document) == {"transactionId": "tx-2", **OK}
    assert client.handed == [(document, "tx-2")]
    await client.finish()
    small = start(notifier.url, max_size=1000)
    connection, _, _ = await notifier.subscribed()
    await notifier.notify(connection, "tx-3", snapshot("Dispatched"))
    await connection.send(json.dumps({"event": {"transactionId": "tx-4", "notification": [big]}}))
    await asyncio.wait_for(connection.wait_closed(), WAIT)
    assert connection.close_code == 1009
    await notifier.subscribed()
    errors = [r.getMessage() for r in caplog.records if r.levelname == "ERROR"]
    assert any("1000 bytes" in e for e in errors), errors
    await small.finish()


async def test_an_unanswerable_notification_whose_reject_fails_still_hands_over_its_eidos(
    notifier: Notifier, caplog: pytest.LogCaptureFixture
) -> None:
    client = start(notifier.url, fail_bad=1)
    connection, _, _ = await notifier.subscribed()
    document = snapshot("Dispatched")
    message = json.dumps({"event": {"transactionId": 7, "notification": [document]}})
    await connection.send(message)
    assert await notifier.notify(connection, "tx-1", document) == {"transactionId": "tx-1", **OK}
    assert client.handed == [(document, "(none)"), (document, "tx-1")]
    assert client.bad == []  # the one reject failed; the error log is all that is left of it
    errors = [r.getMessage() for r in caplog.records if r.levelname == "ERROR"]
    assert any(fingerprint(message) in e for e in errors), errors
    assert not any("Dispatched" in e for e in errors), errors
    await client.finish()
