"""`GET /api/v1/summary`: the supervisor board's running figures of a period (e.g. today).

Figures are of one agency; a training agency's say `"training": true`, and the board leaves them
out of the real agencies' totals (ui/board.js)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from contract import policy
from service.api.deps import PrincipalDep, ServicesDep, require
from service.api.periods import period_bound
from service.api.refusals import AUTHENTICATED
from service.qi.measures import running_figures

router = APIRouter()


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
        "training": services.settings.is_training(agency),
        "from": t1.isoformat() if t1 else None,
        "to": t2.isoformat() if t2 else None,
        **running_figures(summaries, profile),
    }
