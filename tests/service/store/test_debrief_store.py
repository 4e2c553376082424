"""The debriefs' SQL rule (`needs_clause`) equals the pure one (service.qi.debriefs) on SQLite
and PostgreSQL: random call summaries go straight into the `calls` projection, and the store's
outstanding list and counts must name exactly the calls `debrief_reasons` flags."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from hypothesis import HealthCheck, given, settings
from sqlalchemy import delete, insert
from support.databases import migrated_if_new
from test_measure_store import row, summaries

from service.qi.debriefs import debrief_reasons
from service.qi.summary import CallSummary
from service.store.db import create_engine, sessionmaker
from service.store.debriefs import DebriefStore
from service.store.tables import CallRow, DebriefRow
from service.triage.profiles import AHA_2020


async def check(url: str, calls: Sequence[tuple[str, CallSummary]]) -> None:
    engine = create_engine(url)
    sessions = sessionmaker(engine)
    try:
        async with sessions() as session, session.begin():
            await session.execute(delete(CallRow))
            await session.execute(delete(DebriefRow))
            if calls:
                await session.execute(insert(CallRow), [row(a, s) for a, s in calls])
        store = DebriefStore(sessions)
        expected = {
            s.call_id: debrief_reasons(s, AHA_2020)
            for a, s in calls
            if a == "A" and s.t0 is not None and debrief_reasons(s, AHA_2020)
        }
        found = await store.listing("A", AHA_2020, "outstanding", limit=500)
        assert {d.call.call_id: d.reasons for d in found.debriefs} == expected
        assert (found.outstanding, found.done) == (len(expected), 0)
        times = [d.call.t0 for d in found.debriefs]
        assert times == sorted(times, reverse=True)  # type: ignore[type-var]
    finally:
        await engine.dispose()


@settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(calls=summaries())
def test_the_sql_rule_equals_the_pure_one(
    migrated_database_url: str, calls: list[tuple[str, CallSummary]]
) -> None:
    migrated_if_new(migrated_database_url)  # a SQLite file is made on first use
    asyncio.run(check(migrated_database_url, calls))
