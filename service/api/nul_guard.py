"""Refuse a NUL character in the URL before any route reads it.

PostgreSQL text holds no U+0000, so a path or query value carrying one (`%00`) would fail the
query it reaches with a 500 (tests/service/api/test_fuzz_api.py holds it). Checked once here for
every route rather than in each; bodies are checked by their parsers (contract/wire.py).
"""

from __future__ import annotations

from urllib.parse import parse_qsl

from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Receive, Scope, Send

NUL = "\x00"


def nul_field(path: str, query: bytes) -> str | None:
    """The name of the first URL part holding a NUL: `path`, or the query parameter."""
    if NUL in path:
        return "path"
    if b"\x00" not in query and b"%00" not in query:
        return None  # unquoting yields a NUL only from %00: most queries are decided here
    for name, value in parse_qsl(query.decode("latin-1"), keep_blank_values=True):
        if NUL in name or NUL in value:
            return name.replace(NUL, "\\x00")
    return None


class RefuseNul:
    """ASGI middleware: a 422 naming the parameter, the same shape as every refusal."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            field = nul_field(scope["path"], scope.get("query_string", b""))
            if field is not None:
                reason = f"{field}: contains U+0000 (NUL), which cannot be stored"
                await JSONResponse({"detail": reason, "field": field}, 422)(scope, receive, send)
                return
        await self.app(scope, receive, send)
