"""Credentials to principals: our bearer tokens, browser sessions, OpenID Connect tokens.

One place decides what a presented secret is, so HTTP, the session login and the websocket
accept exactly the same credentials."""

from __future__ import annotations

from datetime import UTC, datetime

from service.oidc import OidcError, OidcVerifier, looks_like_jwt
from service.store.browser_sessions import BrowserSessionStore
from service.store.tokens import PREFIX, Principal, TokenStore

INVALID = "a valid bearer token is required"


class InvalidCredential(Exception):
    """The credential does not authenticate anyone; the message says why (safe to show)."""


class Identities:
    def __init__(
        self,
        tokens: TokenStore,
        browser_sessions: BrowserSessionStore,
        oidc: OidcVerifier | None = None,
    ) -> None:
        self.tokens = tokens
        self.browser_sessions = browser_sessions
        self.oidc = oidc

    async def from_token(self, token: str, *, fresh: bool = False) -> Principal:
        """Our own tokens start with the prefix; any other JWT goes to the OIDC issuer."""
        if token.startswith(PREFIX):
            principal = await self.tokens.authenticate(token, fresh=fresh)
            if principal is not None:
                return principal
        elif looks_like_jwt(token):
            if self.oidc is None:
                raise InvalidCredential("OpenID Connect tokens are not accepted here")
            try:
                return await self.oidc.verify(token)
            except OidcError as exc:
                raise InvalidCredential(str(exc)) from None
        raise InvalidCredential(INVALID)

    async def revoke_token(self, token_id: int) -> None:
        """Revoke a token and end every session opened from it."""
        await self.tokens.revoke(token_id)
        await self.browser_sessions.close_for_token(token_id)

    async def still_valid(self, principal: Principal) -> str | None:
        """Why a principal authenticated earlier no longer is (None: it still is), read from
        the store, not the cache: for the periodic check of open websockets."""
        if principal.session_id is not None:
            live = await self.browser_sessions.is_live(principal.session_id, fresh=True)
            return None if live else "session ended"
        if principal.token_id is not None:
            live = await self.tokens.is_live(principal.token_id, fresh=True)
            return None if live else "token revoked or expired"
        if principal.expires_at is not None and principal.expires_at <= datetime.now(UTC):
            return "credential expired"
        return None
