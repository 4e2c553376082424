"""Who read what: the `Reads` dependency every route that reads an audit, a measure, an EMS
report or an export logs through (service/store/access.py). Reviewed at
`GET /api/v1/access-log` (access_log.py)."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, HTTPException, Request

from service.api.deps import PrincipalDep, ServicesDep
from service.api.ratelimit import client_address
from service.store.access import AccessLog
from service.store.tokens import Principal

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Reads:
    """Logs the caller's reads; `record` before the route reads the data."""

    log: AccessLog
    principal: Principal
    client: str | None
    query: str

    async def record(
        self, agencies: str | Iterable[str], action: str, target: str | None = None
    ) -> None:
        """Write the entry (target: the call or report read, else the query string), or
        refuse the read with 503: an unlogged read of a legal record is not served."""
        named = [agencies] if isinstance(agencies, str) else list(agencies)
        try:
            await self.log.record(
                self.principal, named, action, target or self.query or None, self.client
            )
        except Exception as exc:
            log.error("access log write failed (%s): %s refused", type(exc).__name__, action)
            raise HTTPException(
                503, "the read could not be recorded in the access log; try again"
            ) from None


async def reads(request: Request, principal: PrincipalDep, services: ServicesDep) -> Reads:
    return Reads(
        AccessLog(services.sessions), principal, client_address(request), request.url.query
    )


ReadsDep = Annotated[Reads, Depends(reads)]
