"""EMS linkage over HTTP (DESIGN.md §8): NEMSIS import, the reports waiting for a person, the
hand link, and the NEMSIS-aligned linkage extract of the CAD times.

A training agency's calls are scenarios no ambulance went to: a NEMSIS document posted for it is
refused (422 naming `agency`, kept in the reject store), reports are only ever matched within
their own agency, and its linkage extract is refused like every other export of it."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated, Any, Final, Literal

from fastapi import APIRouter, HTTPException, Path, Query, Request
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, ConfigDict

from contract import policy
from contract.fields import Id
from service import __version__
from service.api.access import ReadsDep
from service.api.deps import PrincipalDep, ServicesDep, require
from service.api.kept import KeepsRefusals
from service.api.periods import ordered, period_bound, real_only
from service.api.refusals import (
    AUTHENTICATED,
    document,
    refusal_response,
    refusals,
    unprocessable,
)
from service.api.uploads import Upload
from service.calls import call_states
from service.qi import nemsis
from service.qi.linkage_extract import ExtractAgency, build
from service.refused import Invalid, Refused
from service.store.ems import UNMATCHED, EmsReportStore, Recorded
from service.store.tables import EmsReportRow

router = APIRouter(responses=AUTHENTICATED, route_class=KeepsRefusals)
# Reading the reports is an audit read: supervisors, QI and admins (DESIGN.md §8).
READ_EMS: Final = policy.READ_AUDITS
XML_TYPES: Final = ("application/xml", "text/xml")
MAX_EXTRACT_CALLS: Final = 10_000
# Report ids are 64-bit database integers: a larger one is a bad id, not a database error.
ReportId = Annotated[int, Path(ge=1, le=2**63 - 1)]
XML_BODY: Final = {
    "requestBody": {
        "required": True,
        "content": {t: {"schema": {"type": "string"}} for t in XML_TYPES},
        "description": "A NEMSIS v3.5 EMSDataSet document",
    }
}


@router.post("/api/v1/ems/nemsis", openapi_extra=XML_BODY, responses=refusals(413, 415))
async def post_nemsis(
    request: Request,
    services: ServicesDep,
    agency: Annotated[str | None, Query(min_length=1, max_length=32)] = None,
) -> JSONResponse:
    """Import a NEMSIS EMSDataSet: each patient care report is matched to a call (eDispatch.06,
    eResponse.03, then eTimes.01 within 5 minutes) and its `ems.outcome` recorded, or kept
    unmatched for a person to link. Refusals are kept in the reject store with the body."""
    upload = Upload()
    try:
        target = await upload.receive(
            request,
            services,
            agency,
            policy.POST_NEMSIS,
            "NEMSIS documents",
            (XML_TYPES.__contains__, "application/xml or text/xml"),
        )
        if services.settings.is_training(target):
            raise Invalid(
                f"agency: {target} is a training agency; no EMS patient care report belongs "
                "to its calls",
                "agency",
                target,
            )
        try:
            reports = nemsis.parse(upload.body, max_bytes=services.settings.max_body_bytes)
        except nemsis.NemsisError as exc:
            raise Invalid(str(exc), exc.element or "body", target) from None
        store = EmsReportStore(services.sessions, services.store)
        results = [await store.record(target, report) for report in reports]
        return JSONResponse({"agency": target, "reports": [recorded_json(r) for r in results]})
    except Refused as refusal:
        return await upload.refused(services, request, refusal)


@router.get("/api/v1/ems/reports")
async def get_reports(
    principal: PrincipalDep,
    services: ServicesDep,
    reads: ReadsDep,
    agency: Annotated[str, Query(min_length=1, max_length=32)],
    status: Literal["unmatched", "matched", "all"] = "unmatched",
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
) -> dict[str, Any]:
    """The agency's reports, newest first. Waiting reports are first matched again, so one whose
    call arrived after it never waits for a person; those still waiting list their candidate
    calls (several calls within 5 minutes of eTimes.01)."""
    require(principal, READ_EMS, agency)
    await reads.record(agency, "ems.reports.read")
    store = EmsReportStore(services.sessions, services.store)
    candidates: dict[int, list[str]] = {}
    if status != "matched":
        for waiting in await store.rematch(agency):
            candidates[waiting.id] = list(waiting.candidates)
    rows = await store.reports(agency, status, limit)
    reports = []
    for row in rows:
        item = report_json(row)
        if row.call_id is None:
            item["candidates"] = candidates.get(row.id, [])
        reports.append(item)
    return {"agency": agency, "status": status, "reports": reports}


@router.post("/api/v1/ems/reports/rematch")
async def post_rematch(
    principal: PrincipalDep,
    services: ServicesDep,
    agency: Annotated[str, Query(min_length=1, max_length=32)],
) -> dict[str, Any]:
    """Match the agency's waiting reports again (e.g. after a CAD backfill)."""
    require(principal, policy.POST_NEMSIS, agency)
    store = EmsReportStore(services.sessions, services.store)
    return {"agency": agency, "reports": [recorded_json(r) for r in await store.rematch(agency)]}


async def _report_for(
    principal: PrincipalDep, services: ServicesDep, report_id: int, roles: frozenset[str]
) -> tuple[EmsReportStore, str]:
    if principal.role not in roles:
        raise HTTPException(403, f"role {principal.role} may not do this")
    store = EmsReportStore(services.sessions, services.store)
    row = await store.get(report_id)
    if row is None:
        raise HTTPException(404, {"field": "id", "detail": f"no EMS report {report_id}"})
    require(principal, roles, row.agency)
    return store, row.agency


@router.get("/api/v1/ems/reports/{report_id}", responses=refusals(404))
async def get_report(
    report_id: ReportId, principal: PrincipalDep, services: ServicesDep, reads: ReadsDep
) -> dict[str, Any]:
    """One report with the NEMSIS document it was read from."""
    store, agency = await _report_for(principal, services, report_id, READ_EMS)
    await reads.record(agency, "ems.report.read", str(report_id))
    row = await store.get(report_id)
    assert row is not None
    return report_json(row, document=True)


class LinkBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    call_id: Id


@router.post("/api/v1/ems/reports/{report_id}/link", responses=refusals(400, 404, 409))
async def post_link(
    report_id: ReportId, body: LinkBody, principal: PrincipalDep, services: ServicesDep
) -> JSONResponse:
    """Link a waiting report to a call by hand: its outcome is recorded on that call."""
    store, _ = await _report_for(principal, services, report_id, policy.LINK_EMS)
    try:
        recorded = await store.link(report_id, body.call_id, principal.label)
    except Refused as refusal:
        return refusal_response(refusal)
    row = await store.get(report_id)
    assert row is not None
    return JSONResponse({**recorded_json(recorded), "linked_by": row.linked_by})


@router.get(
    "/api/v1/exports/nemsis-linkage",
    response_class=Response,
    responses=refusals(404) | document("application/xml"),
)
async def get_linkage_extract(
    principal: PrincipalDep,
    services: ServicesDep,
    reads: ReadsDep,
    agency: Annotated[str, Query(min_length=1, max_length=32)],
    start: Annotated[str | None, Query(alias="from")] = None,
    end: Annotated[str | None, Query(alias="to")] = None,
    state: Annotated[str, Query(pattern=r"^[0-9]{2}$")] = "00",
    # Written into XML, which cannot carry control characters: such a value is refused here
    # rather than failing the export.
    ems_agency: Annotated[
        str | None, Query(min_length=1, max_length=15, pattern=r"^[^\x00-\x1f\x7f-\x9f]+$")
    ] = None,
) -> Response:
    """The CAD times of the period's calls as a NEMSIS v3.5.1 EMSDataSet (one report per call
    that dispatched a unit). `state` is the ANSI state code and `ems_agency` the state-assigned
    agency number the receiver knows the agency by (default: the agency code)."""
    require(principal, policy.READ_MEASURES, agency)
    real_only(services.settings, agency, "a NEMSIS linkage extract")
    await reads.record(agency, "ems.linkage_export")
    t1, t2 = period_bound(start, "from"), period_bound(end, "to")
    ordered(t1, t2)
    store = EmsReportStore(services.sessions, services.store)
    calls = await store.calls_in_period(agency, t1, t2, MAX_EXTRACT_CALLS + 1)
    if len(calls) > MAX_EXTRACT_CALLS:
        raise unprocessable(
            "to", f"the period holds over {MAX_EXTRACT_CALLS} calls; extract a shorter one"
        )
    states = list(call_states(services.settings, agency, calls))
    number = ems_agency or agency[:15]
    extract = build(ExtractAgency(agency, number, state, __version__), states)
    if extract.calls == 0:
        raise HTTPException(
            404,
            {"field": "from", "detail": "no call of the period dispatched a unit: nothing to link"},
        )
    stamp = re.sub(r"[^A-Za-z0-9_.-]", "_", agency) + "-" + _stamp(t1) + "_" + _stamp(t2)
    return Response(
        extract.document,
        media_type="application/xml",
        headers={
            "Content-Disposition": f'attachment; filename="nemsis-linkage-{stamp}.xml"',
            "X-Linkage-Reports": str(extract.calls),
            "X-Linkage-Left-Out": str(extract.left_out),
        },
    )


def recorded_json(recorded: Recorded) -> dict[str, Any]:
    return {
        "id": recorded.id,
        "pcr_key": recorded.pcr_key,
        "match": recorded.call_id if recorded.call_id is not None else UNMATCHED,
        "matched_by": recorded.matched_by,
        "status": recorded.status,
        "event_id": recorded.event_id,
        "outcome": recorded.outcome,
        "candidates": list(recorded.candidates),
    }


def report_json(row: EmsReportRow, *, document: bool = False) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": row.id,
        "pcr_key": row.pcr_key,
        "status": "matched" if row.call_id is not None else UNMATCHED,
        "call_id": row.call_id,
        "matched_by": row.match if row.call_id is not None else None,
        "cad_record_id": row.cad_record_id,
        "incident_number": row.incident_number,
        "psap_call_at": row.psap_call_at.isoformat() if row.psap_call_at else None,
        "received_at": row.received_at.isoformat(),
        "linked_by": row.linked_by,
        "linked_at": row.linked_at.isoformat() if row.linked_at else None,
        "outcome": row.outcome,
    }
    if document:
        body["document"] = row.document
    return body


def _stamp(t: datetime | None) -> str:
    return t.strftime("%Y%m%dT%H%M%S") if t is not None else "all"
