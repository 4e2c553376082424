"""QI reports over real HTTP on SQLite and PostgreSQL: agency sets, trends in the agency's zone,
per-telecommunicator cards, the recognition list, CSV exports, and who may read them."""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from typing import Any

import httpx
import pytest
from support.harness import Server, event, service_settings, start_server

from service.api import reports
from service.qi.measures import measures
from service.triage.profiles import AHA_2020

POPULATION = {"ohca": True, "resuscitation_attempted": True, "ems_witnessed": False}
NOT_ARREST = {"ohca": False, "resuscitation_attempted": False, "ems_witnessed": False}
ZONES = {"A": {"zone": "America/Chicago"}, "B": {"zone": "America/New_York"}}


@pytest.fixture
async def zoned(migrated_database_url: str) -> AsyncIterator[Server]:
    running = await start_server(service_settings(migrated_database_url, agencies=ZONES))
    try:
        yield running
    finally:
        await running.stop()


def call(
    call_id: str,
    t0: str,
    *,
    agency: str = "A",
    tc: str | None = "tc-1",
    recognized: float | None = None,
    compression: float | None = None,
    not_given: str | None = None,
    outcome: dict[str, bool] | None = POPULATION,
) -> list[dict[str, Any]]:
    zero = datetime.fromisoformat(t0)
    out: list[dict[str, Any]] = []

    def add(kind: str, seconds: float, **extra: Any) -> None:
        when = (zero + timedelta(seconds=seconds)).isoformat()
        out.append(event(f"{call_id}-{len(out)}", kind, when, call_id, agency, **extra))

    add("call.received", 0, data={"psap": f"PSAP-{agency}"})
    add("call.answered", 4, **({"actor": tc} if tc else {}))
    if recognized is not None:
        add("ohca.recognized", recognized)
    if compression is not None:
        add("tcpr.started", compression - 20)
        add("tcpr.first_compression", compression)
    if not_given is not None:
        add("tcpr.not_given", 200, data={"reason": not_given})
    if outcome is not None:
        add("ems.outcome", 3600, source="ems", data=outcome)
    return out


FEED = [
    # Agency A (Chicago, -06:00 in winter).
    # January: A1 recognised 50 s, compression 120 s; A2 recognised 70 s, compression 160 s.
    *call("A1", "2026-01-05T10:00:00-06:00", recognized=50, compression=120),
    *call("A2", "2026-01-20T10:00:00-06:00", tc="tc-2", recognized=70, compression=160),
    # 05:30Z on 1 February is 23:30 on 31 January in Chicago: January's, not February's.
    *call("A3", "2026-02-01T05:30:00+00:00", recognized=100, not_given="cpr_in_progress"),
    # February: one unrecognised arrest, one over-triage (EMS: not an arrest), one unassigned.
    *call("A4", "2026-02-10T10:00:00-06:00"),
    *call("A5", "2026-02-11T10:00:00-06:00", recognized=40, outcome=NOT_ARREST),
    *call("A6", "2026-02-12T10:00:00-06:00", tc=None, outcome=None),
    # March: recognised 30 s, compression 90 s (outstanding).
    *call("A7", "2026-03-03T10:00:00-06:00", recognized=30, compression=90),
    # Agency B (New York): January, recognised at 80 s, compression 140 s.
    *call("B1", "2026-01-10T10:00:00-05:00", agency="B", tc="tc-9", recognized=80, compression=140),
]


async def seeded(server: Server) -> None:
    async with await server.client("admin", "A", "B") as admin:
        response = await admin.post("/api/v1/events", json=FEED)
        assert response.status_code == 200, response.text


def rows_of(response: httpx.Response) -> list[dict[str, str]]:
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/csv")
    assert response.headers["content-disposition"].startswith("attachment; filename=")
    return list(csv.DictReader(io.StringIO(response.text)))


async def test_measures_for_one_agency_and_a_set(zoned: Server) -> None:
    await seeded(zoned)
    period = {"from": "2026-01-01T00:00:00-06:00", "to": "2026-04-01T00:00:00-05:00"}
    async with await zoned.client("qi", "A", "B") as qi:
        one = (await qi.get("/api/v1/measures", params={"agency": "A", **period})).json()
        both = await qi.get(
            "/api/v1/measures", params=[("agency", "A"), ("agency", "B"), *period.items()]
        )
        as_csv = await qi.get("/api/v1/measures", params={"agency": "A", "format": "csv", **period})
        set_csv = await qi.get(
            "/api/v1/measures", params=[("agency", "A"), ("agency", "B"), ("format", "csv")]
        )

    assert one["agency"] == "A"
    assert one["agencies"] == ["A"]
    assert "by_agency" not in one
    assert one["from"] == "2026-01-01T00:00:00-06:00"
    assert one["calls_in_period"] == 7
    # Population: A1 A2 A3 A4 A7; recognised A1 A2 A3 A7.
    assert one["population"] == 5
    assert one["recognition_rate"] == {
        "numerator": 4,
        "denominator": 5,
        "percent": 80.0,
        "goal": 75.0,
    }
    # T-CPR eligible: A1 A2 A7 (A3 not given): all compressed.
    assert one["tcpr_rate"] == {"numerator": 3, "denominator": 3, "percent": 100.0, "goal": 75.0}
    # 30 50 70 100 -> (50 + 70) / 2
    assert one["median_seconds_to_recognition"] == {"value": 60.0, "n": 4, "benchmark": 90}
    assert one["median_seconds_to_first_compression"] == {"value": 120.0, "n": 3, "benchmark": 150}
    assert one["over_triage"] == 1
    assert one["without_ems_outcome"] == 1
    assert one["tcpr_exclusions"] == {"cpr_in_progress": 1}
    assert one["outside_population"] == {"not_cardiac_arrest": 1}

    # The SQL path equals the pure reference over the stored summaries.
    summaries = await zoned.services.store.summaries(
        "A", datetime.fromisoformat(period["from"]), datetime.fromisoformat(period["to"])
    )
    reference = measures(summaries, AHA_2020)
    assert {k: one[k] for k in reference} == reference

    assert both.status_code == 200, both.text
    body = both.json()
    assert body["agency"] is None
    assert body["agencies"] == ["A", "B"]
    assert set(body["by_agency"]) == {"A", "B"}
    assert {k: body["by_agency"]["A"][k] for k in reference} == reference
    assert body["by_agency"]["B"]["population"] == 1
    assert body["population"] == 6
    assert body["recognition_rate"]["numerator"] == 5
    # 30 50 70 80 100 -> 70
    assert body["median_seconds_to_recognition"]["value"] == 70.0

    rows = rows_of(as_csv)
    by_measure = {r["measure"]: r for r in rows}
    assert by_measure["recognition_rate"] == {
        "agency": "A",
        "from": "2026-01-01T00:00:00-06:00",
        "to": "2026-04-01T00:00:00-05:00",
        "benchmark_profile": "aha-2020",
        "measure": "recognition_rate",
        "numerator": "4",
        "denominator": "5",
        "percent": "80",
        "goal": "75",
        "value": "",
        "n": "",
        "benchmark": "",
        "count": "",
    }
    assert by_measure["median_seconds_to_recognition"]["value"] == "60"
    assert by_measure["tcpr_exclusions.cpr_in_progress"]["count"] == "1"
    assert by_measure["calls_in_period"]["count"] == "7"
    scopes = {r["agency"] for r in rows_of(set_csv)}
    assert scopes == {"all", "A", "B"}


async def test_trend_months_in_the_agency_zone(zoned: Server) -> None:
    await seeded(zoned)
    async with await zoned.client("admin", "A", "B") as admin:
        response = await admin.get(
            "/api/v1/measures/trend",
            params={"agency": "A", "from": "2026-01-01", "to": "2026-05-01"},
        )
        mixed = await admin.get(
            "/api/v1/measures/trend",
            params=[("agency", "A"), ("agency", "B"), ("from", "2026-01-01"), ("to", "2026-03-01")],
        )
        export = await admin.get(
            "/api/v1/exports/measures.csv",
            params={"agency": "A", "from": "2026-01-01", "to": "2026-05-01"},
        )
        january = {"agency": "A", "from": "2026-01-01", "to": "2026-02-01"}
        one_month = await admin.get("/api/v1/measures/trend", params=january)
        one_month_csv = await admin.get("/api/v1/exports/measures.csv", params=january)
    # A single month is one bucket: no inner bound to split the period on.
    assert one_month.status_code == 200, one_month.text
    assert [m["calls_in_period"] for m in one_month.json()["months"]] == [3]
    assert one_month_csv.status_code == 200, one_month_csv.text
    assert [r["period"] for r in rows_of(one_month_csv)] == ["2026-01", "total"]
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["zone"] == "America/Chicago"
    assert body["from"] == "2026-01-01T00:00:00-06:00"
    assert body["to"] == "2026-05-01T00:00:00-05:00"
    months = body["months"]
    assert [m["month"] for m in months] == ["2026-01", "2026-02", "2026-03", "2026-04"]
    assert months[2]["to"] == "2026-04-01T00:00:00-05:00"  # after the DST change
    # January: A1, A2 and A3 (23:30 local on 31 January).
    assert [m["calls_in_period"] for m in months] == [3, 3, 1, 0]
    assert months[0]["population"] == 3
    assert months[0]["median_seconds_to_recognition"]["value"] == 70.0
    assert months[3]["recognition_rate"]["percent"] is None
    assert [y["year"] for y in body["years"]] == [2026]
    assert body["years"][0]["calls_in_period"] == 7
    # Recognition 100 % (Jan), 0 % (Feb: A4 of A4), 100 % (Mar): slope 0 -> flat.
    assert body["secular_trend"]["recognition_rate"] == {
        "slope_per_year": 0.0,
        "direction": "flat",
        "months_used": 3,
    }
    # Median recognition 70 (Jan), none (Feb), 30 (Mar): two months, no trend.
    assert body["secular_trend"]["median_seconds_to_recognition"]["slope_per_year"] is None

    assert mixed.status_code == 200, mixed.text
    set_body = mixed.json()
    assert set_body["zone"] is None
    assert set_body["zones"] == {"A": "America/Chicago", "B": "America/New_York"}
    assert [m["month"] for m in set_body["months"]] == ["2026-01", "2026-02"]
    assert set_body["months"][0]["population"] == 4  # A1 A2 A3 and B1

    rows = rows_of(export)
    assert [r["period"] for r in rows] == ["2026-01", "2026-02", "2026-03", "2026-04", "total"]
    assert rows[0]["recognition_rate_numerator"] == "3"
    assert rows[0]["median_seconds_to_recognition_value"] == "70"
    assert rows[-1]["calls_in_period"] == "7"
    assert rows[-1]["from"] == "2026-01-01T00:00:00-06:00"


async def test_telecommunicators_recognition_list_and_cares(
    zoned: Server, monkeypatch: pytest.MonkeyPatch
) -> None:
    await seeded(zoned)
    params = {"agency": "A", "from": "2026-01-01", "to": "2026-04-01"}
    async with await zoned.client("qi", "A") as qi:
        tcs = (await qi.get("/api/v1/measures/telecommunicators", params=params)).json()
        recognition = (await qi.get("/api/v1/measures/recognition", params=params)).json()
        best = (await qi.get("/api/v1/measures/recognition", params={**params, "limit": 1})).json()
        cares = await qi.get("/api/v1/exports/cares.csv", params=params)
        monkeypatch.setattr(reports, "MAX_CARES_CALLS", 4)  # the period has 5
        too_many = await qi.get("/api/v1/exports/cares.csv", params=params)
    # The limit is applied in the query, keeping the best.
    assert [p["call_id"] for p in best["performances"]] == ["A7"]
    assert too_many.status_code == 422, too_many.text
    assert too_many.json()["detail"]["field"] == "to"

    rows = {r["telecommunicator"]: r for r in tcs["telecommunicators"]}
    assert [r["telecommunicator"] for r in tcs["telecommunicators"]] == ["tc-1", "tc-2", None]
    # tc-1: A1 A3 A4 A5 A7; population A1 A3 A4 A7, recognised A1 A3 A7 (50 100 30).
    assert rows["tc-1"]["calls"] == 5
    assert rows["tc-1"]["population"] == 4
    assert rows["tc-1"]["recognized"] == 3
    assert rows["tc-1"]["median_seconds_to_recognition"]["value"] == 50.0
    assert rows["tc-1"]["recognition_met"] == 2
    assert rows["tc-1"]["card"]["headline"] == (
        "Recognised 3 of 4 arrests, compressions in 2 of 2 eligible, median 50 s to recognition"
        " — under the 90 s benchmark; median first compression 105 s"
    )
    assert rows["tc-1"]["card"]["verdict"] == "Meets both AHA goals: recognition and T-CPR"
    assert rows["tc-1"]["goals_met"] == {"recognition": True, "tcpr": True}
    # The funnel plot of the recognition rate: one point per telecommunicator with arrests.
    assert [p["name"] for p in tcs["funnel"]["recognition_rate"]["points"]] == ["tc-1", "tc-2"]
    assert rows[None]["calls"] == 1
    assert rows[None]["population"] == 0

    assert [p["call_id"] for p in recognition["performances"]] == ["A7", "A1"]
    assert recognition["performances"][0]["t0"] == "2026-03-03T10:00:00-06:00"
    assert recognition["performances"][0]["telecommunicator"] == "tc-1"

    cares_rows = rows_of(cares)
    assert [r["cad_incident_number"] for r in cares_rows] == ["A1", "A2", "A3", "A4", "A7"]
    a3 = cares_rows[2]
    assert a3["date_of_arrest_call"] == "2026-01-31"
    assert a3["call_received_at_psap"] == "2026-01-31T23:30:00-06:00"
    assert a3["telecommunicator_cpr"] == "Not applicable"
    assert cares_rows[0]["telecommunicator_cpr"] == "Yes"
    assert cares_rows[0]["seconds_to_first_compression"] == "120"
    assert cares_rows[3]["arrest_recognized_by_telecommunicator"] == "No"
    assert cares_rows[3]["telecommunicator_cpr"] == "No"
    assert cares_rows[0]["psap"] == "PSAP-A"


REPORTS = [
    ("/api/v1/measures", {}),
    ("/api/v1/measures/trend", {}),
    ("/api/v1/measures/telecommunicators", {}),
    ("/api/v1/measures/recognition", {}),
    ("/api/v1/exports/measures.csv", {}),
    ("/api/v1/exports/cares.csv", {}),
]


async def test_who_may_read_reports_and_what_is_refused(server: Server) -> None:
    problems: list[str] = []
    async with httpx.AsyncClient(base_url=server.url, timeout=30) as anonymous:
        for path, _ in REPORTS:
            response = await anonymous.get(path, params={"agency": "A"})
            if response.status_code != 401:
                problems.append(f"no token {path}: {response.status_code}")
    for role in ("telecommunicator", "supervisor", "adapter", "qi", "admin"):
        async with await server.client(role, "A") as client:
            for path, _ in REPORTS:
                response = await client.get(path, params={"agency": "A"})
                want = 200 if role in ("qi", "admin") else 403
                if response.status_code != want:
                    problems.append(f"{role} {path}: want {want}, got {response.status_code}")
    async with await server.client("qi", "A") as qi:
        for path, _ in REPORTS:
            foreign = await qi.get(path, params={"agency": "B"})
            if foreign.status_code != 403:
                problems.append(f"qi of A reading B at {path}: {foreign.status_code}")
        in_set = await qi.get("/api/v1/measures", params=[("agency", "A"), ("agency", "B")])
        if in_set.status_code != 403:
            problems.append(f"a set with a foreign agency: {in_set.status_code}")

        refusals = {
            "from": {"agency": "A", "from": "2026-13-01"},
            "to": {"agency": "A", "from": "2026-02-01", "to": "2026-01-01"},
            "agency": {"agency": "X" * 33},
        }
        for path, _ in REPORTS:
            for field, params in refusals.items():
                response = await qi.get(path, params=params)
                detail = response.json().get("detail") if response.status_code == 422 else None
                if not isinstance(detail, dict) or detail.get("field") != field:
                    problems.append(f"{path} {params}: want 422 naming {field}: {response.text}")
            missing = await qi.get(path)
            if missing.status_code != 422 or "agency" not in missing.text:
                problems.append(f"{path} without agency: {missing.status_code} {missing.text}")
        bad_format = await qi.get("/api/v1/measures", params={"agency": "A", "format": "xml"})
        if bad_format.status_code != 422 or "format" not in bad_format.text:
            problems.append(f"format=xml: {bad_format.status_code} {bad_format.text}")
        too_long = await qi.get(
            "/api/v1/measures/trend",
            params={"agency": "A", "from": "2000-01-01", "to": "2030-01-01"},
        )
        if too_long.status_code != 422 or too_long.json()["detail"]["field"] != "from":
            problems.append(f"a 30-year trend: {too_long.status_code} {too_long.text}")
        for edge, field in (
            ({"to": "0001-01-01"}, "to"),  # its default year before would be year 0
            ({"to": "9999-12-31"}, "to"),  # its month ends in year 10000
            ({"from": "0001-01-01T00:00:00+05:00"}, "from"),  # before year 1 in UTC
        ):
            for path in ("/api/v1/measures/trend", "/api/v1/exports/measures.csv"):
                response = await qi.get(path, params={"agency": "A", **edge})
                detail = response.json().get("detail") if response.status_code == 422 else None
                if not isinstance(detail, dict) or detail.get("field") != field:
                    problems.append(f"{path} {edge}: want 422 naming {field}: {response.text}")
    assert not problems, "\n".join(problems)
