"""The access log: who read which audit, list, measure, EMS report or export, and when.

Audits are legal records, so a read is written down before its data is: one short transaction
of its own per read (a row per agency read), committed before the route reads anything. A read
that cannot be logged is refused (the API answers 503), never served unlogged.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from service.store.tables import AccessRow
from service.store.tokens import Principal

MAX_TARGET = 512
MAX_CLIENT = 64
MAX_PRINCIPAL = 160


@dataclass(frozen=True, slots=True)
class AccessQuery:
    """One page of an agency's log, newest first: entries with an id below `before`."""

    agency: str
    call_id: str | None = None
    principal: str | None = None
    start: datetime | None = None
    end: datetime | None = None
    before: int | None = None
    limit: int = 100


@dataclass(frozen=True, slots=True)
class AccessPage:
    entries: list[dict[str, Any]]
    next_cursor: str | None


class AccessLog:
    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions

    async def record(
        self,
        principal: Principal,
        agencies: Iterable[str],
        action: str,
        target: str | None,
        client: str | None,
    ) -> None:
        """One entry per agency read, committed before this returns."""
        now = datetime.now(UTC)
        rows = [
            AccessRow(
                at=now,
                agency=agency,
                principal=principal.label[:MAX_PRINCIPAL],
                role=principal.role,
                action=action,
                target=target[:MAX_TARGET] if target else None,
                client=client[:MAX_CLIENT] if client else None,
            )
            for agency in dict.fromkeys(agencies)
        ]
        async with self._sessions() as session, session.begin():
            session.add_all(rows)

    async def page(self, q: AccessQuery) -> AccessPage:
        query = select(AccessRow).where(AccessRow.agency == q.agency)
        if q.call_id is not None:
            query = query.where(AccessRow.target == q.call_id)
        if q.principal is not None:
            query = query.where(AccessRow.principal == q.principal)
        if q.start is not None:
            query = query.where(AccessRow.at >= q.start)
        if q.end is not None:
            query = query.where(AccessRow.at < q.end)
        if q.before is not None:
            query = query.where(AccessRow.id < q.before)
        query = query.order_by(AccessRow.id.desc()).limit(q.limit + 1)
        async with self._sessions() as session:
            rows = list(await session.scalars(query))
        more = len(rows) > q.limit
        rows = rows[: q.limit]
        return AccessPage([_entry(r) for r in rows], str(rows[-1].id) if more and rows else None)


def _entry(row: AccessRow) -> dict[str, Any]:
    return {
        "id": row.id,
        "at": row.at.isoformat(),
        "principal": row.principal,
        "role": row.role,
        "action": row.action,
        "target": row.target,
        "client": row.client,
    }
