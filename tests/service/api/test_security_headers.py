"""Security headers: the content security policy and its companions on the UI's pages and files,
`no-store` on the API's answers (refusals included), HSTS only when a setting asks for it."""

from __future__ import annotations

import base64
import hashlib
import re
from collections.abc import AsyncIterator

import httpx
import pytest
from support.harness import Server, service_settings, start_server

CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; font-src 'self'; base-uri 'none'; form-action 'self'; "
    "frame-ancestors 'none'"
)
UI_PATHS = [
    "/ui/",
    "/ui/panel.html",
    "/ui/measures.html",
    "/ui/qi.html",
    "/ui/qi-print.html",
    "/ui/live.js",
    "/ui/qi.css",
    "/ui/prompts/en.json",
]


@pytest.fixture
async def server(sqlite_url: str) -> AsyncIterator[Server]:
    running = await start_server(service_settings(sqlite_url))
    try:
        yield running
    finally:
        await running.stop()


def assert_strict(response: httpx.Response) -> None:
    headers = response.headers
    assert headers["content-security-policy"] == CSP
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["referrer-policy"] == "no-referrer"
    assert headers["x-frame-options"] == "DENY"
    assert headers["cross-origin-opener-policy"] == "same-origin"
    denied = headers["permissions-policy"].split(", ")
    for feature in ("camera", "microphone", "geolocation"):
        assert f"{feature}=()" in denied
    assert "strict-transport-security" not in headers  # off unless the service says it is TLS


@pytest.mark.parametrize("path", UI_PATHS)
async def test_ui_pages_and_files_carry_the_policy(server: Server, path: str) -> None:
    async with httpx.AsyncClient(base_url=server.url) as client:
        response = await client.get(path)
    assert response.status_code == 200
    assert_strict(response)
    assert "no-store" not in response.headers.get("cache-control", "")


async def test_api_answers_are_never_stored(server: Server) -> None:
    async with await server.client("qi", "A") as client:
        answers = [
            await client.get("/api/v1/qi/me"),
            await client.get("/api/v1/rejects", params={"agency": "A"}),  # 403: admin only
            await client.get("/api/v1/nowhere"),  # 404
        ]
    async with httpx.AsyncClient(base_url=server.url) as anonymous:
        answers.append(await anonymous.get("/api/v1/qi/me"))  # 401
    assert [a.status_code for a in answers] == [200, 403, 404, 401]
    for answer in answers:
        assert_strict(answer)
        assert answer.headers["cache-control"] == "no-store"


async def test_exports_keep_their_own_headers_and_are_not_stored(server: Server) -> None:
    async with await server.client("qi", "A") as client:
        response = await client.get("/api/v1/exports/audits.csv", params={"agency": "A"})
    assert response.status_code == 200
    assert response.headers["content-disposition"].startswith("attachment")
    assert response.headers["cache-control"] == "no-store"
    assert_strict(response)


async def test_hsts_only_when_the_setting_says_tls(sqlite_url: str) -> None:
    running = await start_server(service_settings(sqlite_url, hsts_seconds=31536000))
    try:
        async with httpx.AsyncClient(base_url=running.url) as client:
            page = await client.get("/ui/")
            health = await client.get("/healthz")
    finally:
        await running.stop()
    for response in (page, health):
        assert response.headers["strict-transport-security"] == "max-age=31536000"


async def test_swagger_page_allows_its_own_script_by_hash_only(server: Server) -> None:
    async with httpx.AsyncClient(base_url=server.url) as client:
        docs = await client.get("/docs")
        redoc = await client.get("/redoc")
    assert docs.status_code == 200
    policy = docs.headers["content-security-policy"]
    assert "unsafe" not in policy
    assert "frame-ancestors 'none'" in policy
    inline = re.findall(r"<script>(.*?)</script>", docs.text, re.DOTALL)
    assert len(inline) == 1
    digest = base64.b64encode(hashlib.sha256(inline[0].encode()).digest()).decode()
    assert f"'sha256-{digest}'" in policy
    assert docs.headers["x-frame-options"] == "DENY"
    assert redoc.status_code == 404  # ReDoc needs inline styles: not served
