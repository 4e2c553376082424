"""Which web origins may act with a browser's credentials: the service's own (scheme://Host of
the request) and those of `TCPR_ALLOWED_ORIGINS`. Used for cookie-authenticated writes (the
CSRF check) and for websocket handshakes (which browsers send cross-site with cookies)."""

from __future__ import annotations

from starlette.requests import HTTPConnection

from service.settings import Settings

DEFAULT_PORTS = {"http": "80", "https": "443"}


def normalize(origin: str) -> str:
    """`scheme://host[:port]` in lower case, without a default port or a trailing slash."""
    scheme, _, rest = origin.strip().lower().rstrip("/").partition("://")
    host, _, port = rest.rpartition(":") if rest.rsplit(":", 1)[-1].isdigit() else (rest, "", "")
    if port and DEFAULT_PORTS.get(scheme) == port:
        return f"{scheme}://{host}"
    return f"{scheme}://{rest}"


def own_origin(conn: HTTPConnection, settings: Settings) -> str | None:
    host = conn.headers.get("host")
    if not host:
        return None
    scheme = conn.url.scheme
    if settings.trust_proxy_headers:
        forwarded = conn.headers.get("x-forwarded-proto", "").split(",")[0].strip().lower()
        scheme = forwarded or scheme
    scheme = {"ws": "http", "wss": "https"}.get(scheme, scheme)
    return normalize(f"{scheme}://{host}")


def allowed(origin: str, conn: HTTPConnection, settings: Settings) -> bool:
    wanted = normalize(origin)
    return wanted == own_origin(conn, settings) or wanted in {
        normalize(o) for o in settings.allowed_origins
    }
