"""Measures over a million stored calls: the SQL-aggregated path against the pure reference.

    python -m bench.measures_1m            1,000,000 calls over the 12 months of 2025
    python -m bench.measures_1m --quick    100,000 calls

A fresh SQLite database is migrated with the real Alembic revisions, then the `calls` projection
is filled directly (SQLAlchemy Core executemany, in chunks) with calls drawn from realistic
distributions: most calls are not arrests; about 2 % are in the AHA population (EMS-confirmed
arrest, resuscitation attempted, not EMS-witnessed), of which about 80 % are recognised with a
log-normal time to recognition around 70 s, and most eligible ones get a first compression about a
minute later. Some calls carry other EMS outcomes (not an arrest, EMS-witnessed, no attempt),
some non-arrests are recognised anyway (over-triage), and most population calls are reviewed.
The events behind the calls are not written: the measures read only the projection.

Timed, each as the best of a few runs:
  (a) the §5 measures of the year through SQL aggregation (service/store/measures.py);
  (b) the monthly trend of the 12 months (one bucketed GROUP BY);
  (c) the pure reference: every summary of the year fetched, then `measures()` over them.
(a) and (c) are checked equal before anything is printed.
"""

from __future__ import annotations

import argparse
import asyncio
import math
import random
import tempfile
import time
from collections.abc import Awaitable, Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import create_engine, event, insert

from service.qi.measures import measures, measures_from_cohorts
from service.qi.trends import bounds, month_buckets, trend
from service.store.db import create_engine as create_async_engine
from service.store.db import migrate, sessionmaker
from service.store.events import EventStore
from service.store.measures import MeasureStore
from service.store.tables import CallRow
from service.triage.profiles import AHA_2020, AgencyConfig

AGENCY = "BENCH"
YEAR_START = datetime(2025, 1, 1, tzinfo=UTC)
YEAR_END = datetime(2026, 1, 1, tzinfo=UTC)
TELECOMMUNICATORS = [f"tc-{n}" for n in range(100, 160)]
NOT_GIVEN = [
    ("cpr_in_progress", 0.45),
    ("caller_unable", 0.2),
    ("cannot_position", 0.1),
    ("caller_refused", 0.08),
    ("hung_up", 0.1),
    ("unsafe", 0.02),
    ("other", 0.05),
]
CHUNK = 20_000


def lognormal(rng: random.Random, median_s: float, sigma: float, low: float, high: float) -> float:
    return round(min(high, max(low, median_s * math.exp(rng.gauss(0, sigma)))), 3)


def call_rows(n: int, seed: int = 2025) -> Iterator[dict[str, Any]]:
    """`n` projection rows in T0 order across the year."""
    rng = random.Random(seed)
    span = (YEAR_END - YEAR_START).total_seconds()
    reasons, weights = zip(*NOT_GIVEN, strict=True)
    for i in range(n):
        t0 = YEAR_START + timedelta(seconds=span * (i + rng.random()) / n)
        row: dict[str, Any] = {
            "agency": AGENCY,
            "call_id": f"{t0:%Y%m%d}-{i:07d}",
            "t0": t0,
            "ended": True,
            "last_seq": i + 1,
            "updated_at": t0 + timedelta(minutes=20),
            "in_population": False,
            "has_ems_outcome": False,
            "ems_says_not_arrest": False,
            "ems_witnessed": False,
            "resuscitation_attempted": None,
            "recognized": False,
            "to_recognition": None,
            "to_first_compression": None,
            "not_given_reason": None,
            "reviewed": False,
            "recognizable": None,
            "signed_off": False,
            "telecommunicator": None if rng.random() < 0.02 else rng.choice(TELECOMMUNICATORS),
        }
        kind = rng.random()
        if kind < 0.02:  # EMS-confirmed arrest, resuscitation attempted, not EMS-witnessed
            row.update(in_population=True, has_ems_outcome=True, resuscitation_attempted=True)
            recognized = rng.random() < 0.8
            if recognized:
                to_recognition = lognormal(rng, 70, 0.45, 8, 900)
                row.update(recognized=True, to_recognition=to_recognition)
                if rng.random() < 0.2:
                    row["not_given_reason"] = rng.choices(reasons, weights)[0]
                elif rng.random() < 0.85:
                    row["to_first_compression"] = round(
                        to_recognition + lognormal(rng, 60, 0.4, 10, 600), 3
                    )
            reviewed = rng.random() < 0.7
            row.update(reviewed=reviewed, signed_off=reviewed and rng.random() < 0.8)
            if reviewed:
                row["recognizable"] = recognized or rng.random() < 0.7
        elif kind < 0.023:  # EMS-witnessed arrest
            row.update(has_ems_outcome=True, ems_witnessed=True, resuscitation_attempted=True)
        elif kind < 0.028:  # arrest, no resuscitation attempted (obvious death, DNR)
            row.update(has_ems_outcome=True, resuscitation_attempted=False)
        elif kind < 0.06:  # EMS says not an arrest; some were recognised (over-triage)
            row.update(has_ems_outcome=True, ems_says_not_arrest=True)
            row["resuscitation_attempted"] = False
            if rng.random() < 0.1:
                row.update(recognized=True, to_recognition=lognormal(rng, 60, 0.5, 5, 600))
        elif rng.random() < 0.003:  # recognised, no EMS record linked yet
            row.update(recognized=True, to_recognition=lognormal(rng, 75, 0.5, 5, 600))
        if not row["reviewed"] and rng.random() < 0.01:
            row.update(reviewed=True, recognizable=True, signed_off=True)
        yield row


def fill(path: str, n: int) -> float:
    """Migrate a fresh database and bulk-insert `n` calls; returns the seconds it took."""
    started = time.perf_counter()
    migrate(f"sqlite+aiosqlite:///{path}")
    engine = create_engine(f"sqlite:///{path}")

    @event.listens_for(engine, "connect")
    def _fast(dbapi_connection: Any, _record: Any) -> None:
        # A throwaway benchmark database: no fsync while filling it.
        dbapi_connection.execute("PRAGMA journal_mode=WAL")
        dbapi_connection.execute("PRAGMA synchronous=OFF")

    statement = insert(CallRow.__table__)
    with engine.begin() as connection:
        chunk: list[dict[str, Any]] = []
        for row in call_rows(n):
            chunk.append(row)
            if len(chunk) == CHUNK:
                connection.execute(statement, chunk)
                chunk = []
        if chunk:
            connection.execute(statement, chunk)
    with engine.begin() as connection:
        connection.exec_driver_sql("ANALYZE")
    engine.dispose()
    return time.perf_counter() - started


async def best_of(runs: int, work: Callable[[], Awaitable[Any]]) -> tuple[float, Any]:
    best, result = math.inf, None
    for _ in range(runs):
        started = time.perf_counter()
        result = await work()
        best = min(best, time.perf_counter() - started)
    return best, result


async def timings(path: str, runs: int) -> dict[str, Any]:
    engine = create_async_engine(f"sqlite+aiosqlite:///{path}")
    sessions = sessionmaker(engine)
    config = AgencyConfig()
    store = MeasureStore(sessions)
    events = EventStore(sessions, postgres=False, config_for=lambda _agency: config)

    async def sql_measures() -> dict[str, Any]:
        found = await store.by_agency([AGENCY], YEAR_START, YEAR_END)
        return measures_from_cohorts(found[AGENCY], AHA_2020)

    async def monthly_trend() -> dict[str, Any]:
        months = month_buckets(YEAR_START, YEAR_END, config.zone)
        return trend(months, await store.bucketed([AGENCY], bounds(months)), AHA_2020)

    try:
        sql_s, sql = await best_of(runs, sql_measures)
        trend_s, monthly = await best_of(runs, monthly_trend)

        async def reference() -> dict[str, Any]:
            summaries = await events.summaries(AGENCY, YEAR_START, YEAR_END)
            return measures(summaries, AHA_2020)

        reference_s, pure = await best_of(1, reference)
    finally:
        await engine.dispose()
    if sql != pure:
        raise AssertionError(f"SQL measures differ from the reference:\n{sql}\n{pure}")
    return {
        "sql_s": sql_s,
        "trend_s": trend_s,
        "reference_s": reference_s,
        "calls": pure["calls_in_period"],
        "population": pure["population"],
        "months": len(monthly["months"]),
    }


def run(n: int, runs: int = 3) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        path = f"{tmp}/measures.db"
        fill_s = fill(path, n)
        figures = asyncio.run(timings(path, runs))
    return {"fill_s": fill_s, **figures}


def table(figures: dict[str, Any]) -> str:
    rows = [
        (f"fill: migrate + insert {figures['calls']:,} calls", f"{figures['fill_s']:.2f} s", ""),
        ("(a) measures of the year, SQL aggregation", f"{figures['sql_s']:.3f} s", ""),
        (f"(b) monthly trend, {figures['months']} months", f"{figures['trend_s']:.3f} s", ""),
        (
            "(c) reference: fetch every summary + measures()",
            f"{figures['reference_s']:.3f} s",
            f"{figures['reference_s'] / figures['sql_s']:.1f}x (a)",
        ),
    ]
    width = max(len(r[0]) for r in rows)
    lines = [
        f"{'figure':<{width}}  {'time':>10}  vs",
        *(f"{a:<{width}}  {b:>10}  {c}" for a, b, c in rows),
    ]
    lines.append(f"population {figures['population']:,} of {figures['calls']:,} calls")
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.measures_1m")
    parser.add_argument("--quick", action="store_true", help="100,000 calls instead of 1,000,000")
    parser.add_argument("--calls", type=int, help="any other number of calls")
    args = parser.parse_args()
    n = args.calls or (100_000 if args.quick else 1_000_000)
    print(table(run(n)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
