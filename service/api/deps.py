"""The services every route shares, and the authentication dependencies."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, HTTPException, Request, status
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from service.api import origins
from service.api.ratelimit import Limits, client_address
from service.broker import Broker
from service.clock import Clock, system_clock
from service.feeds import FeedWatch
from service.hub import Hub
from service.identity import Identities, InvalidCredential
from service.live import LiveView
from service.metrics import Metrics
from service.protocols import Library
from service.revocations import Revocations
from service.scheduler import AlertScheduler
from service.settings import Settings
from service.store.events import EventStore
from service.store.rejects import RejectStore
from service.store.tokens import Principal, TokenStore
from service.training.sessions import Training

SESSION_COOKIE = "tcpr_session"
# Methods a cross-site page could make a browser send with its cookie.
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


@dataclass
class Services:
    settings: Settings
    store: EventStore
    rejects: RejectStore
    tokens: TokenStore
    broker: Broker
    live: LiveView
    hub: Hub
    scheduler: AlertScheduler
    # For the QI read models (audit lists, measures, EMS reports) that query beside the log.
    sessions: async_sessionmaker[AsyncSession]
    # Requests per principal and failed authentications per address (service/api/ratelimit.py).
    limits: Limits
    # Bearer tokens, browser sessions and OpenID Connect tokens, turned into principals.
    identities: Identities
    # Closes the websockets of revoked credentials, here and on the other replicas.
    revocations: Revocations
    # Whether each agency's CAD feed is alive (events and heartbeats).
    feeds: FeedWatch
    # The T-CPR protocol packs: shipped samples and each agency's signed versions.
    protocols: Library
    # This replica's Prometheus metrics (GET /metrics).
    metrics: Metrics
    # Training sessions: their scenarios played live into a training agency (issue 19).
    training: Training
    # What the routes read as now (`create_app`'s clock: a test's clock in tests).
    clock: Clock = system_clock


async def get_services(request: Request) -> Services:
    services: Services = request.app.state.services
    return services


ServicesDep = Annotated[Services, Depends(get_services)]


def bearer(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


class Unauthorized(HTTPException):
    def __init__(self, detail: str = "a valid bearer token is required") -> None:
        super().__init__(status.HTTP_401_UNAUTHORIZED, detail, {"WWW-Authenticate": "Bearer"})


def check_origin(request: Request, services: Services) -> None:
    """Refuse a write a browser might have been made to send from another site's page."""
    origin = request.headers.get("origin")
    if origin is None or not origins.allowed(origin, request, services.settings):
        raise HTTPException(status.HTTP_403_FORBIDDEN, "cross-site request refused")


async def current_principal(request: Request, services: ServicesDep) -> Principal:
    """The caller, within its rate limit and its address's failed-authentication limit."""
    presented = bearer(request) is not None or SESSION_COOKIE in request.cookies
    return await services.limits.guard(
        client_address(request), presented, lambda: identify(request, services)
    )


async def identify(request: Request, services: Services) -> Principal:
    """The caller: a bearer token (ours or an OpenID Connect JWT), else the session cookie.
    A cookie-authenticated write must come from an allowed origin."""
    token = bearer(request)
    if token is not None:
        try:
            return await services.identities.from_token(token)
        except InvalidCredential as exc:
            raise Unauthorized(str(exc)) from None
    secret = request.cookies.get(SESSION_COOKIE)
    if secret is None:
        raise Unauthorized()
    principal = await services.identities.browser_sessions.authenticate(secret)
    if principal is None:
        raise Unauthorized("the session has ended: sign in again")
    if request.method in UNSAFE_METHODS:
        check_origin(request, services)
    return principal


PrincipalDep = Annotated[Principal, Depends(current_principal)]


def require(principal: Principal, roles: frozenset[str], agency: str) -> None:
    if principal.role not in roles:
        raise HTTPException(status.HTTP_403_FORBIDDEN, f"role {principal.role} may not do this")
    if not principal.may_act_for(agency):
        raise HTTPException(status.HTTP_403_FORBIDDEN, f"token is not valid for agency {agency}")
