"""Ends what a revoked or expired credential still holds open: its websockets, on every replica.

Two ways, for two kinds of ending. A revocation through this service (the token API, a logout)
is announced on the broker, so every replica forgets the credential and closes its panels at
once. Whatever no one announces (a token revoked from the command line with the in-process
broker, a token or OIDC identity reaching its expiry) is found by a periodic check of every open
panel's credential against the store, every `TCPR_WS_REAUTH_SECONDS`.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable

from service.broker import Broker, follow
from service.hub import Hub, Panel
from service.identity import Identities
from service.settings import Settings
from service.store.tokens import Principal
from service.tasks import periodically, stop_all

log = logging.getLogger(__name__)

AUTH_ENDED = 4401  # the close code of a panel whose credential no longer holds


def channel(settings: Settings) -> str:
    return f"{settings.broker_channel}.revocations"


def message(*, token_id: int | None = None, session_id: int | None = None) -> str:
    return json.dumps({"token_id": token_id, "session_id": session_id})


class Revocations:
    def __init__(
        self, identities: Identities, hub: Hub, broker: Broker, settings: Settings
    ) -> None:
        self._identities = identities
        self._hub = hub
        self._broker = broker
        self._settings = settings
        self._tasks: list[asyncio.Task[None]] = []

    async def start(self) -> None:
        subscribed = asyncio.Event()
        self._tasks = [
            asyncio.create_task(
                follow(
                    self._broker, channel(self._settings), self._received, subscribed, "revocation"
                ),
                name="revocations-listen",
            ),
            asyncio.create_task(
                periodically(
                    self._settings.ws_reauth_seconds, self.sweep, "websocket credential check"
                ),
                name="revocations-sweep",
            ),
        ]
        await subscribed.wait()

    async def stop(self) -> None:
        await stop_all(self._tasks)

    async def announce(self, *, token_id: int | None = None, session_id: int | None = None) -> None:
        """A credential was revoked here: act on it at once, and tell the other replicas."""
        self.apply(token_id=token_id, session_id=session_id)
        try:
            await self._broker.publish(
                channel(self._settings), message(token_id=token_id, session_id=session_id)
            )
        except Exception:
            # The other replicas still find it within the sweep period and cache lifetime.
            log.exception("revocation not broadcast; other replicas will find it by polling")

    def apply(self, *, token_id: int | None = None, session_id: int | None = None) -> None:
        if token_id is not None:
            self._identities.tokens.forget(token_id)
            self._identities.browser_sessions.forget(token_id=token_id)
            self._end(lambda p: p.token_id == token_id, "token revoked")
        if session_id is not None:
            self._identities.browser_sessions.forget(session_id=session_id)
            self._end(lambda p: p.session_id == session_id, "session ended")

    def _end(self, matches: Callable[[Principal], bool], reason: str) -> None:
        for panel in self._hub.panels():
            if matches(panel.principal):
                panel.end(AUTH_ENDED, reason)

    def _received(self, raw: str) -> None:
        body = json.loads(raw)
        self.apply(token_id=body.get("token_id"), session_id=body.get("session_id"))

    async def sweep(self) -> None:
        """Check each open panel's credential once (panels sharing one share the check)."""
        by_credential: dict[Principal, list[Panel]] = {}
        for panel in self._hub.panels():
            by_credential.setdefault(panel.principal, []).append(panel)
        for principal, panels in by_credential.items():
            reason = await self._identities.still_valid(principal)
            if reason is not None:
                for panel in panels:
                    panel.end(AUTH_ENDED, reason)
