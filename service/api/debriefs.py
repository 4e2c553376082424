"""Debriefs over HTTP (issue 19): the calls the supervisor talks through with the telecommunicator.

- `GET /api/v1/debriefs?agency=A[&state=outstanding|done|all][&from=&to=][&limit=]`: the calls
  that need a debrief (service.qi.debriefs) with why, and the ones held with who, when and the
  note; outstanding first, then newest first; `counts` over the whole period. Supervisors, QI
  and admins read it (the board and the QI list), and each read is logged like an audit read.
- `POST /api/v1/debriefs/{agency}/{call_id}` with an optional `{"note": ...}` marks the call's
  debrief held: by the principal's name (or OpenID Connect subject), at the service clock. Only
  a supervisor or admin: the debrief is the supervisor's conversation with their own
  telecommunicator, so QI, who reviews and writes feedback, does not record it in their name.
  A call that does not exist is 404; one that needs no debrief is 409; a debrief already held
  is 409 too, with the `debrief` that stands (who and when), never overwritten.
"""

from __future__ import annotations

from typing import Annotated, Any, Final, cast

from fastapi import APIRouter, HTTPException, Query
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from contract import policy
from contract.event import iso
from service.api.access import ReadsDep
from service.api.deps import PrincipalDep, ServicesDep, require
from service.api.kept import KeepsRefusals
from service.api.periods import ordered, period_bound
from service.api.refusals import AUTHENTICATED, refusals, unprocessable
from service.store.audit_list import shown
from service.store.debriefs import (
    MAX_LIMIT,
    STATES,
    AlreadyHeld,
    Debrief,
    DebriefStore,
    Marked,
    NoSuchCall,
    NotNeeded,
    State,
)
from service.triage.intervals import met
from service.triage.profiles import BenchmarkProfile

router = APIRouter(responses=AUTHENTICATED, route_class=KeepsRefusals)
NOTE_MAX: Final = 2000
Agency = Annotated[str, Query(min_length=1, max_length=32)]


class MarkBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    note: Annotated[str | None, Field(max_length=NOTE_MAX)] = None


def debrief_json(d: Debrief, profile: BenchmarkProfile) -> dict[str, Any]:
    call = d.call
    return {
        "call_id": call.call_id,
        "t0": iso(call.t0),
        "telecommunicator": call.telecommunicator,
        "reasons": list(d.reasons),
        "recognized": call.recognized,
        "intervals": {
            "to_recognition": shown(call.to_recognition),
            "to_first_compression": shown(call.to_first_compression),
        },
        "benchmarks": {
            "recognition_met": met(call.to_recognition, profile.recognition_s),
            "first_compression_met": met(call.to_first_compression, profile.first_compression_s),
        },
        "outstanding": d.held is None,
        "done_by": d.held.done_by if d.held else None,
        "done_at": iso(d.held.done_at) if d.held else None,
        "note": d.held.note if d.held else None,
    }


@router.get("/api/v1/debriefs")
async def list_debriefs(
    principal: PrincipalDep,
    services: ServicesDep,
    reads: ReadsDep,
    agency: Agency,
    state: Annotated[str, Query()] = "outstanding",
    start: Annotated[str | None, Query(alias="from")] = None,
    end: Annotated[str | None, Query(alias="to")] = None,
    limit: Annotated[str | None, Query()] = None,
) -> dict[str, Any]:
    require(principal, policy.READ_DEBRIEFS, agency)
    if state not in STATES:
        raise unprocessable("state", f"{state!r} is not one of {', '.join(STATES)}")
    t1, t2 = period_bound(start, "from"), period_bound(end, "to")
    ordered(t1, t2)
    size = 100
    if limit is not None:
        if not limit.isdigit() or not 1 <= int(limit) <= MAX_LIMIT:
            raise unprocessable("limit", f"must be a whole number from 1 to {MAX_LIMIT}")
        size = int(limit)
    await reads.record(agency, "debriefs.list")
    profile = services.settings.agency_config(agency).profile
    found = await DebriefStore(services.sessions).listing(
        agency, profile, cast(State, state), t1, t2, size
    )
    return {
        "agency": agency,
        "state": state,
        "from": iso(t1),
        "to": iso(t2),
        "benchmark_profile": profile.name,
        "thresholds": {
            "recognition_s": profile.recognition_s,
            "first_compression_s": profile.first_compression_s,
        },
        "counts": {"outstanding": found.outstanding, "done": found.done},
        "debriefs": [debrief_json(d, profile) for d in found.debriefs],
    }


@router.post("/api/v1/debriefs/{agency}/{call_id}", responses=refusals(400, 404, 409))
async def mark_done(
    agency: str,
    call_id: str,
    principal: PrincipalDep,
    services: ServicesDep,
    body: MarkBody | None = None,
) -> JSONResponse:
    require(principal, policy.HOLD_DEBRIEFS, agency)
    note = (body.note or "").strip() or None if body else None
    profile = services.settings.agency_config(agency).profile
    outcome = await DebriefStore(services.sessions).mark(
        agency, call_id, profile, by=principal.person, at=services.clock(), note=note
    )
    match outcome:
        case NoSuchCall():
            raise HTTPException(404, f"no call {call_id} in agency {agency}")
        case NotNeeded():
            raise HTTPException(
                409, {"field": "call_id", "detail": f"call {call_id} does not need a debrief"}
            )
        case AlreadyHeld(held):
            return JSONResponse(
                {
                    "detail": f"the debrief of call {call_id} was already held by "
                    f"{held.done_by} at {held.done_at.isoformat()}",
                    "field": "call_id",
                    "debrief": held.as_json(),
                },
                status_code=409,
            )
        case Marked(debrief):
            return JSONResponse(debrief_json(debrief, profile), status_code=201)
    raise AssertionError(outcome)  # pragma: no cover - every outcome is matched above
