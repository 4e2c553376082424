"""The API's interactive documentation at /docs, with nothing fetched from outside.

FastAPI's own /docs page loads Swagger UI from a public CDN; a PSAP network usually has no
internet, so here the page names the script and stylesheet that the `fastapi-offline` package
installs (from uv.lock, like every other dependency), served under /docs/assets/. The page is
FastAPI's HTML; the security headers give it a policy of 'self' plus its one inline script by hash.
"""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

DOCS_PATH = "/docs"
ASSETS_PATH = "/docs/assets"


def assets_dir() -> Path:
    """Swagger UI's files as installed (swagger-ui-bundle.js, swagger-ui.css, favicon.png)."""
    return Path(str(files("fastapi_offline") / "static"))


def assets() -> StaticFiles:
    return StaticFiles(directory=assets_dir())


router = APIRouter()


@router.get(DOCS_PATH, include_in_schema=False)
async def swagger_ui(request: Request) -> HTMLResponse:
    root = request.scope.get("root_path", "")
    return get_swagger_ui_html(
        openapi_url=f"{root}{request.app.openapi_url}",
        title=f"{request.app.title}: API",
        swagger_js_url=f"{root}{ASSETS_PATH}/swagger-ui-bundle.js",
        swagger_css_url=f"{root}{ASSETS_PATH}/swagger-ui.css",
        swagger_favicon_url=f"{root}{ASSETS_PATH}/favicon.png",
        oauth2_redirect_url=None,
    )
