"""`POST /api/v1/events` (DESIGN.md §8): canonical events in, stored all-or-nothing."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from service import ingest
from service.api.deps import ServicesDep
from service.api.refusals import AUTHENTICATED, refusals
from service.api.uploads import authenticated, read_body, refuse
from service.refused import Refused
from service.store.tokens import Principal

router = APIRouter()

EVENT_BODY_SCHEMA = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {
                "schema": {
                    "oneOf": [
                        {"$ref": "#/components/schemas/CanonicalEvent"},
                        {"type": "array", "items": {"$ref": "#/components/schemas/CanonicalEvent"}},
                    ]
                }
            }
        },
    }
}


@router.post(
    "/api/v1/events",
    openapi_extra=EVENT_BODY_SCHEMA,
    responses=AUTHENTICATED | refusals(409, 413),
)
async def post_events(request: Request, services: ServicesDep) -> JSONResponse:
    """Store one canonical event or an all-or-nothing batch; 200 only once durably committed."""
    body = b""
    principal: Principal | None = None
    try:
        body = await read_body(request, services.settings.max_body_bytes)
        principal = await authenticated(request, services)
        events, single = ingest.parse_events(body, services.settings.max_batch_events)
        ingest.authorize(principal, events)
        return JSONResponse(await ingest.store(services.store, events, single))
    except Refused as refusal:
        return await refuse(services, request, refusal, body, principal)
