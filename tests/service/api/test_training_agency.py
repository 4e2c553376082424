"""A training agency (`"training": true`) over real HTTP on SQLite and PostgreSQL: its calls reach
no real agency's measures, reports, exports, EMS linkage or feedback; named with other agencies it
is refused naming `agency`; alone it is reported marked `"training": true` and never exported;
the board's websocket marks its calls."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from typing import Any

import httpx
import pytest
from support.harness import Panel, Server, at, event, service_settings, start_server

AGENCIES = {"KCE": {"zone": "America/Chicago"}, "KCE-TRAIN": {"training": True}}
BOTH = ("KCE", "KCE-TRAIN")
PERIOD = {"from": "2026-02-01", "to": "2026-03-01"}
REAL_T0 = datetime.fromisoformat("2026-02-10T14:00:00-06:00")
TRAINING_T0 = datetime.fromisoformat("2026-02-10T16:00:00-06:00")
POPULATION = {
    "ohca": True,
    "resuscitation_attempted": True,
    "ems_witnessed": False,
    "rosc": True,
    "age_years": 67,
    "sex": "female",
}


@pytest.fixture
async def server(migrated_database_url: str) -> AsyncIterator[Server]:
    running = await start_server(service_settings(migrated_database_url, agencies=AGENCIES))
    try:
        yield running
    finally:
        await running.stop()


async def named(server: Server, role: str, name: str, *agencies: str) -> httpx.AsyncClient:
    token = await server.services.tokens.create(role, list(agencies), name)
    return httpx.AsyncClient(
        base_url=server.url, headers={"Authorization": f"Bearer {token}"}, timeout=30
    )


def arrest_call(call_id: str, agency: str, t0: datetime, tc: str = "tc-1") -> list[dict[str, Any]]:
    """An arrest as a CAD and a console send it: agonal breathing recognised at 55 s, compressions
    from 110 s, EMS on scene, the patient-care outcome, and a signed-off review with feedback."""
    out: list[dict[str, Any]] = []

    def add(kind: str, seconds: float, **extra: Any) -> None:
        when = (t0 + timedelta(seconds=seconds)).isoformat()
        out.append(event(f"{call_id}-{len(out)}", kind, when, call_id, agency, **extra))

    console = {"source": "console", "actor": tc}
    add("call.received", 0, data={"psap": "KC-911", "area": "64106"})
    add("call.answered", 6, actor=tc)
    add("triage.conscious", 35, **console, data={"answer": "no"})
    add("triage.breathing", 55, **console, data={"answer": "no", "agonal": True})
    add("unit.dispatched", 60, data={"unit": "M12"})
    add("tcpr.started", 70, **console, data={"variant": "adult", "language": "en"})
    add("tcpr.first_compression", 110, **console)
    add("unit.on_scene", 480, data={"unit": "M12"})
    add("call.ended", 600)
    add("ems.outcome", 3600, source="ems", data=POPULATION)
    return out


def review(call_id: str, agency: str, t0: datetime) -> dict[str, Any]:
    when = (t0 + timedelta(days=1)).isoformat()
    data = {"recognizable": True, "feedback": f"{call_id}: good work", "signed_off": True}
    return event(
        f"{call_id}-rev", "qi.review", when, call_id, agency, source="qi", actor="rev-1", data=data
    )


def refused_naming_agency(response: httpx.Response, *words: str) -> None:
    assert response.status_code == 422, (response.request.url, response.text)
    body = response.json()
    detail = body["detail"]
    field, text = (
        (detail["field"], detail["detail"]) if isinstance(detail, dict) else (body["field"], detail)
    )
    assert field == "agency"
    for word in ("KCE-TRAIN is a training agency", *words):
        assert word in text, text


def nemsis_report(key: str, *, cad: str, psap: datetime) -> bytes:
    """A NEMSIS EMSDataSet with one arrest report (only what the importer reads)."""
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<EMSDataSet xmlns="http://www.nemsis.org" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
<Header><DemographicGroup><dAgency.01>1</dAgency.01><dAgency.02>A1</dAgency.02>
<dAgency.04>29</dAgency.04></DemographicGroup>
<PatientCareReport UUID="{key}-uuid"><eRecord><eRecord.01>{key}</eRecord.01></eRecord>
<eResponse><eResponse.03 xsi:nil="true" NV="7701003"/></eResponse>
<eDispatch><eDispatch.01>2301019</eDispatch.01><eDispatch.02>2302003</eDispatch.02>
<eDispatch.06>{cad}</eDispatch.06></eDispatch>
<eTimes><eTimes.01>{psap.isoformat()}</eTimes.01></eTimes>
<eArrest><eArrest.01>3001003</eArrest.01><eArrest.03>3003005</eArrest.03></eArrest>
</PatientCareReport></Header></EMSDataSet>""".encode()


# Every read of a real agency that a training call could reach: JSON answers and files.
REAL_READS: list[tuple[str, dict[str, str]]] = [
    ("/api/v1/measures", {}),
    ("/api/v1/measures", {"format": "csv"}),
    ("/api/v1/measures/breakdown", {"by": "telecommunicator"}),
    ("/api/v1/measures/breakdown", {"by": "language", "format": "csv"}),
    ("/api/v1/measures/trend", {}),
    ("/api/v1/exports/measures.csv", {}),
    ("/api/v1/measures/telecommunicators", {}),
    ("/api/v1/measures/recognition", {}),
    ("/api/v1/exports/cares.csv", {}),
    ("/api/v1/exports/audits.csv", {}),
    ("/api/v1/exports/nemsis-linkage", {}),
    ("/api/v1/audits", {}),
]


async def real_answers(qi: httpx.AsyncClient, tc: httpx.AsyncClient) -> list[str]:
    """What KCE's QI staff and telecommunicator read of February (the body of each answer)."""
    answers = []
    for path, extra in REAL_READS:
        response = await qi.get(path, params={"agency": "KCE", **PERIOD, **extra})
        assert response.status_code == 200, (path, response.text)
        answers.append(response.text)
    summary = await qi.get("/api/v1/summary", params={"agency": "KCE", **PERIOD})
    assert summary.status_code == 200, summary.text
    feedback = await tc.get("/api/v1/feedback")
    assert feedback.status_code == 200, feedback.text
    return [*answers, summary.text, feedback.text]


async def test_training_calls_reach_no_real_agency_read(server: Server) -> None:
    adapter = await server.client("adapter", *BOTH)
    qi = await server.client("qi", *BOTH)
    # The trainee practises under the same name they take real calls with.
    tc = await named(server, "telecommunicator", "tc-1", *BOTH)
    async with adapter, qi, tc:
        real = [*arrest_call("KCE-1", "KCE", REAL_T0), review("KCE-1", "KCE", REAL_T0)]
        assert (await adapter.post("/api/v1/events", json=real[:-1])).status_code == 200
        reviewed = await qi.post("/api/v1/events", json=real[-1:])
        assert reviewed.status_code == 200, reviewed.text
        before = await real_answers(qi, tc)
        assert '"population":1' in before[0].replace(" ", "")  # the real arrest is measured

        scenario = arrest_call("TRAIN-1", "KCE-TRAIN", TRAINING_T0)
        assert (await adapter.post("/api/v1/events", json=scenario)).status_code == 200
        posted = await qi.post("/api/v1/events", json=[review("TRAIN-1", "KCE-TRAIN", TRAINING_T0)])
        assert posted.status_code == 200

        assert await real_answers(qi, tc) == before

        # Alone, the training agency is measured like any other, and says it is training.
        alone = {"agency": "KCE-TRAIN", **PERIOD}
        measures = (await qi.get("/api/v1/measures", params=alone)).json()
        assert (measures["training"], measures["population"], measures["agency"]) == (
            True,
            1,
            "KCE-TRAIN",
        )
        assert measures["reviewed"]["recognition_rate"]["numerator"] == 1
        for path, extra in [
            ("/api/v1/measures/trend", {}),
            ("/api/v1/measures/breakdown", {"by": "telecommunicator"}),
            ("/api/v1/measures/telecommunicators", {}),
            ("/api/v1/measures/recognition", {}),
            ("/api/v1/audits", {}),
            ("/api/v1/summary", {}),
        ]:
            response = await qi.get(path, params={**alone, **extra})
            assert response.status_code == 200, (path, response.text)
            assert response.json()["training"] is True, path
        audit = await qi.get("/api/v1/calls/KCE-TRAIN/TRAIN-1/audit")
        assert audit.json()["recognized"] is True
        assert audit.json()["training"] is True
        real = await qi.get("/api/v1/calls/KCE/KCE-1/audit")
        assert real.json()["training"] is False

        # The trainee's practice reviews only when asked for by the training agency's name.
        [practice] = (await tc.get("/api/v1/feedback", params={"agency": "KCE-TRAIN"})).json()
        assert (practice["call_id"], practice["training"]) == ("TRAIN-1", True)
        [own] = (await tc.get("/api/v1/feedback")).json()
        assert (own["call_id"], own["training"]) == ("KCE-1", False)


async def test_a_training_agency_named_with_others_or_exported_is_refused(server: Server) -> None:
    adapter = await server.client("adapter", *BOTH)
    qi = await server.client("qi", *BOTH)
    async with adapter, qi:
        scenario = arrest_call("TRAIN-1", "KCE-TRAIN", TRAINING_T0)
        assert (await adapter.post("/api/v1/events", json=scenario)).status_code == 200

        both = {"agency": ["KCE", "KCE-TRAIN"], **PERIOD}
        for path, extra in [
            ("/api/v1/measures", {}),
            ("/api/v1/measures", {"format": "csv"}),
            ("/api/v1/measures/breakdown", {"by": "agency"}),
            ("/api/v1/measures/trend", {}),
            ("/api/v1/exports/measures.csv", {}),
            ("/api/v1/measures/telecommunicators", {}),
            ("/api/v1/measures/recognition", {}),
            ("/api/v1/exports/cares.csv", {}),
        ]:
            response = await qi.get(path, params={**both, **extra})
            refused_naming_agency(response, "kept out of real measures")
        # The order named changes nothing.
        response = await qi.get("/api/v1/measures", params={**PERIOD, "agency": BOTH[::-1]})
        refused_naming_agency(response, "report on it alone")

        alone = {"agency": "KCE-TRAIN", **PERIOD}
        for path, extra in [
            ("/api/v1/measures", {"format": "csv"}),
            ("/api/v1/measures/breakdown", {"by": "language", "format": "csv"}),
            ("/api/v1/exports/measures.csv", {}),
            ("/api/v1/exports/cares.csv", {}),
            ("/api/v1/exports/audits.csv", {}),
            ("/api/v1/exports/audits.json", {}),
            ("/api/v1/exports/nemsis-linkage", {}),
        ]:
            response = await qi.get(path, params={**alone, **extra})
            refused_naming_agency(response, "never leave the service")


async def test_ems_linkage_never_reaches_a_training_call(server: Server) -> None:
    adapter = await server.client("adapter", *BOTH)
    qi = await server.client("qi", *BOTH)
    xml = {"Content-Type": "application/xml"}
    async with adapter, qi:
        scenario = arrest_call("TRAIN-1", "KCE-TRAIN", TRAINING_T0)[:-1]  # no outcome yet
        assert (await adapter.post("/api/v1/events", json=scenario)).status_code == 200
        report = nemsis_report("P1", cad="TRAIN-1", psap=TRAINING_T0)

        posted = await qi.post(
            "/api/v1/ems/nemsis", content=report, headers=xml, params={"agency": "KCE-TRAIN"}
        )
        refused_naming_agency(posted, "no EMS patient care report")
        async with await server.client("admin", *BOTH) as admin:
            rejects = await admin.get("/api/v1/rejects", params={"agency": "KCE-TRAIN"})
        assert "training agency" in rejects.text  # kept, with the document, for a person

        # For the real agency the report names the training call's id and time: it waits.
        posted = await qi.post(
            "/api/v1/ems/nemsis", content=report, headers=xml, params={"agency": "KCE"}
        )
        assert posted.status_code == 200, posted.text
        assert [r["match"] for r in posted.json()["reports"]] == ["unmatched"]
        audit = (await qi.get("/api/v1/calls/KCE-TRAIN/TRAIN-1/audit")).json()
        assert audit["ems_outcome"] is None


async def test_roles_and_agencies_still_hold_for_a_training_agency(server: Server) -> None:
    real_only = await server.client("qi", "KCE")
    tc = await server.client("telecommunicator", *BOTH)
    async with real_only, tc, httpx.AsyncClient(base_url=server.url) as nobody:
        alone = {"agency": "KCE-TRAIN", **PERIOD}
        assert (await real_only.get("/api/v1/measures", params=alone)).status_code == 403
        assert (await tc.get("/api/v1/measures", params=alone)).status_code == 403
        assert (await nobody.get("/api/v1/measures", params=alone)).status_code == 401
        # A token that does not hold the training agency is refused it before anything else.
        both = {"agency": ["KCE", "KCE-TRAIN"], **PERIOD}
        assert (await real_only.get("/api/v1/measures", params=both)).status_code == 403


@pytest.mark.parametrize("database", ["sqlite"])
async def test_the_board_is_told_which_calls_are_training(server: Server) -> None:
    adapter = await server.client("adapter", *BOTH)
    board = await Panel.open(server, await server.token("supervisor", *BOTH))
    real_board = await Panel.open(server, await server.token("supervisor", "KCE"))
    qi = await server.client("qi", *BOTH)
    try:
        snapshot = await board.next(type="snapshot")
        assert snapshot["training_agencies"] == ["KCE-TRAIN"]
        assert (await real_board.next(type="snapshot"))["training_agencies"] == []
        me = (await qi.get("/api/v1/session")).json()
        assert (me["agencies"], me["training_agencies"]) == (["KCE", "KCE-TRAIN"], ["KCE-TRAIN"])
        assert (await qi.get("/api/v1/qi/me")).json()["training_agencies"] == ["KCE-TRAIN"]
        today = {"from": at(3600)}
        summary_before = (await qi.get("/api/v1/summary", params={"agency": "KCE", **today})).json()

        live = [
            event("t-r", "call.received", at(40), "TRAIN-9", "KCE-TRAIN", data={"psap": "P"}),
            event("k-r", "call.received", at(30), "KCE-9", "KCE", data={"psap": "P"}),
        ]
        assert (await adapter.post("/api/v1/events", json=live)).status_code == 200
        training = await board.next(type="call", call_id="TRAIN-9")
        real = await board.next(type="call", call_id="KCE-9")
        assert (training["call"]["training"], real["call"]["training"]) == (True, False)
        await real_board.next(type="call", call_id="KCE-9")
        assert not [m for m in real_board.messages if m.get("call_id") == "TRAIN-9"]

        summary = (await qi.get("/api/v1/summary", params={"agency": "KCE", **today})).json()
        assert summary["calls"] == summary_before["calls"] + 1  # the real call, not the scenario
        assert summary["training"] is False
    finally:
        await board.close()
        await real_board.close()
        await adapter.aclose()
        await qi.aclose()


async def test_training_is_entered_for_the_persons_own_agency_not_a_training_one(
    server: Server,
) -> None:
    body = {
        "person": "dana",
        "category": "continuing",
        "kind": "classroom",
        "title": "Agonal breathing refresher",
        "minutes": 60,
        "taken_at": "2026-02-02",
    }
    async with await named(server, "supervisor", "sgt-lee", *BOTH) as sup:
        refused = await sup.post("/api/v1/training/records", json={**body, "agency": "KCE-TRAIN"})
        assert refused.status_code == 422
        assert refused.json()["detail"]["field"] == "agency"
        stored = await sup.post("/api/v1/training/records", json={**body, "agency": "KCE"})
        assert stored.status_code == 201
        hours = (await sup.get("/api/v1/training/hours", params={"agency": "KCE"})).json()
    (dana,) = [p for p in hours["people"] if p["person"] == "dana"]
    assert [r["minutes"] for r in dana["records"]] == [60]
