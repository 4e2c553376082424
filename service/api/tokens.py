"""Token management for admins (`/api/v1/tokens`): issue, list, revoke.

An admin manages only tokens wholly within its own agencies: it may not mint, see or revoke a
token naming another agency, so one agency's admin cannot reach into another's."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated, Any, Literal

from fastapi import APIRouter, HTTPException, Query, Response, status
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, StrictStr, model_validator

from contract import policy
from service.api.deps import PrincipalDep, ServicesDep
from service.api.kept import KeepsRefusals
from service.api.refusals import AUTHENTICATED, refusals
from service.store.tokens import MAX_AGENCY, Principal, TokenInfo

router = APIRouter(responses=AUTHENTICATED, route_class=KeepsRefusals)

Role = Literal["telecommunicator", "supervisor", "qi", "admin", "adapter"]
Agency = Annotated[StrictStr, Field(min_length=1, max_length=MAX_AGENCY)]
MAX_DAYS = 3650


class TokenRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    role: Role
    agencies: Annotated[list[Agency], Field(min_length=1, max_length=100)]
    name: Annotated[StrictStr | None, Field(min_length=1, max_length=128)] = None
    expires_at: AwareDatetime | None = None
    expires_in_days: Annotated[float | None, Field(gt=0, le=MAX_DAYS)] = None

    @model_validator(mode="after")
    def _one_expiry(self) -> TokenRequest:
        if self.expires_at is not None and self.expires_in_days is not None:
            raise ValueError("expires_at: give expires_at or expires_in_days, not both")
        if self.expires_at is not None and self.expires_at <= datetime.now(UTC):
            raise ValueError("expires_at: must be in the future")
        return self

    def expiry(self) -> datetime | None:
        if self.expires_in_days is not None:
            return datetime.now(UTC) + timedelta(days=self.expires_in_days)
        return self.expires_at


def _admin_over(principal: Principal, agencies: list[str]) -> None:
    """403 unless the caller is an admin of every agency named."""
    if principal.role not in policy.MANAGE_TOKENS:
        raise HTTPException(status.HTTP_403_FORBIDDEN, f"role {principal.role} may not do this")
    for agency in sorted(set(agencies)):
        if not principal.may_act_for(agency):
            raise HTTPException(
                status.HTTP_403_FORBIDDEN, f"token is not valid for agency {agency}"
            )


@router.post("/api/v1/tokens", status_code=status.HTTP_201_CREATED, responses=refusals(400))
async def issue_token(
    body: TokenRequest, principal: PrincipalDep, services: ServicesDep
) -> dict[str, Any]:
    """Issue a token (admin, within its agencies); its secret is in this answer only."""
    _admin_over(principal, body.agencies)
    info, token = await services.tokens.issue(
        body.role, body.agencies, body.name, body.expiry(), created_by=principal.label
    )
    return {**info.as_json(), "token": token}


@router.get("/api/v1/tokens")
async def list_tokens(
    principal: PrincipalDep,
    services: ServicesDep,
    agency: Annotated[str | None, Query(min_length=1, max_length=MAX_AGENCY)] = None,
) -> list[dict[str, Any]]:
    """The tokens wholly within the admin's agencies (of `agency` only, when named), revoked
    ones included; never a secret or a hash."""
    _admin_over(principal, [agency] if agency else [])
    return [
        info.as_json()
        for info in await services.tokens.listing()
        if _within(info, principal) and (agency is None or agency in info.agencies)
    ]


def _within(info: TokenInfo, principal: Principal) -> bool:
    return all(principal.may_act_for(a) for a in info.agencies)


@router.delete(
    "/api/v1/tokens/{token_id}", status_code=status.HTTP_204_NO_CONTENT, responses=refusals(404)
)
async def revoke_token(token_id: int, principal: PrincipalDep, services: ServicesDep) -> Response:
    """Revoke a token (admin of all its agencies), end the sessions opened from it and close
    their websockets on every replica."""
    _admin_over(principal, [])
    info = await services.tokens.get(token_id)
    if info is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"token_id: no token {token_id}")
    _admin_over(principal, info.agencies)
    await services.identities.revoke_token(token_id)
    await services.revocations.announce(token_id=token_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
