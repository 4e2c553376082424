"""The T-CPR protocol pack in force for a panel (service/protocols.py).

- `GET /api/v1/protocols?agency=A[&language=es]` (anyone who watches the agency's calls): the
  languages the agency has a pack in, and the pack in force for the language (default English):
  its manifest (id, version, who signed it and when, in force from when, the director's decisions)
  and its texts. The panel stamps `tcpr.started` with the pack's `id@version` and language.
- `GET /ui/prompts/{language}.json` (public): the shipped sample pack's texts of a language.
"""

from __future__ import annotations

import re
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query
from fastapi.responses import JSONResponse

from contract import policy
from service.api.deps import PrincipalDep, ServicesDep, require
from service.api.refusals import AUTHENTICATED, refusals

router = APIRouter(responses=AUTHENTICATED)
LANGUAGE = re.compile(r"^[a-z]{2}(-[A-Z]{2})?$")


@router.get("/api/v1/protocols", responses=refusals(404))
async def protocol_in_force(
    principal: PrincipalDep,
    services: ServicesDep,
    agency: Annotated[str, Query(min_length=1, max_length=32)],
    language: Annotated[str, Query(min_length=2, max_length=35)] = "en",
) -> dict[str, Any]:
    require(principal, policy.WATCH, agency)
    pack = services.protocols.in_force(agency, language)
    if pack is None:
        raise HTTPException(
            404, {"field": "language", "detail": f"language: no pack in force for {language!r}"}
        )
    return {
        "agency": agency,
        "languages": services.protocols.languages(agency),
        "manifest": pack.manifest(),
        "texts": pack.texts,
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
