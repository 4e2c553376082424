"""Credentials to principals: our bearer tokens, browser sessions, OpenID Connect tokens.

One place decides what a presented secret is, so HTTP, the session login and the websocket
accept exactly the same credentials."""

from __future__ import annotations

from datetime import UTC, datetime

from service.store.sessions import SessionStore
from service.store.tokens import PREFIX, Principal, TokenStore

INVALID = "a valid bearer token is required"


class InvalidCredential(Exception):
    """The credential does not authenticate anyone; the message says why (safe to show)."""


class Identities:
    def __init__(self, tokens: TokenStore, sessions: SessionStore) -> None:
        self.tokens = tokens
        self.sessions = sessions

    async def from_token(self, token: str, *, fresh: bool = False) -> Principal:
        if token.startswith(PREFIX):
            principal = await self.tokens.authenticate(token, fresh=fresh)
            if principal is not None:
                return principal
        raise InvalidCredential(INVALID)

    async def still_valid(self, principal: Principal) -> str | None:
        """Why a principal authenticated earlier no longer is (None: it still is), read from
        the store, not the cache: for the periodic check of open websockets."""
        if principal.session_id is not None:
            live = await self.sessions.is_live(principal.session_id, fresh=True)
            return None if live else "session ended"
        if principal.token_id is not None:
            live = await self.tokens.is_live(principal.token_id, fresh=True)
            return None if live else "token revoked or expired"
        if principal.expires_at is not None and principal.expires_at <= datetime.now(UTC):
            return "credential expired"
        return None
