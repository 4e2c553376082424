"""The hash chain in the database: the heads the write path reads and moves inside its
transaction, and the streaming re-computation behind `tcpr verify-audit`."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from sqlalchemy import Select, bindparam, insert, select, text, union, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine
from sqlalchemy.orm import Session

from service.store.chain import CHAINED, ChainCheck, Head, Verdict
from service.store.tables import ChainHeadRow, EventRow

EVENTS = EventRow.metadata.tables[EventRow.__tablename__]
HEADS = ChainHeadRow.metadata.tables[ChainHeadRow.__tablename__]
INSERT_HEADS = insert(HEADS)
UPDATE_HEADS = update(HEADS).where(HEADS.c.agency == bindparam("key_agency"))
# Rows per read while verifying: a million events never sit in memory at once.
CHUNK = 5000


def heads_query(agencies: Iterable[str]) -> Select[Any]:
    return select(HEADS).where(HEADS.c.agency.in_(list(agencies)))


def head_of(row: Any) -> Head:
    return Head(int(row.last_seq), row.last_hash, int(row.count))


def chain_rows_query(agency: str, after_seq: int, limit: int | None = None) -> Select[Any]:
    """The next rows of an agency's chain after `after_seq`: every column a link covers."""
    columns = [EVENTS.c[name] for name in CHAINED if name != "chain_prev_seq"]
    return (
        select(*columns, EVENTS.c.chain_prev_seq, EVENTS.c.chain_hash)
        .where(EVENTS.c.agency == agency, EVENTS.c.seq > after_seq)
        .order_by(EVENTS.c.seq)
        .limit(limit or CHUNK)
    )


def read_heads(session: Session, agencies: Iterable[str]) -> dict[str, Head]:
    rows = session.execute(heads_query(agencies))
    return {row.agency: head_of(row) for row in rows}


def write_heads(session: Session, before: Mapping[str, Head], after: Mapping[str, Head]) -> None:
    """Move the heads the transaction's rows extended (it holds the append lock: no race)."""
    values = {
        agency: {"last_seq": h.last_seq, "last_hash": h.last_hash, "count": h.count}
        for agency, h in after.items()
    }
    inserts = [{"agency": a, **v} for a, v in values.items() if a not in before]
    updates = [{"key_agency": a, **v} for a, v in values.items() if a in before]
    if inserts:
        session.execute(INSERT_HEADS, inserts)
    if updates:
        session.execute(UPDATE_HEADS, updates)


async def _snapshot(connection: AsyncConnection, postgres: bool) -> None:
    """One consistent view for the whole check, so appends committed meanwhile (the service
    may be running) neither look missing nor look added behind the head's back."""
    if postgres:
        await connection.execute(text("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY"))
    else:
        # The driver opens no transaction for a SELECT; a deferred one keeps one snapshot.
        await connection.execute(text("BEGIN"))


async def verify(
    engine: AsyncEngine, key: bytes | None, agencies: Iterable[str] | None = None
) -> list[Verdict]:
    """Re-compute the chain of each agency (default: every agency with events or a head)."""
    postgres = engine.dialect.name == "postgresql"
    async with engine.connect() as connection, connection.begin():
        await _snapshot(connection, postgres)
        if agencies is None:
            every = union(select(HEADS.c.agency), select(EVENTS.c.agency).distinct())
            names = sorted(await connection.scalars(every))
        else:
            names = list(dict.fromkeys(agencies))
        heads = {r.agency: head_of(r) for r in await connection.execute(heads_query(names))}
        verdicts = []
        for agency in names:
            check = ChainCheck(agency, heads.get(agency), key)
            after = 0
            while True:
                rows = (await connection.execute(chain_rows_query(agency, after, CHUNK))).all()
                if not all(check.feed(row._mapping) for row in rows) or len(rows) < CHUNK:
                    break
                after = rows[-1].seq
            verdicts.append(check.finish())
        return verdicts
