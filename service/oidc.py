"""OpenID Connect bearer tokens: JWTs signed by the centre's identity provider.

Off unless `TCPR_OIDC_ISSUER` is set. A token is accepted only if it is signed (RS256 or ES256,
never `none` or an HMAC, which would let a public key serve as a shared secret) by a key of the
issuer's JWKS, names our issuer and audience, is within its validity times, and carries a role
and agencies the service knows. Keys come from a JWKS file and/or URL; the URL is fetched at
start and again when a token names a key id not seen yet (a key rotation), at most once a minute.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import jwt

from service.settings import Settings
from service.store.tokens import MAX_AGENCY, ROLES, Principal

log = logging.getLogger(__name__)

ALGORITHMS = ("RS256", "ES256")
LEEWAY_SECONDS = 30
REFRESH_MIN_SECONDS = 60.0
FETCH_TIMEOUT_SECONDS = 10.0


class OidcError(Exception):
    """The token is not accepted; the message says why (safe to show the caller)."""


def looks_like_jwt(token: str) -> bool:
    """Three dot-separated parts (an unsigned one has an empty third: refused later, by name)."""
    parts = token.split(".")
    return len(parts) == 3 and bool(parts[0]) and bool(parts[1])


def parse_jwks(document: Any) -> dict[str | None, jwt.PyJWK]:
    """The signing keys of a JWKS by key id (None for a key without one); keys of other uses
    or unsupported types are skipped."""
    keys: dict[str | None, jwt.PyJWK] = {}
    for entry in document.get("keys", []) if isinstance(document, dict) else []:
        if not isinstance(entry, dict) or entry.get("use", "sig") != "sig":
            continue
        try:
            key = jwt.PyJWK(entry)
        except jwt.PyJWTError as exc:
            log.warning("JWKS key %s skipped: %s", entry.get("kid"), exc)
            continue
        if key.algorithm_name in ALGORITHMS:
            keys[entry.get("kid")] = key
    return keys


class OidcVerifier:
    def __init__(self, settings: Settings) -> None:
        if not settings.oidc_audience:
            raise ValueError("TCPR_OIDC_AUDIENCE is required with TCPR_OIDC_ISSUER")
        if not settings.oidc_jwks_file and not settings.oidc_jwks_url:
            raise ValueError("TCPR_OIDC_JWKS_FILE or TCPR_OIDC_JWKS_URL is required with OIDC")
        self._settings = settings
        self._keys: dict[str | None, jwt.PyJWK] = {}
        self._fetched_at = -REFRESH_MIN_SECONDS
        self._refreshing = asyncio.Lock()

    async def load(self) -> None:
        """Read the keys: the file, then the URL (a failing URL is logged, and retried when a
        token needs a key the service does not have)."""
        keys: dict[str | None, jwt.PyJWK] = {}
        if self._settings.oidc_jwks_file:
            text = await asyncio.to_thread(Path(self._settings.oidc_jwks_file).read_text)
            keys.update(parse_jwks(json.loads(text)))
        self._keys = keys
        if self._settings.oidc_jwks_url:
            await self._fetch()

    async def _fetch(self) -> None:
        url = self._settings.oidc_jwks_url
        assert url is not None
        self._fetched_at = time.monotonic()
        try:
            async with httpx.AsyncClient(timeout=FETCH_TIMEOUT_SECONDS) as client:
                response = await client.get(url)
                response.raise_for_status()
                fetched = parse_jwks(response.json())
        except (httpx.HTTPError, ValueError) as exc:
            log.error("OIDC JWKS %s could not be fetched: %s", url, exc)
            return
        self._keys = {**self._keys, **fetched}

    async def _key(self, kid: str | None) -> jwt.PyJWK:
        key = self._keys.get(kid)
        if key is None and kid is None and len(self._keys) == 1:
            key = next(iter(self._keys.values()))
        if key is None and kid is not None and self._settings.oidc_jwks_url:
            async with self._refreshing:
                if kid not in self._keys and self._may_refresh():
                    await self._fetch()
            key = self._keys.get(kid)
        if key is None:
            raise OidcError(f"token signed by an unknown key {kid!r}")
        return key

    def _may_refresh(self) -> bool:
        return time.monotonic() - self._fetched_at >= REFRESH_MIN_SECONDS

    async def verify(self, token: str) -> Principal:
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError:
            raise OidcError("token is not a well-formed JWT") from None
        alg = header.get("alg")
        if alg not in ALGORITHMS:
            raise OidcError(f"token algorithm {alg!r} is not allowed (only RS256, ES256)")
        key = await self._key(header.get("kid"))
        if key.algorithm_name != alg:
            raise OidcError(f"token algorithm {alg} does not match its key")
        try:
            claims = jwt.decode(
                token,
                key.key,
                algorithms=[alg],
                audience=self._settings.oidc_audience,
                issuer=self._settings.oidc_issuer,
                leeway=LEEWAY_SECONDS,
                options={"require": ["exp", "iat", "iss", "aud", "sub"]},
            )
        except jwt.ExpiredSignatureError:
            raise OidcError("token has expired") from None
        except jwt.InvalidAudienceError:
            raise OidcError("token is for another audience") from None
        except jwt.InvalidIssuerError:
            raise OidcError("token is from another issuer") from None
        except jwt.InvalidSignatureError:
            raise OidcError("token signature does not verify") from None
        except jwt.PyJWTError as exc:
            raise OidcError(f"token refused: {exc}") from None
        return self._principal(claims)

    def _principal(self, claims: dict[str, Any]) -> Principal:
        role_claim = self._settings.oidc_role_claim
        agencies_claim = self._settings.oidc_agencies_claim
        role = claims.get(role_claim)
        if role not in ROLES:
            raise OidcError(f"claim {role_claim}: {role!r} is not one of {', '.join(ROLES)}")
        agencies = claims.get(agencies_claim)
        if (
            not isinstance(agencies, list)
            or not agencies
            or not all(isinstance(a, str) and 1 <= len(a) <= MAX_AGENCY for a in agencies)
        ):
            raise OidcError(
                f"claim {agencies_claim}: a non-empty list of 1-{MAX_AGENCY} character "
                "agency codes is required"
            )
        subject = str(claims["sub"])[:256]
        name = claims.get("preferred_username") or claims.get("name") or subject
        return Principal(
            None,
            role,
            frozenset(agencies),
            str(name)[:128],
            subject=subject,
            expires_at=datetime.fromtimestamp(int(claims["exp"]), UTC),
        )
