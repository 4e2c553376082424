"""EMS linkage over real HTTP on SQLite and PostgreSQL: NEMSIS import and the match rules of
DESIGN.md §8, unmatched reports linked by hand or re-matched, idempotent re-import, the measures
population, roles, and refused documents kept in the reject store."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

import httpx
import pytest
from support.harness import Server, event
from support.paths import SHARED

CST = timezone(timedelta(hours=-6))
T = datetime(2026, 2, 1, 8, 0, tzinfo=CST)
XML = {"Content-Type": "application/xml"}
SAMPLES = SHARED / "standards" / "nemsis" / "samples"


def iso(t: datetime) -> str:
    return t.isoformat()


def pcr(
    key: str,
    *,
    cad: str | None = None,
    incident: str | None = None,
    psap: datetime | None = None,
    arrest: str = "3001003",
    attempts: tuple[str, ...] = ("3003005",),
    back_in_service: datetime | None = None,
) -> str:
    """One hand-written PatientCareReport (only what the importer reads)."""
    nil = 'xsi:nil="true" NV="7701003"'
    times = f"<eTimes.01>{iso(psap)}</eTimes.01>" if psap else f"<eTimes.01 {nil}/>"
    if back_in_service is not None:
        times += f"<eTimes.13>{iso(back_in_service)}</eTimes.13>"
    return f"""<PatientCareReport UUID="{key}-uuid">
  <eRecord><eRecord.01>{key}</eRecord.01></eRecord>
  <eResponse>{f"<eResponse.03>{incident}</eResponse.03>" if incident else f"<eResponse.03 {nil}/>"}
  </eResponse>
  <eDispatch><eDispatch.01>2301019</eDispatch.01><eDispatch.02>2302003</eDispatch.02>
    {f"<eDispatch.06>{cad}</eDispatch.06>" if cad else ""}</eDispatch>
  <eTimes>{times}</eTimes>
  <eArrest><eArrest.01>{arrest}</eArrest.01>
    {"".join(f"<eArrest.03>{a}</eArrest.03>" for a in attempts)}</eArrest>
</PatientCareReport>"""


def dataset(*reports: str) -> bytes:
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<EMSDataSet xmlns="http://www.nemsis.org" '
        'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"><Header>'
        "<DemographicGroup><dAgency.01>1</dAgency.01><dAgency.02>A1</dAgency.02>"
        "<dAgency.04>29</dAgency.04></DemographicGroup>"
        + "".join(reports)
        + "</Header></EMSDataSet>"
    ).encode()


async def call(
    client: httpx.AsyncClient, call_id: str, t0: datetime, recognized: bool = False
) -> None:
    events = [event(f"{call_id}-r", "call.received", iso(t0), call_id=call_id)]
    if recognized:
        events.append(
            event(f"{call_id}-o", "ohca.recognized", iso(t0 + timedelta(seconds=40)), call_id)
        )
    response = await client.post("/api/v1/events", json=events)
    assert response.status_code == 200, response.text


async def post_nemsis(client: httpx.AsyncClient, body: bytes, **params: str) -> dict[str, Any]:
    response = await client.post("/api/v1/ems/nemsis", content=body, headers=XML, params=params)
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result


async def ems_outcome(client: httpx.AsyncClient, call_id: str) -> dict[str, Any] | None:
    response = await client.get(f"/api/v1/calls/A/{call_id}/audit")
    assert response.status_code == 200, response.text
    outcome: dict[str, Any] | None = response.json()["ems_outcome"]
    return outcome


async def reports(client: httpx.AsyncClient, status: str) -> list[dict[str, Any]]:
    response = await client.get("/api/v1/ems/reports", params={"agency": "A", "status": status})
    assert response.status_code == 200, response.text
    found: list[dict[str, Any]] = response.json()["reports"]
    return found


async def test_each_match_rule(server: Server) -> None:
    adapter, qi = await server.client("adapter"), await server.client("qi")
    async with adapter, qi:
        await call(adapter, "C-CAD", T)
        await call(adapter, "INC-1", T + timedelta(hours=1))
        await call(adapter, "C-TIME", T + timedelta(hours=2))
        body = dataset(
            pcr("P1", cad="C-CAD", incident="INC-1", psap=T + timedelta(hours=2)),
            pcr("P2", cad="UNIT-77", incident="INC-1", psap=T),
            # 4 min 59 s after C-TIME's T0 and over an hour from the others.
            pcr("P3", psap=T + timedelta(hours=2, minutes=4, seconds=59), arrest="3001005"),
        )
        result = await post_nemsis(qi, body)
        got = [(r["pcr_key"], r["match"], r["matched_by"], r["status"]) for r in result["reports"]]
        assert got == [
            ("P1", "C-CAD", "eDispatch.06", "accepted"),
            ("P2", "INC-1", "eResponse.03", "accepted"),
            ("P3", "C-TIME", "eTimes.01", "accepted"),
        ]
        p3 = result["reports"][2]["outcome"]
        assert (p3["ohca"], p3["resuscitation_attempted"], p3["ems_witnessed"]) == (
            True,
            True,
            True,
        )
        outcome = await ems_outcome(qi, "C-CAD")
        assert outcome is not None and outcome["pcr_key"] == "P1"
        assert outcome["pre_arrival_instructions"] is True
        assert (await ems_outcome(qi, "C-TIME") or {}).get("ems_witnessed") is True


async def test_ambiguous_time_is_unmatched_then_linked_by_hand(server: Server) -> None:
    adapter, qi, supervisor = (
        await server.client("adapter"),
        await server.client("qi"),
        await server.client("supervisor"),
    )
    async with adapter, qi, supervisor:
        await call(adapter, "C-1", T)
        await call(adapter, "C-2", T + timedelta(minutes=3))
        await call(adapter, "C-3", T + timedelta(minutes=20))
        result = await post_nemsis(qi, dataset(pcr("P-AMB", psap=T + timedelta(minutes=1))))
        (only,) = result["reports"]
        assert (only["match"], only["matched_by"], only["status"]) == (
            "unmatched",
            None,
            "unmatched",
        )
        assert only["candidates"] == ["C-1", "C-2"]
        assert await ems_outcome(qi, "C-1") is None

        (waiting,) = await reports(supervisor, "unmatched")
        assert (waiting["pcr_key"], waiting["status"], waiting["call_id"]) == (
            "P-AMB",
            "unmatched",
            None,
        )
        assert waiting["candidates"] == ["C-1", "C-2"]
        assert waiting["psap_call_at"] is not None

        link = f"/api/v1/ems/reports/{waiting['id']}/link"
        missing = await qi.post(link, json={"call_id": "C-404"})
        assert missing.status_code == 422 and missing.json()["field"] == "call_id"
        assert (await supervisor.post(link, json={"call_id": "C-2"})).status_code == 403
        linked = await qi.post(link, json={"call_id": "C-2"})
        assert linked.status_code == 200, linked.text
        body = linked.json()
        assert (body["match"], body["matched_by"], body["status"]) == ("C-2", "hand", "accepted")
        assert body["linked_by"] == "qi:test-qi"
        assert (await ems_outcome(qi, "C-2") or {}).get("pcr_key") == "P-AMB"

        assert await reports(qi, "unmatched") == []
        (matched,) = await reports(qi, "matched")
        assert (matched["call_id"], matched["matched_by"], matched["linked_by"]) == (
            "C-2",
            "hand",
            "qi:test-qi",
        )
        again = await qi.post(link, json={"call_id": "C-2"})
        assert again.status_code == 200 and again.json()["status"] == "duplicate"
        elsewhere = await qi.post(link, json={"call_id": "C-3"})
        assert elsewhere.status_code == 409 and elsewhere.json()["field"] == "call_id"
        assert (
            await qi.post("/api/v1/ems/reports/999999/link", json={"call_id": "C-3"})
        ).status_code == 404
        # An id no database integer holds is refused naming it, not a 500.
        huge = "/api/v1/ems/reports/99999999999999999999"
        for response in (await qi.get(huge), await qi.post(f"{huge}/link", json={"call_id": "C"})):
            assert response.status_code == 422, response.text
            assert response.json()["detail"][0]["loc"] == ["path", "report_id"]
        # A re-import keeps the person's link.
        result = await post_nemsis(qi, dataset(pcr("P-AMB", psap=T + timedelta(minutes=1))))
        assert [(r["match"], r["matched_by"], r["status"]) for r in result["reports"]] == [
            ("C-2", "hand", "duplicate")
        ]


async def test_reimport_is_duplicate_and_a_correction_wins(server: Server) -> None:
    adapter, qi = await server.client("adapter"), await server.client("qi")
    async with adapter, qi:
        await call(adapter, "C-1", T)
        original = dataset(pcr("P-1", cad="C-1", psap=T, back_in_service=T + timedelta(hours=1)))
        first = await post_nemsis(adapter, original)
        assert first["reports"][0]["status"] == "accepted"
        second = await post_nemsis(adapter, original)
        assert second["reports"][0]["status"] == "duplicate"
        assert second["reports"][0]["event_id"] == first["reports"][0]["event_id"]
        # The corrected report: the arrest was after EMS arrival after all.
        corrected = dataset(
            pcr("P-1", cad="C-1", psap=T, arrest="3001005", back_in_service=T + timedelta(hours=1))
        )
        third = await post_nemsis(qi, corrected)
        assert third["reports"][0]["status"] == "accepted"
        assert third["reports"][0]["event_id"] != first["reports"][0]["event_id"]
        assert (await ems_outcome(qi, "C-1") or {}).get("ems_witnessed") is True
        assert len(await reports(qi, "all")) == 1  # one row per report, updated in place
        events = await server.services.store.call_events("A", "C-1")
        outcomes = [e for e in events if e.kind == "ems.outcome"]
        assert len(outcomes) == 2
        assert {e.source for e in outcomes} == {"ems"}
        assert {e.at for e in outcomes} == {T + timedelta(hours=1)}  # eTimes.13, the latest time

        # A report without a single time takes its call's T0, so it too re-imports as duplicate.
        await call(adapter, "C-2", T + timedelta(hours=3))
        timeless = dataset(pcr("P-2", cad="C-2"))
        assert [r["status"] for r in (await post_nemsis(qi, timeless))["reports"]] == ["accepted"]
        assert [r["status"] for r in (await post_nemsis(qi, timeless))["reports"]] == ["duplicate"]
        events = await server.services.store.call_events("A", "C-2")
        assert [e.at for e in events if e.kind == "ems.outcome"] == [T + timedelta(hours=3)]


async def test_the_measures_population_changes_after_import(server: Server) -> None:
    if not SAMPLES.is_dir():
        pytest.skip(f"the shared NEMSIS samples are not at {SAMPLES} (CI has ../shared)")
    adapter, qi = await server.client("adapter"), await server.client("qi")
    t0 = datetime(2021, 10, 6, 10, 47, 53, tzinfo=timezone(timedelta(hours=-7)))
    async with adapter, qi:
        await call(adapter, "20211006-0847", t0, recognized=True)
        await call(
            adapter,
            "LC23-18308",
            datetime(2023, 10, 9, 17, 58, 2, tzinfo=timezone(timedelta(hours=-6))),
            recognized=True,
        )
        params = {"agency": "A", "from": "2021-01-01", "to": "2024-01-01"}
        before = (await qi.get("/api/v1/measures", params=params)).json()
        assert (before["calls_in_period"], before["population"]) == (2, 0)
        for name in ("2022-EMS-1-Cardiac-Transport_v350.xml", "2024-EMS-3-MCI-Arrest_v350.xml"):
            result = await post_nemsis(qi, (SAMPLES / name).read_bytes())
            assert result["reports"][0]["matched_by"] == "eDispatch.06"
        after = (await qi.get("/api/v1/measures", params=params)).json()
        # EMS-1 (arrest before EMS, resuscitation attempted) joins; EMS-3 is EMS-witnessed.
        assert after["population"] == 1
        assert after["recognition_rate"]["numerator"] == 1
        assert after["outside_population"].get("ems_witnessed") == 1
        outcome = await ems_outcome(qi, "20211006-0847")
        assert outcome is not None and outcome["cpr_before_call"] is True


async def test_a_report_waiting_for_its_call_is_matched_when_it_arrives(server: Server) -> None:
    adapter, qi = await server.client("adapter"), await server.client("qi")
    async with adapter, qi:
        result = await post_nemsis(adapter, dataset(pcr("P-EARLY", cad="C-LATE", psap=T)))
        assert result["reports"][0]["status"] == "unmatched"
        assert [r["pcr_key"] for r in await reports(qi, "unmatched")] == ["P-EARLY"]
        await call(adapter, "C-LATE", T + timedelta(minutes=30))
        assert await reports(qi, "unmatched") == []
        (matched,) = await reports(qi, "matched")
        assert (matched["call_id"], matched["matched_by"], matched["linked_by"]) == (
            "C-LATE",
            "eDispatch.06",
            None,
        )
        assert (await ems_outcome(qi, "C-LATE") or {}).get("pcr_key") == "P-EARLY"
        rematch = await adapter.post("/api/v1/ems/reports/rematch", params={"agency": "A"})
        assert rematch.status_code == 200 and rematch.json()["reports"] == []


async def test_roles_agencies_and_authentication(server: Server) -> None:
    body = dataset(pcr("P-R", cad="C-R", psap=T))
    clients = {
        role: await server.client(role)
        for role in ("telecommunicator", "supervisor", "qi", "admin", "adapter")
    }
    foreign = await server.client("admin", "B")
    both = await server.client("qi", "A", "B")
    anonymous = httpx.AsyncClient(base_url=server.url)
    try:
        post = "/api/v1/ems/nemsis"
        for role, client in clients.items():
            status = (await client.post(post, content=body, headers=XML)).status_code
            assert status == (200 if role in ("qi", "admin", "adapter") else 403), role
            listing = await client.get("/api/v1/ems/reports", params={"agency": "A"})
            assert listing.status_code == (200 if role in ("supervisor", "qi", "admin") else 403)
        assert (
            await foreign.post(post, content=body, headers=XML, params={"agency": "A"})
        ).status_code == 403
        assert (await foreign.get("/api/v1/ems/reports", params={"agency": "A"})).status_code == 403
        (report,) = await reports(clients["qi"], "all")
        link = f"/api/v1/ems/reports/{report['id']}/link"
        assert (await foreign.post(link, json={"call_id": "C-R"})).status_code == 403
        assert (await foreign.get(f"/api/v1/ems/reports/{report['id']}")).status_code == 403
        one = await clients["supervisor"].get(f"/api/v1/ems/reports/{report['id']}")
        assert one.status_code == 200 and "<eRecord.01>P-R</eRecord.01>" in one.json()["document"]
        # A token of two agencies must name one.
        ambiguous = await both.post(post, content=body, headers=XML)
        assert ambiguous.status_code == 422 and ambiguous.json()["field"] == "agency"
        assert (
            await both.post(post, content=body, headers=XML, params={"agency": "B"})
        ).status_code == 200
        for method, path in (
            ("POST", post),
            ("GET", "/api/v1/ems/reports?agency=A"),
            ("GET", f"/api/v1/ems/reports/{report['id']}"),
            ("POST", link),
            ("POST", "/api/v1/ems/reports/rematch?agency=A"),
            ("GET", "/api/v1/exports/nemsis-linkage?agency=A"),
        ):
            response = await anonymous.request(method, path, content=body, headers=XML)
            assert response.status_code == 401, (method, path)
    finally:
        for client in (*clients.values(), foreign, both, anonymous):
            await client.aclose()


async def test_bad_documents_are_refused_and_kept(server: Server) -> None:
    qi, admin = await server.client("qi"), await server.client("admin")
    async with qi, admin:
        broken = dataset(pcr("P-B", cad="C-B", psap=T)).replace(b"</eRecord>", b"", 1)
        response = await qi.post("/api/v1/ems/nemsis", content=broken, headers=XML)
        assert response.status_code == 422
        assert "line" in response.json()["detail"]
        bad_code = dataset(pcr("P-C", cad="C-B", psap=T, arrest="3001999"))
        response = await qi.post("/api/v1/ems/nemsis", content=bad_code, headers=XML)
        assert response.status_code == 422
        assert response.json()["field"] == "eArrest.01"
        wrong_type = await qi.post(
            "/api/v1/ems/nemsis", content=bad_code, headers={"Content-Type": "application/json"}
        )
        assert wrong_type.status_code == 415 and wrong_type.json()["field"] == "Content-Type"
        kept = (await admin.get("/api/v1/rejects", params={"agency": "A"})).json()["rejects"]
        assert [(r["status"], r["endpoint"]) for r in kept] == [
            (415, "/api/v1/ems/nemsis"),
            (422, "/api/v1/ems/nemsis"),
            (422, "/api/v1/ems/nemsis"),
        ]
        assert kept[1]["field"] == "eArrest.01" and "3001999" in kept[1]["body"]
        assert kept[2]["body"] == broken.decode()
        assert await reports(qi, "all") == []


async def test_ems_outcome_extras_through_the_events_api(server: Server) -> None:
    qi = await server.client("qi")
    async with qi:
        data = {
            "ohca": True,
            "resuscitation_attempted": True,
            "ems_witnessed": False,
            "cpr_before_call": True,
            "cpr_started_at": "2026-02-01T07:59:00-06:00",
        }
        ok = await qi.post(
            "/api/v1/events", json=event("o1", "ems.outcome", iso(T), data=data, source="ems")
        )
        assert ok.status_code == 200, ok.text
        bad = dict(data, cpr_started_at="2026-02-01T07:59:00")
        refused = await qi.post("/api/v1/events", json=event("o2", "ems.outcome", iso(T), data=bad))
        assert refused.status_code == 422
        assert refused.json()["field"] == "data.cpr_started_at"
