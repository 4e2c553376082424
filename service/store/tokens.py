"""Bearer tokens: 256-bit random secrets, stored only as SHA-256 hashes."""

from __future__ import annotations

import hashlib
import secrets
import time
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from service.store.tables import TokenRow

ROLES = ("telecommunicator", "supervisor", "qi", "admin", "adapter")
PREFIX = "tcpr_"


@dataclass(frozen=True, slots=True)
class Principal:
    token_id: int
    role: str
    agencies: frozenset[str]
    name: str | None

    @property
    def label(self) -> str:
        return f"{self.role}:{self.name or self.token_id}"

    def may_act_for(self, agency: str) -> bool:
        return agency in self.agencies


def digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class TokenStore:
    """Tokens are checked on every request; a verified one is remembered for a few seconds, so
    a revocation or expiry takes effect within `cache_seconds` on every replica."""

    def __init__(
        self, sessions: async_sessionmaker[AsyncSession], cache_seconds: float = 5.0
    ) -> None:
        self._sessions = sessions
        self._cache_seconds = cache_seconds
        self._cache: dict[str, tuple[float, Principal | None, datetime | None]] = {}

    async def create(
        self,
        role: str,
        agencies: list[str],
        name: str | None = None,
        expires_at: datetime | None = None,
    ) -> str:
        if role not in ROLES:
            raise ValueError(f"unknown role {role!r}; roles: {', '.join(ROLES)}")
        if not agencies or any(not a or len(a) > 32 for a in agencies):
            raise ValueError("a token needs one or more agency codes of 1-32 characters")
        token = PREFIX + secrets.token_urlsafe(32)
        async with self._sessions() as session, session.begin():
            session.add(
                TokenRow(
                    token_hash=digest(token),
                    role=role,
                    agencies=sorted(set(agencies)),
                    name=name,
                    created_at=datetime.now(UTC),
                    expires_at=expires_at,
                )
            )
        return token

    async def authenticate(self, token: str) -> Principal | None:
        if not token.startswith(PREFIX) or len(token) > 256:
            return None
        key = digest(token)
        now = time.monotonic()
        cached = self._cache.get(key)
        if cached is None or cached[0] <= now:
            async with self._sessions() as session:
                row = await session.scalar(select(TokenRow).where(TokenRow.token_hash == key))
            principal = (
                Principal(row.id, row.role, frozenset(row.agencies), row.name)
                if row is not None and row.revoked_at is None
                else None
            )
            if len(self._cache) > 10_000:
                self._cache.clear()
            cached = (now + self._cache_seconds, principal, row.expires_at if row else None)
            self._cache[key] = cached
        _, principal, expires_at = cached
        if expires_at is not None and expires_at <= datetime.now(UTC):
            return None
        return principal
