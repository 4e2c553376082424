"""QI measures: agency sets, trends, per-telecommunicator, recognition list, exports.

Periods are `from` <= T0 < `to`. On `/api/v1/measures` and its breakdown a bare date means
midnight UTC (the DESIGN.md §8 contract); on every other report here it means midnight in the
agency's own zone, the local calendar QI staff count in. A set of agencies (a state coordinator's
view) repeats `agency`; each must be one of the token's agencies (`ReportScopeDep`).

A training agency's calls never reach a real agency's figures: a set naming one with other
agencies is refused (422 naming `agency`); alone, every JSON answer says `"training": true` and
every file (the CSV formats, the monthly CSV, the CARES export) is refused, since files leave the
service for records and registries where the mark would be lost (service/api/periods.py).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Query
from fastapi.responses import Response

from service.api.access import ReadsDep
from service.api.deps import Services, ServicesDep
from service.api.periods import ReportScope, ReportScopeDep, local_bound, ordered, real_only
from service.api.refusals import AUTHENTICATED, document, unprocessable
from service.calls import call_states
from service.qi.cares import COLUMNS as CARES_COLUMNS
from service.qi.cares import cares_row, exported
from service.qi.measure_rows import (
    BREAKDOWN_COLUMNS,
    MEASURE_COLUMNS,
    MONTH_COLUMNS,
    breakdown_rows,
    measure_rows,
    monthly_rows,
)
from service.qi.measures import SUPPRESS_UP_TO, breakdown_groups, measures_from_cohorts
from service.qi.performance import breakdown, outstanding, outstanding_bounds
from service.qi.spc import funnels
from service.qi.trends import bounds, merge, month_buckets, trend
from service.serialise import performance_json, telecommunicator_row_json
from service.store.measures import Dimension, MeasureStore
from service.triage.profiles import AHA_2020, BenchmarkProfile

router = APIRouter(responses=AUTHENTICATED)
MAX_MONTHS = 240
# A CARES export reads every event of its calls: a state's year fits, an unbounded range may not.
MAX_CARES_CALLS = 10_000
TREND_YEARS = (2, 9998)


def trend_year(t: datetime, name: str) -> None:
    """A trend's bounds leave room for the month before and after (its default start, the end
    of its last month) inside the years datetime can hold."""
    if not TREND_YEARS[0] <= t.year <= TREND_YEARS[1]:
        raise unprocessable(
            name, f"a trend lies within the years {TREND_YEARS[0]} to {TREND_YEARS[1]}"
        )


def iso(t: datetime | None) -> str | None:
    return t.isoformat() if t is not None else None


def profile_for(services: Services, agencies: Sequence[str]) -> BenchmarkProfile:
    """The profile a set is judged against: the one its agencies share, else the AHA one."""
    profiles = {services.settings.agency_config(a).profile for a in agencies}
    return profiles.pop() if len(profiles) == 1 else AHA_2020


def csv_response(columns: Sequence[str], rows: Iterable[Mapping[str, str]], name: str) -> Response:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(columns), lineterminator="\r\n")
    writer.writeheader()
    writer.writerows(rows)
    return Response(
        out.getvalue(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


def file_name(kind: str, scope: ReportScope) -> str:
    parts = [kind, "-".join(scope.agencies), (scope.start or "")[:10], (scope.end or "")[:10]]
    return "_".join(p for p in parts if p).replace(":", "") + ".csv"


@router.get(
    "/api/v1/measures",
    response_model=None,
    responses=document("application/json", "text/csv"),
)
async def get_measures(
    scope: ReportScopeDep,
    services: ServicesDep,
    reads: ReadsDep,
    format: Literal["json", "csv"] = "json",
) -> dict[str, Any] | Response:
    """The §5 measures of one agency or a set (then with each agency's own in `by_agency`)."""
    agencies = scope.agencies
    t1, t2 = scope.utc_period()
    if format == "csv":
        real_only(services.settings, agencies[0], "a measures CSV")
    await reads.record(agencies, "measures.read" if format == "json" else "measures.export")
    found = await MeasureStore(services.sessions).by_agency(agencies, t1, t2)
    by_agency = {
        a: measures_from_cohorts(found[a], services.settings.agency_config(a).profile)
        for a in agencies
    }
    single = len(agencies) == 1
    total = (
        by_agency[agencies[0]]
        if single
        else measures_from_cohorts(
            [c for a in agencies for c in found[a]], profile_for(services, agencies)
        )
    )
    body: dict[str, Any] = {
        "agency": agencies[0] if single else None,
        "agencies": agencies,
        "training": scope.training,
        "from": iso(t1),
        "to": iso(t2),
        **total,
    }
    if not single:
        body["by_agency"] = by_agency
        # Agencies of very different volumes side by side (service.qi.spc).
        body["funnel"] = funnels(by_agency.items())
    if format == "json":
        return body
    parts = [(agencies[0] if single else "all", total)]
    if not single:
        parts += list(by_agency.items())
    rows = [row for of, figures in parts for row in measure_rows(of, iso(t1), iso(t2), figures)]
    return csv_response(MEASURE_COLUMNS, rows, file_name("measures", scope))


@router.get(
    "/api/v1/measures/breakdown",
    response_model=None,
    responses=document("application/json", "text/csv"),
)
async def get_breakdown(
    scope: ReportScopeDep,
    services: ServicesDep,
    reads: ReadsDep,
    by: Dimension,
    format: Literal["json", "csv"] = "json",
) -> dict[str, Any] | Response:
    """The provisional and reviewed measures per group of one dimension (DESIGN.md §5: equity
    breakdowns); groups of 1 to 10 population calls are suppressed, in the CSV too."""
    agencies = scope.agencies
    t1, t2 = scope.utc_period()
    if format == "csv":
        real_only(services.settings, agencies[0], "a breakdown CSV")
    await reads.record(agencies, "measures.read" if format == "json" else "measures.export")
    found = await MeasureStore(services.sessions).by_dimension(agencies, t1, t2, by)
    if by == "agency":  # every agency of the set, those without calls in the period too
        found = {a: found.get(a, []) for a in agencies}
    groups = breakdown_groups(found, profile_for(services, agencies))
    if format == "json":
        return {
            "agencies": agencies,
            "training": scope.training,
            "from": iso(t1),
            "to": iso(t2),
            "by": by,
            "suppress_up_to": SUPPRESS_UP_TO,
            "groups": groups,
        }
    return csv_response(
        BREAKDOWN_COLUMNS,
        breakdown_rows(by, iso(t1), iso(t2), groups),
        file_name(f"measures-by-{by}", scope),
    )


async def monthly(services: Services, scope: ReportScope) -> tuple[dict[str, Any], dict[str, Any]]:
    """Months of each agency's zone over the period, added up across the set; and the total."""
    agencies = scope.agencies
    zones: dict[str, list[str]] = {}
    for a in agencies:
        zones.setdefault(services.settings.agency_config(a).zone, []).append(a)
    store = MeasureStore(services.sessions)
    parts = []
    first_start: datetime | None = None
    last_end: datetime | None = None
    for zone, members in zones.items():
        t1, t2 = local_bound(scope.start, "from", zone), local_bound(scope.end, "to", zone)
        for name, bound in (("from", t1), ("to", t2)):
            if bound is not None:
                trend_year(bound.astimezone(ZoneInfo(zone)), name)
        if t2 is None:
            now = datetime.now(UTC).astimezone(ZoneInfo(zone))
            year, month = (now.year + 1, 1) if now.month == 12 else (now.year, now.month + 1)
            t2 = datetime(year, month, 1, tzinfo=ZoneInfo(zone))
        if t1 is None:
            t1 = datetime(t2.year - 1, t2.month, 1, tzinfo=ZoneInfo(zone))
        ordered(t1, t2)
        buckets = month_buckets(t1, t2, zone)
        if len(buckets) > MAX_MONTHS:
            raise unprocessable("from", f"a trend covers at most {MAX_MONTHS} months")
        parts.append((buckets, await store.bucketed(members, bounds(buckets))))
        first_start = t1 if first_start is None else min(first_start, t1)
        last_end = t2 if last_end is None else max(last_end, t2)
    buckets, cohorts = merge(parts)
    profile = profile_for(services, agencies)
    single_zone = next(iter(zones)) if len(zones) == 1 else None
    body = {
        "agencies": list(agencies),
        "training": scope.training,
        "zone": single_zone,
        "zones": {a: services.settings.agency_config(a).zone for a in agencies},
        "from": iso(first_start),
        "to": iso(last_end),
        **trend(buckets, cohorts, profile),
    }
    return body, measures_from_cohorts([c for found in cohorts for c in found], profile)


@router.get("/api/v1/measures/trend")
async def get_trend(
    scope: ReportScopeDep, services: ServicesDep, reads: ReadsDep
) -> dict[str, Any]:
    """Monthly and yearly measures with the secular trend (default: the last 12 months)."""
    await reads.record(scope.agencies, "measures.read")
    body, _ = await monthly(services, scope)
    # When each of the agencies' own protocol versions took effect: the charts mark the month,
    # so a director sees whether a change moved the interval to first compression.
    body["protocol_changes"] = services.protocols.history(scope.agencies)
    return body


@router.get("/api/v1/exports/measures.csv", response_class=Response, responses=document("text/csv"))
async def export_measures(
    scope: ReportScopeDep, services: ServicesDep, reads: ReadsDep
) -> Response:
    """One row per month of the period, then the total."""
    real_only(services.settings, scope.agencies[0], "the monthly measures CSV")
    await reads.record(scope.agencies, "measures.export")
    body, total = await monthly(services, scope)
    rows = monthly_rows(body["months"], total, body["from"], body["to"])
    return csv_response(MONTH_COLUMNS, rows, file_name("measures-monthly", scope))


@router.get("/api/v1/measures/telecommunicators")
async def get_telecommunicators(
    scope: ReportScopeDep, services: ServicesDep, reads: ReadsDep
) -> dict[str, Any]:
    """Each telecommunicator's figures and feedback card (null: no telecommunicator recorded)."""
    agency = scope.agency
    config = services.settings.agency_config(agency)
    t1, t2 = scope.local_period(config.zone)
    await reads.record(agency, "measures.read")
    groups = await MeasureStore(services.sessions).by_telecommunicator([agency], t1, t2)
    profile = config.profile
    rows = [telecommunicator_row_json(row) for row in breakdown(groups, profile)]
    return {
        "agency": agency,
        "training": scope.training,
        "from": iso(t1),
        "to": iso(t2),
        "benchmark_profile": profile.name,
        "telecommunicators": rows,
        "funnel": funnels((row["telecommunicator"], row) for row in rows),
    }


@router.get("/api/v1/measures/recognition")
async def get_recognition(
    scope: ReportScopeDep,
    services: ServicesDep,
    reads: ReadsDep,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> dict[str, Any]:
    """Outstanding performances of the period, best first (service/qi/performance.py)."""
    agency = scope.agency
    config = services.settings.agency_config(agency)
    zone = config.zone
    t1, t2 = scope.local_period(zone)
    await reads.record(agency, "measures.read")
    profile = config.profile
    recognition_under, compression_under = outstanding_bounds(profile)
    candidates = await MeasureStore(services.sessions).candidates(
        [agency],
        t1,
        t2,
        recognition_under=recognition_under,
        compression_under=compression_under,
        limit=limit,
    )
    return {
        "agency": agency,
        "training": scope.training,
        "from": iso(t1),
        "to": iso(t2),
        "benchmark_profile": profile.name,
        "performances": [performance_json(p) for p in outstanding(candidates, profile, zone)],
    }


@router.get("/api/v1/exports/cares.csv", response_class=Response, responses=document("text/csv"))
async def export_cares(scope: ReportScopeDep, services: ServicesDep, reads: ReadsDep) -> Response:
    """CARES-style dispatch rows, one per population call (docs/cares-crosswalk.md)."""
    agency = scope.agency
    real_only(services.settings, agency, "a CARES export")
    config = services.settings.agency_config(agency)
    zone = config.zone
    t1, t2 = scope.local_period(zone)
    await reads.record(agency, "measures.export")
    store = MeasureStore(services.sessions)
    calls = await store.population_events([agency], t1, t2, max_calls=MAX_CARES_CALLS)
    if calls is None:
        raise unprocessable(
            "to", f"more than {MAX_CARES_CALLS} population calls; export a shorter period"
        )
    states = call_states(services.settings, agency, ((c, e) for (_, c), e in calls.items()))
    rows = [cares_row(state, config.profile, zone) for state in states if exported(state)]
    return csv_response(CARES_COLUMNS, rows, file_name("cares", scope))
