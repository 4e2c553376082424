"""`GET /metrics`: this replica's metrics for Prometheus (service/metrics.py).

Prometheus scrapes with no credential, so the addresses of `TCPR_METRICS_ALLOW` (loopback by
default) are served without one; anyone else needs an admin token. The address is the one the
rate limits use: the peer's, or behind a proxy the client's as uvicorn takes it from
X-Forwarded-For (only from the peers of its --forwarded-allow-ips). The figures are counts and
ages per agency, no call data, and they are the installation's: an admin of any agency reads them.
"""

from __future__ import annotations

from ipaddress import IPv4Network, IPv6Address, IPv6Network, ip_address
from typing import Any, Final

from fastapi import APIRouter, HTTPException, Request, status
from fastapi.responses import Response

from contract import policy
from service.api.deps import ServicesDep, current_principal
from service.api.ratelimit import client_address
from service.api.refusals import AUTHENTICATED

router = APIRouter()

EXPOSITION: Final[dict[int | str, dict[str, Any]]] = {
    200: {
        "description": "The Prometheus text format",
        "content": {"text/plain": {"schema": {"type": "string"}}},
    }
}


def allowed(address: str | None, networks: list[IPv4Network | IPv6Network]) -> bool:
    """Whether `address` lies in one of `networks` (an IPv4 address mapped into IPv6, as a
    dual-stack socket reports it, counts as itself)."""
    if address is None:
        return False
    try:
        ip = ip_address(address)
    except ValueError:
        return False  # not an address (a unix socket, a test client's name)
    if isinstance(ip, IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return any(ip in network for network in networks)


@router.get(
    "/metrics",
    response_class=Response,
    responses={**AUTHENTICATED, **EXPOSITION},
)
async def metrics(request: Request, services: ServicesDep) -> Response:
    """This replica's metrics in the Prometheus text format: from an address of
    `TCPR_METRICS_ALLOW` without a credential, from elsewhere with an admin token."""
    if not allowed(client_address(request), services.settings.metrics_allow):
        principal = await current_principal(request, services)
        if principal.role not in policy.READ_METRICS:
            raise HTTPException(
                status.HTTP_403_FORBIDDEN,
                f"role {principal.role} may not read metrics: an admin token, or scrape from an "
                "address of TCPR_METRICS_ALLOW",
            )
    body, media_type = services.metrics.exposition(request.headers.get("accept", ""))
    return Response(body, media_type=media_type)
