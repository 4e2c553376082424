"""The reject store over HTTP: what was refused, and the records adapters could not read."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field, StrictStr, ValidationError

from contract import policy
from contract.wire import first_error
from service.api.access import ReadsDep
from service.api.deps import PrincipalDep, ServicesDep, require
from service.api.refusals import AUTHENTICATED, refusals
from service.api.uploads import Upload
from service.refused import Invalid, Refused
from service.store.rejects import MAX_KEPT_BODY

router = APIRouter()


@router.get("/api/v1/rejects", responses=AUTHENTICATED)
async def get_rejects(
    principal: PrincipalDep,
    services: ServicesDep,
    agency: Annotated[str, Query(min_length=1, max_length=32)],
    reads: ReadsDep,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> dict[str, Any]:
    require(principal, policy.READ_REJECTS, agency)
    await reads.record(agency, "rejects.read")
    return {"agency": agency, "rejects": await services.rejects.newest(agency, limit)}


class AdapterReject(BaseModel):
    """A record a CAD adapter could not turn into events, filed for the reject store."""

    model_config = ConfigDict(extra="forbid")

    source: Annotated[StrictStr, Field(min_length=1, max_length=512)]
    position: Annotated[StrictStr, Field(min_length=1, max_length=256)]
    raw: Annotated[StrictStr, Field(max_length=MAX_KEPT_BODY)]
    reason: Annotated[StrictStr, Field(min_length=1, max_length=4096)]
    field: Annotated[StrictStr, Field(max_length=256)] | None = None


@router.post("/api/v1/rejects", responses=AUTHENTICATED | refusals(413))
async def post_adapter_reject(
    request: Request,
    services: ServicesDep,
    agency: Annotated[str | None, Query(min_length=1, max_length=32)] = None,
) -> JSONResponse:
    """Keep a record an adapter could not read (its raw text, where it was and why) in the reject
    store beside the service's own refusals, so one place shows every bad input."""
    upload = Upload()
    try:
        target = await upload.receive(request, services, agency, policy.FILE_REJECTS, "rejects")
        try:
            filed = AdapterReject.model_validate_json(upload.body)
        except ValidationError as exc:
            field, message = first_error(exc, None)
            raise Invalid(message, field, target) from None
    except Refused as refusal:
        return await upload.refused(services, request, refusal)
    await services.rejects.keep(
        422,
        f"{filed.source} {filed.position}: {filed.reason}",
        filed.field,
        filed.raw.encode(),
        agency=target,
        endpoint=request.url.path,
        principal=upload.principal.label if upload.principal else None,
    )
    return JSONResponse({"status": "kept", "agency": target})
