"""`WS /ws`: first-message authentication, a snapshot, then live messages (DESIGN.md §8).

Client messages:
- `{"type": "auth", "token": "...", "since": 123}` first, within the time limit; `since` (the last
  sequence the client saw) asks for a `missed` message with every event after it. Without
  `token`, the session cookie sent with the handshake authenticates (a browser page). The
  handshake's Origin, when sent, must be allowed, else it is refused (HTTP 403).
- `{"type": "ping", "t": <client ms>}` answered by `pong` with the server's clock, so a panel
  can measure its clock offset and draw the interval clocks itself.
Server messages all carry `type` and the `seq` they reflect: `snapshot`, `missed`, `call` (one
per stored event: the event and its call's new view), `alert`, `pong`.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, WebSocket, WebSocketDisconnect

from contract import policy
from contract.event import as_dict
from service.api import origins
from service.api.deps import SESSION_COOKIE, Services
from service.api.ratelimit import Throttled, client_address
from service.hub import Panel, Socket
from service.identity import InvalidCredential
from service.store.tokens import Principal

router = APIRouter()

AUTH_FAILED = 4401
FORBIDDEN = 4403
BAD_MESSAGE = 4400
# Too many failed authentications from the address (HTTP's 429). A panel's socket is not
# counted against its principal's request limit: one token opens many panels at once.
THROTTLED = 4429
MAX_MISSED = 10_000


def _now() -> str:
    return datetime.now(UTC).isoformat()


async def _authenticate(
    websocket: WebSocket, services: Services
) -> tuple[Principal, int | None] | None:
    try:
        raw = await asyncio.wait_for(
            websocket.receive_text(), timeout=services.settings.ws_auth_timeout_seconds
        )
        message = json.loads(raw)
    except TimeoutError:
        await websocket.close(AUTH_FAILED, "authenticate first: {type: auth, token}")
        return None
    except WebSocketDisconnect:
        return None  # gone before saying who it was
    except (json.JSONDecodeError, KeyError, TypeError):
        await websocket.close(BAD_MESSAGE, "first message must be JSON {type: auth, token}")
        return None
    if not isinstance(message, dict) or message.get("type") != "auth":
        await websocket.close(AUTH_FAILED, "first message must be {type: auth, token}")
        return None
    address = client_address(websocket)
    try:
        services.limits.check_address(address)
    except Throttled as exc:
        await websocket.close(THROTTLED, str(exc.detail))
        return None
    try:
        principal = await _principal(websocket, services, message.get("token"))
    except InvalidCredential as exc:
        services.limits.failed(address)
        await websocket.close(AUTH_FAILED, _reason(f"invalid token: {exc}"))
        return None
    if principal.role not in policy.WATCH:
        await websocket.close(FORBIDDEN, f"role {principal.role} may not watch calls")
        return None
    since = message.get("since")
    return principal, since if isinstance(since, int) and since >= 0 else None


async def _principal(websocket: WebSocket, services: Services, token: object) -> Principal:
    """The token's principal or, with no token, that of the session cookie the browser sent
    with the handshake (a page cannot give its HttpOnly cookie to its script)."""
    if isinstance(token, str):
        return await services.identities.from_token(token)
    if token is not None:
        raise InvalidCredential("token must be a string")
    secret = websocket.cookies.get(SESSION_COOKIE)
    principal = await services.identities.browser_sessions.authenticate(secret) if secret else None
    if principal is None:
        raise InvalidCredential("no token, and no open session: sign in again")
    return principal


def _reason(text: str) -> str:
    """A close reason fits in 123 bytes."""
    return text.encode()[:120].decode(errors="ignore")


@router.websocket("/ws")
async def panel_socket(websocket: WebSocket) -> None:
    services: Services = websocket.app.state.services
    origin = websocket.headers.get("origin")
    if origin is not None and not origins.allowed(origin, websocket, services.settings):
        # Before accept: the handshake is refused with HTTP 403. A page of another site must
        # not ride on the browser's session cookie (websockets have no same-origin policy).
        await websocket.close(FORBIDDEN, "origin not allowed")
        return
    await websocket.accept()
    auth = await _authenticate(websocket, services)
    if auth is None:
        return
    principal, since = auth
    # Attach before the snapshot, with no await between: every update after the snapshot's
    # sequence is queued for this panel, and none before it is lost.
    panel = services.hub.attach(Socket(websocket.send_text, websocket.close), principal)
    snapshot = services.live.snapshot(principal.agencies)
    snapshot.update(
        server_time=_now(),
        agencies=sorted(principal.agencies),
        role=principal.role,
        name=principal.name,
        profiles={a: services.settings.agency_config(a).profile.name for a in principal.agencies},
        # Their calls are scenarios: the board keeps them apart and marks them TRAINING.
        training_agencies=[
            a for a in services.settings.training_agencies() if a in principal.agencies
        ],
        # The rule the board states: a call the CAD never ends leaves the live views this long
        # after its T0 (TCPR_LIVE_CALL_MAX_AGE_SECONDS); it stays in the audits.
        live_call_max_age_seconds=services.settings.live_call_max_age_seconds,
    )
    # The snapshot's objects would live as long as the connection: keep only its text, and only
    # until it is sent (2,000 panels held ~450 MiB of snapshots they no longer needed).
    seq, encoded = snapshot["seq"], json.dumps(snapshot, separators=(",", ":"))
    del snapshot
    sender: asyncio.Task[None] | None = None
    try:
        # Live updates queue up meanwhile; the sender starts once these two are out.
        await websocket.send_text(encoded)
        del encoded
        if since is not None:
            await websocket.send_text(await _missed(services, principal, since, seq))
        # A feed already silent when the panel opens: the banner shows from the start.
        for message in services.feeds.messages(principal.agencies):
            await websocket.send_text(json.dumps(message, separators=(",", ":")))
        sender = asyncio.create_task(panel.send_forever())
        await _read(websocket, panel, sender)
    except WebSocketDisconnect:
        pass
    finally:
        services.hub.detach(panel)
        if sender is not None:
            sender.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await sender


async def _missed(services: Services, principal: Principal, since: int, upto: int) -> str:
    events = await services.store.events_since(
        since, agencies=principal.agencies, limit=MAX_MISSED + 1
    )
    events = [e for e in events if e.arrival <= upto]
    complete = len(events) <= MAX_MISSED
    body: dict[str, Any] = {
        "type": "missed",
        "since": since,
        "seq": upto,
        "complete": complete,  # false: too far behind, rely on the snapshot
        "events": [as_dict(e) for e in events[:MAX_MISSED]],
    }
    return json.dumps(body, separators=(",", ":"))


async def _read(websocket: WebSocket, panel: Panel, sender: asyncio.Task[None]) -> None:
    receive: asyncio.Task[str] | None = None
    while True:
        receive = asyncio.create_task(websocket.receive_text())
        done, _ = await asyncio.wait({receive, sender}, return_when=asyncio.FIRST_COMPLETED)
        if sender in done:  # cut off as too slow, or the socket failed
            receive.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await receive
            return
        try:
            message = json.loads(receive.result())
        except json.JSONDecodeError:
            continue
        if isinstance(message, dict) and message.get("type") == "ping":
            reply = {"type": "pong", "t": message.get("t"), "server_time": _now()}
            panel.offer(json.dumps(reply))
