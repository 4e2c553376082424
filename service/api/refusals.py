"""How the service refuses, as documented in its OpenAPI schema: every 4xx is JSON whose
`detail` says why, and names the field at fault where one is (DESIGN.md §8).

Three shapes reach clients, all described by `Refusal`: a refusal from below HTTP
(service/refused.py, `{"detail": "...", "field": "..."}`, its status from `STATUS`; most are kept
with their body, service/api/uploads.py `refuse`), a route's own
`HTTPException` (`{"detail": "..."}` or `{"detail": {"field": ..., "detail": ...}}`) and
FastAPI's check of declared parameters (`{"detail": [{"loc": [...], "msg": ..., "type": ...}]}`).
Every refusal's JSON object also carries `request_id`, added on the way out
(service/api/request_ids.py). Routes list the codes they can answer with `refusals(...)`, so
the schema the fuzzing (tests/service/api/test_fuzz_api.py) validates against is the one
clients read.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from fastapi import HTTPException
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict

from service.refused import (
    Conflicting,
    Invalid,
    NotAllowed,
    NotFound,
    Refused,
    TooLarge,
    Unauthenticated,
    UnreadableType,
)


class FieldDetail(BaseModel):
    field: str
    detail: str


class InvalidParameter(BaseModel):
    """One item of FastAPI's own parameter check."""

    model_config = ConfigDict(extra="allow")
    loc: list[str | int]
    msg: str
    type: str


class Refusal(BaseModel):
    """Why a request was refused, and which field is at fault when one is."""

    detail: str | FieldDetail | list[InvalidParameter]
    field: str | None = None
    # The X-Request-ID of the request, which its log lines carry too (service/api/request_ids.py).
    request_id: str | None = None


WHY: Final = {
    400: "The body is not JSON (FastAPI's own check of a declared body)",
    401: "No valid credential (bearer token, OpenID Connect token or session cookie)",
    403: "The token's role or agencies do not allow this",
    404: "No such resource",
    409: "Conflicts with what is stored (an event id with other content, a linked report)",
    413: "The body is over the size limit",
    415: "The body's Content-Type is not one this route reads",
    422: "A field is missing or invalid: `field` or `detail` names it",
    429: "Over the token's rate limit, or too many failed sign-ins from the address: retry after "
    "`Retry-After` seconds",
}

# The one place a refusal from below HTTP gets its status code.
STATUS: Final[Mapping[type[Refused], int]] = {
    Unauthenticated: 401,
    NotAllowed: 403,
    NotFound: 404,
    Conflicting: 409,
    TooLarge: 413,
    UnreadableType: 415,
    Invalid: 422,
}


def status_of(refusal: Refused) -> int:
    return STATUS[type(refusal)]


def refusal_response(refusal: Refused) -> JSONResponse:
    status = status_of(refusal)
    return JSONResponse(
        {"detail": refusal.reason, "field": refusal.field},
        status_code=status,
        headers={"WWW-Authenticate": "Bearer"} if status == 401 else None,
    )


def unprocessable(field: str, detail: str) -> HTTPException:
    """A route's own 422 naming the field: `{"detail": {"field": ..., "detail": ...}}`."""
    return HTTPException(422, {"field": field, "detail": f"{field}: {detail}"})


def refusals(*codes: int) -> dict[int | str, dict[str, Any]]:
    """The `responses=` of a route or router that may refuse with these status codes."""
    return {code: {"model": Refusal, "description": WHY[code]} for code in codes}


def document(*media_types: str) -> dict[int | str, dict[str, Any]]:
    """The `responses=` of a route whose 200 is a file (CSV, XML) rather than JSON, or either."""
    content = {
        t: {"schema": {"type": "object" if t == "application/json" else "string"}}
        for t in media_types
    }
    return {200: {"description": "The document", "content": content}}


# Every route that takes a token: refused without one, outside its role or agencies, with a
# bad parameter, or over a rate limit.
AUTHENTICATED: Final = refusals(401, 403, 422, 429)
