"""NENA-STA-024 EIDO subscribe/notify over a websocket: the subscriber side, as an async source.

The client subscribes for EIDOs, hands each notified EIDO to `on_eido` (which spools it durably)
and only then acknowledges the notification, so a crash between the two makes the notifier send
it again rather than lose it. A failed hand-over is answered 500 for the same reason. Message
shapes are those of NENA's websocket_subscribe_notify schema (subscribe, subscribeResponse,
event / eventResponse, terminate / terminateResponse).

Nothing the notifier sends is dropped: what is no EIDO (an element of `notification` that is not
an object, a message that is not JSON or not an object, a notification without a transactionId)
goes to `on_bad(raw, reason, transaction)` to be kept as a reject, while the EIDOs beside it still
go to `on_eido`. A message over `max_size` cannot be read at all: the library closes the
connection with 1009, which is logged as an error naming the limit, and the subscriber dials again.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import logging
import uuid
from collections.abc import Awaitable, Callable, Iterator
from typing import Any, Final

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidURI, WebSocketException
from websockets.frames import CloseCode

from contract.storable import json_type

log = logging.getLogger(__name__)

EIDO_MEDIA: Final = "application/emergency.eido+json"
MAX_RECONNECT_DELAY: Final = 60.0
# The service's default body limit (settings.max_body_bytes): an EIDO read from a larger message
# could not be delivered. Callers pass the service's own limit.
MAX_MESSAGE_BYTES: Final = 1_048_576
NO_TRANSACTION: Final = "(none)"

OnEido = Callable[[dict[str, Any], str], Awaitable[None]]
OnBad = Callable[[str, str, str | None], Awaitable[None]]


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
    max_size: int = MAX_MESSAGE_BYTES,
    on_bad: OnBad | None = None,
) -> None:
    """Subscribe to the notifier at `url` and feed every notified EIDO to `on_eido(document,
    transactionId)`, and all else it sends to `on_bad(raw, reason, transactionId or None)` (an
    error in the log when there is none), until `stop` is set, reconnecting with capped
    exponential backoff when the connection drops or the subscription is refused or terminated.
    Messages over `max_size` bytes close the connection (1009) and are logged as errors."""
    stop = stop or asyncio.Event()
    cap = max(reconnect_delay, MAX_RECONNECT_DELAY)
    delay = reconnect_delay
    while not stop.is_set():
        session = _Session(on_eido, on_bad or _log_bad, request_sub_type)
        too_big = False
        try:
            async with connect(url, additional_headers=headers, max_size=max_size) as connection:
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
            too_big = _too_big(exc)
            if too_big:
                # The notifier will send it again; backing off keeps this from spinning, and the
                # error says what to change.
                log.error(
                    "EIDO notifier %s sent a message over %d bytes (%s), the max_size limit; "
                    "connection closed (1009), retrying in %.1f s. The notification is not "
                    "kept: have the CAD send smaller notifications (one EIDO each), or raise "
                    "max_size together with the service's max_body_bytes",
                    url,
                    max_size,
                    exc.sent.reason if isinstance(exc, ConnectionClosed) and exc.sent else "",
                    delay,
                )
            elif not stop.is_set():
                log.warning("EIDO subscription to %s: %s; retrying in %.1f s", url, exc, delay)
        if session.subscribed and not too_big:
            delay = reconnect_delay  # it worked: a later drop starts the backoff afresh
        if stop.is_set():
            return
        await _sleep(stop, delay)
        delay = min(delay * 2, cap)


def _too_big(exc: BaseException) -> bool:
    """We closed the connection because a message exceeded max_size."""
    return (
        isinstance(exc, ConnectionClosed)
        and exc.sent is not None
        and exc.sent.code == CloseCode.MESSAGE_TOO_BIG
    )


async def _log_bad(raw: str, reason: str, transaction: str | None) -> None:
    """The `on_bad` of a caller that gave none: at least an error in the log, naming the text
    by size and digest (never its content: it may carry caller details)."""
    log.error(
        "EIDO notifier sent what is no EIDO (transaction %s): %s; not kept: %s",
        transaction or NO_TRANSACTION,
        reason,
        fingerprint(raw),
    )


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

    def __init__(self, on_eido: OnEido, on_bad: OnBad, request_sub_type: str) -> None:
        self.on_eido = on_eido
        self.on_bad = on_bad
        self.request_sub_type = request_sub_type
        self.request_id = ""
        self.subscribed = False

    async def run(self, connection: ClientConnection) -> None:
        await self._subscribe(connection)
        async for message in connection:
            raw = (
                message if isinstance(message, str) else message.decode("utf-8", "backslashreplace")
            )
            try:
                payload = json.loads(message)
            except (UnicodeDecodeError, json.JSONDecodeError) as exc:
                await self._keep_unanswerable(raw, f"not JSON: {exc}")
                continue
            except RecursionError:
                await self._keep_unanswerable(raw, "not JSON: nested too deeply")
                continue
            if not isinstance(payload, dict):
                reason = f"a message must be a JSON object, not {json_type(payload)}"
                await self._keep_unanswerable(raw, reason)
                continue
            if "event" in payload:
                await self._event(connection, payload["event"], raw)
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

    async def _event(self, connection: ClientConnection, event: object, raw: str) -> None:
        transaction = event.get("transactionId") if isinstance(event, dict) else None
        if not isinstance(transaction, str) or not transaction:
            # Cannot be acknowledged, so the notifier will not send it again: keep it now.
            await self._keep_unanswerable(
                raw,
                "notification without a transactionId: it cannot be acknowledged; "
                "its EIDOs are kept with transaction (none)",
                event.get("notification") if isinstance(event, dict) else None,
            )
            return
        assert isinstance(event, dict)
        try:
            bad = await self._hand_over(event.get("notification"), transaction, raw)
        except Exception as exc:
            log.exception("EIDO notification %s not kept; asking for it again", transaction)
            await _answer(connection, transaction, 500, f"not kept: {exc}"[:200])
            return
        text = f"OK; {bad} element(s) not an EIDO object" if bad else "OK"
        await _answer(connection, transaction, 200, text)

    async def _hand_over(self, documents: object, transaction: str, raw: str) -> int:
        """Each EIDO of a notification to on_eido and all else to on_bad, in order, stopping at
        the first callback that raises; how many were no EIDOs."""
        if documents is None:
            await self.on_bad(raw, "event without a notification array", transaction)
            return 1
        if not isinstance(documents, list):
            reason = f"notification must be an array of EIDOs, not {json_type(documents)}"
            await self.on_bad(json.dumps(documents), reason, transaction)
            return 1
        for i, document in enumerate(documents):
            await self._hand_over_one(i, document, transaction)
        return sum(not isinstance(d, dict) for d in documents)

    async def _hand_over_one(self, i: int, document: object, transaction: str | None) -> None:
        if isinstance(document, dict):
            await self.on_eido(document, transaction or NO_TRANSACTION)
            return
        reason = f"notification[{i}] is {json_type(document)}, not an EIDO object"
        log.warning("EIDO notification %s: %s", transaction or NO_TRANSACTION, reason)
        await self.on_bad(json.dumps(document), reason, transaction)

    async def _keep_unanswerable(self, raw: str, reason: str, documents: object = None) -> None:
        """What the notifier sent that no eventResponse can answer, so it will never come again:
        the message to on_bad, then each EIDO it carries to on_eido, each kept or its failure
        logged as an error; never raised (there is nothing to ask for again)."""
        log.warning("EIDO notifier: %s", reason)
        with _logged_failure(reason, raw):
            await self.on_bad(raw, reason, None)
        if isinstance(documents, list):
            for i, document in enumerate(documents):
                with _logged_failure(f"notification[{i}] of that message", json.dumps(document)):
                    await self._hand_over_one(i, document, None)

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


@contextlib.contextmanager
def _logged_failure(what: str, raw: str) -> Iterator[None]:
    """A callback's failure on something that cannot be asked for again: an error naming the
    text by size and digest, so it can be found in the CAD's own records."""
    try:
        yield
    except Exception:
        log.exception(
            "EIDO notifier message not kept and not to be sent again (%s): %s",
            what,
            fingerprint(raw),
        )


def fingerprint(raw: str) -> str:
    """What a log may say of a text that may carry caller details: its size and digest."""
    digest = hashlib.sha256(raw.encode("utf-8", "surrogatepass")).hexdigest()[:16]
    return f"{len(raw)} characters, sha256 {digest}"
