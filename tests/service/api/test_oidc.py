"""OpenID Connect bearer tokens: JWTs from the centre's identity provider, checked against the
issuer's keys (a JWKS file here: nothing is downloaded in tests)."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import jwt
import pytest
import websockets
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from support.harness import Server, service_settings, start_server

from service.app import create_app

ISSUER = "https://idp.example/realms/psap"
AUDIENCE = "tcpr-assist"


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


class Issuer:
    """A test identity provider: an RSA and an EC signing key, published as a JWKS file."""

    def __init__(self, folder: Path) -> None:
        self.rsa = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.ec = ec.generate_private_key(ec.SECP256R1())
        keys = [
            {**json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(self.rsa.public_key())), "kid": "r1"},
            {**json.loads(jwt.algorithms.ECAlgorithm.to_jwk(self.ec.public_key())), "kid": "e1"},
        ]
        self.jwks = folder / "jwks.json"
        self.jwks.write_text(json.dumps({"keys": keys}))

    def claims(self, **changes: Any) -> dict[str, Any]:
        now = int(time.time())
        claims: dict[str, Any] = {
            "iss": ISSUER,
            "aud": AUDIENCE,
            "sub": "user-42",
            "preferred_username": "jdoe",
            "iat": now,
            "nbf": now,
            "exp": now + 600,
            "tcpr_role": "supervisor",
            "tcpr_agencies": ["A"],
        }
        claims.update(changes)
        return {k: v for k, v in claims.items() if v is not None}

    def token(self, key: Any = None, alg: str = "RS256", kid: str = "r1", **changes: Any) -> str:
        return jwt.encode(
            self.claims(**changes), key or self.rsa, algorithm=alg, headers={"kid": kid}
        )

    def unsigned(self, alg: str, secret: bytes = b"") -> str:
        """A token PyJWT would refuse to make: `none`, or HMAC keyed by a public key."""
        header = b64(json.dumps({"alg": alg, "typ": "JWT", "kid": "r1"}).encode())
        body = b64(json.dumps(self.claims()).encode())
        signing = f"{header}.{body}".encode()
        signature = hmac.new(secret, signing, hashlib.sha256).digest() if secret else b""
        return f"{header}.{body}.{b64(signature)}"


@pytest.fixture
def issuer(tmp_path: Path) -> Issuer:
    return Issuer(tmp_path)


@pytest.fixture
async def server(migrated_database_url: str, issuer: Issuer) -> AsyncIterator[Server]:
    running = await start_server(
        service_settings(
            migrated_database_url,
            oidc_issuer=ISSUER,
            oidc_audience=AUDIENCE,
            oidc_jwks_file=issuer.jwks,
        )
    )
    try:
        yield running
    finally:
        await running.stop()


async def whoami(server: Server, token: str) -> httpx.Response:
    async with httpx.AsyncClient(base_url=server.url) as client:
        return await client.get("/api/v1/session", headers={"Authorization": f"Bearer {token}"})


async def test_a_valid_token_authenticates_over_http(server: Server, issuer: Issuer) -> None:
    for token in (issuer.token(), issuer.token(issuer.ec, "ES256", "e1")):
        response = await whoami(server, token)
        assert response.status_code == 200, response.text
        me = response.json()
        assert (me["role"], me["agencies"], me["name"]) == ("supervisor", ["A"], "jdoe")
        assert me["subject"] == "user-42"
    async with httpx.AsyncClient(
        base_url=server.url, headers={"Authorization": f"Bearer {issuer.token()}"}
    ) as client:
        allowed = await client.get("/api/v1/calls/A/C1/audit")
        foreign = await client.get("/api/v1/calls/B/C1/audit")
    assert allowed.status_code == 404, allowed.text  # authorized; no such call
    assert foreign.status_code == 403, foreign.text


async def test_refused_tokens_say_why(server: Server, issuer: Issuer) -> None:
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    public_pem = issuer.rsa.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    past = int(time.time()) - 3600
    cases = {
        "expired": (issuer.token(exp=past, iat=past - 60, nbf=past - 60), "expired"),
        "wrong issuer": (issuer.token(iss="https://evil.example"), "issuer"),
        "wrong audience": (issuer.token(aud="other-app"), "audience"),
        "wrong key": (issuer.token(other), "signature"),
        "unknown key id": (issuer.token(other, kid="r9"), "unknown key"),
        "alg none": (issuer.unsigned("none"), "'none' is not allowed"),
        "HS256 keyed by the public key": (issuer.unsigned("HS256", public_pem), "'HS256'"),
        "not yet valid": (issuer.token(nbf=int(time.time()) + 3600), "not yet valid"),
        "unknown role": (issuer.token(tcpr_role="root"), "tcpr_role"),
        "missing agencies": (issuer.token(tcpr_agencies=None), "tcpr_agencies"),
        "empty agencies": (issuer.token(tcpr_agencies=[]), "tcpr_agencies"),
        "agency too long": (issuer.token(tcpr_agencies=["X" * 33]), "tcpr_agencies"),
        "no subject": (issuer.token(sub=None), "sub"),
    }
    problems = []
    for what, (token, reason) in cases.items():
        response = await whoami(server, token)
        if response.status_code != 401 or reason not in response.json()["detail"]:
            problems.append(f"{what}: want 401 naming {reason!r}, got {response.text}")
    assert not problems, "\n".join(problems)


async def test_a_token_opens_a_session_and_a_websocket(server: Server, issuer: Issuer) -> None:
    token = issuer.token()
    async with httpx.AsyncClient(base_url=server.url) as client:
        opened = await client.post("/api/v1/session", json={"token": token})
        assert opened.status_code == 200, opened.text
        assert opened.json()["subject"] == "user-42"
        cookie = opened.headers["set-cookie"].split(";")[0]
        me = await client.get("/api/v1/session", headers={"Cookie": cookie})
        assert me.status_code == 200 and me.json()["via"] == "session"
        refused = await client.post("/api/v1/session", json={"token": issuer.token(aud="x")})
        assert refused.status_code == 401
    async with websockets.connect(server.ws_url) as ws:
        await ws.send(json.dumps({"type": "auth", "token": token}))
        snapshot = json.loads(await ws.recv())
        assert snapshot["type"] == "snapshot" and snapshot["role"] == "supervisor"
    async with websockets.connect(server.ws_url) as ws:
        await ws.send(json.dumps({"type": "auth", "token": issuer.unsigned("none")}))
        with pytest.raises(websockets.ConnectionClosed) as closed:
            await ws.recv()
        assert closed.value.rcvd is not None and closed.value.rcvd.code == 4401


async def test_jwts_are_refused_when_oidc_is_off(sqlite_url: str, issuer: Issuer) -> None:
    running = await start_server(service_settings(sqlite_url))
    try:
        response = await whoami(running, issuer.token())
        assert response.status_code == 401 and "not accepted" in response.text
    finally:
        await running.stop()


class JwksHost:
    """The issuer's JWKS endpoint on loopback (nothing leaves the machine): serves whatever
    keys it is given and counts the fetches."""

    def __init__(self) -> None:
        self.document: dict[str, Any] = {"keys": []}
        self.fetches = 0
        self._server: asyncio.Server | None = None

    async def __aenter__(self) -> str:
        self._server = await asyncio.start_server(self._answer, "127.0.0.1", 0)
        port = self._server.sockets[0].getsockname()[1]
        return f"http://127.0.0.1:{port}/jwks"

    async def __aexit__(self, *exc: object) -> None:
        assert self._server is not None
        self._server.close()
        await self._server.wait_closed()

    async def _answer(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while (await reader.readline()).strip():
            pass  # the request line and headers
        self.fetches += 1
        body = json.dumps(self.document).encode()
        head = f"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {len(body)}"
        writer.write(head.encode() + b"\r\nConnection: close\r\n\r\n" + body)
        await writer.drain()
        writer.close()


async def test_keys_from_a_url_are_refetched_for_a_new_key_id(
    sqlite_url: str, issuer: Issuer
) -> None:
    published = json.loads(issuer.jwks.read_text())
    host = JwksHost()
    host.document = {"keys": [published["keys"][0]]}  # r1 only, for now
    async with host as url:
        running = await start_server(
            service_settings(
                sqlite_url, oidc_issuer=ISSUER, oidc_audience=AUDIENCE, oidc_jwks_url=url
            )
        )
        try:
            assert host.fetches == 1  # at start
            assert (await whoami(running, issuer.token())).status_code == 200
            host.document = published  # the issuer rotates in e1
            rotated = issuer.token(issuer.ec, "ES256", "e1")
            # Within a minute of the last fetch: the unknown key is refused, not fetched for.
            assert (await whoami(running, rotated)).status_code == 401
            assert host.fetches == 1
            verifier = running.services.identities.oidc
            assert verifier is not None
            verifier._fetched_at -= 120  # as if the last fetch were two minutes ago
            assert (await whoami(running, rotated)).status_code == 200
            assert host.fetches == 2
            for _ in range(3):  # a flood of unknown key ids costs one fetch a minute at most
                response = await whoami(running, issuer.token(kid="nope"))
                assert response.status_code == 401 and "unknown key" in response.text
            assert host.fetches == 2
        finally:
            await running.stop()


async def test_an_incomplete_oidc_configuration_stops_the_start(
    sqlite_url: str, issuer: Issuer
) -> None:
    for missing, settings in (
        ("TCPR_OIDC_AUDIENCE", {"oidc_jwks_file": issuer.jwks}),
        ("TCPR_OIDC_JWKS_FILE", {"oidc_audience": AUDIENCE}),
    ):
        app = create_app(service_settings(sqlite_url, oidc_issuer=ISSUER, **settings))
        with pytest.raises(ValueError, match=missing):
            async with app.router.lifespan_context(app):
                pass
