"""`GET /api/v1/feedback` (DESIGN.md §8): the reviews in force of the token holder's own calls.

"Me" is always the token holder, whatever the role: a supervisor or QI reviewer who also takes
calls reads their own reviews here, never a colleague's (the audit routes are for those).
`agency=` narrows the answer to one of the token's agencies; another agency is refused with 403.
Training agencies are left out unless `agency=` names one: a scenario's review is practice, not
a review of a call of the public (each item says `training`).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query, status

from contract import policy
from service.api.deps import PrincipalDep, ServicesDep
from service.api.refusals import AUTHENTICATED
from service.feedback import own_feedback

router = APIRouter(responses=AUTHENTICATED)


@router.get("/api/v1/feedback")
async def my_feedback(
    principal: PrincipalDep,
    services: ServicesDep,
    agency: Annotated[str | None, Query(min_length=1, max_length=32)] = None,
) -> list[dict[str, Any]]:
    if principal.role not in policy.READ_OWN_FEEDBACK:
        raise HTTPException(status.HTTP_403_FORBIDDEN, f"role {principal.role} may not do this")
    if agency is not None and not principal.may_act_for(agency):
        raise HTTPException(status.HTTP_403_FORBIDDEN, f"token is not valid for agency {agency}")
    scope = (
        {agency}
        if agency is not None
        else {a for a in principal.agencies if not services.settings.is_training(a)}
    )
    return await own_feedback(services.sessions, services.settings, principal, scope)
