"""Bearer tokens: 256-bit random secrets, stored only as SHA-256 hashes."""

from __future__ import annotations

import hashlib
import secrets
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
    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions

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
        async with self._sessions() as session:
            row = await session.scalar(select(TokenRow).where(TokenRow.token_hash == digest(token)))
        if row is None or row.revoked_at is not None:
            return None
        if row.expires_at is not None and row.expires_at <= datetime.now(UTC):
            return None
        return Principal(row.id, row.role, frozenset(row.agencies), row.name)
