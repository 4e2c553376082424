"""CAD feed health over HTTP (service/feeds.py).

- `POST /api/v1/feeds/heartbeat[?agency=A][&feed=NAME]` (adapter, admin): the adapter of a CAD
  feed is alive, between its events (every 30 s by default, `tcpr adapter run`).
- `GET /api/v1/feeds?agency=A[&agency=B…]` (supervisor, admin): each agency's feed: its last
  event and beats, its silence limit, and whether it is silent now.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query

from service.api import policy
from service.api.deps import PrincipalDep, ServicesDep, require
from service.api.refusals import AUTHENTICATED
from service.triage.events import iso

router = APIRouter(responses=AUTHENTICATED)
FeedName = Annotated[str, Query(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9._:-]+$")]


@router.post("/api/v1/feeds/heartbeat")
async def heartbeat(
    principal: PrincipalDep,
    services: ServicesDep,
    agency: Annotated[str | None, Query(min_length=1, max_length=32)] = None,
    feed: FeedName = "cad",
) -> dict[str, Any]:
    """The feed is alive: clears its silence at once, here and on every replica."""
    if agency is None:
        if len(principal.agencies) != 1:
            raise HTTPException(
                422,
                {
                    "field": "agency",
                    "detail": "agency: the token has several agencies; name one with ?agency=",
                },
            )
        agency = next(iter(principal.agencies))
    require(principal, policy.POST_HEARTBEAT, agency)
    at = await services.feeds.beat(agency, feed)
    return {"agency": agency, "feed": feed, "received_at": iso(at)}


@router.get("/api/v1/feeds")
async def feeds(
    principal: PrincipalDep,
    services: ServicesDep,
    agency: Annotated[list[str], Query()],
) -> dict[str, Any]:
    """Each named agency's CAD feed as this replica sees it."""
    for a in agency:
        require(principal, policy.READ_FEEDS, a)
    return {"feeds": services.feeds.status(dict.fromkeys(agency))}
