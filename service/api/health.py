"""`GET /healthz`: whether this replica is serving (200) or starting or stopping (503)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from service.api.refusals import refusals

router = APIRouter()


@router.get("/healthz", responses={**refusals(422), 503: {"description": "Starting or stopping"}})
async def healthz(request: Request) -> JSONResponse:
    ready = getattr(request.app.state, "ready", False)
    return JSONResponse(
        {"status": "ok" if ready else "starting"}, status_code=200 if ready else 503
    )
