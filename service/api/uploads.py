"""Documents posted to the service (events, EIDO, NEMSIS, heartbeats, adapters' rejects): the
body read within its limit, the sender, the agency it is for, and a refusal kept in the reject
store with what was read so far."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from fastapi import HTTPException, Request
from fastapi.responses import JSONResponse

from service import ingest
from service.api.deps import Services, current_principal
from service.api.refusals import refusal_response, status_of
from service.refused import (
    Invalid,
    NotAllowed,
    Refused,
    TooLarge,
    Unauthenticated,
    UnreadableType,
)
from service.store.tokens import Principal


async def read_body(request: Request, limit: int) -> bytes:
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise TooLarge(f"body of {declared} bytes is over the {limit}-byte limit", "body")
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise TooLarge(f"body is over the {limit}-byte limit", "body")
        chunks.append(chunk)
    return b"".join(chunks)


async def authenticated(request: Request, services: Services) -> Principal:
    """The caller, for routes that keep their refusals with the body (a missing or bad
    credential, or a cross-site cookie write, is refused and kept like any other refusal).
    Over a rate limit it is a plain 429, not kept: the sender retries, and a storm must not
    write a row per request."""
    try:
        return await current_principal(request, services)
    except HTTPException as exc:
        if exc.status_code == 403:
            raise NotAllowed(str(exc.detail), "Origin") from None
        if exc.status_code == 401:
            raise Unauthenticated(str(exc.detail), "Authorization") from None
        raise


def target_agency(principal: Principal, agency: str | None) -> str:
    """The agency a posted document is for: `?agency=`, else the token's only agency."""
    if agency:
        return agency
    if len(principal.agencies) == 1:
        return next(iter(principal.agencies))
    raise Invalid("agency: the token has several agencies; name one with ?agency=", "agency")


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
            raise NotAllowed(f"role {principal.role} may not post {what}", "role")
        if not principal.may_act_for(target):
            raise NotAllowed(f"token is not valid for agency {target}", "agency", target)
        content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
        if media is not None and not media[0](content_type):
            reason = f"Content-Type {content_type or 'missing'}: send {media[1]}"
            raise UnreadableType(reason, "Content-Type", target)
        return target

    async def refused(self, services: Services, request: Request, refusal: Refused) -> JSONResponse:
        return await refuse(services, request, refusal, self.body, self.principal)


async def sender(request: Request, services: Services) -> Principal | None:
    """Who sent a refused body (one refused before it was read, too large, or one a route's own
    checks refused), so the refusal is kept under their agency rather than none."""
    try:
        return await authenticated(request, services)
    except (Refused, HTTPException):
        return None


def filed_under(principal: Principal | None, agency: str | None, body: bytes) -> str | None:
    """The agency a refusal is kept under: the one it names if the sender may act for it, else
    the sender's own (never another agency's store); for an unknown sender, what the body
    claims."""
    if principal is not None and (agency is None or not principal.may_act_for(agency)):
        return min(principal.agencies)
    if principal is None and agency is None:
        return ingest.claimed_agency(body)
    return agency


async def refuse(
    services: Services,
    request: Request,
    refusal: Refused,
    body: bytes,
    principal: Principal | None,
) -> JSONResponse:
    """Keep the refusal in the reject store with the body, and answer with it."""
    if principal is None and isinstance(refusal, TooLarge):
        principal = await sender(request, services)
    await services.rejects.keep(
        status_of(refusal),
        refusal.reason,
        refusal.field,
        body,
        agency=filed_under(principal, refusal.agency, body),
        endpoint=request.url.path,
        principal=principal.label if principal else None,
    )
    return refusal_response(refusal)
