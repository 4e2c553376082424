"""Signing a browser in and out (`/api/v1/session`): a bearer token or OpenID Connect token
exchanged for a browser session's HttpOnly, SameSite=Strict cookie, so the pages never keep a
token where scripts can read it."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, HTTPException, Request, Response, status

from service.api import origins
from service.api.deps import (
    SESSION_COOKIE,
    PrincipalDep,
    Services,
    ServicesDep,
    Unauthorized,
    bearer,
)
from service.api.refusals import AUTHENTICATED, refusals, status_of
from service.api.uploads import read_body
from service.identity import InvalidCredential
from service.refused import Refused
from service.settings import Settings
from service.store.tokens import Principal

router = APIRouter(responses=AUTHENTICATED | refusals(413))


MAX_TOKEN = 8192
MAX_LOGIN_BODY = 16_384
LOGIN_BODY = {
    "requestBody": {
        "required": False,
        "content": {
            "application/json": {
                "schema": {
                    "type": "object",
                    "required": ["token"],
                    "properties": {
                        "token": {"type": "string", "minLength": 1, "maxLength": MAX_TOKEN}
                    },
                }
            }
        },
    }
}


def describe(principal: Principal, settings: Settings) -> dict[str, Any]:
    """What a page needs to know of its user: the same for a session and a bearer token. Its
    training agencies are named, so a page keeps them apart from the real ones."""
    return {
        "role": principal.role,
        "agencies": sorted(principal.agencies),
        "training_agencies": [a for a in settings.training_agencies() if a in principal.agencies],
        "name": principal.name,
        "subject": principal.subject,
        "expires_at": principal.expires_at.isoformat() if principal.expires_at else None,
        "via": "session" if principal.session_id is not None else "token",
    }


def _refuse_foreign_origin(request: Request, services: Services) -> None:
    """A page of another site may not sign the browser in (login CSRF): when the browser
    names the origin, it must be an allowed one."""
    origin = request.headers.get("origin")
    if origin is not None and not origins.allowed(origin, request, services.settings):
        raise HTTPException(status.HTTP_403_FORBIDDEN, "cross-site request refused")


@router.post("/api/v1/session", openapi_extra=LOGIN_BODY)
async def sign_in(request: Request, response: Response, services: ServicesDep) -> dict[str, Any]:
    """Sign in: the token in the body (or the Authorization header) opens a session; the
    answer sets its cookie. Any role may open one; 401 when the token is not valid."""
    _refuse_foreign_origin(request, services)
    token = await _login_token(request, services) or bearer(request)
    if token is None:
        raise Unauthorized('send {"token": "..."} or an Authorization: Bearer header')
    try:
        principal = await services.identities.from_token(token)
    except InvalidCredential as exc:
        raise Unauthorized(str(exc)) from None
    secret, signed_in = await services.identities.browser_sessions.open(principal)
    assert signed_in.expires_at is not None  # a browser session always ends
    max_age = max(0, int((signed_in.expires_at - datetime.now(UTC)).total_seconds()))
    response.set_cookie(SESSION_COOKIE, secret, max_age=max_age, **_cookie(services))
    response.headers["Cache-Control"] = "no-store"
    return describe(signed_in, services.settings)


async def _login_token(request: Request, services: Services) -> str | None:
    """The body's `token`, if the body has one; 422 names it when it is not a string."""
    try:
        body = await read_body(request, MAX_LOGIN_BODY)
    except Refused as refusal:
        raise HTTPException(status_of(refusal), refusal.reason) from None
    if not body.strip():
        return None
    try:
        payload = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise HTTPException(422, 'body: not JSON; send {"token": "..."}') from None
    if not isinstance(payload, dict):
        raise HTTPException(422, 'body: must be a JSON object {"token": "..."}')
    token = payload.get("token")
    if not isinstance(token, str) or not 1 <= len(token) <= MAX_TOKEN:
        raise HTTPException(422, f"token: must be a string of 1-{MAX_TOKEN} characters")
    return token


def _cookie(services: Services) -> dict[str, Any]:
    return {
        "path": "/",
        "secure": services.settings.cookie_secure,
        "httponly": True,
        "samesite": "strict",
    }


@router.get("/api/v1/session")
async def whoami(principal: PrincipalDep, services: ServicesDep) -> dict[str, Any]:
    """Who the caller is (cookie or bearer token); any role."""
    return describe(principal, services.settings)


@router.delete("/api/v1/session", status_code=status.HTTP_204_NO_CONTENT)
async def sign_out(request: Request, principal: PrincipalDep, services: ServicesDep) -> Response:
    """Sign out: end the cookie's session and clear the cookie (a bearer caller has no session
    to end: 204 all the same). Any role; a cookie caller from an allowed origin only."""
    secret = request.cookies.get(SESSION_COOKIE)
    if secret is not None and principal.session_id is not None:
        await services.identities.browser_sessions.close(secret)
        await services.revocations.announce(session_id=principal.session_id)
    response = Response(status_code=status.HTTP_204_NO_CONTENT)
    response.delete_cookie(SESSION_COOKIE, **_cookie(services))
    return response
