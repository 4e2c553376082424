"""CAD feed health over HTTP (service/feeds.py).

- `POST /api/v1/feeds/heartbeat[?agency=A][&feed=NAME]` (adapter, admin): the adapter of a CAD
  feed is alive, between its events (every 30 s by default, `tcpr adapter run`).
- `GET /api/v1/feeds?agency=A[&agency=B…]` (supervisor, admin): each agency's feed: its last
  event and beats, its silence limit, and whether it is silent now.
"""

from __future__ import annotations

import re
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse

from contract import policy
from contract.event import iso
from service.api.deps import PrincipalDep, ServicesDep, require
from service.api.refusals import AUTHENTICATED, refusals
from service.api.uploads import Upload
from service.refused import Invalid, Refused

router = APIRouter(responses=AUTHENTICATED)
FEED_NAME = re.compile(r"^[A-Za-z0-9._:-]{1,64}$")


@router.post("/api/v1/feeds/heartbeat", responses=refusals(413, 422))
async def heartbeat(
    request: Request,
    services: ServicesDep,
    agency: Annotated[str | None, Query(min_length=1, max_length=32)] = None,
    feed: Annotated[str, Query()] = "cad",
) -> JSONResponse:
    """The feed is alive: clears its silence at once, here and on every replica. A refused beat
    is kept in the reject store like any other bad input."""
    upload = Upload()
    try:
        target = await upload.receive(
            request, services, agency, policy.POST_HEARTBEAT, "heartbeats"
        )
        if not FEED_NAME.match(feed):
            raise Invalid(
                f"feed: {feed[:80]!r} is not 1 to 64 letters, digits or . _ : -",
                "feed",
                target,
            )
    except Refused as refusal:
        return await upload.refused(services, request, refusal)
    at = await services.feeds.beat(target, feed)
    return JSONResponse({"agency": target, "feed": feed, "received_at": iso(at)})


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
