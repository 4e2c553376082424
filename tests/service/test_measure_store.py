"""The SQL-aggregated measures equal the pure reference, on SQLite and PostgreSQL.

Random call summaries go straight into the `calls` projection (the store reads nothing else);
every aggregate the reports use — by agency, by telecommunicator, by month bucket — must turn into
exactly the dict `service.qi.measures.measures()` gives for the same calls.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete, insert

from service.qi.cohorts import cohorts, measures_from_cohorts
from service.qi.measures import CallSummary, measures
from service.store.db import create_engine, migrate, sessionmaker
from service.store.measures import MeasureStore
from service.store.tables import CallRow
from service.triage.events import NOT_GIVEN_REASONS
from service.triage.profiles import AHA_2020

START = datetime(2026, 1, 1, tzinfo=UTC)
BOUNDS = [START + timedelta(days=d) for d in (0, 10, 31, 45, 59)]
# Few distinct values so that medians meet ties and even counts.
SECONDS = st.one_of(st.none(), st.sampled_from([12.5, 45.0, 60.0, 89.999, 90.0, 131.25, 150.0]))
MAYBE_BOOL = st.one_of(st.none(), st.booleans())


@st.composite
def summaries(draw: st.DrawFn) -> list[tuple[str, CallSummary]]:
    n = draw(st.integers(0, 40))
    out = []
    for i in range(n):
        agency = draw(st.sampled_from(["A", "B"]))
        summary = CallSummary(
            call_id=f"C{i}",
            # Some calls fall before, between and after the buckets; exactly on bounds too.
            t0=draw(
                st.one_of(
                    st.sampled_from(BOUNDS),
                    st.integers(-5 * 86400, 65 * 86400).map(lambda s: START + timedelta(seconds=s)),
                )
            ),
            in_population=draw(st.booleans()),
            has_ems_outcome=draw(st.booleans()),
            ems_says_not_arrest=draw(st.booleans()),
            ems_witnessed=draw(st.booleans()),
            resuscitation_attempted=draw(MAYBE_BOOL),
            recognized=draw(st.booleans()),
            to_recognition=draw(SECONDS),
            to_first_compression=draw(SECONDS),
            not_given_reason=draw(st.one_of(st.none(), st.sampled_from(NOT_GIVEN_REASONS))),
            reviewed=draw(st.booleans()),
            recognizable=draw(MAYBE_BOOL),
            signed_off=draw(st.booleans()),
            telecommunicator=draw(st.sampled_from([None, "tc-1", "tc-2"])),
        )
        out.append((agency, summary))
    return out


def row(agency: str, s: CallSummary) -> dict[str, Any]:
    values = {name: getattr(s, name) for name in s.__dataclass_fields__}
    return {**values, "agency": agency, "ended": True, "last_seq": 1, "updated_at": START}


def within(s: CallSummary, start: datetime, end: datetime) -> bool:
    return s.t0 is not None and start <= s.t0 < end


async def check(url: str, calls: Sequence[tuple[str, CallSummary]]) -> None:
    engine = create_engine(url)
    sessions = sessionmaker(engine)
    try:
        async with sessions() as session, session.begin():
            await session.execute(delete(CallRow))
            if calls:
                await session.execute(insert(CallRow), [row(a, s) for a, s in calls])
        store = MeasureStore(sessions)
        start, end = BOUNDS[0], BOUNDS[-1]

        found = await store.by_agency(["A", "B"], start, end)
        for agency in ("A", "B"):
            mine = [s for a, s in calls if a == agency and within(s, start, end)]
            assert measures_from_cohorts(found[agency], AHA_2020) == measures(mine, AHA_2020)

        unbounded = await store.by_agency(["A", "B", "Z"], None, None)
        every = [s for _, s in calls if s.t0 is not None]
        both = unbounded["A"] + unbounded["B"] + unbounded["Z"]
        assert measures_from_cohorts(both, AHA_2020) == measures(every, AHA_2020)
        assert unbounded["Z"] == []

        per_tc = await store.by_telecommunicator(["A"], start, end)
        expected_tcs = {s.telecommunicator for a, s in calls if a == "A" and within(s, start, end)}
        assert set(per_tc) == expected_tcs
        for tc, found_tc in per_tc.items():
            mine = [
                s
                for a, s in calls
                if a == "A" and s.telecommunicator == tc and within(s, start, end)
            ]
            assert measures_from_cohorts(found_tc, AHA_2020) == measures(mine, AHA_2020)

        buckets = await store.bucketed(["A", "B"], BOUNDS)
        assert len(buckets) == len(BOUNDS) - 1
        for i, found_bucket in enumerate(buckets):
            mine = [s for _, s in calls if within(s, BOUNDS[i], BOUNDS[i + 1])]
            assert measures_from_cohorts(found_bucket, AHA_2020) == measures(mine, AHA_2020)
        # A period of one bucket (a single month) has no inner bound to split on.
        (single,) = await store.bucketed(["A", "B"], BOUNDS[:2])
        mine = [s for _, s in calls if within(s, BOUNDS[0], BOUNDS[1])]
        assert measures_from_cohorts(single, AHA_2020) == measures(mine, AHA_2020)
    finally:
        await engine.dispose()


_MIGRATED: set[str] = set()


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(calls=summaries())
def test_sql_aggregates_equal_the_reference(
    database_url: str, calls: list[tuple[str, CallSummary]]
) -> None:
    if database_url not in _MIGRATED:
        migrate(database_url)
        _MIGRATED.add(database_url)
    asyncio.run(check(database_url, calls))


@given(calls=summaries())
@settings(max_examples=300, deadline=None)
def test_cohorts_in_python_equal_the_reference(calls: list[tuple[str, CallSummary]]) -> None:
    mine = [s for _, s in calls]
    assert measures_from_cohorts(cohorts(mine), AHA_2020) == measures(mine, AHA_2020)
