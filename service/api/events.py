"""`POST /api/v1/events` (DESIGN.md §8): canonical events in, stored all-or-nothing."""

from __future__ import annotations

from time import perf_counter

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from service import ingest
from service.api.lean import LeanRoute, services_of
from service.api.refusals import AUTHENTICATED, refusals
from service.api.uploads import authenticated, read_body, refuse
from service.refused import Refused
from service.store.tokens import Principal

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


def install(app: FastAPI) -> None:
    """Add the route to the app's own router: FastAPI matches the routes of an included router
    twice per request. Its endpoint reads the request itself (service/api/lean.py)."""
    app.router.add_api_route(
        "/api/v1/events",
        post_events,
        methods=["POST"],
        route_class_override=LeanRoute,
        openapi_extra=EVENT_BODY_SCHEMA,
        responses=AUTHENTICATED | refusals(409, 413),
    )


async def post_events(request: Request) -> JSONResponse:
    """Store one canonical event or an all-or-nothing batch; 200 only once durably committed."""
    started = perf_counter()
    services = services_of(request)
    body = b""
    principal: Principal | None = None
    try:
        body = await read_body(request, services.settings.max_body_bytes)
        principal = await authenticated(request, services)
        events, single = ingest.parse_events(body, services.settings.max_batch_events)
        ingest.authorize(principal, events)
        answer = await ingest.store(services.store, events, single)
    except Refused as refusal:
        return await refuse(services, request, refusal, body, principal)
    except Exception:
        services.metrics.refused(500)  # not committed: the sender will retry
        raise
    services.metrics.ingested(perf_counter() - started)
    return JSONResponse(answer)
