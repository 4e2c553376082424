"""Routes whose refusals are kept: the people-facing writes (tokens, training records and
sessions, debrief marks, EMS links) refuse with FastAPI's own checks and `HTTPException`s, and
each such refusal goes to the reject store with what was sent, as the feeds' refusals do
(service/api/uploads.py `refuse`), so an administrator can see what a form or a script sent."""

from __future__ import annotations

import logging
from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import HTTPException, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute

from service.api.uploads import filed_under, sender

_log = logging.getLogger(__name__)

# A body is what is kept: a read (GET) that is refused has none, and is in the access log when
# it matters. Over a rate limit nothing is kept (a storm must not write a row per request).
WRITES = frozenset({"POST", "PUT", "PATCH", "DELETE"})
NOT_KEPT = frozenset({429})


def why(exc: HTTPException | RequestValidationError) -> tuple[int, str, str | None]:
    """The refusal's status, its reason and the field it names."""
    if isinstance(exc, RequestValidationError):
        first = exc.errors()[0] if exc.errors() else {}
        loc = [str(part) for part in first.get("loc", ()) if part not in ("body", "query", "path")]
        field = ".".join(loc) or None
        return 422, f"{field}: {first.get('msg', 'invalid')}" if field else "invalid", field
    detail = exc.detail
    if isinstance(detail, dict):
        return exc.status_code, str(detail.get("detail", detail)), detail.get("field")
    return exc.status_code, str(detail), None


class KeepsRefusals(APIRoute):
    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handle = super().get_route_handler()

        async def handled(request: Request) -> Response:
            try:
                return await handle(request)
            except (HTTPException, RequestValidationError) as exc:
                status, reason, field = why(exc)
                if request.method in WRITES and 400 <= status < 500 and status not in NOT_KEPT:
                    try:
                        await keep(request, status, reason, field)
                    except Exception:  # the refusal is still answered; the log says why not kept
                        _log.exception("a refusal of %s could not be kept", request.url.path)
                raise

        return handled


async def keep(request: Request, status: int, reason: str, field: str | None) -> None:
    services = request.app.state.services
    body = await request.body()  # read already (FastAPI reads it before the checks), so cached
    principal = await sender(request, services)
    claimed = request.path_params.get("agency") or request.query_params.get("agency")
    await services.rejects.keep(
        status,
        reason,
        field,
        body,
        agency=filed_under(principal, claimed, body),
        endpoint=request.url.path,
        principal=principal.label if principal else None,
    )
