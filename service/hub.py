"""The websocket hub: fans live updates out to the panels of each agency.

Every panel has a bounded queue. A panel that stops reading is cut off when its queue fills,
never buffered without bound; on reconnect it resumes from the last sequence it saw.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from contract.event import as_dict
from contract.payloads import AlertRaised
from service.clock import Clock, system_clock
from service.live import Update
from service.serialise import call_view_json
from service.settings import Settings
from service.store.tokens import Principal
from service.triage.call_state import CallState
from service.triage.view import call_view

SLOW_CONSUMER = 4008  # application close code: queue overflow, reconnect and resume
CLOSE_WAIT_S = 1.0  # how long a cut-off panel gets to take its close frame


@dataclass(frozen=True, slots=True)
class Socket:
    """How the hub reaches one panel's connection: send a text message, or close it."""

    send: Callable[[str], Awaitable[None]]
    close: Callable[[int, str], Awaitable[None]]


class Panel:
    def __init__(self, socket: Socket, principal: Principal, limit: int) -> None:
        self.socket = socket
        self.principal = principal
        self.queue: asyncio.Queue[str | None] = asyncio.Queue(limit)
        # Set once the panel is to be closed: the close code and reason its sender sends.
        self.closing: tuple[int, str] | None = None

    @property
    def overflowed(self) -> bool:
        return self.closing is not None and self.closing[0] == SLOW_CONSUMER

    def offer(self, message: str) -> None:
        if self.closing is not None:
            return
        try:
            self.queue.put_nowait(message)
        except asyncio.QueueFull:
            self.end(SLOW_CONSUMER, "too slow: reconnect and resume")

    def end(self, code: int, reason: str) -> None:
        """Close the panel after nothing more: what is queued is dropped, so a revoked
        credential's panel gets no further update."""
        if self.closing is not None:
            return
        self.closing = (code, reason)
        # Make room for the end marker; the sender closes the socket.
        with contextlib.suppress(asyncio.QueueEmpty):
            while True:
                self.queue.get_nowait()
        self.queue.put_nowait(None)

    async def send_forever(self) -> None:
        while True:
            message = await self.queue.get()
            if message is None:
                # A panel that reads nothing cannot take the close frame either: give it a
                # second, then end the handler so the server drops the connection and its
                # kernel buffers rather than waiting on it.
                code, reason = self.closing or (SLOW_CONSUMER, "closing")
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self.socket.close(code, reason), CLOSE_WAIT_S)
                return
            await self.socket.send(message)


class Hub:
    def __init__(self, settings: Settings, *, clock: Clock = system_clock) -> None:
        self._settings = settings
        self._clock = clock
        self._panels: dict[str, set[Panel]] = {}

    def attach(self, socket: Socket, principal: Principal) -> Panel:
        panel = Panel(socket, principal, self._settings.ws_queue_limit)
        for agency in principal.agencies:
            self._panels.setdefault(agency, set()).add(panel)
        return panel

    def detach(self, panel: Panel) -> None:
        for agency in panel.principal.agencies:
            self._panels.get(agency, set()).discard(panel)

    def on_gone(self, state: CallState) -> None:
        """A call left the live views without `call.ended`: its panels drop it."""
        message = {
            "type": "gone",
            "agency": state.agency,
            "call_id": state.call_id,
            "reason": "no call.ended within the live-call limit",
        }
        self.broadcast(state.agency, json.dumps(message, separators=(",", ":")))

    def broadcast(self, agency: str, message: str) -> None:
        """A message for every panel of the agency (a feed falling silent or coming back)."""
        for panel in list(self._panels.get(agency, ())):
            panel.offer(message)

    def panels(self) -> set[Panel]:
        """Every open panel (for the periodic check of their credentials)."""
        return set().union(*self._panels.values()) if self._panels else set()

    def on_update(self, update: Update) -> None:
        panels = self._panels.get(update.event.agency)
        if not panels:
            return
        for message in self.messages(update):
            for panel in list(panels):
                panel.offer(message)

    def messages(self, update: Update) -> list[str]:
        e, state = update.event, update.state
        config = self._settings.agency_config(e.agency)
        # One message per stored event: the event itself and its call as it now stands.
        out: list[dict[str, Any]] = [
            {
                "type": "call",
                "seq": update.seq,
                "call_id": e.call_id,
                "agency": e.agency,
                "event": as_dict(e),
                "call": call_view_json(call_view(state, config)),
            },
        ]
        if isinstance(e.payload, AlertRaised):
            out.append(
                {
                    "type": "alert",
                    "seq": update.seq,
                    "call_id": e.call_id,
                    "agency": e.agency,
                    "alert": e.payload.alert,
                    "deadline": e.at.isoformat(),
                    "fired_at": self._clock().isoformat(),
                    "telecommunicator": state.telecommunicator,
                }
            )
        return [json.dumps(m, separators=(",", ":")) for m in out]
