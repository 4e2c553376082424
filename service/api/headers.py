"""Security headers on every HTTP response: the browser-side half of the security model.

The UI under /ui/ is plain files with no inline script, style or handler, so one strict content
security policy covers it: a script injected into a page (say, a caller's name drawn as HTML) would
not run, and the pages cannot be framed (clickjacking). The API's answers get the same headers
plus `Cache-Control: no-store`, so no browser or proxy keeps a copy of health data.

A pure ASGI middleware (not Starlette's BaseHTTPMiddleware): it only edits the
`http.response.start` message, so streaming answers and the websocket pass through untouched.
"""

from __future__ import annotations

import base64
import hashlib
import re

from starlette.types import ASGIApp, Message, Receive, Scope, Send

# CSP3 'self' also matches ws:/wss: to the same host and port in Chromium and Firefox, so the
# panels' websocket needs nothing more in connect-src. `data:` images: the pages' empty favicon.
CONTENT_SECURITY_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; font-src 'self'; base-uri 'none'; form-action 'self'; "
    "frame-ancestors 'none'"
)

# Powerful features no page of the service uses. The metronome's Web Audio playback needs no
# permission (and `autoplay` keeps its default, self), so nothing is allowed here.
PERMISSIONS_POLICY = ", ".join(
    f"{feature}=()"
    for feature in (
        "accelerometer",
        "camera",
        "display-capture",
        "geolocation",
        "gyroscope",
        "hid",
        "magnetometer",
        "microphone",
        "midi",
        "payment",
        "serial",
        "usb",
    )
)

STATIC_HEADERS = {
    "content-security-policy": CONTENT_SECURITY_POLICY,
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
    "x-frame-options": "DENY",
    "cross-origin-opener-policy": "same-origin",
    "cross-origin-resource-policy": "same-origin",
    "permissions-policy": PERMISSIONS_POLICY,
}

_INLINE_SCRIPT = re.compile(rb"<script>(.*?)</script>", re.DOTALL)


def docs_policy(body: bytes) -> str:
    """The policy for the Swagger UI page: its files from this origin plus its one inline script,
    by hash.

    The page's HTML is FastAPI's, not ours; allowing its exact inline script by hash keeps
    'unsafe-inline' out even there. Its script and stylesheet come from this service
    (service.api.docs), so the page works on a network with no internet.
    """
    hashes = " ".join(
        f"'sha256-{base64.b64encode(hashlib.sha256(script).digest()).decode()}'"
        for script in _INLINE_SCRIPT.findall(body)
    )
    return (
        f"default-src 'none'; script-src 'self' {hashes}; style-src 'self'; "
        "img-src 'self' data:; connect-src 'self'; "
        "base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
    )


class Stamp:
    """Headers encoded once, set on a response start message in one pass over the headers the
    route set (any of the same name are replaced)."""

    __slots__ = ("headers", "names")

    def __init__(self, headers: dict[str, str]) -> None:
        self.headers = [(k.encode("latin-1"), v.encode("latin-1")) for k, v in headers.items()]
        self.names = frozenset(name for name, _ in self.headers)

    def __call__(self, start: Message) -> None:
        kept = [(k, v) for k, v in start.get("headers", ()) if k.lower() not in self.names]
        start["headers"] = kept + self.headers


class SecurityHeaders:
    """Adds the security headers to every HTTP response of the wrapped app.

    They are encoded once, here: stamping a response is one pass over the headers it set."""

    def __init__(self, app: ASGIApp, *, hsts_seconds: int = 0, docs_path: str | None = None):
        self.app = app
        self.headers = dict(STATIC_HEADERS)
        # Only when the service is reached over TLS (directly or behind a terminating proxy):
        # over plain http a browser ignores it, and sent by mistake it locks users out of http.
        if hsts_seconds > 0:
            self.headers["strict-transport-security"] = f"max-age={hsts_seconds}"
        self.docs_path = docs_path
        self._pages = Stamp(self.headers)
        self._api = Stamp(self.headers | {"cache-control": "no-store"})

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        if path == self.docs_path:
            await self._docs(scope, receive, send)
            return
        stamp = self._api if path.startswith("/api/") else self._pages

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                stamp(message)
            await send(message)

        await self.app(scope, receive, send_with_headers)

    async def _docs(self, scope: Scope, receive: Receive, send: Send) -> None:
        """The docs page is small: hold it whole, then send it with a policy naming its script."""
        held: list[Message] = []

        async def hold(message: Message) -> None:
            held.append(message)

        await self.app(scope, receive, hold)
        body = b"".join(m.get("body", b"") for m in held if m["type"] == "http.response.body")
        policy = {"content-security-policy": docs_policy(body)}
        for message in held:
            if message["type"] == "http.response.start":
                Stamp(self.headers | policy)(message)
            await send(message)
