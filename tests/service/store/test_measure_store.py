"""The SQL-aggregated measures equal the test oracle, on SQLite and PostgreSQL.

Random call summaries go straight into the `calls` projection (the store reads nothing else);
every aggregate the reports use — by agency, by telecommunicator, by month bucket, by breakdown
dimension — must turn into exactly the dict the oracle (measures_oracle.py, DESIGN.md §5 written
out call by call) gives for the same calls, and so must the Python cohorts.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete, insert
from support.databases import migrated_if_new
from support.measures_oracle import oracle as measures

from contract.kinds import NOT_GIVEN_REASONS
from service.qi.cohorts import cohorts
from service.qi.measures import measures_from_cohorts
from service.qi.summary import CallSummary
from service.store.db import create_engine, sessionmaker
from service.store.measures import MeasureStore
from service.store.tables import CallRow
from service.triage.profiles import AHA_2020

START = datetime(2026, 1, 1, tzinfo=UTC)
BOUNDS = [START + timedelta(days=d) for d in (0, 10, 31, 45, 59)]
# Few distinct values so that medians meet ties and even counts.
SECONDS = st.one_of(st.none(), st.sampled_from([12.5, 45.0, 60.0, 89.999, 90.0, 131.25, 150.0]))
MAYBE_BOOL = st.one_of(st.none(), st.booleans())
CODES = st.lists(st.sampled_from(["call_transfer", "language_barrier", "other"]), max_size=2).map(
    lambda codes: tuple(sorted(set(codes)))
)
WORD = st.sampled_from([None, "female", "male"])


@st.composite
def summaries(draw: st.DrawFn) -> list[tuple[str, CallSummary]]:
    n = draw(st.integers(0, 40))
    out = []
    for i in range(n):
        agency = draw(st.sampled_from(["A", "B"]))
        # As summarize() judges them: an exclusion needs a reason, a reviewed one an exclusion.
        reason = draw(st.one_of(st.none(), st.sampled_from(NOT_GIVEN_REASONS)))
        excluded = reason is not None and draw(st.booleans())
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
            not_given_reason=reason,
            excluded=excluded,
            excluded_reviewed=excluded and draw(st.booleans()),
            exclusion_valid=draw(MAYBE_BOOL),
            recognition_after_arrival=draw(st.booleans()),
            t0_source=draw(st.sampled_from([None, "call.received", "call.answered", "correction"])),
            reviewed=draw(st.booleans()),
            recognizable=draw(MAYBE_BOOL),
            signed_off=draw(st.booleans()),
            telecommunicator=draw(st.sampled_from([None, "tc-1", "tc-2"])),
            nonrecognition_reasons=draw(CODES),
            delay_reasons=draw(CODES),
            sex=draw(WORD),
            age_group=draw(st.sampled_from([None, "0–17", "80+"])),
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

        for dimension, field in [("sex", "sex"), ("age_group", "age_group"), ("agency", None)]:
            per_group = await store.by_dimension(["A", "B"], start, end, dimension)
            in_period = [(a, s) for a, s in calls if within(s, start, end)]
            values = {a if field is None else getattr(s, field) for a, s in in_period}
            assert set(per_group) == values
            for value, found_group in per_group.items():
                mine = [
                    s for a, s in in_period if (a if field is None else getattr(s, field)) == value
                ]
                assert measures_from_cohorts(found_group, AHA_2020) == measures(mine, AHA_2020)

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


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(calls=summaries())
def test_sql_aggregates_equal_the_reference(
    migrated_database_url: str, calls: list[tuple[str, CallSummary]]
) -> None:
    migrated_if_new(migrated_database_url)  # a SQLite file is made on first use
    asyncio.run(check(migrated_database_url, calls))


@given(calls=summaries())
@settings(max_examples=300, deadline=None)
def test_cohorts_in_python_equal_the_reference(calls: list[tuple[str, CallSummary]]) -> None:
    mine = [s for _, s in calls]
    assert measures_from_cohorts(cohorts(mine), AHA_2020) == measures(mine, AHA_2020)
