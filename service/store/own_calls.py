"""The reviewed calls a telecommunicator handled: those of the given agencies with a console
event or a `call.answered` whose `actor` is one of theirs (DESIGN.md §8, `GET /api/v1/feedback`)
and a review in force (the `calls` projection's `reviewed`): a person answers thousands of calls
a year and only the reviewed ones have feedback, so only those are read and folded."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import and_, or_, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from contract.kinds import Kind
from service.store.tables import CallRow, EventRow

# An event that shows its actor handled the call: the call's answer, or an action at the console.
# Acknowledging a review is not handling the call: were it, anyone could post one on a colleague's
# call and read that colleague's feedback.
HANDLED = or_(
    and_(EventRow.source == "console", EventRow.kind != Kind.FEEDBACK_ACKNOWLEDGED.value),
    EventRow.kind == Kind.CALL_ANSWERED.value,
)


async def own_call_ids(
    sessions: async_sessionmaker[AsyncSession], agencies: Iterable[str], actors: Iterable[str]
) -> dict[str, list[str]]:
    """Each agency's distinct reviewed call ids (in first-event order) handled by one of
    `actors`."""
    names, scope = sorted(set(actors)), sorted(set(agencies))
    if not names or not scope:
        return {}
    query = (
        select(EventRow.agency, EventRow.call_id)
        .join(
            CallRow,
            and_(CallRow.agency == EventRow.agency, CallRow.call_id == EventRow.call_id),
        )
        .where(
            CallRow.reviewed.is_(True),
            EventRow.agency.in_(scope),
            EventRow.actor.in_(names),
            HANDLED,
        )
        .order_by(EventRow.seq)
    )
    out: dict[str, dict[str, None]] = {}
    async with sessions() as session:
        for agency, call_id in await session.execute(query):
            out.setdefault(agency, {})[call_id] = None
    return {agency: list(calls) for agency, calls in out.items()}
