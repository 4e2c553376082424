"""HTTP routes of DESIGN.md §8."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field, StrictStr, ValidationError

from contract import policy
from contract.times import parse_rfc3339
from contract.wire import first_error
from service import ingest
from service.api.access import ReadsDep
from service.api.deps import (
    PrincipalDep,
    Services,
    ServicesDep,
    current_principal,
    require,
)
from service.api.refusals import AUTHENTICATED, refusals
from service.ingest import Refused
from service.qi.audit import draft
from service.qi.measures import running_figures
from service.store.rejects import MAX_KEPT_BODY
from service.store.tokens import Principal
from service.triage.state import fold

router = APIRouter()
LANGUAGE = re.compile(r"^[a-z]{2}(-[A-Z]{2})?$")

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


@router.get("/healthz", responses={**refusals(422), 503: {"description": "Starting or stopping"}})
async def healthz(request: Request) -> JSONResponse:
    ready = getattr(request.app.state, "ready", False)
    return JSONResponse(
        {"status": "ok" if ready else "starting"}, status_code=200 if ready else 503
    )


async def read_body(request: Request, limit: int) -> bytes:
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise Refused(413, f"body of {declared} bytes is over the {limit}-byte limit", "body")
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise Refused(413, f"body is over the {limit}-byte limit", "body")
        chunks.append(chunk)
    return b"".join(chunks)


async def authenticated(request: Request, services: Services) -> Principal:
    """The caller, for routes that keep their refusals with the body (a missing or bad
    credential, or a cross-site cookie write, is a `Refused` 401 or 403, kept like any other).
    Over a rate limit it is a plain 429, not kept: the sender retries, and a storm must not
    write a row per request."""
    try:
        return await current_principal(request, services)
    except HTTPException as exc:
        if exc.status_code == 429:
            raise
        field = "Origin" if exc.status_code == 403 else "Authorization"
        raise Refused(exc.status_code, str(exc.detail), field) from None


def target_agency(principal: Principal, agency: str | None) -> str:
    """The agency a posted document is for: `?agency=`, else the token's only agency."""
    if agency:
        return agency
    if len(principal.agencies) == 1:
        return next(iter(principal.agencies))
    raise Refused(422, "agency: the token has several agencies; name one with ?agency=", "agency")


@dataclass
class Upload:
    """A document posted to the service (an EIDO, a NEMSIS file, an adapter's reject), taken
    step by step: the body, who sent it, for which agency, in what form. Each step may refuse
    it; what the steps got so far goes to the reject store with the refusal."""

    body: bytes = b""
    principal: Principal | None = None

    async def receive(
        self,
        request: Request,
        services: Services,
        agency: str | None,
        roles: frozenset[str],
        what: str,
        media: tuple[Callable[[str], bool], str] | None = None,
    ) -> str:
        """The agency the document is for, once the sender may post `what` there; `media`
        is a check of the Content-Type and what to say when it fails."""
        self.body = await read_body(request, services.settings.max_body_bytes)
        self.principal = principal = await authenticated(request, services)
        target = target_agency(principal, agency)
        if principal.role not in roles:
            raise Refused(403, f"role {principal.role} may not post {what}", "role")
        if not principal.may_act_for(target):
            raise Refused(403, f"token is not valid for agency {target}", "agency", target)
        content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
        if media is not None and not media[0](content_type):
            reason = f"Content-Type {content_type or 'missing'}: send {media[1]}"
            raise Refused(415, reason, "Content-Type", target)
        return target

    async def refused(self, services: Services, request: Request, refusal: Refused) -> JSONResponse:
        return await refuse(services, request, refusal, self.body, self.principal)


async def _sender(request: Request, services: Services) -> Principal | None:
    """Who sent a body refused before it was read (too large), so the refusal is kept under
    their agency rather than none."""
    try:
        return await authenticated(request, services)
    except (Refused, HTTPException):
        return None


async def refuse(
    services: Services,
    request: Request,
    refusal: Refused,
    body: bytes,
    principal: Principal | None,
) -> JSONResponse:
    if principal is None and refusal.status == 413:
        principal = await _sender(request, services)
    agency = refusal.agency
    if principal is not None and (agency is None or not principal.may_act_for(agency)):
        agency = min(principal.agencies)
    elif principal is None and agency is None:
        agency = ingest.claimed_agency(body)
    await services.rejects.keep(
        refusal.status,
        refusal.reason,
        refusal.field,
        body,
        agency=agency,
        endpoint=request.url.path,
        principal=principal.label if principal else None,
    )
    headers = {"WWW-Authenticate": "Bearer"} if refusal.status == 401 else None
    return JSONResponse(
        {"detail": refusal.reason, "field": refusal.field},
        status_code=refusal.status,
        headers=headers,
    )


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


@router.get("/api/v1/calls/{agency}/{call_id}/audit", responses=AUTHENTICATED | refusals(404))
async def get_audit(
    agency: str, call_id: str, principal: PrincipalDep, services: ServicesDep, reads: ReadsDep
) -> dict[str, Any]:
    require(principal, policy.READ_AUDITS, agency)
    await reads.record(agency, "audit.read", call_id)
    events = await services.store.call_events(agency, call_id)
    if not events:
        raise HTTPException(404, f"no call {call_id} in agency {agency}")
    config = services.settings.agency_config(agency)
    return draft(fold(agency, call_id, events, config), config.profile)


def period_bound(value: str | None, name: str) -> datetime | None:
    """An RFC 3339 datetime with offset, or a date meaning midnight UTC."""
    if value is None or value == "":
        return None
    try:
        if len(value) == 10:
            return datetime.combine(date.fromisoformat(value), time(0), UTC)
        return parse_rfc3339(value)
    except ValueError as exc:
        raise HTTPException(422, {"field": name, "detail": f"{name}: {exc}"}) from None


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


@router.get("/api/v1/summary", responses=AUTHENTICATED)
async def get_running_figures(
    principal: PrincipalDep,
    services: ServicesDep,
    agency: Annotated[str, Query(min_length=1, max_length=32)],
    start: Annotated[str, Query(alias="from")],
    end: Annotated[str | None, Query(alias="to")] = None,
) -> dict[str, Any]:
    """The supervisor board's running figures for calls with from <= T0 < to (e.g. today)."""
    require(principal, policy.READ_AUDITS, agency)
    t1, t2 = period_bound(start, "from"), period_bound(end, "to")
    summaries = await services.store.summaries(agency, t1, t2)
    profile = services.settings.agency_config(agency).profile
    return {
        "agency": agency,
        "from": t1.isoformat() if t1 else None,
        "to": t2.isoformat() if t2 else None,
        **running_figures(summaries, profile),
    }


@router.get("/ui/prompts/{language}.json", include_in_schema=False)
async def get_prompts(language: str, services: ServicesDep) -> JSONResponse:
    """The shipped sample pack's texts of a language (public, like the UI's code): a page that
    is not signed in yet, or a training room, can show the script. Panels on a live floor load
    their agency's signed pack in force from `GET /api/v1/protocols`."""
    pack = services.protocols.in_force("", language) if LANGUAGE.match(language) else None
    if pack is None:
        raise HTTPException(404, f"no prompts for language {language}")
    return JSONResponse(pack.texts)


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
            raise Refused(422, message, field, target) from None
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
