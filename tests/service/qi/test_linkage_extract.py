"""The NEMSIS-aligned linkage extract: the pure builder, then GET /api/v1/exports/nemsis-linkage
over real HTTP. Validity is checked against the shared NEMSIS v3.5.1 XSD when ../shared is
present; the structural facts (namespace, times, codes, ids) are checked always."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import httpx
import pytest
from lxml import etree
from support.harness import Server, event
from support.paths import SHARED

from contract.event import Event
from service.qi.linkage_extract import ExtractAgency, build, emd_determinant, pcr_uuid
from service.triage.state import fold

XSD = SHARED / "standards" / "nemsis" / "xsd_v3.5.1" / "EMSDataSet_v3.xsd"
NS = {"n": "http://www.nemsis.org"}
EST = timezone(timedelta(hours=-5))
T = datetime(2026, 3, 1, 10, 0, tzinfo=EST)


def assert_valid(document: bytes) -> None:
    if not XSD.is_file():
        pytest.skip(f"the NEMSIS XSDs are not at {XSD} (CI has ../shared)")
    schema = etree.XMLSchema(etree.parse(str(XSD)))
    root = etree.fromstring(document)
    assert schema.validate(root), [f"{e.line}: {e.message}" for e in schema.error_log]


def text(pcr: etree._Element, path: str) -> str | None:
    found = pcr.find("/".join(f"n:{step}" for step in path.split("/")), NS)
    return found.text if found is not None else None


def nv(pcr: etree._Element, path: str) -> str | None:
    found = pcr.find("/".join(f"n:{step}" for step in path.split("/")), NS)
    assert found is not None, path
    return found.get("NV")


def timeline(call_id: str, t0: datetime, *steps: tuple[str, float, dict[str, str]]) -> list[Event]:
    events = [Event(f"{call_id}-0", call_id, "A", "call.received", t0, arrival=1)]
    for i, (kind, seconds, data) in enumerate(steps, start=2):
        events.append(
            Event(
                f"{call_id}-{i}",
                call_id,
                "A",
                kind,
                t0 + timedelta(seconds=seconds),
                data=data,
                arrival=i,
            )
        )
    return events


def test_builder_writes_the_cad_times_and_codes() -> None:
    arrest = fold(
        "A",
        "911-0042",
        timeline(
            "911-0042",
            T,
            ("call.answered", 6.5, {}),
            ("call.nature", 20, {"code": "09-E-01"}),
            ("unit.dispatched", 45, {"unit": "M12"}),
            ("tcpr.started", 70, {}),
            ("unit.on_scene", 400, {"unit": "M12"}),
        ),
    )
    transferred = fold(
        "A",
        "911-0043",
        timeline(
            "911-0043",
            T + timedelta(hours=1),
            ("call.transferred", 12, {"to": "PSAP-2"}),
            ("call.answered", 20, {}),
            ("triage.conscious", 30, {"answer": "yes"}),
            ("call.nature", 35, {"code": "26-A-01"}),
            ("unit.dispatched", 90, {"unit": "E7"}),
        ),
    )
    no_unit = fold("A", "911-0044", timeline("911-0044", T, ("call.answered", 5, {})))
    extract = build(ExtractAgency("STATE-ID-1", "A", "29", "1.0"), [transferred, no_unit, arrest])
    assert (extract.calls, extract.left_out) == (2, 1)
    root = etree.fromstring(extract.document)
    assert root.tag == "{http://www.nemsis.org}EMSDataSet"
    first, second = root.findall("n:Header/n:PatientCareReport", NS)
    # In T0 order, whatever the input order.
    assert first.get("UUID") == str(pcr_uuid("A", "911-0042"))
    assert text(first, "eRecord/eRecord.01") == "CAD-911-0042"
    assert text(first, "eTimes/eTimes.01") == "2026-03-01T10:00:00-05:00"
    assert text(first, "eTimes/eTimes.02") == "2026-03-01T10:00:06.500000-05:00"  # answered
    assert text(first, "eTimes/eTimes.03") == "2026-03-01T10:00:45-05:00"
    assert text(first, "eTimes/eTimes.06") == "2026-03-01T10:06:40-05:00"
    assert text(first, "eDispatch/eDispatch.01") == "2301019"  # MPDS 9: Cardiac Arrest/Death
    assert text(first, "eDispatch/eDispatch.02") == "2302003"  # T-CPR started: with PAI
    assert text(first, "eDispatch/eDispatch.03") == "9E1"
    assert text(first, "eDispatch/eDispatch.06") == "911-0042"
    assert text(first, "eResponse/eResponse.03") == "911-0042"
    assert text(first, "eResponse/eResponse.13") == "M12"
    assert nv(first, "eArrest/eArrest.01") == "7701003"
    assert nv(first, "eTimes/eTimes.05") == "7701003"

    assert text(second, "eTimes/eTimes.01") == "2026-03-01T11:00:00-05:00"
    assert text(second, "eTimes/eTimes.02") == "2026-03-01T11:00:12-05:00"  # the transfer
    assert text(second, "eTimes/eTimes.03") == "2026-03-01T11:01:30-05:00"
    assert nv(second, "eTimes/eTimes.06") == "7701003"
    assert text(second, "eDispatch/eDispatch.01") == "2301061"  # MPDS 26: Sick Person
    assert text(second, "eDispatch/eDispatch.02") == "2302005"  # questions, no PAI
    assert_valid(extract.document)


def test_determinant_codes() -> None:
    assert emd_determinant("09-E-01") == "9E1"
    assert emd_determinant("9D1") == "9D1"
    assert emd_determinant("26-A-01x") == "26A1X"
    assert emd_determinant("CARDIAC") is None
    assert emd_determinant(None) is None


async def post(client: httpx.AsyncClient, events: list[dict[str, object]]) -> None:
    response = await client.post("/api/v1/events", json=events)
    assert response.status_code == 200, response.text


def at(t: datetime, seconds: float = 0) -> str:
    return (t + timedelta(seconds=seconds)).isoformat()


async def test_extract_over_http(server: Server) -> None:
    adapter, qi, supervisor = (
        await server.client("adapter"),
        await server.client("qi"),
        await server.client("supervisor"),
    )
    async with adapter, qi, supervisor:
        await post(
            adapter,
            [
                event("a1", "call.received", at(T), call_id="C-1"),
                event("a2", "call.answered", at(T, 8), call_id="C-1"),
                event("a3", "unit.dispatched", at(T, 50), call_id="C-1", data={"unit": "M1"}),
                event("b1", "call.received", at(T, 3600), call_id="C-2"),
                event("b2", "call.nature", at(T, 3620), call_id="C-2", data={"code": "31-D-02"}),
                event("b3", "unit.dispatched", at(T, 3660), call_id="C-2", data={"unit": "M2"}),
                event("c1", "call.received", at(T, 7200), call_id="C-3"),  # no unit
                event("d1", "call.received", at(T, 86400 * 3), call_id="C-4"),  # after the period
                event(
                    "d2",
                    "unit.dispatched",
                    at(T, 86400 * 3 + 30),
                    call_id="C-4",
                    data={"unit": "M4"},
                ),
            ],
        )
        # QI corrects C-1's T0 from the recording: the extract carries the corrected time.
        await post(
            qi,
            [
                event(
                    "q1",
                    "qi.review",
                    at(T, 600),
                    call_id="C-1",
                    source="qi",
                    data={"corrections": {"call.received": at(T, -4)}},
                )
            ],
        )
        params = {"agency": "A", "from": "2026-03-01", "to": "2026-03-02", "state": "29"}
        response = await qi.get("/api/v1/exports/nemsis-linkage", params=params)
        assert response.status_code == 200, response.text
        assert response.headers["content-type"].startswith("application/xml")
        assert response.headers["x-linkage-reports"] == "2"
        assert response.headers["x-linkage-left-out"] == "1"
        assert (
            "nemsis-linkage-A-20260301T000000_20260302T000000.xml"
            in response.headers["content-disposition"]
        )
        root = etree.fromstring(response.content)
        pcrs = root.findall("n:Header/n:PatientCareReport", NS)
        assert [text(p, "eDispatch/eDispatch.06") for p in pcrs] == ["C-1", "C-2"]
        assert text(root, "Header/DemographicGroup/dAgency.04") == "29"
        c1, c2 = pcrs
        assert text(c1, "eTimes/eTimes.01") == "2026-03-01T09:59:56-05:00"  # corrected T0
        assert text(c1, "eTimes/eTimes.02") == "2026-03-01T10:00:08-05:00"
        assert text(c1, "eTimes/eTimes.03") == "2026-03-01T10:00:50-05:00"
        assert text(c1, "eDispatch/eDispatch.01") == "2301051"  # no nature code, not recognised
        assert nv(c1, "eDispatch/eDispatch.02") == "7701003"
        assert text(c2, "eTimes/eTimes.01") == "2026-03-01T11:00:00-05:00"
        assert text(c2, "eTimes/eTimes.03") == "2026-03-01T11:01:00-05:00"
        assert text(c2, "eDispatch/eDispatch.01") == "2301077"  # MPDS 31: Unconscious/Fainting
        assert text(c2, "eDispatch/eDispatch.03") == "31D2"
        assert_valid(response.content)

        assert (
            await supervisor.get("/api/v1/exports/nemsis-linkage", params=params)
        ).status_code == 403
        empty = await qi.get(
            "/api/v1/exports/nemsis-linkage",
            params={"agency": "A", "from": "2025-01-01", "to": "2025-02-01"},
        )
        assert empty.status_code == 404
        backwards = await qi.get(
            "/api/v1/exports/nemsis-linkage",
            params={"agency": "A", "from": "2026-03-02", "to": "2026-03-01"},
        )
        assert backwards.status_code == 422
        bad_state = await qi.get(
            "/api/v1/exports/nemsis-linkage", params={"agency": "A", "state": "MO"}
        )
        assert bad_state.status_code == 422
