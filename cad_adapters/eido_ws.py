"""NENA-STA-024 EIDO subscribe/notify over a websocket: the subscriber side, as an async source.

The client subscribes for EIDOs, hands each notified EIDO to `on_eido` (which spools it durably)
and only then acknowledges the notification, so a crash between the two makes the notifier send
it again rather than lose it. A failed `on_eido` is answered 500 for the same reason. Message
shapes are those of NENA's websocket_subscribe_notify schema (subscribe, subscribeResponse,
event / eventResponse, terminate / terminateResponse).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import uuid
from collections.abc import Awaitable, Callable
from typing import Any, Final

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import InvalidURI, WebSocketException

log = logging.getLogger(__name__)

EIDO_MEDIA: Final = "application/emergency.eido+json"
MAX_RECONNECT_DELAY: Final = 60.0
# A notification may carry several EIDOs; the service takes documents up to 1 MiB each.
MAX_MESSAGE_BYTES: Final = 16 * 1_048_576

OnEido = Callable[[dict[str, Any], str], Awaitable[None]]


class _Resubscribe(Exception):
    """The subscription is gone (refused or terminated): connect and subscribe again."""


async def subscribe(
    url: str,
    on_eido: OnEido,
    *,
    headers: dict[str, str] | None = None,
    request_sub_type: str = "new",
    stop: asyncio.Event | None = None,
    reconnect_delay: float = 1.0,
) -> None:
    """Subscribe to the notifier at `url` and feed every notified EIDO to `on_eido(document,
    transactionId)` until `stop` is set, reconnecting with capped exponential backoff when the
    connection drops or the subscription is refused or terminated."""
    stop = stop or asyncio.Event()
    cap = max(reconnect_delay, MAX_RECONNECT_DELAY)
    delay = reconnect_delay
    while not stop.is_set():
        session = _Session(on_eido, request_sub_type)
        try:
            async with connect(
                url, additional_headers=headers, max_size=MAX_MESSAGE_BYTES
            ) as connection:
                closer = asyncio.create_task(_close_on(stop, connection))
                try:
                    await session.run(connection)
                finally:
                    closer.cancel()
                    with contextlib.suppress(asyncio.CancelledError):
                        await closer
            if not stop.is_set():
                log.warning("EIDO notifier %s closed the connection; reconnecting", url)
        except InvalidURI:
            raise  # a configuration error: retrying cannot help
        except (OSError, TimeoutError, WebSocketException, _Resubscribe) as exc:
            if not stop.is_set():
                log.warning("EIDO subscription to %s: %s; retrying in %.1f s", url, exc, delay)
        if session.subscribed:
            delay = reconnect_delay  # it worked: a later drop starts the backoff afresh
        if stop.is_set():
            return
        await _sleep(stop, delay)
        delay = min(delay * 2, cap)


async def _close_on(stop: asyncio.Event, connection: ClientConnection) -> None:
    """Close the connection once asked to stop; a callback under way finishes first, but its
    notification stays unacknowledged and comes again."""
    await stop.wait()
    await connection.close()


async def _sleep(stop: asyncio.Event, seconds: float) -> None:
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), seconds)


class _Session:
    """One connection's subscription: subscribe, then answer the notifier until it closes."""

    def __init__(self, on_eido: OnEido, request_sub_type: str) -> None:
        self.on_eido = on_eido
        self.request_sub_type = request_sub_type
        self.request_id = ""
        self.subscribed = False

    async def run(self, connection: ClientConnection) -> None:
        await self._subscribe(connection)
        async for message in connection:
            try:
                payload = json.loads(message)
            except (UnicodeDecodeError, json.JSONDecodeError):
                log.warning("EIDO notifier sent a message that is not JSON; ignored")
                continue
            if not isinstance(payload, dict):
                log.warning("EIDO notifier sent a message that is not an object; ignored")
                continue
            if "event" in payload:
                await self._event(connection, payload["event"])
            elif "subscribeResponse" in payload:
                self._subscribed(payload["subscribeResponse"])
            elif "terminate" in payload:
                await self._terminate(connection, payload["terminate"])
            else:
                log.info("EIDO notifier message ignored: %s", ", ".join(payload)[:200])

    async def _subscribe(self, connection: ClientConnection) -> None:
        self.request_id = str(uuid.uuid4())
        request = {
            "requestId": self.request_id,
            "requestType": "EIDO",
            "requestSubType": self.request_sub_type,
            "requestAccepts": EIDO_MEDIA,
        }
        await connection.send(json.dumps({"subscribe": request}))

    def _subscribed(self, response: object) -> None:
        if not isinstance(response, dict) or response.get("requestId") != self.request_id:
            log.warning("EIDO subscribeResponse for another request ignored")
            return
        status = response.get("statusCode")
        if status != 200:
            raise _Resubscribe(f"subscription refused: {status} {response.get('statusText', '')}")
        self.subscribed = True
        log.info("EIDO subscription %s accepted", response.get("subscriptionId"))

    async def _event(self, connection: ClientConnection, event: object) -> None:
        transaction = event.get("transactionId") if isinstance(event, dict) else None
        if not isinstance(transaction, str):
            log.warning("EIDO notification without a transactionId ignored (cannot be answered)")
            return
        assert isinstance(event, dict)
        documents = event.get("notification", [])
        if not isinstance(documents, list) or not all(isinstance(d, dict) for d in documents):
            await _answer(connection, transaction, 400, "notification must be an array of EIDOs")
            return
        try:
            for document in documents:
                await self.on_eido(document, transaction)
        except Exception as exc:
            log.exception("EIDO notification %s not kept; asking for it again", transaction)
            await _answer(connection, transaction, 500, f"not kept: {exc}"[:200])
            return
        await _answer(connection, transaction, 200, "OK")

    async def _terminate(self, connection: ClientConnection, terminate: object) -> None:
        fields = terminate if isinstance(terminate, dict) else {}
        answer = {
            "requestId": fields.get("requestId", ""),
            "subscriptionId": fields.get("subscriptionId", ""),
            "statusCode": 200,
            "statusText": "OK",
        }
        await connection.send(json.dumps({"terminateResponse": answer}))
        log.info("EIDO subscription %s terminated by the notifier", answer["subscriptionId"])
        raise _Resubscribe("subscription terminated by the notifier")


async def _answer(connection: ClientConnection, transaction: str, status: int, text: str) -> None:
    response = {"transactionId": transaction, "statusCode": status, "statusText": text}
    await connection.send(json.dumps({"eventResponse": response}))
