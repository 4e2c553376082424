"""Routes that answer from the request alone, for the hot ingest path.

FastAPI documents a route from its declaration and, per request, solves its dependencies. For
`POST /api/v1/events` the solving (a `Request` and the services) cost more than parsing and
authorising the event: a `LeanRoute` keeps the declaration, so the OpenAPI description is the
same, and calls the endpoint with the request, nothing solved. An `HTTPException` it raises (the
429 of a rate limit) still reaches the app's exception handlers.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any

from fastapi.routing import APIRoute
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import request_response

from service.api.deps import Services


class LeanRoute(APIRoute):
    """An `APIRoute` whose endpoint is `async (Request) -> Response`, called as it is: no
    dependencies to solve, so no exit stacks for them either (Starlette's own wrapping, which
    still hands its exceptions to the app's handlers)."""

    def __init__(self, path: str, endpoint: Callable[..., Any], **kwargs: Any) -> None:
        super().__init__(path, endpoint, **kwargs)
        self.app = request_response(self.get_route_handler())

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler: Callable[[Request], Coroutine[Any, Any, Response]] = self.endpoint
        return handler


def services_of(request: Request) -> Services:
    services: Services = request.app.state.services
    return services
