"""`GET /api/v1/access-log`: an agency's log of who read which audit, measure, EMS report or
export (service/store/access.py), for QI and admins: reviewing who looked at a call is part of
QI's review of it."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from contract import policy
from service.api.deps import PrincipalDep, ServicesDep, require
from service.api.periods import period_bound
from service.api.refusals import AUTHENTICATED, unprocessable
from service.store.access import AccessLog, AccessQuery

router = APIRouter(responses=AUTHENTICATED)


@router.get("/api/v1/access-log")
async def get_access_log(
    principal: PrincipalDep,
    services: ServicesDep,
    agency: Annotated[str, Query(min_length=1, max_length=32)],
    call_id: Annotated[str | None, Query(min_length=1, max_length=128)] = None,
    who: Annotated[str | None, Query(alias="principal", min_length=1, max_length=160)] = None,
    start: Annotated[str | None, Query(alias="from")] = None,
    end: Annotated[str | None, Query(alias="to")] = None,
    cursor: Annotated[str | None, Query(max_length=20)] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> dict[str, Any]:
    """The agency's access log, newest first; `next_cursor` (when more) fetches the next page."""
    require(principal, policy.READ_ACCESS_LOG, agency)
    if cursor is not None and not cursor.isdigit():
        raise unprocessable("cursor", "not a cursor we issued")
    query = AccessQuery(
        agency=agency,
        call_id=call_id,
        principal=who,
        start=period_bound(start, "from"),
        end=period_bound(end, "to"),
        before=int(cursor) if cursor else None,
        limit=limit,
    )
    page = await AccessLog(services.sessions).page(query)
    return {"agency": agency, "entries": page.entries, "next_cursor": page.next_cursor}
