"""A request id for every request and websocket connection: the client's `X-Request-ID` when it
sent a sane one, else a new one. It comes back in the `X-Request-ID` header of every answer, in
the body of every JSON refusal (4xx, 5xx) as `request_id`, and on every log line written while
serving it (service/log_format.py), so an operator finds a caller's refused request in the log.

Added here, outermost, rather than in each refusal: the ingest route's refusals, FastAPI's
own checks and the NUL guard all shape their bodies elsewhere, and only refusals are touched
(an answer below 400 is streamed through unread).
"""

from __future__ import annotations

import json
import logging
import re
import time
import uuid

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from service.log_format import Current, current

log = logging.getLogger(__name__)

HEADER = b"x-request-id"
# What an upstream proxy or client may name a request: no spaces, quotes or control characters
# that would forge a log line or a header, and short enough to index.
SANE = re.compile(rb"[A-Za-z0-9._-]{1,64}")


def request_id(scope: Scope) -> str:
    for name, value in scope.get("headers", ()):
        if name == HEADER and SANE.fullmatch(value):
            return str(value.decode("ascii"))
    return uuid.uuid4().hex


class RequestIds:
    """ASGI middleware: names each request and connection; see the module's docstring."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        rid = request_id(scope)
        # Not reset after: uvicorn runs each request and connection in a task of its own, and
        # its "Exception in ASGI application" line, written after we return, belongs to it.
        current.set(Current(rid, time.monotonic()))
        if scope["type"] == "websocket":
            await self._websocket(scope, receive, send, rid)
        else:
            await self._http(scope, receive, send, rid)

    async def _http(self, scope: Scope, receive: Receive, send: Send, rid: str) -> None:
        header = (HEADER, rid.encode("ascii"))
        held: Message | None = None
        body: list[bytes] = []
        started = False

        async def send_with_id(message: Message) -> None:
            nonlocal held, started
            if message["type"] == "http.response.start":
                started = True
                message["headers"] = [*message.get("headers", ()), header]
                if message["status"] >= 400 and _is_json(message["headers"]):
                    held = message  # until its body is whole
                    return
            elif message["type"] == "http.response.body" and held is not None:
                body.append(message.get("body", b""))
                if message.get("more_body", False):
                    return
                start, held = held, None
                content = _with_id(b"".join(body), rid)
                start["headers"] = [
                    (k, str(len(content)).encode() if k == b"content-length" else v)
                    for k, v in start["headers"]
                ]
                await send(start)
                message = {"type": "http.response.body", "body": content}
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        except Exception:
            if not started:  # what Starlette would send, with the id to find its traceback by
                content = json.dumps({"detail": "Internal Server Error", "request_id": rid})
                await send(
                    {
                        "type": "http.response.start",
                        "status": 500,
                        "headers": [(b"content-type", b"application/json"), header],
                    }
                )
                await send({"type": "http.response.body", "body": content.encode()})
            raise

    async def _websocket(self, scope: Scope, receive: Receive, send: Send, rid: str) -> None:
        began = time.monotonic()
        code: object = None

        async def send_with_id(message: Message) -> None:
            nonlocal code
            if message["type"] == "websocket.accept":
                message["headers"] = [*message.get("headers", ()), (HEADER, rid.encode("ascii"))]
            elif message["type"] == "websocket.close" and code is None:
                code = message.get("code", 1000)
            await send(message)

        async def receive_noting_close() -> Message:
            nonlocal code
            message = await receive()
            if message["type"] == "websocket.disconnect" and code is None:
                code = message.get("code", 1005)
            return message

        try:
            await self.app(scope, receive_noting_close, send_with_id)
        finally:
            log.info("websocket closed (code %s) after %.1f s", code, time.monotonic() - began)


def _is_json(headers: list[tuple[bytes, bytes]]) -> bool:
    return any(k == b"content-type" and v.startswith(b"application/json") for k, v in headers)


def _with_id(body: bytes, rid: str) -> bytes:
    """The refusal's JSON object with `request_id` added; anything else as it was."""
    try:
        refusal = json.loads(body)
    except ValueError:
        return body
    if not isinstance(refusal, dict):
        return body
    refusal["request_id"] = rid
    return json.dumps(refusal, ensure_ascii=False, separators=(",", ":")).encode()
