"""Bearer tokens: 256-bit random secrets, stored only as SHA-256 hashes."""

from __future__ import annotations

import hashlib
import secrets
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Generic, TypeVar

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from service.store.tables import TokenRow

ROLES = ("telecommunicator", "supervisor", "qi", "admin", "adapter")
PREFIX = "tcpr_"
MAX_AGENCY = 32
CACHE_LIMIT = 10_000

K = TypeVar("K")
V = TypeVar("V")


class Recent(Generic[K, V]):
    """What the store said about a credential, remembered for a few seconds (credentials are
    checked on every request). Bounded: past `CACHE_LIMIT` entries it starts again."""

    def __init__(self, seconds: float) -> None:
        self._seconds = seconds
        self._entries: dict[K, tuple[float, V]] = {}

    async def get(self, key: K, load: Callable[[], Awaitable[V]], *, fresh: bool = False) -> V:
        """The remembered value, or `load()`'s (always with `fresh`), remembered from now."""
        now = time.monotonic()
        entry = self._entries.get(key)
        if fresh or entry is None or entry[0] <= now:
            value = await load()
            if len(self._entries) > CACHE_LIMIT:
                self._entries.clear()
            entry = (now + self._seconds, value)
            self._entries[key] = entry
        return entry[1]

    def drop(self, key: K) -> None:
        self._entries.pop(key, None)

    def drop_where(self, stale: Callable[[V], bool]) -> None:
        for key, (_, value) in list(self._entries.items()):
            if stale(value):
                del self._entries[key]


def expired(expires_at: datetime | None) -> bool:
    return expires_at is not None and expires_at <= datetime.now(UTC)


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

    @property
    def names(self) -> tuple[str, ...]:
        """Who the principal is in the log's `actor`: the token's name and the OIDC subject."""
        return tuple(a for a in (self.name, self.subject) if a)

    @property
    def person(self) -> str:
        """Who the principal is as people know them: the token's name, else the OIDC subject,
        else the role and token id."""
        return self.name or self.subject or self.label

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
        self._principals: Recent[str, Principal | None] = Recent(cache_seconds)
        # Each token id's expiry and whether it is revoked (for the sessions opened from it).
        self._states: Recent[int, tuple[datetime | None, bool]] = Recent(cache_seconds)

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
        self._states.drop(token_id)
        self._principals.drop_where(lambda p: p is not None and p.token_id == token_id)

    async def authenticate(self, token: str, *, fresh: bool = False) -> Principal | None:
        if not token.startswith(PREFIX) or len(token) > 256:
            return None
        key = digest(token)

        async def load() -> Principal | None:
            async with self._sessions() as session:
                row = await session.scalar(select(TokenRow).where(TokenRow.token_hash == key))
            if row is None or row.revoked_at is not None:
                return None
            return Principal(
                row.id, row.role, frozenset(row.agencies), row.name, expires_at=row.expires_at
            )

        principal = await self._principals.get(key, load, fresh=fresh)
        if principal is None or expired(principal.expires_at):
            return None
        return principal

    async def is_live(self, token_id: int, *, fresh: bool = False) -> bool:
        """Whether the token is neither revoked nor expired (for the sessions opened from it)."""

        async def load() -> tuple[datetime | None, bool]:
            async with self._sessions() as session:
                row = await session.get(TokenRow, token_id)
            return (None, True) if row is None else (row.expires_at, row.revoked_at is not None)

        expires_at, revoked = await self._states.get(token_id, load, fresh=fresh)
        return not revoked and not expired(expires_at)
