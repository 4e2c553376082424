"""QI measures: agency sets, trends, per-telecommunicator, recognition list, exports (issue 4).

Periods are `from` <= T0 < `to`. On `/api/v1/measures` a bare date means midnight UTC (the
DESIGN.md §8 contract); on every other report here it means midnight in the agency's own zone,
the local calendar QI staff count in. A set of agencies (a state coordinator's view) repeats
`agency`; each must be one of the token's agencies.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, date, datetime, time
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo

from fastapi import APIRouter, HTTPException, Query
from fastapi.responses import Response

from service.api import policy
from service.api.access import ReadsDep
from service.api.deps import PrincipalDep, Services, ServicesDep, require
from service.api.periods import period_bound
from service.api.refusals import AUTHENTICATED, document
from service.api.wire import parse_rfc3339
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
from service.store.measures import Dimension, MeasureStore
from service.store.tokens import Principal
from service.triage.profiles import AHA_2020, BenchmarkProfile

router = APIRouter(responses=AUTHENTICATED)
MAX_AGENCIES = 200
MAX_MONTHS = 240
# A CARES export reads every event of its calls: a state's year fits, an unbounded range may not.
MAX_CARES_CALLS = 10_000
TREND_YEARS = (2, 9998)
AgencyQuery = Annotated[list[str], Query()]
StartQuery = Annotated[str | None, Query(alias="from")]
EndQuery = Annotated[str | None, Query(alias="to")]


def refused(field: str, detail: str) -> HTTPException:
    return HTTPException(422, {"field": field, "detail": f"{field}: {detail}"})


def agencies_allowed(principal: Principal, agencies: Sequence[str]) -> list[str]:
    """The named agencies, each once, in the order given; each one the token's (else 403)."""
    if not agencies:
        raise refused("agency", "at least one agency is required")
    if len(agencies) > MAX_AGENCIES:
        raise refused("agency", f"at most {MAX_AGENCIES} agencies")
    for agency in agencies:
        if not 1 <= len(agency) <= 32:
            raise refused("agency", "each agency code is 1 to 32 characters")
    unique = list(dict.fromkeys(agencies))
    for agency in unique:
        require(principal, policy.READ_MEASURES, agency)
    return unique


def local_bound(value: str | None, name: str, zone: str) -> datetime | None:
    """An RFC 3339 datetime with offset, or a date meaning midnight in `zone`."""
    if value is None or value == "":
        return None
    try:
        if len(value) == 10:
            local = datetime.combine(date.fromisoformat(value), time(0), ZoneInfo(zone))
            local.astimezone(UTC)  # stored and compared in UTC
            return local
        return parse_rfc3339(value)
    except ValueError as exc:
        raise refused(name, str(exc)) from None
    except OverflowError:
        raise refused(name, f"{value!r} falls outside the years 1 to 9999 in UTC") from None


def trend_year(t: datetime, name: str) -> None:
    """A trend's bounds leave room for the month before and after (its default start, the end
    of its last month) inside the years datetime can hold."""
    if not TREND_YEARS[0] <= t.year <= TREND_YEARS[1]:
        raise refused(name, f"a trend lies within the years {TREND_YEARS[0]} to {TREND_YEARS[1]}")


def ordered(start: datetime | None, end: datetime | None) -> None:
    if start is not None and end is not None and end <= start:
        raise refused("to", "must be after from")


def iso(t: datetime | None) -> str | None:
    return t.isoformat() if t is not None else None


def set_profile(services: Services, agencies: Sequence[str]) -> BenchmarkProfile:
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


def file_name(kind: str, agencies: Sequence[str], start: str | None, end: str | None) -> str:
    parts = [kind, "-".join(agencies), (start or "")[:10], (end or "")[:10]]
    return "_".join(p for p in parts if p).replace(":", "") + ".csv"


@router.get(
    "/api/v1/measures",
    response_model=None,
    responses=document("application/json", "text/csv"),
)
async def get_measures(
    principal: PrincipalDep,
    services: ServicesDep,
    agency: AgencyQuery,
    reads: ReadsDep,
    start: StartQuery = None,
    end: EndQuery = None,
    format: Literal["json", "csv"] = "json",
) -> dict[str, Any] | Response:
    """The §5 measures of one agency or a set (then with each agency's own in `by_agency`)."""
    agencies = agencies_allowed(principal, agency)
    t1, t2 = period_bound(start, "from"), period_bound(end, "to")
    ordered(t1, t2)
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
            [c for a in agencies for c in found[a]], set_profile(services, agencies)
        )
    )
    body: dict[str, Any] = {
        "agency": agencies[0] if single else None,
        "agencies": agencies,
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
    scopes = [(agencies[0] if single else "all", total)]
    if not single:
        scopes += list(by_agency.items())
    rows = [
        row for scope, figures in scopes for row in measure_rows(scope, iso(t1), iso(t2), figures)
    ]
    return csv_response(MEASURE_COLUMNS, rows, file_name("measures", agencies, start, end))


@router.get(
    "/api/v1/measures/breakdown",
    response_model=None,
    responses=document("application/json", "text/csv"),
)
async def get_breakdown(
    principal: PrincipalDep,
    services: ServicesDep,
    agency: AgencyQuery,
    reads: ReadsDep,
    by: Dimension,
    start: StartQuery = None,
    end: EndQuery = None,
    format: Literal["json", "csv"] = "json",
) -> dict[str, Any] | Response:
    """The provisional and reviewed measures per group of one dimension (DESIGN.md §5: equity
    breakdowns); groups of 1 to 10 population calls are suppressed, in the CSV too."""
    agencies = agencies_allowed(principal, agency)
    t1, t2 = period_bound(start, "from"), period_bound(end, "to")
    ordered(t1, t2)
    await reads.record(agencies, "measures.read" if format == "json" else "measures.export")
    found = await MeasureStore(services.sessions).by_dimension(agencies, t1, t2, by)
    if by == "agency":  # every agency of the set, those without calls in the period too
        found = {a: found.get(a, []) for a in agencies}
    groups = breakdown_groups(found, set_profile(services, agencies))
    if format == "json":
        return {
            "agencies": agencies,
            "from": iso(t1),
            "to": iso(t2),
            "by": by,
            "suppress_up_to": SUPPRESS_UP_TO,
            "groups": groups,
        }
    return csv_response(
        BREAKDOWN_COLUMNS,
        breakdown_rows(by, iso(t1), iso(t2), groups),
        file_name(f"measures-by-{by}", agencies, start, end),
    )


async def monthly(
    services: Services, agencies: Sequence[str], start: str | None, end: str | None
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Months of each agency's zone over the period, added up across the set; and the total."""
    zones: dict[str, list[str]] = {}
    for a in agencies:
        zones.setdefault(services.settings.agency_config(a).zone, []).append(a)
    store = MeasureStore(services.sessions)
    parts = []
    first_start: datetime | None = None
    last_end: datetime | None = None
    for zone, members in zones.items():
        t1, t2 = local_bound(start, "from", zone), local_bound(end, "to", zone)
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
            raise refused("from", f"a trend covers at most {MAX_MONTHS} months")
        parts.append((buckets, await store.bucketed(members, bounds(buckets))))
        first_start = t1 if first_start is None else min(first_start, t1)
        last_end = t2 if last_end is None else max(last_end, t2)
    buckets, cohorts = merge(parts)
    profile = set_profile(services, agencies)
    single_zone = next(iter(zones)) if len(zones) == 1 else None
    body = {
        "agencies": list(agencies),
        "zone": single_zone,
        "zones": {a: services.settings.agency_config(a).zone for a in agencies},
        "from": iso(first_start),
        "to": iso(last_end),
        **trend(buckets, cohorts, profile),
    }
    return body, measures_from_cohorts([c for found in cohorts for c in found], profile)


@router.get("/api/v1/measures/trend")
async def get_trend(
    principal: PrincipalDep,
    services: ServicesDep,
    reads: ReadsDep,
    agency: AgencyQuery,
    start: StartQuery = None,
    end: EndQuery = None,
) -> dict[str, Any]:
    """Monthly and yearly measures with the secular trend (default: the last 12 months)."""
    agencies = agencies_allowed(principal, agency)
    await reads.record(agencies, "measures.read")
    body, _ = await monthly(services, agencies, start, end)
    # When each of the agencies' own protocol versions took effect: the charts mark the month,
    # so a director sees whether a change moved the interval to first compression.
    body["protocol_changes"] = services.protocols.history(agencies)
    return body


@router.get("/api/v1/exports/measures.csv", response_class=Response, responses=document("text/csv"))
async def export_measures(
    principal: PrincipalDep,
    services: ServicesDep,
    reads: ReadsDep,
    agency: AgencyQuery,
    start: StartQuery = None,
    end: EndQuery = None,
) -> Response:
    """One row per month of the period, then the total."""
    agencies = agencies_allowed(principal, agency)
    await reads.record(agencies, "measures.export")
    body, total = await monthly(services, agencies, start, end)
    rows = monthly_rows(body["months"], total, body["from"], body["to"])
    return csv_response(MONTH_COLUMNS, rows, file_name("measures-monthly", agencies, start, end))


def one_agency_period(
    principal: Principal, services: Services, agency: str, start: str | None, end: str | None
) -> tuple[str, datetime | None, datetime | None]:
    (agency,) = agencies_allowed(principal, [agency])
    zone = services.settings.agency_config(agency).zone
    t1, t2 = local_bound(start, "from", zone), local_bound(end, "to", zone)
    ordered(t1, t2)
    return zone, t1, t2


@router.get("/api/v1/measures/telecommunicators")
async def get_telecommunicators(
    principal: PrincipalDep,
    services: ServicesDep,
    reads: ReadsDep,
    agency: Annotated[str, Query()],
    start: StartQuery = None,
    end: EndQuery = None,
) -> dict[str, Any]:
    """Each telecommunicator's figures and feedback card (null: no telecommunicator recorded)."""
    _, t1, t2 = one_agency_period(principal, services, agency, start, end)
    await reads.record(agency, "measures.read")
    groups = await MeasureStore(services.sessions).by_telecommunicator([agency], t1, t2)
    profile = services.settings.agency_config(agency).profile
    rows = breakdown(groups, profile)
    return {
        "agency": agency,
        "from": iso(t1),
        "to": iso(t2),
        "benchmark_profile": profile.name,
        "telecommunicators": rows,
        "funnel": funnels((row["telecommunicator"], row) for row in rows),
    }


@router.get("/api/v1/measures/recognition")
async def get_recognition(
    principal: PrincipalDep,
    services: ServicesDep,
    reads: ReadsDep,
    agency: Annotated[str, Query()],
    start: StartQuery = None,
    end: EndQuery = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> dict[str, Any]:
    """Outstanding performances of the period, best first (service/qi/performance.py)."""
    zone, t1, t2 = one_agency_period(principal, services, agency, start, end)
    await reads.record(agency, "measures.read")
    profile = services.settings.agency_config(agency).profile
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
        "from": iso(t1),
        "to": iso(t2),
        "benchmark_profile": profile.name,
        "performances": outstanding(candidates, profile, zone),
    }


@router.get("/api/v1/exports/cares.csv", response_class=Response, responses=document("text/csv"))
async def export_cares(
    principal: PrincipalDep,
    services: ServicesDep,
    reads: ReadsDep,
    agency: Annotated[str, Query()],
    start: StartQuery = None,
    end: EndQuery = None,
) -> Response:
    """CARES-style dispatch rows, one per population call (docs/cares-crosswalk.md)."""
    zone, t1, t2 = one_agency_period(principal, services, agency, start, end)
    await reads.record(agency, "measures.export")
    config = services.settings.agency_config(agency)
    store = MeasureStore(services.sessions)
    calls = await store.population_events([agency], t1, t2, max_calls=MAX_CARES_CALLS)
    if calls is None:
        raise refused(
            "to", f"more than {MAX_CARES_CALLS} population calls; export a shorter period"
        )
    states = call_states(services.settings, agency, ((c, e) for (_, c), e in calls.items()))
    rows = [cares_row(state, config.profile, zone) for state in states if exported(state)]
    return csv_response(CARES_COLUMNS, rows, file_name("cares", [agency], start, end))
