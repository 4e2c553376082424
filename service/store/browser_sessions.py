"""Browser sign-in sessions: the cookie holds a 256-bit random secret, stored here only as SHA-256.

A session carries the role and agencies of what opened it. One opened from a bearer token lives
no longer than the token: revoking or expiring the token ends it (checked on every use, through
the token store's short cache)."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from service.store.tables import SessionRow
from service.store.tokens import Principal, Recent, TokenStore, digest, expired

MAX_SECRET = 128


class BrowserSessionStore:
    def __init__(
        self,
        db: async_sessionmaker[AsyncSession],
        tokens: TokenStore,
        lifetime: timedelta,
        cache_seconds: float = 5.0,
    ) -> None:
        self._db = db
        self._tokens = tokens
        self._lifetime = lifetime
        self._principals: Recent[str, Principal | None] = Recent(cache_seconds)

    async def open(self, principal: Principal) -> tuple[str, Principal]:
        """A new session for `principal`: its secret (for the cookie) and the session's
        principal. It ends at the session lifetime or the credential's own expiry, if sooner."""
        now = datetime.now(UTC)
        expires_at = now + self._lifetime
        if principal.expires_at is not None:
            expires_at = min(expires_at, principal.expires_at)
        secret = secrets.token_urlsafe(32)
        row = SessionRow(
            session_hash=digest(secret),
            token_id=principal.token_id,
            subject=principal.subject,
            role=principal.role,
            agencies=sorted(principal.agencies),
            name=principal.name,
            created_at=now,
            expires_at=expires_at,
        )
        async with self._db() as session, session.begin():
            session.add(row)
            await session.flush()
            opened = _principal(row)
        return secret, opened

    async def authenticate(self, secret: str, *, fresh: bool = False) -> Principal | None:
        if not secret or len(secret) > MAX_SECRET:
            return None
        key = digest(secret)

        async def load() -> Principal | None:
            async with self._db() as session:
                row = await session.scalar(select(SessionRow).where(SessionRow.session_hash == key))
            return _principal(row) if row is not None and row.revoked_at is None else None

        principal = await self._principals.get(key, load, fresh=fresh)
        return await self._still_valid(principal, fresh=fresh)

    async def is_live(self, session_id: int, *, fresh: bool = False) -> bool:
        """Whether the session (and the token it came from) is still valid: for open sockets."""
        async with self._db() as session:
            row = await session.get(SessionRow, session_id)
        principal = _principal(row) if row is not None and row.revoked_at is None else None
        return await self._still_valid(principal, fresh=fresh) is not None

    async def _still_valid(self, principal: Principal | None, *, fresh: bool) -> Principal | None:
        if principal is None:
            return None
        if expired(principal.expires_at):
            return None
        if principal.token_id is not None and not await self._tokens.is_live(
            principal.token_id, fresh=fresh
        ):
            return None
        return principal

    async def close(self, secret: str) -> Principal | None:
        """End the session the secret names (logout); returns what it was, if it was open."""
        principal = await self.authenticate(secret, fresh=True)
        if principal is not None and principal.session_id is not None:
            await self._revoke(SessionRow.id == principal.session_id)
        self._principals.drop(digest(secret))
        return principal

    async def close_for_token(self, token_id: int) -> None:
        """Mark every session opened from a revoked token ended (they already fail their token
        check; this keeps the table telling the truth)."""
        await self._revoke(SessionRow.token_id == token_id)
        self.forget(token_id=token_id)

    async def _revoke(self, which: object) -> None:
        async with self._db() as session, session.begin():
            await session.execute(
                update(SessionRow)
                .where(which, SessionRow.revoked_at.is_(None))  # type: ignore[arg-type]
                .values(revoked_at=datetime.now(UTC))
            )

    def forget(self, *, token_id: int | None = None, session_id: int | None = None) -> None:
        """Drop what this replica remembers of the sessions of a token, or of one session."""
        self._principals.drop_where(
            lambda p: (
                p is not None
                and (
                    (token_id is not None and p.token_id == token_id)
                    or (session_id is not None and p.session_id == session_id)
                )
            )
        )


def _principal(row: SessionRow) -> Principal:
    return Principal(
        row.token_id,
        row.role,
        frozenset(row.agencies),
        row.name,
        session_id=row.id,
        subject=row.subject,
        expires_at=row.expires_at,
    )
