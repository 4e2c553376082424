"""The reject store: every refused input, kept as received, with the reason and the time."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from service.store.tables import RejectRow

MAX_KEPT_BODY = 1_048_576


def storable(text: str, limit: int | None = None) -> str:
    """Text as both databases can keep it: a refusal quotes what it refused, but PostgreSQL
    text holds no NUL (it becomes U+FFFD, as undecodable bytes of the body do), neither
    database a lone surrogate (a JSON escape gives one; it becomes "?"), and the columns are
    sized (a field path built from a sender's keys can be long)."""
    text = text.replace("\x00", "\ufffd").encode("utf-8", "replace").decode("utf-8")
    return text[:limit] if limit is not None else text


class RejectStore:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        counted: Callable[[int], None] | None = None,
    ) -> None:
        self._sessions = sessions
        # Told each refusal's status (the metrics), before it is written: counted even when
        # the database cannot keep it.
        self._counted = counted

    async def keep(
        self,
        status: int,
        reason: str,
        field: str | None,
        body: bytes,
        *,
        agency: str | None,
        endpoint: str,
        principal: str | None,
    ) -> None:
        if self._counted is not None:
            self._counted(status)
        text = body[:MAX_KEPT_BODY].decode("utf-8", errors="replace")
        async with self._sessions() as session, session.begin():
            session.add(
                RejectRow(
                    agency=agency and storable(agency, 32),
                    received_at=datetime.now(UTC),
                    status=status,
                    reason=storable(reason),
                    field=field and storable(field, 256),
                    endpoint=storable(endpoint, 128),
                    principal=principal and storable(principal, 128),
                    body=storable(text),
                )
            )

    async def newest(self, agency: str, limit: int = 100) -> list[dict[str, Any]]:
        query = (
            select(RejectRow)
            .where(RejectRow.agency == agency)
            .order_by(RejectRow.id.desc())
            .limit(limit)
        )
        async with self._sessions() as session:
            rows = await session.scalars(query)
            return [
                {
                    "id": r.id,
                    "received_at": r.received_at.isoformat(),
                    "status": r.status,
                    "reason": r.reason,
                    "field": r.field,
                    "endpoint": r.endpoint,
                    "principal": r.principal,
                    "body": r.body,
                }
                for r in rows
            ]
