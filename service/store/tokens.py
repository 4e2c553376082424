"""Bearer tokens: 256-bit random secrets, stored only as SHA-256 hashes."""

from __future__ import annotations

import hashlib
import secrets
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from service.store.tables import TokenRow

ROLES = ("telecommunicator", "supervisor", "qi", "admin", "adapter")
PREFIX = "tcpr_"
MAX_AGENCY = 32
CACHE_LIMIT = 10_000


@dataclass(frozen=True, slots=True)
class Principal:
    """Who is calling: a bearer token (`token_id`), a browser session opened from one
    (`session_id` too), or an OpenID Connect identity (`subject`, perhaps with `session_id`).
    The ids let a revocation find what the principal opened (sessions, websockets)."""

    token_id: int | None
    role: str
    agencies: frozenset[str]
    name: str | None
    session_id: int | None = None
    subject: str | None = None
    expires_at: datetime | None = None

    @property
    def label(self) -> str:
        return f"{self.role}:{self.name or self.subject or self.token_id}"

    def may_act_for(self, agency: str) -> bool:
        return agency in self.agencies


@dataclass(frozen=True, slots=True)
class TokenInfo:
    """What an admin may see of a token: never its secret nor its hash."""

    id: int
    role: str
    agencies: list[str]
    name: str | None
    created_at: datetime
    created_by: str | None
    expires_at: datetime | None
    revoked_at: datetime | None

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "role": self.role,
            "agencies": self.agencies,
            "name": self.name,
            "created_at": self.created_at.isoformat(),
            "created_by": self.created_by,
            "expires_at": self.expires_at.isoformat() if self.expires_at else None,
            "revoked_at": self.revoked_at.isoformat() if self.revoked_at else None,
        }


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def check_grant(role: str, agencies: list[str]) -> None:
    """What a token or session may be issued for; ValueError names the wrong field."""
    if role not in ROLES:
        raise ValueError(f"role: unknown role {role!r}; roles: {', '.join(ROLES)}")
    if not agencies or any(
        not isinstance(a, str) or not 1 <= len(a) <= MAX_AGENCY for a in agencies
    ):
        raise ValueError(f"agencies: one or more agency codes of 1-{MAX_AGENCY} characters")


def _info(row: TokenRow) -> TokenInfo:
    return TokenInfo(
        row.id,
        row.role,
        list(row.agencies),
        row.name,
        row.created_at,
        row.created_by,
        row.expires_at,
        row.revoked_at,
    )


class TokenStore:
    """Tokens are checked on every request; a verified one is remembered for a few seconds, so
    a revocation or expiry takes effect within `cache_seconds` on every replica (at once on the
    replica that revoked it, and on the others when the revocation broadcast arrives)."""

    def __init__(
        self, sessions: async_sessionmaker[AsyncSession], cache_seconds: float = 5.0
    ) -> None:
        self._sessions = sessions
        self._cache_seconds = cache_seconds
        self._cache: dict[str, tuple[float, Principal | None]] = {}
        self._live: dict[int, tuple[float, datetime | None, bool]] = {}

    async def issue(
        self,
        role: str,
        agencies: list[str],
        name: str | None = None,
        expires_at: datetime | None = None,
        created_by: str | None = None,
    ) -> tuple[TokenInfo, str]:
        """A new token's description and its secret (shown once, stored only as a hash)."""
        check_grant(role, agencies)
        token = PREFIX + secrets.token_urlsafe(32)
        row = TokenRow(
            token_hash=digest(token),
            role=role,
            agencies=sorted(set(agencies)),
            name=name,
            created_at=datetime.now(UTC),
            expires_at=expires_at,
            created_by=created_by,
        )
        async with self._sessions() as session, session.begin():
            session.add(row)
            await session.flush()
            info = _info(row)
        return info, token

    async def create(
        self,
        role: str,
        agencies: list[str],
        name: str | None = None,
        expires_at: datetime | None = None,
    ) -> str:
        return (await self.issue(role, agencies, name, expires_at))[1]

    async def listing(self) -> list[TokenInfo]:
        async with self._sessions() as session:
            rows = await session.scalars(select(TokenRow).order_by(TokenRow.id))
            return [_info(row) for row in rows]

    async def get(self, token_id: int) -> TokenInfo | None:
        async with self._sessions() as session:
            row = await session.get(TokenRow, token_id)
            return _info(row) if row is not None else None

    async def revoke(self, token_id: int) -> bool:
        """Mark the token revoked (once: the first revocation time is kept)."""
        async with self._sessions() as session, session.begin():
            result = await session.execute(
                update(TokenRow)
                .where(TokenRow.id == token_id, TokenRow.revoked_at.is_(None))
                .values(revoked_at=datetime.now(UTC))
            )
        self.forget(token_id)
        return bool(getattr(result, "rowcount", 0))

    def forget(self, token_id: int) -> None:
        """Drop what this replica remembers of a token, so its next use reads the store."""
        self._live.pop(token_id, None)
        for key, (_, principal) in list(self._cache.items()):
            if principal is not None and principal.token_id == token_id:
                del self._cache[key]

    async def authenticate(self, token: str, *, fresh: bool = False) -> Principal | None:
        if not token.startswith(PREFIX) or len(token) > 256:
            return None
        key = digest(token)
        now = time.monotonic()
        cached = self._cache.get(key)
        if fresh or cached is None or cached[0] <= now:
            async with self._sessions() as session:
                row = await session.scalar(select(TokenRow).where(TokenRow.token_hash == key))
            principal = (
                Principal(
                    row.id, row.role, frozenset(row.agencies), row.name, expires_at=row.expires_at
                )
                if row is not None and row.revoked_at is None
                else None
            )
            if len(self._cache) > CACHE_LIMIT:
                self._cache.clear()
            cached = (now + self._cache_seconds, principal)
            self._cache[key] = cached
        principal = cached[1]
        if principal is None or _expired(principal.expires_at):
            return None
        return principal

    async def is_live(self, token_id: int, *, fresh: bool = False) -> bool:
        """Whether the token is neither revoked nor expired (for the sessions opened from it)."""
        now = time.monotonic()
        cached = self._live.get(token_id)
        if fresh or cached is None or cached[0] <= now:
            async with self._sessions() as session:
                row = await session.get(TokenRow, token_id)
            if len(self._live) > CACHE_LIMIT:
                self._live.clear()
            revoked = row is None or row.revoked_at is not None
            cached = (now + self._cache_seconds, row.expires_at if row else None, revoked)
            self._live[token_id] = cached
        return not cached[2] and not _expired(cached[1])


def _expired(expires_at: datetime | None) -> bool:
    return expires_at is not None and expires_at <= datetime.now(UTC)
